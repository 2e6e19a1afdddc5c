package qqbot

import (
	"encoding/json"
	"fmt"
	"testing"
)

// A session that is caught up sends what the commits hand its feed without
// reading the log (SQLite hands them; PostgreSQL does not yet, and its
// sessions read the log), and renders an at-event with the bot's user as it
// is now: a rename of the bot makes the feed stale, and the next event is
// rendered after a read of the log with the new name.
func TestGatewayFeed(t *testing.T) {
	for _, kind := range storeKinds(t) {
		t.Run(kind, func(t *testing.T) {
			e := newEnvOn(t, kind)
			bot := e.robot("bot1", "QunBot")
			e.users("alice")
			tok := e.token(bot)
			w := e.dial()
			w.send(map[string]any{"op": opIdentify, "d": map[string]any{"token": "QQBot " + tok, "intents": intentsGroup}})
			if f := w.read(); f.T != "READY" {
				t.Fatalf("READY: %+v", f)
			}
			e.createGroup("alice", "g1", "bot1")
			w.event("GROUP_ADD_ROBOT")
			content := func(text string) (string, int64) {
				t.Helper()
				e.mention("alice", "g1", text, "bot1")
				f := w.event("GROUP_AT_MESSAGE_CREATE")
				var at atMessageData
				if err := json.Unmarshal(f.D, &at); err != nil {
					t.Fatal(err)
				}
				return at.Content, *f.S
			}
			// The first at-event is read from the log (the session has not read the bot's user yet).
			if c, _ := content("@QunBot a"); c != " a" {
				t.Errorf("content %q, want \" a\"", c)
			}
			views := e.store.views.Load()
			var last int64
			for i := range 5 {
				c, s := content(fmt.Sprintf("@QunBot %d", i))
				if want := fmt.Sprintf(" %d", i); c != want {
					t.Errorf("content %q, want %q", c, want)
				}
				if last != 0 && s != last+1 {
					t.Errorf("s %d after %d", s, last)
				}
				last = s
			}
			if got := e.store.views.Load() - views; kind == "sqlite" && got != 0 {
				t.Errorf("%d reads of the log for 5 events a caught-up session was handed, want 0", got)
			}
			u, _, err := e.svc.GetRobot(e.ctx(), "bot1")
			if err != nil {
				t.Fatal(err)
			}
			u.DisplayName = "Renamed"
			if _, err := e.svc.PutUser(e.ctx(), u); err != nil {
				t.Fatal(err)
			}
			if c, s := content("@Renamed b"); c != " b" || s != last+1 {
				t.Errorf("after the rename: content %q s %d, want \" b\" s %d: rendered with the old name", c, s, last+1)
			}
		})
	}
}
