package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/qun-chat/qun/internal/group"
)

var errorMessage = regexp.MustCompile(`(?s)<p class="error" id="error">(.*?)</p>`)

// TestRefusalsInChinese: every refusal the console answers, its own or a
// domain error's, says in Chinese what is wrong when the console speaks
// Chinese — a domain message (English, naming the request's values) comes
// after the Chinese text of its code.
func TestRefusalsInChinese(t *testing.T) {
	e, _, echo := newOutboundEnv(t)
	if _, err := e.svc.CreateGroup(t.Context(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: "g", Owner: "alice"},
		Members: []group.Member{{UserID: "bob"}}}); err != nil {
		t.Fatal(err)
	}
	op := e.browser()
	op.signInOperator()
	dev := e.browser()
	wantStatus(t, "bot sign-in", dev.signIn(url.Values{"app_id": {echo.AppID}, "app_secret": {echo.AppSecret}}), http.StatusSeeOther)
	for _, b := range []*browser{op, dev} {
		if a := b.do("GET", "/lang/zh", nil); a.status != http.StatusSeeOther {
			t.Fatalf("switch to Chinese: HTTP %d", a.status)
		}
	}
	long := strings.Repeat("x", group.MaxIDLen+1)
	post := func(b *browser, from, path string, form url.Values) func() answer {
		return func() answer { return b.post(from, path, form) }
	}
	get := func(b *browser, path string) func() answer {
		return func() answer { return b.do("GET", path, nil) }
	}
	for _, tt := range []struct {
		name   string
		do     func() answer
		status int
	}{
		{"bot without id", post(op, "/bots", "/bots", url.Values{"id": {""}}), http.StatusBadRequest},
		{"bot id too long", post(op, "/bots", "/bots", url.Values{"id": {long}}), http.StatusBadRequest},
		{"group without owner", post(op, "/groups", "/groups", url.Values{"id": {"g2"}}), http.StatusBadRequest},
		{"group exists", post(op, "/groups", "/groups", url.Values{"id": {"g"}, "owner": {"alice"}}), http.StatusConflict},
		{"bad search field", get(op, "/groups?q=a&by=owner"), http.StatusBadRequest},
		{"unknown group", get(op, "/groups/nope"), http.StatusNotFound},
		{"bad paging", get(op, "/groups/g?members_after=-1"), http.StatusBadRequest},
		{"stream without after", get(op, "/groups/g/stream"), http.StatusBadRequest},
		{"member without id", post(op, "/groups/g", "/groups/g/members/role", url.Values{"action": {"mute"}}), http.StatusBadRequest},
		{"unknown member change", post(op, "/groups/g", "/groups/g/members/role", url.Values{"member": {"bob"}, "action": {"ban"}}), http.StatusBadRequest},
		{"a group the bot is not in", post(dev, "/bots/echo", "/groups/g/members/role", url.Values{"member": {"bob"}, "action": {"mute"}}), http.StatusForbidden},
		{"events without bot", get(op, "/playground/events"), http.StatusBadRequest},
		{"events bad after", get(op, "/playground/events?bot=echo&after=x"), http.StatusBadRequest},
		{"events of an unknown bot", get(op, "/playground/events?bot=nope"), http.StatusNotFound},
		{"send to an unknown group", post(op, "/playground", "/playground/send", url.Values{"group": {"nope"}, "user": {"alice"}, "text": {"hi"}}), http.StatusNotFound},
		{"unknown which", post(op, "/bots/echo", "/bots/echo/reset", url.Values{"which": {"all"}}), http.StatusBadRequest},
		{"reset of an unknown bot", post(op, "/bots/echo", "/bots/nope/reset", url.Values{"which": {"app"}}), http.StatusNotFound},
		{"bad intent", post(op, "/bots/echo", "/bots/echo/intents", url.Values{"intent": {"3"}}), http.StatusBadRequest},
		{"unknown intent bit", post(op, "/bots/echo", "/bots/echo/intents", url.Values{"intent": {"65536"}}), http.StatusBadRequest},
		{"webhook URL too long", post(op, "/bots/echo", "/bots/echo/webhook", url.Values{"url": {"https://x.example/" + strings.Repeat("a", 5000)}}), http.StatusBadRequest},
		{"bad stream", post(op, "/bots/echo", "/bots/echo/redeliver", url.Values{"stream": {"mail"}, "from_seq": {"0"}}), http.StatusBadRequest},
		{"bad from seq", post(op, "/bots/echo", "/bots/echo/redeliver", url.Values{"stream": {"webhook"}, "from_seq": {"-1"}}), http.StatusBadRequest},
		{"unknown page", get(op, "/nope"), http.StatusNotFound},
		{"another bot's page", get(dev, "/bots/other"), http.StatusForbidden},
		{"operator's page", post(dev, "/bots/echo", "/bots", url.Values{"id": {"x"}}), http.StatusForbidden},
		{"without CSRF", func() answer { return op.do("POST", "/bots", url.Values{"id": {"x"}}) }, http.StatusForbidden},
		{"wrong sign-in", func() answer {
			b := e.browser()
			b.do("GET", "/lang/zh", nil)
			return b.signIn(url.Values{"secret": {"wrong"}})
		}, http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.do()
			wantStatus(t, tt.name, a, tt.status)
			m := errorMessage.FindStringSubmatch(a.body)
			if m == nil {
				t.Fatalf("no error message: %s", a.body)
			}
			if msg := html.UnescapeString(m[1]); !strings.ContainsFunc(msg, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
				t.Errorf("the Chinese console refuses in English only: %q", msg)
			}
		})
	}
}
