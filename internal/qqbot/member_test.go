package qqbot

import (
	"fmt"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

func TestMembersPaging(t *testing.T) {
	e := newEnv(t)
	bot := e.robot("bot1", "QunBot")
	e.users("alice")
	tok := e.token(bot)

	const n = 300
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("u%03d", i)
	}
	e.createGroup("alice", "g1", append([]string{"bot1"}, users...)...)
	e.createGroup("alice", "g2", "bot1", "u007")
	var kicked []string
	for i := 0; i < n; i += 15 {
		kicked = append(kicked, users[i])
	}
	if err := e.svc.KickMembers(e.ctx(), group.AsUser("alice"), "g1", kicked, group.Notify{}); err != nil {
		t.Fatal(err)
	}
	active, err := e.svc.ListMembers(e.ctx(), group.Admin, "g1")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range active {
		want = append(want, e.openID(bot, group.OpenIDMember, m.UserID))
	}
	if len(want) != 1+1+n-len(kicked) {
		t.Fatalf("%d active members, want %d", len(want), 2+n-len(kicked))
	}
	g := e.seen(bot, group.OpenIDGroup, "g1")

	type page struct {
		members []string
		next    int64
	}
	getPage := func(t *testing.T, method string, limit, start int64) page {
		t.Helper()
		var r response
		if method == "GET" {
			r = e.do("GET", fmt.Sprintf("/v2/groups/%s/members?limit=%d&start_index=%d", g, limit, start), "QQBot "+tok, nil)
		} else {
			r = e.do("POST", "/v2/groups/"+g+"/members", "QQBot "+tok, map[string]int64{"limit": limit, "start_index": start})
		}
		if r.status != 200 {
			t.Fatalf("%s page at %d: %d %s", method, start, r.status, r.body)
		}
		var mr membersResponse
		r.json(t, &mr)
		p := page{next: mr.NextIndex}
		for _, m := range mr.Members {
			if m.JoinTimestamp <= 0 {
				t.Errorf("member %s join_timestamp %d", m.MemberOpenID, m.JoinTimestamp)
			}
			p.members = append(p.members, m.MemberOpenID)
		}
		return p
	}
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			e.t = t
			var got []string
			start, pages := int64(0), 0
			for {
				p := getPage(t, method, 100, start)
				pages++
				got = append(got, p.members...)
				if p.next == 0 {
					break
				}
				if len(p.members) != 100 || p.next <= start {
					t.Fatalf("page %d: %d members, next %d after %d", pages, len(p.members), p.next, start)
				}
				start = p.next
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || pages != 3 {
				t.Errorf("paged %d members in %d pages, want the %d active members in Pos order in 3 pages", len(got), pages, len(want))
			}
			// The openids work: the members of a page resolve back.
			if _, err := e.srv.resolve(e.ctx(), "bot1", group.OpenIDMember, got[len(got)-1]); err != nil {
				t.Errorf("listed openid does not resolve: %v", err)
			}
		})
	}
	e.t = t

	// Defaults and limits.
	if p := getPage(t, "GET", 0, 0); len(p.members) != DefaultMemberPage || p.next == 0 {
		t.Errorf("limit 0: %d members next %d, want %d", len(p.members), p.next, DefaultMemberPage)
	}
	if r := e.do("GET", "/v2/groups/"+g+"/members", "QQBot "+tok, nil); r.status != 200 {
		t.Errorf("no query: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v2/groups/"+g+"/members", "QQBot "+tok, nil); r.status != 200 {
		t.Errorf("POST without a body: %d %s", r.status, r.body)
	}
	if p := getPage(t, "POST", 500, 0); len(p.members) != len(want) || p.next != 0 {
		t.Errorf("limit 500: %d members next %d", len(p.members), p.next)
	}
	for _, q := range []string{"limit=501", "limit=-1", "limit=abc", "start_index=-1", "start_index=x"} {
		wantQQ(t, e.do("GET", "/v2/groups/"+g+"/members?"+q, "QQBot "+tok, nil), 400, codeInvalidRequest)
	}
	wantQQ(t, e.do("POST", "/v2/groups/"+g+"/members", "QQBot "+tok, `{"limit":"x"}`), 400, codeInvalidRequest)
	wantQQ(t, e.do("POST", "/v2/groups/"+g+"/members", "QQBot "+tok, `[1]`), 400, codeInvalidRequest)

	// A member's openid is the same in every group of one bot.
	g2 := e.seen(bot, group.OpenIDGroup, "g2")
	r := e.do("GET", "/v2/groups/"+g2+"/members", "QQBot "+tok, nil)
	var mr membersResponse
	r.json(t, &mr)
	found := false
	for _, m := range mr.Members {
		found = found || m.MemberOpenID == e.openID(bot, group.OpenIDMember, "u007")
	}
	if !found {
		t.Errorf("u007's openid in g2 differs from g1's: %s", r.body)
	}

	// The bot must be a member.
	if err := e.svc.KickMembers(e.ctx(), group.AsUser("alice"), "g1", []string{"bot1"}, group.Notify{}); err != nil {
		t.Fatal(err)
	}
	wantQQ(t, e.do("GET", "/v2/groups/"+g+"/members", "QQBot "+tok, nil), 403, codeNotInGroup)
}

func TestOpenIDs(t *testing.T) {
	e := newEnv(t)
	a, b := e.robot("bot1", "A"), e.robot("bot2", "B")
	ga, gb := e.openID(a, group.OpenIDGroup, "g1"), e.openID(b, group.OpenIDGroup, "g1")
	ma := e.openID(a, group.OpenIDMember, "g1")
	if len(ga) != 32 || ga == gb || ga == ma || ga != fmt.Sprintf("%X", []byte(mustHex(t, ga))) {
		t.Errorf("openids %s %s %s: want 32 upper-case hex, different per bot and kind", ga, gb, ma)
	}
	// Stable across a restart: the key is in the store.
	e.restart()
	if again := e.openID(a, group.OpenIDGroup, "g1"); again != ga {
		t.Errorf("after a restart %s, want %s", again, ga)
	}
}

func mustHex(t *testing.T, s string) string {
	t.Helper()
	var b []byte
	if _, err := fmt.Sscanf(s, "%X", &b); err != nil {
		t.Fatalf("%q is not hex: %v", s, err)
	}
	return string(b)
}
