package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// writeAll writes one row of many nouns in tx and checks that tx reads its own writes.
func writeAll(tx group.Tx, id string) error {
	if err := tx.PutUser(group.User{ID: id, Name: id}); err != nil {
		return err
	}
	if err := tx.PutBot(group.Bot{UserID: id, AppID: "app-" + id}); err != nil {
		return err
	}
	if err := tx.PutGroup(group.Group{ID: "g-" + id, Owner: id}); err != nil {
		return err
	}
	if err := tx.PutMember(member("g-"+id, id, group.MemberOwner)); err != nil {
		return err
	}
	if err := tx.SetProactive("g-"+id, id, false); err != nil {
		return err
	}
	if _, err := tx.AppendMessage(group.Message{GroupID: "g-" + id, Sender: id, Payload: payload(id), CreatedAt: t0}); err != nil {
		return err
	}
	if _, err := tx.AppendEvent(group.Event{BotID: id, Type: group.EventAddRobot, GroupID: "g-" + id, CreatedAt: t0}); err != nil {
		return err
	}
	if err := tx.AppendBotMessage(group.BotMessage{BotID: id, GroupID: "g-" + id, ReplyTo: "msg:1", MsgSeq: 1, CreatedAt: t0}); err != nil {
		return err
	}
	if _, err := tx.UseNonce("nonce-"+id, at(24*time.Hour), t0); err != nil {
		return err
	}
	// Read your own writes.
	if _, err := tx.User(id); err != nil {
		return fmt.Errorf("read own user: %w", err)
	}
	if n, err := tx.MemberCount("g-" + id); err != nil || n != 1 {
		return fmt.Errorf("read own member: count %d, %v", n, err)
	}
	if seq, err := tx.LastEventSeq(id); err != nil || seq != 1 {
		return fmt.Errorf("read own event: seq %d, %v", seq, err)
	}
	return nil
}

