package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qun-chat/qun/internal/group"
)

// listen returns a connection LISTENing on channel and a function that
// returns the payloads received until the marker payload.
func listen(t *testing.T, dsn, channel string) (collect func(marker string) []string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(t.Context(), "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	return func(marker string) []string {
		var got []string
		for {
			ctx, cancel := context.WithTimeout(t.Context(), wakeTimeout)
			n, err := conn.WaitForNotification(ctx)
			cancel()
			if err != nil {
				t.Fatalf("waiting for notifications (got %q): %v", got, err)
			}
			if n.Payload == marker {
				slices.Sort(got)
				return got
			}
			got = append(got, n.Payload)
		}
	}
}

// TestCommitNotifiesLastSeqs: the commit that numbers a transaction's
// events notifies, once per bot, the last seq the transaction appended,
// whether the events were numbered at the commit or earlier (an Update that
// reads its bot's log), alone and in a shared batch; and the store's own
// waiters are woken with the same seqs.
func TestCommitNotifiesLastSeqs(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	s := testOpen(t, dsn, schema)
	collect := listen(t, dsn, schema)
	at := time.UnixMilli(1)
	ev := func(bot string) group.Event {
		return group.Event{BotID: bot, Type: group.EventAddRobot, GroupID: "g", OperatorID: "u", CreatedAt: at}
	}
	update := func(w *writer) error {
		for _, e := range []group.Event{ev("x"), ev("x"), ev("y")} {
			if _, err := w.AppendEvent(e); err != nil {
				return err
			}
		}
		if _, err := w.Events("y", 0, 10); err != nil { // numbers y's event now
			return err
		}
		_, err := w.AppendEvent(ev("y"))
		return err
	}
	marker := func(name string) {
		if _, err := s.pool.Exec(t.Context(), `SELECT pg_notify($1, $2)`, schema, name); err != nil {
			t.Fatal(err)
		}
	}

	// Alone.
	wx := s.WaitEvents("x")
	if err := s.update(t.Context(), update); err != nil {
		t.Fatal(err)
	}
	marker("alone")
	if got, want := collect("alone"), []string{"2 x", "2 y"}; !slices.Equal(got, want) {
		t.Errorf("notifications of a lone Update = %q, want %q", got, want)
	}
	waitClosed(t, "own waiter of x", wx, wakeTimeout)

	// Several at once: some of them share a batch; each commit notifies its
	// bots' last seqs, and the last of all is 2 × 4 more.
	const n = 4
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := s.update(t.Context(), update); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	marker("batch")
	got := collect("batch")
	if len(got) == 0 || len(got) > 2*n || !slices.Contains(got, "10 x") || !slices.Contains(got, "10 y") {
		t.Errorf("notifications of %d concurrent Updates = %q, want at most %d, with 10 x and 10 y", n, got, 2*n)
	}
}

// failEventInsert makes the insert of an event of type BOOM fail in the
// test schema.
func failEventInsert(t *testing.T, dsn, schema string) {
	t.Helper()
	exec(t, dsn, schema, `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$`)
	exec(t, dsn, schema, `CREATE TRIGGER boom BEFORE INSERT ON events FOR EACH ROW WHEN (NEW.type = 'BOOM') EXECUTE FUNCTION boom()`)
}

// TestFailedEventAppendCommitsNothing: when the statement that numbers the
// events fails, the COMMIT sent with it does not run: none of the Update's
// writes is kept, nothing is notified, and the Update reports the failure.
func TestFailedEventAppendCommitsNothing(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	s := testOpen(t, dsn, schema)
	failEventInsert(t, dsn, schema)
	collect := listen(t, dsn, schema)
	at := time.UnixMilli(1)
	err := s.update(t.Context(), func(w *writer) error {
		if err := w.PutUser(group.User{ID: "kept?", Name: "kept?", UpdatedAt: at}); err != nil {
			return err
		}
		_, err := w.AppendEvent(group.Event{BotID: "x", Type: "BOOM", GroupID: "g", OperatorID: "u", CreatedAt: at})
		return err
	})
	if err == nil {
		t.Fatal("an Update whose events failed to insert succeeded")
	}
	if _, err := viewOne(t.Context(), s, func(r *reader) (group.User, error) { return r.User("kept?") }); !group.IsNotExist(err) {
		t.Errorf("the failed Update's user: %v, want not found", err)
	}
	if _, err := s.pool.Exec(t.Context(), `SELECT pg_notify($1, 'end')`, schema); err != nil {
		t.Fatal(err)
	}
	if got := collect("end"); len(got) != 0 {
		t.Errorf("the failed Update notified %q", got)
	}
}

