package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qun-chat/qun/internal/group"
)

// runShared commits fns as one batch of a lane, as concurrent Updates that
// found every lane busy would be, then settles each answer as Update does
// (running fn again alone if the batch says so), concurrently.
func runShared(t *testing.T, s *Store, fns ...func(*writer) error) []error {
	t.Helper()
	ctx := t.Context()
	reqs := make([]*request, len(fns))
	for i, fn := range fns {
		reqs[i] = &request{ctx: ctx, fn: fn, done: make(chan answer, 1)}
	}
	s.commitBatch(reqs)
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() { errs[i] = s.settle(ctx, fns[i], <-r.done) })
	}
	wg.Wait()
	return errs
}

func putSetting(key string) func(*writer) error {
	return func(tx *writer) error { return tx.putSetting(key, "v") }
}

// settings reports which of keys are stored.
func settings(t *testing.T, s *Store, keys ...string) map[string]bool {
	t.Helper()
	got := make(map[string]bool)
	err := s.view(t.Context(), func(r *reader) error {
		for _, k := range keys {
			_, err := r.setting(k)
			switch {
			case err == nil:
				got[k] = true
			case !group.IsNotExist(err):
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestBatchFailingUpdateLeavesNoTrace: in one shared transaction, an Update
// that returns an error, panics, or swallows a failed statement leaves no
// write, while the Updates around it commit, each seeing the effects of the
// ones before it.
func TestBatchFailingUpdateLeavesNoTrace(t *testing.T) {
	dsn := testDSN(t)
	s := testOpen(t, dsn, testSchema(t, dsn))
	refused := errors.New("refused")
	var sawA, sawB bool
	errs := runShared(t, s,
		func(tx *writer) error { // 0: commits
			if err := tx.putSetting("a", "v"); err != nil {
				return err
			}
			_, err := tx.AppendEvent(group.Event{BotID: "bot"})
			return err
		},
		func(tx *writer) error { // 1: fails after a write and an event
			if err := tx.putSetting("b", "v"); err != nil {
				return err
			}
			if _, err := tx.AppendEvent(group.Event{BotID: "bot"}); err != nil {
				return err
			}
			return refused
		},
		func(tx *writer) error { // 2: sees 0 and not 1
			_, errA := tx.setting("a")
			_, errB := tx.setting("b")
			sawA, sawB = errA == nil, errB == nil
			_, err := tx.AppendEvent(group.Event{BotID: "bot"})
			return err
		},
		func(tx *writer) error { // 3: panics after a write
			if err := tx.putSetting("d", "v"); err != nil {
				return err
			}
			panic("bug")
		},
		func(tx *writer) error { // 4: swallows a failed statement
			if err := tx.putSetting("e", "v"); err != nil {
				return err
			}
			// A statement PostgreSQL refuses (text with a NUL no longer
			// reaches it: the store refuses it first).
			_, _ = tx.c.exec("divide", `SELECT 1/0`)
			return nil
		},
		func(tx *writer) error { return nil }, // 5: sends nothing
		putSetting("f"),                       // 6: commits
	)
	if errs[0] != nil || errs[2] != nil || errs[5] != nil || errs[6] != nil {
		t.Errorf("the Updates that succeed: %v", errs)
	}
	if !errors.Is(errs[1], refused) {
		t.Errorf("the failing Update: %v, want its own error", errs[1])
	}
	if group.ErrorCode(errs[3]) != group.EInternal {
		t.Errorf("the panicking Update: %v, want EInternal", errs[3])
	}
	if errs[4] == nil {
		t.Error("the Update that swallowed a failed statement reported success")
	}
	if !sawA || sawB {
		t.Errorf("Update 2 saw a: %v (want true), b: %v (want false)", sawA, sawB)
	}
	want := map[string]bool{"a": true, "f": true}
	if got := settings(t, s, "a", "b", "d", "e", "f"); !maps.Equal(got, want) {
		t.Errorf("settings after the batch: %v, want %v", got, want)
	}
	// The failed Update's event is rolled back with its seq: no gap.
	var seqs []int64
	err := s.View(t.Context(), func(r group.Reader) error {
		evs, err := r.Events("bot", 0, 10)
		for _, e := range evs {
			seqs = append(seqs, e.Seq)
		}
		return err
	})
	if err != nil || !slices.Equal(seqs, []int64{1, 2}) {
		t.Errorf("seqs in the log: %v, %v; want [1 2]", seqs, err)
	}
	var last int64
	if err := s.View(t.Context(), func(r group.Reader) (err error) { last, err = r.LastEventSeq("bot"); return err }); err != nil || last != 2 {
		t.Errorf("last seq %d, %v; want 2", last, err)
	}
}

// TestBatchQueuedWrites: a write fn does not wait for (dbtx.later) rides
// with the next statement; when PostgreSQL refuses it, the error is the
// Update's that queued it, wherever it surfaces (a later statement of the
// same fn, the end of fn in a shared batch, the commit of a lone Update), and
// the neighbours commit.
func TestBatchQueuedWrites(t *testing.T) {
	dsn := testDSN(t)
	s := testOpen(t, dsn, testSchema(t, dsn))
	const refusedCode = "22012" // division_by_zero
	refusedWrite := func(tx *writer) error { return tx.c.later("divide", `SELECT 1/0`) }
	isRefused := func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == refusedCode
	}
	var sawOwn bool
	errs := runShared(t, s,
		putSetting("a"), // 0: commits
		func(tx *writer) error { // 1: its refused write is its last statement
			if err := tx.putSetting("b", "v"); err != nil {
				return err
			}
			return refusedWrite(tx)
		},
		func(tx *writer) error { // 2: a queued write, then a read that sees it
			if err := tx.putSetting("c", "v"); err != nil {
				return err
			}
			_, err := tx.setting("c")
			sawOwn = err == nil
			return err
		},
		func(tx *writer) error { // 3: the refused write surfaces at its next read
			if err := refusedWrite(tx); err != nil {
				return err
			}
			_, err := tx.setting("a")
			return err
		},
		func(tx *writer) error { // 4: queues a write, then fails on its own
			if err := refusedWrite(tx); err != nil {
				return err
			}
			return errors.New("refused by fn")
		},
		putSetting("f"), // 5: commits
	)
	if errs[0] != nil || errs[2] != nil || errs[5] != nil {
		t.Errorf("the Updates that succeed: %v", errs)
	}
	if !isRefused(errs[1]) || !isRefused(errs[3]) {
		t.Errorf("the Updates with a refused write: %v, %v; want division by zero", errs[1], errs[3])
	}
	if errs[4] == nil || isRefused(errs[4]) {
		t.Errorf("the Update that failed on its own: %v, want its own error", errs[4])
	}
	if !sawOwn {
		t.Error("a read did not see the queued write before it")
	}
	want := map[string]bool{"a": true, "c": true, "f": true}
	if got := settings(t, s, "a", "b", "c", "f"); !maps.Equal(got, want) {
		t.Errorf("settings after the batch: %v, want %v", got, want)
	}

	// Alone: the refused write rides with the COMMIT, which reports it.
	errs = runShared(t, s, func(tx *writer) error {
		if err := tx.putSetting("g", "v"); err != nil {
			return err
		}
		return refusedWrite(tx)
	})
	if !isRefused(errs[0]) {
		t.Errorf("a lone Update with a refused last write: %v, want division by zero", errs[0])
	}
	if got := settings(t, s, "g"); got["g"] {
		t.Error("the lone Update's write committed")
	}
}

// TestBatchRetried: a serialization failure in one Update of a batch aborts
// the whole transaction; every Update then runs again on its own, and the
// effects are those of exactly one run each, with the results of that run.
// The failure comes from a trigger that raises 40001 once (a sequence
// counts, outside the transaction).
func TestBatchRetried(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	s := testOpen(t, dsn, schema)
	exec(t, dsn, schema, `CREATE SEQUENCE boom_once`)
	exec(t, dsn, schema, `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.key = 'boom' AND nextval('boom_once') = 1 THEN
				RAISE EXCEPTION 'injected' USING ERRCODE = '40001';
			END IF;
			RETURN NEW;
		END $$`)
	exec(t, dsn, schema, `CREATE TRIGGER boom BEFORE INSERT OR UPDATE ON settings FOR EACH ROW EXECUTE FUNCTION boom()`)

	const n = 4
	seqs := make([]int64, n)
	runs := make([]int, n)
	fns := make([]func(*writer) error, n)
	for i := range n {
		fns[i] = func(tx *writer) error {
			runs[i]++
			seqs[i] = 0 // a result of a rolled-back run must not survive
			e, err := tx.AppendEvent(group.Event{BotID: "bot"})
			if err != nil {
				return err
			}
			if i == 2 {
				if err := tx.putSetting("boom", "v"); err != nil {
					return err
				}
			}
			seqs[i] = e.Seq
			return tx.putSetting(fmt.Sprint("k", i), "v")
		}
	}
	for i, err := range runShared(t, s, fns...) {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}
	// 0 to 2 ran in the batch and again alone; 3 never ran in the batch.
	if !slices.Equal(runs, []int{2, 2, 2, 1}) {
		t.Errorf("runs per Update: %v, want [2 2 2 1]", runs)
	}
	// A batch numbers its events at the commit (Seq 0 here); an Update run
	// alone gets its seq at once. Either way no seq is handed out twice.
	var got []int64
	for _, seq := range seqs {
		if seq != 0 {
			got = append(got, seq)
		}
	}
	slices.Sort(got)
	if len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("seqs returned: %v, a seq twice", seqs)
	}
	var events []group.Event
	err := s.View(t.Context(), func(r group.Reader) (err error) { events, err = r.Events("bot", 0, 100); return err })
	if err != nil || len(events) != n {
		t.Errorf("%d events, %v; want %d: one per Update", len(events), err, n)
	}
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Errorf("event %d has seq %d, want %d: 1 to %d without gaps", i, e.Seq, i+1, n)
		}
	}
	want := map[string]bool{"k0": true, "k1": true, "k2": true, "k3": true, "boom": true}
	if got := settings(t, s, "k0", "k1", "k2", "k3", "boom"); !maps.Equal(got, want) {
		t.Errorf("settings: %v, want %v", got, want)
	}
}

// TestBatchLockWait: an Update of a batch (not its first) that waits for a
// row another transaction holds leaves the batch after DefaultBatchLockWait:
// the ones before it commit while the row is still held, and it starts the
// next batch, where it waits for the row as long as it must, then commits
// with the ones after it.
func TestBatchLockWait(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	s := testOpen(t, dsn, schema)
	if err := s.update(t.Context(), putSetting("x")); err != nil {
		t.Fatal(err)
	}

	ctx := t.Context()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	holder, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(context.Background())
	hold, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Exec(ctx, `UPDATE settings SET value = 'held' WHERE key = 'x'`); err != nil {
		t.Fatal(err)
	}

	done := make(chan []error, 1)
	go func() {
		done <- runShared(t, s, putSetting("a"), func(tx *writer) error { return tx.putSetting("x", "batch") }, putSetting("c"))
	}()
	// a commits although x is still held: the batch did not wait for x.
	for !settings(t, s, "a")["a"] {
		runtime.Gosched()
	}
	if settings(t, s, "c")["c"] {
		t.Error("c, after the waiting Update, committed before it")
	}
	if err := hold.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for i, err := range <-done {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}
	var v string
	if err := s.view(ctx, func(r *reader) (err error) { v, err = r.setting("x"); return err }); err != nil || v != "batch" {
		t.Errorf("x = %q, %v; want the Update's write after the holder's", v, err)
	}
	if !settings(t, s, "c")["c"] {
		t.Error("c did not commit")
	}
}

// TestBatchLockWaitSwallowed: an Update of a batch that waits too long for a
// lock and goes on (its nested savepoint rolled back) runs again in the next
// batch; what it wrote in the first run does not commit with the first.
func TestBatchLockWaitSwallowed(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	s := testOpen(t, dsn, schema)
	bot := group.Bot{UserID: "held", Secret: "s"}
	if err := s.update(t.Context(), func(w *writer) error { return w.PutBot(bot) }); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	hold, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(context.Background()) //nolint:errcheck // committed below
	if _, err := hold.Exec(ctx, `UPDATE bots SET secret = 'held' WHERE user_id = 'held'`); err != nil {
		t.Fatal(err)
	}
	swallows := func(tx *writer) error {
		if err := tx.AppendBotMessage(group.BotMessage{BotID: "b", GroupID: "g", MessageUID: 1, CreatedAt: time.UnixMilli(1)}); err != nil {
			return err
		}
		// PutBot waits for the held row past the batch's lock wait and rolls
		// back its own savepoint; fn goes on as if it did not matter.
		_ = tx.PutBot(group.Bot{UserID: "held", Secret: "batch"})
		return nil
	}
	done := make(chan []error, 1)
	go func() { done <- runShared(t, s, putSetting("a"), swallows) }()
	for !settings(t, s, "a")["a"] {
		runtime.Gosched()
	}
	if err := hold.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for i, err := range <-done {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM bot_messages WHERE bot_id = 'b'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d messages of bot b, %v; want 1: the Update's write once", n, err)
	}
}

// TestLoneUpdatesRunConcurrently: two Updates handed over at once while the
// lanes are idle each get a lane, so one may wait for the other's effect on
// another connection (as a caller blocked on a row lock would); in one
// batch they would wait for each other for ever.
func TestLoneUpdatesRunConcurrently(t *testing.T) {
	dsn := testDSN(t)
	s := testOpen(t, dsn, testSchema(t, dsn))
	first := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() {
		errs[0] = s.update(t.Context(), func(tx *writer) error {
			<-first // the other Update runs meanwhile
			return tx.putSetting("a", "v")
		})
	})
	wg.Go(func() {
		errs[1] = s.update(t.Context(), func(tx *writer) error {
			defer close(first)
			return tx.putSetting("b", "v")
		})
	})
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
}

