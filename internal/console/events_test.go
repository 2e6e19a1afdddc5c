package console_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/console"
	"github.com/qun-chat/qun/internal/group"
)

// events opens the stream at path and returns a reader of its events.
func (b *browser) events(path string, header ...string) (next func() (id int64, data string), stop func()) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.t.Context(), 30*time.Second)
	req, _ := http.NewRequestWithContext(ctx, "GET", b.base+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		b.t.Fatalf("GET %s: HTTP %d %s", path, resp.StatusCode, ct)
	}
	lines := bufio.NewScanner(resp.Body)
	next = func() (int64, string) {
		b.t.Helper()
		var id int64
		for lines.Scan() {
			l := lines.Text()
			if v, ok := strings.CutPrefix(l, "id: "); ok {
				id, _ = strconv.ParseInt(v, 10, 64)
			}
			if d, ok := strings.CutPrefix(l, "data: "); ok {
				return id, d
			}
		}
		b.t.Fatalf("stream ended: %v", lines.Err())
		return 0, ""
	}
	return next, func() { cancel(); resp.Body.Close() }
}

// The playground streams the frames the bot was sent: its latest events
// first, then live, from where Last-Event-ID says; only to who may see the bot.
func TestBotEventsStream(t *testing.T) {
	e := newEnv(t)
	_, bot, err := e.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "echo", Name: "echo", DisplayName: "Echo"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "other", DisplayName: "Other"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateGroup(t.Context(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: "g", Owner: "alice"},
		Members: []group.Member{{UserID: "bob"}, {UserID: "echo"}}}); err != nil { // event 1: GROUP_ADD_ROBOT
		t.Fatal(err)
	}
	mention := func(i int) {
		t.Helper()
		if _, err := e.svc.SendMessage(t.Context(), group.SendInput{Sender: "bob", ConvType: group.ConvGroup, Target: "g",
			Payload: group.Payload{Type: group.ContentText, SearchableContent: fmt.Sprintf("@Echo ping %d", i),
				MentionedType: group.MentionSome, MentionedTarget: []string{"echo"}}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 25 { // events 2..26
		mention(i)
	}
	b := e.browser()
	b.signInOperator()
	wantStatus(t, "playground", b.do("GET", "/playground?group=g&user=alice", nil), http.StatusOK,
		`id="bot-events"`, `data-events="/playground/events?bot=echo"`)

	next, stop := b.events("/playground/events?bot=echo")
	for want := int64(26 - console.DefaultRecentEvents + 1); want <= 26; want++ {
		id, data := next()
		if id != want || !strings.HasPrefix(data, `{"op":0,"s":`+strconv.FormatInt(want+1, 10)+`,"t":"GROUP_AT_MESSAGE_CREATE","id":"GROUP_AT_MESSAGE_CREATE:`) {
			t.Fatalf("event %d: id %d %s", want, id, data)
		}
	}
	mention(99)
	if id, data := next(); id != 27 || !strings.Contains(data, `"content":" ping 99"`) {
		t.Errorf("live event: id %d %s; want 27, the new mention", id, data)
	}
	stop()
	next, stop = b.events("/playground/events?bot=echo", "Last-Event-ID", "0")
	if id, data := next(); id != 1 || !strings.Contains(data, `"t":"GROUP_ADD_ROBOT"`) {
		t.Errorf("from Last-Event-ID 0: id %d %s; want the bot's joining", id, data)
	}
	stop()

	wantStatus(t, "no bot", b.do("GET", "/playground/events", nil), http.StatusBadRequest, "empty")
	wantStatus(t, "bad after", b.do("GET", "/playground/events?bot=echo&after=-3", nil), http.StatusBadRequest, "whole number")
	wantStatus(t, "unknown bot", b.do("GET", "/playground/events?bot=nope", nil), http.StatusNotFound, "nope")

	dev := e.browser()
	if a := dev.signIn(url.Values{"app_id": {bot.AppID}, "app_secret": {bot.AppSecret}}); a.status != http.StatusSeeOther {
		t.Fatalf("bot sign-in: HTTP %d", a.status)
	}
	wantStatus(t, "another bot's events", dev.do("GET", "/playground/events?bot=other", nil), http.StatusForbidden, "may not")
	wantStatus(t, "the developer's playground shows its bot", dev.do("GET", "/playground?group=g&user=alice&bot=other", nil),
		http.StatusOK, `data-events="/playground/events?bot=echo"`)
	next, stop = dev.events("/playground/events?bot=echo&after=26")
	if id, _ := next(); id != 27 {
		t.Errorf("the developer's stream after 26: id %d, want 27", id)
	}
	stop()
}
