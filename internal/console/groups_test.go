package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/qun-chat/qun/internal/console"
	"github.com/qun-chat/qun/internal/group"
)

var groupLink = regexp.MustCompile(`<a href="/groups/([^"]+)">`)

// listed returns the ids the groups page links to, and its next page's link.
func listed(body string) ([]string, string) {
	var ids []string
	for _, m := range groupLink.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	next := ""
	if m := regexp.MustCompile(`<a href="([^"]+)" id="groups-next">`).FindStringSubmatch(body); m != nil {
		next = strings.ReplaceAll(m[1], "&amp;", "&")
	}
	return ids, next
}

// The groups page searches a prefix of the id or of the name, case-
// sensitively, and pages the results by key.
func TestGroupSearch(t *testing.T) {
	e := newEnv(t)
	create := func(id, name string) {
		t.Helper()
		if _, err := e.svc.CreateGroup(t.Context(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: id, Name: name, Owner: "alice"}}); err != nil {
			t.Fatal(err)
		}
	}
	create("t1", "Team")
	create("t2", "Team blue")
	create("x", "team")
	for i := range console.DefaultPage + 5 {
		create(fmt.Sprintf("load-%03d", i), "Load")
	}
	b := e.browser()
	b.signInOperator()

	a := b.do("GET", "/groups?q=Te&by=name", nil)
	wantStatus(t, "search by name", a, http.StatusOK, `id="search-groups"`)
	if ids, next := listed(a.body); strings.Join(ids, " ") != "t1 t2" || next != "" {
		t.Errorf("name prefix Te: %v (next %q), want t1 t2 and no next page", ids, next)
	}
	if ids, _ := listed(b.do("GET", "/groups?q=te&by=name", nil).body); strings.Join(ids, " ") != "x" {
		t.Errorf("name prefix te: %v, want x (the search is case-sensitive)", ids)
	}
	if ids, _ := listed(b.do("GET", "/groups?q=t&by=id", nil).body); strings.Join(ids, " ") != "t1 t2" {
		t.Errorf("id prefix t: %v, want t1 t2", ids)
	}

	// 55 groups named Load: two pages by (name, id), none listed twice.
	seen := map[string]bool{}
	path, pages := "/groups?q=Lo&by=name", 0
	for path != "" {
		a := b.do("GET", path, nil)
		if a.status != http.StatusOK {
			t.Fatalf("GET %s: HTTP %d: %s", path, a.status, a.body)
		}
		var ids []string
		ids, path = listed(a.body)
		for _, id := range ids {
			if seen[id] || !strings.HasPrefix(id, "load-") {
				t.Errorf("page %d lists %s", pages, id)
			}
			seen[id] = true
		}
		pages++
	}
	if len(seen) != console.DefaultPage+5 || pages != 2 {
		t.Errorf("name prefix Lo: %d groups in %d pages, want %d in 2", len(seen), pages, console.DefaultPage+5)
	}

	wantStatus(t, "an unknown field", b.do("GET", "/groups?q=x&by=owner", nil), http.StatusBadRequest, "Search by id or by name.")
	a = b.do("GET", "/groups?q=%FF&by=name", nil)
	wantStatus(t, "a prefix that is not UTF-8", a, http.StatusBadRequest, "invalid UTF-8")
	if strings.Contains(a.body, "goroutine") || strings.Contains(a.body, ".go:") {
		t.Errorf("the refusal shows internals: %s", a.body)
	}
}

// role reads userID's member type in groupID.
func (e *env) role(groupID, userID string) int {
	e.t.Helper()
	m, err := e.svc.GetMember(e.t.Context(), group.Admin, groupID, userID)
	if err != nil {
		e.t.Fatal(err)
	}
	return m.Type
}