// TestFailedEventAppendInSharedBatch: when the statement that numbers a
// shared batch's events fails for one Update's event, the COMMIT sent with
// it does not run for any of them: each runs again alone, so the others
// commit (their writes, their events, gapless, and their notifications) and
// the one whose event fails keeps nothing.
func TestFailedEventAppendInSharedBatch(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	s := testOpen(t, dsn, schema)
	failEventInsert(t, dsn, schema)
	collect := listen(t, dsn, schema)
	at := time.UnixMilli(1)
	fns := make([]func(*writer) error, 3)
	for i := range fns {
		fns[i] = func(w *writer) error {
			if err := w.putSetting(fmt.Sprint("k", i), "v"); err != nil {
				return err
			}
			typ := group.EventAddRobot
			if i == 1 {
				typ = "BOOM"
			}
			_, err := w.AppendEvent(group.Event{BotID: "x", Type: typ, GroupID: "g", OperatorID: "u", CreatedAt: at})
			return err
		}
	}
	errs := runShared(t, s, fns...)
	if errs[0] != nil || errs[2] != nil || errs[1] == nil {
		t.Errorf("Updates of a batch whose event append failed for the second: %v, want nil, an error, nil", errs)
	}
	want := map[string]bool{"k0": true, "k2": true}
	if got := settings(t, s, "k0", "k1", "k2"); !maps.Equal(got, want) {
		t.Errorf("settings: %v, want %v", got, want)
	}
	var seqs []int64
	err := s.View(t.Context(), func(r group.Reader) error {
		evs, err := r.Events("x", 0, 10)
		for _, e := range evs {
			seqs = append(seqs, e.Seq)
		}
		return err
	})
	if err != nil || !slices.Equal(seqs, []int64{1, 2}) {
		t.Errorf("seqs of x: %v, %v; want [1 2]", seqs, err)
	}
	if _, err := s.pool.Exec(t.Context(), `SELECT pg_notify($1, 'end')`, schema); err != nil {
		t.Fatal(err)
	}
	if got, want := collect("end"), []string{"1 x", "2 x"}; !slices.Equal(got, want) {
		t.Errorf("notifications = %q, want %q", got, want)
	}
}

// TestEventAppendWaitsUnderCallersContext: a lone Update whose events wait
// for their bot's counter row (another transaction appends for the bot)
// waits under its caller's ctx, as its queued writes do
// (TestQueuedWriteWaitsUnderCallersContext), although they are numbered in
// the commit's round trip: a caller who gives up gets its error, and neither
// the event nor the Update's other writes are kept.
func TestEventAppendWaitsUnderCallersContext(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	s := testOpen(t, dsn, schema)
	at := time.UnixMilli(1)
	ev := group.Event{BotID: "x", Type: group.EventAddRobot, GroupID: "g", OperatorID: "u", CreatedAt: at}
	mustUpdate(t, s, func(tx group.Tx) error { _, err := tx.AppendEvent(ev); return err })

	// Another transaction holds x's counter row until the Update has returned.
	err := updateGivenUpOnWhileBlocked(t, s, `UPDATE event_seqs SET seq = seq WHERE bot_id = 'x'`, settingAndEvent(ev, nil))
	checkGivenUp(t, s, err, 1) // the first Update's
	// The store goes on: the next Update for x commits.
	mustUpdate(t, s, func(tx group.Tx) error { _, err := tx.AppendEvent(ev); return err })
}

// TestEventAppendAfterCallerGaveUp: a lone Update whose caller gives up
// before its events are sent (here fn itself cancels) fails with the
// caller's error and commits nothing, as when its events wait for a lock.
func TestEventAppendAfterCallerGaveUp(t *testing.T) {
	dsn := testDSN(t)
	s := testOpen(t, dsn, testSchema(t, dsn))
	ctx, cancel := context.WithCancel(t.Context())
	ev := group.Event{BotID: "x", Type: group.EventAddRobot, GroupID: "g", OperatorID: "u", CreatedAt: time.UnixMilli(1)}
	err := s.update(ctx, settingAndEvent(ev, cancel))
	checkGivenUp(t, s, err, 0)
}

// settingAndEvent is an Update's fn that puts setting k and appends ev for
// bot x, then calls after (if not nil).
func settingAndEvent(ev group.Event, after func()) func(*writer) error {
	return func(w *writer) error {
		if _, err := w.c.exec("put setting", upsertSetting, "k", "v"); err != nil {
			return err
		}
		_, err := w.AppendEvent(ev)
		if after != nil {
			after()
		}
		return err
	}
}

// checkGivenUp checks what a settingAndEvent Update its caller gave up on
// left: it failed with context.Canceled, setting k is not kept, and bot x
// has the events committed before it, want of them.
func checkGivenUp(t *testing.T, s *Store, err error, want int) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("the Update its caller gave up on: %v, want context.Canceled", err)
	}
	if got := settings(t, s, "k"); got["k"] {
		t.Error("the Update its caller gave up on kept its setting")
	}
	var n int
	err = s.View(t.Context(), func(r group.Reader) error { evs, err := r.Events("x", 0, 10); n = len(evs); return err })
	if err != nil || n != want {
		t.Errorf("x has %d events, %v; want %d", n, err, want)
	}
}