// TestUseNonceShared: concurrent UseNonce calls on two stores of one
// database (two nodes) take each key exactly once, whatever batches they
// share, duplicates in one batch included; an expired record is taken again.
func TestUseNonceShared(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	nodes := []*Store{testOpen(t, dsn, schema), testOpen(t, dsn, schema)}
	now := time.UnixMilli(1_700_000_000_000)
	exp := now.Add(time.Minute)
	const keys, callers = 50, 8
	var mu sync.Mutex
	fresh := make(map[string]int)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for k := range keys {
				key := fmt.Sprint("k", k)
				ok, err := nodes[c%2].UseNonce(t.Context(), key, exp, now)
				if err != nil {
					t.Errorf("use %s: %v", key, err)
					return
				}
				if ok {
					mu.Lock()
					fresh[key]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for k := range keys {
		if n := fresh[fmt.Sprint("k", k)]; n != 1 {
			t.Errorf("k%d taken %d times, want once", k, n)
		}
	}
	later := exp // expired: its expiry is not after now
	if ok, err := nodes[1].UseNonce(t.Context(), "k0", later.Add(time.Minute), later); err != nil || !ok {
		t.Errorf("expired k0: fresh %v, %v; want taken again", ok, err)
	}
	if ok, err := nodes[0].UseNonce(t.Context(), "k0", later.Add(time.Minute), later); err != nil || ok {
		t.Errorf("k0 replayed after renewal: fresh %v, %v; want refused", ok, err)
	}
	// The store's transactions see the same records.
	var ok bool
	if err := nodes[0].update(t.Context(), func(tx *writer) (err error) { ok, err = tx.UseNonce("k1", exp, now); return err }); err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Error("UseNonce in an Update took a key UseNonce took")
	}
}

// TestBatchObserved: a shared batch reports one commit to the observer, with
// every Update it held (one that failed included, as on SQLite) and the
// events of those that committed; a batch's deadlock counts a retry for each
// Update that runs again alone.
func TestBatchObserved(t *testing.T) {
	dsn := testDSN(t)
	var ob countingObserver
	s := testOpen(t, dsn, testSchema(t, dsn), WithObserver(&ob))
	mustUpdate(t, s, func(tx group.Tx) error { return tx.PutBot(group.Bot{UserID: "bot", AppID: "1"}) })
	commits, updates, events := ob.commits.Load(), ob.updates.Load(), ob.events.Load()
	appendTo := func(w *writer) error { return appendEvent("bot")(w) }
	errs := runShared(t, s,
		appendTo,
		func(w *writer) error {
			if err := appendTo(w); err != nil {
				return err
			}
			return errors.New("fails after an event")
		},
		appendTo,
		putSetting("a"),
	)
	if errs[0] != nil || errs[1] == nil || errs[2] != nil || errs[3] != nil {
		t.Fatalf("errors %v, want only the second to fail", errs)
	}
	if c, u, e := ob.commits.Load()-commits, ob.updates.Load()-updates, ob.events.Load()-events; c != 1 || u != 4 || e != 2 {
		t.Errorf("observed %d commits of %d updates with %d events; want 1 of 4 with 2", c, u, e)
	}
	if r := ob.retries.Load(); r != 0 {
		t.Errorf("observed %d retries, want 0", r)
	}
}

// TestQueuedWriteWaitsUnderCallersContext: a lone Update whose last
// statement is a queued write waits for that write's row lock under its
// caller's ctx, not under the commit's (which is not canceled): a caller who
// gives up gets its error and nothing is written.
func TestQueuedWriteWaitsUnderCallersContext(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	s := testOpen(t, dsn, schema)
	mustUpdate(t, s, func(tx group.Tx) error { return tx.(*writer).putSetting("k", "old") })

	updateGivenUpOnWhileBlocked(t, s, `UPDATE settings SET value = value WHERE key = 'k'`,
		func(w *writer) error { return w.putSetting("k", "new") })
	var v string
	if err := s.view(t.Context(), func(r *reader) (err error) { v, err = r.setting("k"); return err }); err != nil || v != "old" {
		t.Errorf("setting k is %q, %v; want the old value", v, err)
	}
}

// updateGivenUpOnWhileBlocked runs fn in a lone Update while another
// transaction, having run lock, holds its rows; cancels the Update's ctx once
// it waits for them, and returns its error, which must not be nil.
func updateGivenUpOnWhileBlocked(t *testing.T, s *Store, lock string, fn func(*writer) error) error {
	t.Helper()
	holder, err := s.pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(context.Background())
	if _, err := holder.Exec(t.Context(), lock); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	returned := make(chan error, 1)
	go func() { returned <- s.update(ctx, fn) }()
	// Cancel once the Update waits for the rows.
	waitForBlocked(t, s, holder.Conn().PgConn().PID())
	cancel()
	select {
	case err = <-returned:
	case <-time.After(10 * time.Second):
		// Still waiting after its caller gave up: let it go on, to see what
		// it makes of that.
		holder.Rollback(t.Context()) //nolint:errcheck // the outcome is what the test reads
		err = <-returned
	}
	holder.Rollback(t.Context()) //nolint:errcheck // done with the rows
	if err == nil {
		t.Fatal("the Update its caller gave up on succeeded")
	}
	return err
}

// waitForBlocked waits until a backend waits for a lock the backend pid holds.
func waitForBlocked(t *testing.T, s *Store, pid uint32) {
	t.Helper()
	for range 2000 {
		var n int
		if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))`, int32(pid)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no backend ever waited for the row")
}