// The members page mutes and unmutes, as the operator or as a bot the
// group's rules let; the change needs the session's CSRF token, and the
// timeline says it as a sentence.
func TestMemberMute(t *testing.T) {
	e := newEnv(t)
	_, bot, err := e.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "echo", DisplayName: "Echo"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateGroup(t.Context(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: "g", Name: "Team", Owner: "alice"},
		Members: []group.Member{{UserID: "bob"}, {UserID: "echo"}}}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signInOperator()
	role := func(action, member string) url.Values { return url.Values{"member": {member}, "action": {action}} }

	for name, token := range map[string]string{"no": "", "a wrong": "x"} {
		form := role("mute", "bob")
		if token != "" {
			form.Set("csrf", token)
		}
		wantStatus(t, "mute with "+name+" token", b.do("POST", "/groups/g/members/role", form), http.StatusForbidden, "form expired")
	}
	if got := e.role("g", "bob"); got != group.MemberNormal {
		t.Fatalf("a refused POST changed bob to %d", got)
	}

	a := b.post("/groups/g", "/groups/g/members/role", role("mute", "bob"))
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/groups/g?flash=saved" {
		t.Fatalf("mute: HTTP %d Location %q: %s", a.status, a.header.Get("Location"), a.body)
	}
	if got := e.role("g", "bob"); got != group.MemberSilent {
		t.Fatalf("bob after mute: type %d", got)
	}
	page := b.do("GET", "/groups/g?flash=saved", nil)
	wantStatus(t, "group page after mute", page, http.StatusOK, "the server muted bob", `value="unmute"`)

	a = b.post("/groups/g", "/groups/g/members/role", url.Values{"member": {"bob"}, "action": {"unmute"}, "members_after": {"1"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/groups/g?flash=saved&members_after=1" {
		t.Fatalf("unmute: HTTP %d Location %q: %s", a.status, a.header.Get("Location"), a.body)
	}
	if got := e.role("g", "bob"); got != group.MemberNormal {
		t.Fatalf("bob after unmute: type %d", got)
	}
	wantStatus(t, "unmute said", b.do("GET", "/groups/g", nil), http.StatusOK, "the server unmuted bob")

	for _, tt := range []struct {
		name   string
		form   url.Values
		status int
		says   string
	}{
		{"no member", role("mute", ""), http.StatusBadRequest, "empty"},
		{"unknown action", role("ban", "bob"), http.StatusBadRequest, "Unknown change."},
		{"the owner", role("mute", "alice"), http.StatusForbidden, "role cannot change"},
		{"a member id too long", role("mute", strings.Repeat("x", group.MaxIDLen+1)), http.StatusBadRequest, "longer than"},
	} {
		wantStatus(t, tt.name, b.post("/groups/g", "/groups/g/members/role", tt.form), tt.status, tt.says)
	}
	wantStatus(t, "an unknown group", b.post("/groups/g", "/groups/nope/members/role", role("mute", "bob")), http.StatusNotFound, "nope")

	// The bot's developer acts as the bot: a normal member may not mute...
	dev := e.browser()
	if a := dev.signIn(url.Values{"app_id": {bot.AppID}, "app_secret": {bot.AppSecret}}); a.status != http.StatusSeeOther {
		t.Fatalf("bot sign-in: HTTP %d", a.status)
	}
	wantStatus(t, "a normal bot mutes", dev.post("/groups/g", "/groups/g/members/role", role("mute", "bob")), http.StatusForbidden, "may not change member roles")
	if got := e.role("g", "bob"); got != group.MemberNormal {
		t.Fatalf("a refused bot changed bob to %d", got)
	}
	// ...a manager may.
	if err := e.svc.SetManagers(t.Context(), group.Admin, "g", []string{"echo"}, true, group.Notify{}); err != nil {
		t.Fatal(err)
	}
	if a := dev.post("/groups/g", "/groups/g/members/role", role("mute", "bob")); a.status != http.StatusSeeOther {
		t.Fatalf("a manager bot mutes: HTTP %d: %s", a.status, a.body)
	}
	wantStatus(t, "the bot muted bob", dev.do("GET", "/groups/g", nil), http.StatusOK, "echo muted bob")
	if _, err := e.svc.CreateGroup(t.Context(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: "other", Owner: "alice"},
		Members: []group.Member{{UserID: "bob"}}}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "a group without the bot", dev.post("/groups/g", "/groups/other/members/role", role("mute", "bob")), http.StatusForbidden, "may not")
}
