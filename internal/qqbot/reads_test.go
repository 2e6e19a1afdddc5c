package qqbot

import (
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// TestReadsDoNotWrite: a token request that returns the current token, a
// member list and an event delivery touch the store's writer only for what
// is new. Their openid mappings are looked up in the store, so a node whose
// caches are cold (here: after a restart) writes nothing either.
func TestReadsDoNotWrite(t *testing.T) {
	for _, kind := range storeKinds(t) {
		t.Run(kind, func(t *testing.T) {
			e := newEnvOn(t, kind)
			bot := e.robot("bot1", "QunBot")
			e.users("alice", "bob")
			e.createGroup("alice", "g1", "bot1", "bob")
			tok := e.token(bot)
			g := e.openID(bot, group.OpenIDGroup, "g1")
			members := func() {
				t.Helper()
				if r := e.do("GET", "/v2/groups/"+g+"/members", "QQBot "+tok, nil); r.status != 200 {
					t.Fatalf("members: %d %s", r.status, r.body)
				}
			}
			// The first delivery and the first member list store the
			// mappings they show: new facts for the store.
			w := e.dial()
			w.identify(tok, intentsGroup, [2]int{0, 1})
			e.mention("alice", "g1", "@QunBot hi", "bot1")
			w.event("GROUP_AT_MESSAGE_CREATE")
			members()

			// w stays connected, idle: a connection that ends writes its
			// session. The first restart closes it, before anything is counted.
			w.closeLater(closeSessionTimeout)

			for _, restart := range []bool{false, true} {
				name := "warm"
				if restart {
					name = "cold"
				}
				// cold restarts the node before each request, so that
				// nothing of the one before is cached.
				cold := func() {
					if restart {
						e.restart()
					}
				}
				t.Run(name, func(t *testing.T) {
					cold()
					before := e.store.writes.Load()
					if got := e.token(bot); got != tok {
						t.Fatalf("token %q, want the current one %q", got, tok)
					}
					if n := e.store.writes.Load() - before; n != 0 {
						t.Errorf("a token request that returned the current token made %d writes, want 0", n)
					}

					cold()
					before = e.store.writes.Load()
					members()
					if n := e.store.writes.Load() - before; n != 0 {
						t.Errorf("a member list of known members made %d writes, want 0", n)
					}

					cold()
					w := e.dial()
					defer w.c.CloseNow()
					w.identify(tok, intentsGroup, [2]int{0, 1})
					before = e.store.writes.Load()
					e.mention("alice", "g1", "@QunBot again", "bot1")
					w.event("GROUP_AT_MESSAGE_CREATE")
					if n := e.store.writes.Load() - before; n != 1 {
						t.Errorf("a message and the delivery of its event made %d writes, want 1: the message's", n)
					}
				})
			}
		})
	}
}