// checkWritten reports whether every write of writeAll(id) is visible, or none.
func checkWritten(t *testing.T, s group.Store, id string, want bool) {
	t.Helper()
	var found []string
	err := s.View(t.Context(), func(r group.Reader) error {
		checks := []struct {
			name string
			err  func() error
		}{
			{"user", func() error { _, err := r.User(id); return err }},
			{"bot", func() error { _, err := r.BotByAppID("app-" + id); return err }},
			{"group", func() error { _, err := r.Group("g-" + id); return err }},
			{"member", func() error { _, err := r.Member("g-"+id, id); return err }},
			{"message", func() error {
				ms, err := r.Messages("g-"+id, 0, 0, 10)
				if err == nil && len(ms) == 0 {
					return group.Errorf(group.ENotExist, "no messages")
				}
				return err
			}},
			{"event", func() error { _, err := r.Event(id, 1); return err }},
		}
		for _, c := range checks {
			switch err := c.err(); {
			case err == nil:
				found = append(found, c.name)
			case !group.IsNotExist(err):
				return err
			}
		}
		if ok, err := r.Proactive("g-"+id, id); err != nil {
			return err
		} else if !ok {
			found = append(found, "proactive")
		}
		if n, err := r.CountReplies(id, "msg:1"); err != nil {
			return err
		} else if n > 0 {
			found = append(found, "bot message")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	switch {
	case want && len(found) != 8:
		t.Errorf("writes of %s: found only %v", id, found)
	case !want && len(found) != 0:
		t.Errorf("writes of %s were rolled back, but found %v", id, found)
	}
}

// doorState is one row of each noun of the door's state.
type doorState struct {
	token   group.AccessToken
	session group.Session
	openID  group.OpenID
	setting string
}

// writeDoor stores one row of each noun of the door's state, each in its
// own transaction.
func writeDoor(t *testing.T, s Store, id string) doorState {
	t.Helper()
	d := doorState{
		token:   group.AccessToken{Token: "tok-" + id, BotID: id, ExpiresAt: t0, CreatedAt: t0},
		session: group.Session{ID: "sess-" + id, BotID: id, CreatedAt: t0, UpdatedAt: t0, ConnID: "conn-" + id},
		openID:  group.OpenID{BotID: id, OpenID: "OPEN-" + id, Kind: group.OpenIDMember, InternalID: id},
		setting: "setting-" + id,
	}
	putToken(t, s, d.token)
	putSession(t, s, d.session)
	noErr(t, "PutOpenIDs", s.PutOpenIDs(t.Context(), []group.OpenID{d.openID}))
	must(s.CreateSetting(t.Context(), d.setting, id))(t, "CreateSetting")
	return d
}

// checkDoor checks that the door's state writeDoor stored reads back.
func checkDoor(t *testing.T, s Store, d doorState) {
	t.Helper()
	diff(t, "access token", d.token, must(s.AccessToken(t.Context(), d.token.Token))(t, "AccessToken"))
	diff(t, "session", d.session, must(s.Session(t.Context(), d.session.ID))(t, "Session"))
	diff(t, "openids", []group.OpenID{d.openID}, must(s.OpenIDs(t.Context(), d.openID.BotID, []string{d.openID.OpenID}))(t, "OpenIDs"))
	diff(t, "setting", d.openID.BotID, must(s.Setting(t.Context(), d.setting))(t, "Setting"))
}

func testRollback(t *testing.T, s group.Store) {
	err := s.Update(t.Context(), func(tx group.Tx) error {
		if err := writeAll(tx, "x"); err != nil {
			return err
		}
		return errTest
	})
	if !errors.Is(err, errTest) {
		t.Fatalf("Update: %v, want fn's error", err)
	}
	checkWritten(t, s, "x", false)

	// The rolled-back seqs and nonce are free again.
	update(t, s, func(tx group.Tx) error { return writeAll(tx, "x") })
	checkWritten(t, s, "x", true)
	update(t, s, func(tx group.Tx) error {
		if ok, err := tx.UseNonce("nonce-x", t0, t0); err != nil || ok {
			return fmt.Errorf("replayed nonce accepted: %v, %v", ok, err)
		}
		return nil
	})
}

// testConcurrentUpdates runs many Updates at once, so that a store that
// batches them commits several together: the failing ones (half of them, some
// by panicking) must leave nothing behind, the others must all commit, and
// every fn must see the effects of those before it.
func testConcurrentUpdates(t *testing.T, s group.Store) {
	const n = 50
	fails := func(i int) bool { return i%2 == 1 }
	update(t, s, func(tx group.Tx) error { return tx.PutGroup(group.Group{ID: "counter", Name: "0"}) })

	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			id := "c" + strconv.Itoa(i)
			errs[i] = s.Update(t.Context(), func(tx group.Tx) error {
				if err := writeAll(tx, id); err != nil {
					return err
				}
				// Shared rows: a timeline, an event log and a counter.
				if _, err := tx.AppendMessage(group.Message{GroupID: "shared", Sender: id, CreatedAt: t0}); err != nil {
					return err
				}
				if _, err := tx.AppendEvent(group.Event{BotID: "shared-bot", Type: group.EventAtMessage, OperatorID: id, CreatedAt: t0}); err != nil {
					return err
				}
				counter, err := tx.Group("counter")
				if err != nil {
					return err
				}
				c, err := strconv.Atoi(counter.Name)
				if err != nil {
					return err
				}
				counter.Name = strconv.Itoa(c + 1)
				if err := tx.PutGroup(counter); err != nil {
					return err
				}
				switch {
				case !fails(i):
					return nil
				case i%10 == 1:
					panic("storetest: deliberate panic")
				default:
					return errTest
				}
			})
		})
	}
	close(start)
	wg.Wait()

	var committed []string
	for i, err := range errs {
		id := "c" + strconv.Itoa(i)
		switch {
		case !fails(i) && err != nil:
			t.Errorf("update %d: %v", i, err)
		case fails(i) && i%10 == 1 && group.ErrorCode(err) != group.EInternal:
			t.Errorf("update %d panicked: error %v, want an EInternal error", i, err)
		case fails(i) && i%10 != 1 && !errors.Is(err, errTest):
			t.Errorf("update %d failed: error %v, want fn's error", i, err)
		}
		checkWritten(t, s, id, !fails(i))
		if !fails(i) {
			committed = append(committed, id)
		}
	}

	t.Run("SharedTimeline", func(t *testing.T) {
		ms := read(t, s, func(r group.Reader) ([]group.Message, error) { return r.Messages("shared", 0, 0, 2*n) })
		var senders []string
		for i, m := range ms {
			if m.Seq != int64(i+1) {
				t.Errorf("message %d has seq %d: want seqs without gaps", i, m.Seq)
			}
			senders = append(senders, m.Sender)
		}
		sort.Strings(senders)
		sort.Strings(committed)
		diff(t, "senders of the shared timeline", committed, senders)
	})
	t.Run("SharedEventLog", func(t *testing.T) {
		es := read(t, s, func(r group.Reader) ([]group.Event, error) { return r.Events("shared-bot", 0, 2*n) })
		for i, e := range es {
			if e.Seq != int64(i+1) {
				t.Errorf("event %d has seq %d: want seqs without gaps", i, e.Seq)
			}
		}
		diff(t, "events in the shared log", len(committed), len(es))
		diff(t, "LastEventSeq(shared-bot)", int64(len(committed)),
			read(t, s, func(r group.Reader) (int64, error) { return r.LastEventSeq("shared-bot") }))
	})
	t.Run("Counter", func(t *testing.T) {
		got := read(t, s, func(r group.Reader) (group.Group, error) { return r.Group("counter") })
		diff(t, "counter", strconv.Itoa(len(committed)), got.Name)
	})
}

