package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qun-chat/qun/internal/group"
)

// TestPruneSkipsLockedRows: a prune neither waits for a row another
// transaction holds nor deletes it. A session that node A is resuming (read,
// so locked, and refreshed, not yet committed) survives a prune on node B,
// which returns without waiting for A; an idle session goes.
func TestPruneSkipsLockedRows(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	a := testOpen(t, dsn, schema)
	b := testOpen(t, dsn, schema)
	stale, cutoff, fresh := time.UnixMilli(1000), time.UnixMilli(2000), time.UnixMilli(3000)
	for _, id := range []string{"resumed", "idle"} {
		err := a.UpdateSession(t.Context(), id, func(group.Reader, group.Session, bool) (group.Session, bool, error) {
			return group.Session{ID: id, BotID: "bot1", CreatedAt: stale, UpdatedAt: stale}, true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	held, release := make(chan struct{}), make(chan struct{})
	signalHeld, releaseResume := sync.OnceFunc(func() { close(held) }), sync.OnceFunc(func() { close(release) })
	defer releaseResume()
	resumed := make(chan error, 1)
	go func() {
		// As a resume does: the session is read (locked) and its refresh
		// decided; the transaction stays open until release.
		resumed <- a.UpdateSession(context.Background(), "resumed", func(_ group.Reader, sess group.Session, _ bool) (group.Session, bool, error) {
			sess.UpdatedAt = fresh
			signalHeld()
			<-release
			return sess, true, nil
		})
	}()
	<-held

	var deleted int
	pruned := make(chan error, 1)
	go func() {
		var err error
		deleted, err = b.Prune(context.Background(), time.UnixMilli(0), cutoff, time.UnixMilli(0), time.UnixMilli(0), 10)
		pruned <- err
	}()
	select {
	case err := <-pruned:
		if err != nil {
			t.Fatalf("prune: %v", err)
		}
	case <-time.After(wakeTimeout):
		t.Fatalf("the prune still waits after %v for the session another transaction holds", wakeTimeout)
	}
	releaseResume()
	if err := <-resumed; err != nil {
		t.Fatalf("resume: %v", err)
	}

	if deleted != 1 {
		t.Errorf("the prune deleted %d rows, want 1: the idle session", deleted)
	}
	if sess, err := b.Session(t.Context(), "resumed"); err != nil || !sess.UpdatedAt.Equal(fresh) {
		t.Errorf("the session resumed during the prune: %+v, %v; want it kept, updated at %v", sess, err, fresh)
	}
	if _, err := b.Session(t.Context(), "idle"); !group.IsNotExist(err) {
		t.Errorf("the idle session after the prune: %v, want ENotExist", err)
	}
}

// TestPruneEventsPlan: pruning events reads the bots' logs by their primary
// key from each one's first seq, a probe per bot of event_seqs and ranges of
// the runs, and deletes by ctid: never a scan of the events table (or of
// every bot's log), and no sort, so a batch costs its own size and a probe
// per bot. The pool forces generic plans, made while the tables may not be
// analyzed; the plan is read in that state (a few events per bot) and again
// over many bots with long logs, analyzed. (On a table of a page or so the
// delete, as every prune statement's, reads it whole rather than by ctid:
// cheaper there, and replanned once it is analyzed.)
func TestPruneEventsPlan(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	s := testOpen(t, dsn, schema)
	var indexes int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname = 'events_created'`, schema).Scan(&indexes); err != nil {
		t.Fatal(err)
	}
	if indexes != 0 {
		t.Errorf("index events_created still there after migrating (0012 drops it)")
	}
	for i, state := range []struct{ name, sql string }{
		{"a few events per bot, not analyzed", `
			INSERT INTO event_seqs (bot_id, seq) SELECT 'b' || b, 3 FROM generate_series(1, 2000) b;
			INSERT INTO events (bot_id, seq, type, group_id, operator_id, message_uid, created_at)
				SELECT 'b' || b, i, 'x', 'g', '', 0, i FROM generate_series(1, 2000) b, generate_series(1, 3) i`},
		{"many bots with long logs, analyzed", `
			INSERT INTO event_seqs (bot_id, seq) SELECT 'c' || b, 200 FROM generate_series(1, 500) b;
			INSERT INTO events (bot_id, seq, type, group_id, operator_id, message_uid, created_at)
				SELECT 'c' || b, i, 'x', 'g', '', 0, i FROM generate_series(1, 500) b, generate_series(1, 200) i;
			ANALYZE events; ANALYZE event_seqs`},
	} {
		conn := planConn(t, dsn, schema, "SET plan_cache_mode = force_generic_plan;"+state.sql)
		name := fmt.Sprint("p", i)
		if _, err := conn.Exec(t.Context(), "PREPARE "+name+" AS "+pruneEvents); err != nil {
			t.Fatal(err)
		}
		lines := explain(t, conn, "EXPLAIN (COSTS OFF) EXECUTE "+name+"(100, 10)", pgx.QueryExecModeSimpleProtocol)
		plan := strings.Join(lines, "\n")
		scans := 0
		for j, l := range lines {
			switch {
			case strings.Contains(l, "Seq Scan") || strings.Contains(l, "Sort") ||
				strings.Contains(l, "Hash") || strings.Contains(l, "Materialize"):
				t.Errorf("%s: plan\n%s\nline %d reads more than the runs and a probe per bot: %s", state.name, plan, j+1, l)
			case strings.Contains(l, " on events ") && (strings.Contains(l, "Index Scan") || strings.Contains(l, "Index Only Scan")) ||
				strings.Contains(l, "Bitmap Index Scan") && !strings.Contains(l, "event_seqs"):
				scans++
				if !strings.Contains(l, " events_pkey") || j+1 == len(lines) ||
					!strings.Contains(lines[j+1], "Index Cond:") || !strings.Contains(lines[j+1], "bot_id = ") {
					t.Errorf("%s: plan\n%s\nline %d is not a probe of a bot's log by key: %s", state.name, plan, j+1, l)
				}
			case strings.Contains(l, " on event_seqs ") && !strings.Contains(l, "Scan using event_seqs_pkey"):
				t.Errorf("%s: plan\n%s\nline %d does not walk event_seqs in id order: %s", state.name, plan, j+1, l)
			}
		}
		if scans == 0 {
			t.Errorf("%s: plan\n%s\nno read of events", state.name, plan)
		}
		t.Logf("%s:\n%s", state.name, plan)
	}
}

// TestPruneEventsConcurrent: events appended on one node while two nodes
// prune the same bot's log are never deleted if they are inside the
// retention, the old ones are each deleted once, and what is left is one
// unbroken run of seqs: the appended ones.
func TestPruneEventsConcurrent(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	a := testOpen(t, dsn, schema)
	b := testOpen(t, dsn, schema)
	old, cutoff, young := time.UnixMilli(1000), time.UnixMilli(2000), time.UnixMilli(3000)
	const n = 150
	appendOne := func(s *Store, at time.Time) error {
		return s.Update(context.Background(), func(tx group.Tx) error {
			_, err := tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventAddRobot, GroupID: "g", CreatedAt: at})
			return err
		})
	}
	for range n {
		if err := appendOne(a, old); err != nil {
			t.Fatal(err)
		}
	}
	appended := make(chan error, 1)
	go func() {
		for range n {
			if err := appendOne(a, young); err != nil {
				appended <- err
				return
			}
		}
		appended <- nil
	}()
	var wg sync.WaitGroup
	deleted := make([]int, 2)
	errs := make([]error, 2)
	for i, s := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := s.Prune(context.Background(), cutoff, time.UnixMilli(0), time.UnixMilli(0), time.UnixMilli(0), 7)
				if err != nil {
					errs[i] = err
					return
				}
				deleted[i] += m
				if m == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := <-appended; err != nil {
		t.Fatalf("append: %v", err)
	}
	for _, err := range errs {
		if err != nil {
			t.Fatalf("prune: %v", err)
		}
	}
	// A node that saw nothing old before the other finished may stop
	// early; one more prune finds what is left.
	m, err := a.Prune(t.Context(), cutoff, time.UnixMilli(0), time.UnixMilli(0), time.UnixMilli(0), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got := deleted[0] + deleted[1] + m; got != n {
		t.Errorf("the prunes deleted %d events in all (%v and %d), want the %d old ones", got, deleted, m, n)
	}
	var evs []group.Event
	if err := a.View(t.Context(), func(r group.Reader) (err error) { evs, err = r.Events("bot1", 0, 2*n); return err }); err != nil {
		t.Fatal(err)
	}
	if len(evs) != n || evs[0].Seq != n+1 || evs[len(evs)-1].Seq != 2*n {
		t.Fatalf("events left: %d, want seqs %d to %d", len(evs), n+1, 2*n)
	}
	for i, e := range evs {
		if e.Seq != int64(n+1+i) || !e.CreatedAt.Equal(young) {
			t.Fatalf("event %d left: seq %d at %v, want seq %d at %v", i, e.Seq, e.CreatedAt, n+1+i, young)
		}
	}
}
