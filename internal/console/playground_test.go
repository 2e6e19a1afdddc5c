package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// The playground acts as the user picked: the group's rules decide, and a
// refusal is a readable page.
func TestPlayground(t *testing.T) {
	e := newEnv(t)
	if _, _, err := e.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "echo", DisplayName: "Echo"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateGroup(t.Context(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: "g", Owner: "alice"},
		Members: []group.Member{{UserID: "bob"}}}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signInOperator()
	play := "/playground?group=g&user=alice"
	wantStatus(t, "playground", b.do("GET", play, nil), http.StatusOK, `id="play-send"`)

	a := b.post(play, "/playground/robot", url.Values{"group": {"g"}, "user": {"alice"}, "bot": {"echo"}, "action": {"add"}})
	if a.status != http.StatusSeeOther || !strings.Contains(a.header.Get("Location"), "flash=saved") {
		t.Fatalf("add the bot: HTTP %d Location %q: %s", a.status, a.header.Get("Location"), a.body)
	}
	if bots, err := e.svc.GroupBots(t.Context(), "g"); err != nil || len(bots) != 1 || bots[0] != "echo" {
		t.Fatalf("bots of g = %v, %v", bots, err)
	}
	// The mention menu sends the id and shows the name the group's users see.
	wantStatus(t, "playground with a bot", b.do("GET", play, nil), http.StatusOK, `<option value="echo">@Echo (echo)</option>`)
	wantStatus(t, "a member may not turn proactive messages off",
		b.post(play, "/playground/proactive", url.Values{"group": {"g"}, "user": {"bob"}, "bot": {"echo"}, "allow": {"0"}}), http.StatusForbidden, "only the owner or a manager")
	if a := b.post(play, "/playground/proactive", url.Values{"group": {"g"}, "user": {"alice"}, "bot": {"echo"}, "allow": {"0"}}); a.status != http.StatusSeeOther {
		t.Fatalf("the owner turns proactive messages off: HTTP %d: %s", a.status, a.body)
	}
	if a := b.post(play, "/playground/send", url.Values{"group": {"g"}, "user": {"bob"}, "mention": {"echo"}, "text": {"@Echo hi"}}); a.status != http.StatusSeeOther {
		t.Fatalf("send: HTTP %d: %s", a.status, a.body)
	}
	msgs, _, err := e.svc.TimelineBefore(t.Context(), "g", 0, 0, 1)
	if err != nil || len(msgs) != 1 || msgs[0].Sender != "bob" || !msgs[0].Payload.Mentions("echo") {
		t.Fatalf("newest message %+v, %v; want bob's mention of echo", msgs, err)
	}
	wantStatus(t, "a stranger may not speak", b.post(play, "/playground/send", url.Values{"group": {"g"}, "user": {"nobody"}, "text": {"hi"}}), http.StatusForbidden)
	if a := b.post(play, "/playground/robot", url.Values{"group": {"g"}, "user": {"alice"}, "bot": {"echo"}, "action": {"remove"}}); a.status != http.StatusSeeOther {
		t.Fatalf("remove the bot: HTTP %d: %s", a.status, a.body)
	}
	page := b.do("GET", "/groups/g", nil)
	wantStatus(t, "group page", page, http.StatusOK, "alice removed echo", "bob")
}

// A flash names a known message; anything else in the query is not shown.
func TestFlashShowsOnlyKnownMessages(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signInOperator()
	if a := b.do("GET", "/?flash=Call+0800+now", nil); strings.Contains(a.body, "Call 0800") {
		t.Errorf("a flash from the query was shown: %s", a.body)
	}
	wantStatus(t, "known flash", b.do("GET", "/?flash=saved", nil), http.StatusOK, "Saved.")
}