func testPanic(t *testing.T, s group.Store) {
	err := s.Update(t.Context(), func(tx group.Tx) error {
		if err := writeAll(tx, "p"); err != nil {
			return err
		}
		panic("storetest: deliberate panic")
	})
	wantCode(t, "Update that panics", err, group.EInternal)
	checkWritten(t, s, "p", false)
	update(t, s, func(tx group.Tx) error { return writeAll(tx, "after") })
	checkWritten(t, s, "after", true)
}

func testCanceledContext(t *testing.T, s group.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	err := s.Update(ctx, func(tx group.Tx) error { ran = true; return writeAll(tx, "x") })
	if !errors.Is(err, context.Canceled) || ran {
		t.Errorf("Update with a canceled context: error %v, fn ran %v; want context.Canceled and no run", err, ran)
	}
	err = s.View(ctx, func(group.Reader) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("View with a canceled context: error %v, want context.Canceled", err)
	}
	checkWritten(t, s, "x", false)
}

func testView(t *testing.T, s group.Store) {
	put(t, s, members, member("g", "alice", group.MemberOwner))

	t.Run("Error", func(t *testing.T) {
		err := s.View(t.Context(), func(group.Reader) error { return errTest })
		if !errors.Is(err, errTest) {
			t.Errorf("View: %v, want fn's error", err)
		}
	})
	t.Run("Snapshot", func(t *testing.T) {
		// A commit during a View is not seen by that View.
		err := s.View(t.Context(), func(r group.Reader) error {
			before, err := r.MemberCount("g")
			if err != nil {
				return err
			}
			if err := s.Update(t.Context(), func(tx group.Tx) error { return tx.PutMember(member("g", "bob", group.MemberNormal)) }); err != nil {
				return err
			}
			after, err := r.MemberCount("g")
			if err != nil {
				return err
			}
			if before != 1 || after != 1 {
				return fmt.Errorf("member count %d, then %d after a concurrent commit; want 1 both times", before, after)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
		diff(t, "MemberCount after the View", 2, read(t, s, func(r group.Reader) (int, error) { return r.MemberCount("g") }))
	})
}

func testWaitEvents(t *testing.T, s group.Store) {
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	event := func(bot string) func(tx group.Tx) error {
		return func(tx group.Tx) error {
			_, err := tx.AppendEvent(group.Event{BotID: bot, Type: group.EventAddRobot, GroupID: "g", CreatedAt: t0})
			return err
		}
	}

	bot1, bot2 := s.WaitEvents("bot1"), s.WaitEvents("bot2")

	// Neither a commit without events nor a rolled-back event wakes anyone.
	update(t, s, func(tx group.Tx) error { return tx.PutUser(group.User{ID: "k"}) })
	err := s.Update(t.Context(), func(tx group.Tx) error {
		if err := event("bot1")(tx); err != nil {
			return err
		}
		return errTest
	})
	if !errors.Is(err, errTest) {
		t.Fatalf("failing Update: %v", err)
	}
	if closed(bot1) {
		t.Error("WaitEvents(bot1) woken by a commit without events or by a rolled-back event")
	}

	update(t, s, event("bot1"))
	<-bot1 // a waiter from before the commit is woken; a store that misses it hangs here

	if closed(bot2) {
		t.Error("WaitEvents(bot2) woken by an event for bot1")
	}
	again := s.WaitEvents("bot1")
	if closed(again) {
		t.Error("WaitEvents(bot1) after the wake-up is closed already; want a fresh wait")
	}
	update(t, s, event("bot2"))
	<-bot2
	if closed(again) {
		t.Error("WaitEvents(bot1) woken by an event for bot2")
	}
	update(t, s, event("bot1"))
	<-again
}

func testClosed(t *testing.T, open func() Store) {
	s := open()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	ran := false
	if err := s.Update(t.Context(), func(group.Tx) error { ran = true; return nil }); err == nil || ran {
		t.Errorf("Update after Close: error %v, fn ran %v; want an error and no run", err, ran)
	}
	if err := s.View(t.Context(), func(group.Reader) error { return nil }); err == nil {
		t.Error("View after Close: no error")
	}
	if _, err := s.Setting(t.Context(), "k"); err == nil {
		t.Error("Setting after Close: no error")
	}
	err := s.UpdateSession(t.Context(), "sess", func(group.Reader, group.Session, bool) (group.Session, bool, error) {
		ran = true
		return group.Session{}, false, nil
	})
	if err == nil || ran {
		t.Errorf("UpdateSession after Close: error %v, fn ran %v; want an error and no run", err, ran)
	}
}

func testReopen(t *testing.T, open func() Store) {
	s := open()
	update(t, s, func(tx group.Tx) error { return writeAll(tx, "r") })
	door := writeDoor(t, s, "r")
	// Nonces used through the door's store, on their own and in a write.
	if !useNonce(t, s, "nonce-alone", at(24*time.Hour), t0) {
		t.Fatal("nonce-alone not fresh")
	}
	bound, _ := s.BindNonce(t.Context(), "nonce-bound", at(24*time.Hour), t0)
	if err := s.Update(bound, func(tx group.Tx) error { return tx.PutMember(member("g-r", "carol", group.MemberNormal)) }); err != nil {
		t.Fatalf("bound update: %v", err)
	}
	put(t, s, members, member("g-r", "bob", group.MemberNormal))
	removed := member("g-r", "bob", group.MemberRemoved)
	put(t, s, members, removed)
	bobPos := read(t, s, func(r group.Reader) (group.Member, error) { return r.Member("g-r", "bob") }).Pos
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	s = openStore(t, open)
	checkWritten(t, s, "r", true)
	checkDoor(t, s, door)
	removed.Pos = bobPos
	diff(t, "removed member after reopen", removed,
		read(t, s, func(r group.Reader) (group.Member, error) { return r.Member("g-r", "bob") }))

	var m group.Message
	var e group.Event
	var fresh bool
	update(t, s, func(tx group.Tx) (err error) {
		if m, err = tx.AppendMessage(group.Message{GroupID: "g-r", Sender: "r", CreatedAt: t0}); err != nil {
			return err
		}
		if e, err = tx.AppendEvent(group.Event{BotID: "r", Type: group.EventDelRobot, CreatedAt: t0}); err != nil {
			return err
		}
		if fresh, err = tx.UseNonce("nonce-r", at(24*time.Hour), t0); err != nil {
			return err
		}
		return tx.PutMember(member("g-r", "bob", group.MemberNormal))
	})
	diff(t, "message seq after reopen", int64(2), m.Seq)
	if e.Seq != 0 { // else numbered at the commit
		diff(t, "event seq after reopen", int64(2), e.Seq)
	}
	diff(t, "last event seq after reopen", int64(2), read(t, s, func(r group.Reader) (int64, error) { return r.LastEventSeq("r") }))
	diff(t, "UseNonce replay after reopen", false, fresh)
	for _, key := range []string{"nonce-alone", "nonce-bound"} {
		diff(t, "NonceStore.UseNonce of "+key+" after reopen", false, useNonce(t, s, key, at(24*time.Hour), t0))
	}
	diff(t, "re-added member's Pos after reopen", bobPos,
		read(t, s, func(r group.Reader) (group.Member, error) { return r.Member("g-r", "bob") }).Pos)
}
