package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qun-chat/qun/internal/group"
)

// These tests cover what the conformance suite cannot see through one store:
// several nodes on one database, notifications, the poll, the listener's
// reconnection, and PostgreSQL's own failures (deadlocks, aborted statements).

// wakeTimeout bounds every wait for a wake-up that must come.
const wakeTimeout = 10 * time.Second

// waitClosed fails t unless ch closes within d.
func waitClosed(t *testing.T, what string, ch <-chan struct{}, d time.Duration) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("%s: not woken within %v", what, d)
	}
}

// isClosed reports whether ch is closed now.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func appendEvent(botID string) func(group.Tx) error {
	return func(tx group.Tx) error {
		_, err := tx.AppendEvent(group.Event{BotID: botID, Type: group.EventAddRobot, GroupID: "g", CreatedAt: time.UnixMilli(1)})
		return err
	}
}

// mustUpdate runs fn in an Update of s and fails t on error.
func mustUpdate(t testing.TB, s *Store, fn func(group.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

// exec runs q on a connection of its own with schema as search_path:
// another writer, behind the stores' backs.
func exec(t *testing.T, dsn, schema, q string, args ...any) {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestNotifyWakesOtherNode: an Update on node A wakes a waiter on node B
// through NOTIFY; B's poll is too slow to be the one.
func TestNotifyWakesOtherNode(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	a := testOpen(t, dsn, schema)
	b := testOpen(t, dsn, schema, WithPollInterval(time.Hour))

	for i := range 3 {
		ch := b.WaitEvents("bot")
		other := b.WaitEvents("other-bot")
		start := time.Now()
		mustUpdate(t, a, appendEvent("bot"))
		waitClosed(t, fmt.Sprintf("wait %d on B for an event committed on A", i), ch, wakeTimeout)
		t.Logf("woken %v after the Update began", time.Since(start))
		if isClosed(other) {
			t.Errorf("wait %d: B's waiter of another bot was woken", i)
		}
	}
}

// TestOwnCommitWakesOnce: a store's own commit wakes its waiters at once,
// and neither its notification, which arrives later, nor the poll wakes a
// waiter that came after the commit, whether the bot had waiters before or not.
func TestOwnCommitWakesOnce(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	// Polls are driven below: the poller only takes baselines on its own.
	s := testOpen(t, dsn, schema, WithPollInterval(time.Hour))
	other := testOpen(t, dsn, schema, WithPollInterval(time.Hour))

	first := s.WaitEvents("bot")
	mustUpdate(t, s, appendEvent("bot"))
	if !isClosed(first) {
		t.Fatal("the waiter from before the commit is not woken when Update returns")
	}
	later := s.WaitEvents("bot")
	mustUpdate(t, s, appendEvent("unwaited-bot"))
	unwaited := s.WaitEvents("unwaited-bot")
	// The commit's notification may have been handled before the wait began;
	// the same one sent again from s's pool surely comes after it.
	if _, err := s.pool.Exec(t.Context(), `SELECT pg_notify($1, $2)`, schema, notification("unwaited-bot", 1)); err != nil {
		t.Fatal(err)
	}

	// Every listener gets the notifications in commit order: once one of a
	// later commit on another node has woken its waiter here, s has handled
	// the notifications of its own commits.
	marker := s.WaitEvents("marker-bot")
	mustUpdate(t, other, appendEvent("marker-bot"))
	waitClosed(t, "waiter of a later commit on another node", marker, wakeTimeout)
	for range 2 { // the first poll takes the baselines, the second compares with them
		if err := s.pollOnce(t.Context()); err != nil {
			t.Fatalf("poll: %v", err)
		}
	}
	if isClosed(later) {
		t.Error("a waiter that came after the commit was woken by it")
	}
	if isClosed(unwaited) {
		t.Error("a waiter of a bot nobody waited for at the commit was woken by it")
	}
}

// TestPollWakesWithoutNotify: an event that arrives without a notification
// (written here behind the store's back) still wakes its waiter, through the
// poll.
func TestPollWakesWithoutNotify(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	// Polls are driven below: the poller only takes baselines on its own.
	s := testOpen(t, dsn, schema, WithPollInterval(time.Hour))
	mustUpdate(t, s, appendEvent("bot"))

	ch := s.WaitEvents("bot")
	if err := s.pollOnce(t.Context()); err != nil {
		t.Fatalf("poll: %v", err)
	}
	if isClosed(ch) {
		t.Fatal("the poll that took the baseline woke the waiter without a new event")
	}
	exec(t, dsn, schema, `WITH next AS (UPDATE event_seqs SET seq = seq + 1 WHERE bot_id = 'bot' RETURNING seq)
		INSERT INTO events (bot_id, seq, type, group_id, operator_id, message_uid, created_at)
		SELECT 'bot', seq, 'GROUP_ADD_ROBOT', 'g', '', 0, 0 FROM next`)
	if err := s.pollOnce(t.Context()); err != nil {
		t.Fatalf("poll: %v", err)
	}
	if !isClosed(ch) {
		t.Error("the poll after an event written without NOTIFY did not wake its waiter")
	}
}

// TestListenerReconnects: when the listener's connection dies, every waiter
// is woken (notifications may have been lost meanwhile) and, once it is back,
// notifications wake waiters again.
func TestListenerReconnects(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	a := testOpen(t, dsn, schema)
	b := testOpen(t, dsn, schema, WithPollInterval(time.Hour))

	before := b.WaitEvents("bot")
	// Both stores listen; kill both listeners: the waiter is B's.
	exec(t, dsn, schema, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query = $1`, "LISTEN "+pgx.Identifier{schema}.Sanitize())
	waitClosed(t, "waiter during the listener's outage", before, wakeTimeout)

	// The reconnection is asynchronous: retry until a notification gets through.
	deadline := time.Now().Add(wakeTimeout)
	for {
		ch := b.WaitEvents("bot")
		mustUpdate(t, a, appendEvent("bot"))
		select {
		case <-ch:
			if n := b.listener.connects.Load(); n < 2 {
				t.Errorf("the listener connected %d times, want a reconnection", n)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("notifications do not wake B after its listener reconnected")
		}
	}
}

// TestConcurrentSeqsAcrossNodes: Updates from two nodes append to one
// timeline and one event log at once, some rolling back; the committed ones
// hold every seq from 1 once.
func TestConcurrentSeqsAcrossNodes(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	nodes := []*Store{testOpen(t, dsn, schema), testOpen(t, dsn, schema)}
	const writers, perWriter = 8, 25
	errRollback := errors.New("deliberate rollback")

	var committed atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				s := nodes[(w+i)%len(nodes)]
				rollback := (w*perWriter+i)%5 == 0
				err := s.Update(t.Context(), func(tx group.Tx) error {
					if _, err := tx.AppendMessage(group.Message{GroupID: "g", Sender: "w" + strconv.Itoa(w), CreatedAt: time.UnixMilli(1)}); err != nil {
						return err
					}
					if err := appendEvent("bot")(tx); err != nil {
						return err
					}
					if rollback {
						return errRollback
					}
					return nil
				})
				switch {
				case rollback && !errors.Is(err, errRollback):
					t.Errorf("rolled-back update: %v", err)
				case !rollback && err != nil:
					t.Errorf("update: %v", err)
				case !rollback:
					committed.Add(1)
				}
			}
		})
	}
	wg.Wait()

	n := committed.Load()
	err := nodes[1].View(t.Context(), func(r group.Reader) error {
		ms, err := r.Messages("g", 0, 0, writers*perWriter)
		if err != nil {
			return err
		}
		uids := make(map[int64]bool)
		for i, m := range ms {
			if m.Seq != int64(i+1) {
				t.Errorf("message %d has seq %d", i, m.Seq)
			}
			if uids[m.UID] {
				t.Errorf("uid %d twice", m.UID)
			}
			uids[m.UID] = true
		}
		es, err := r.Events("bot", 0, writers*perWriter)
		if err != nil {
			return err
		}
		for i, e := range es {
			if e.Seq != int64(i+1) {
				t.Errorf("event %d has seq %d", i, e.Seq)
			}
		}
		last, err := r.LastEventSeq("bot")
		if err != nil {
			return err
		}
		if int64(len(ms)) != n || int64(len(es)) != n || last != n {
			t.Errorf("%d commits: %d messages, %d events, last event seq %d", n, len(ms), len(es), last)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentCreate: Updates on two nodes that create a key when it is
// missing ("read, not found, put") create it once: the missing key is locked.
func TestConcurrentCreate(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	nodes := []*Store{testOpen(t, dsn, schema), testOpen(t, dsn, schema)}
	errExists := errors.New("exists")

	for _, tt := range []struct {
		name   string
		create func(tx group.Tx, who string) error
	}{
		{"Group", func(tx group.Tx, who string) error {
			if _, err := tx.Group("g"); !group.IsNotExist(err) {
				return errors.Join(errExists, err)
			}
			return tx.PutGroup(group.Group{ID: "g", Owner: who})
		}},
		{"User", func(tx group.Tx, who string) error {
			if _, err := tx.User("u"); !group.IsNotExist(err) {
				return errors.Join(errExists, err)
			}
			return tx.PutUser(group.User{ID: "u", Name: who})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const tries = 8
			var created atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range tries {
				wg.Go(func() {
					<-start
					err := nodes[i%2].Update(t.Context(), func(tx group.Tx) error {
						return tt.create(tx, "w"+strconv.Itoa(i))
					})
					switch {
					case err == nil:
						created.Add(1)
					case !errors.Is(err, errExists):
						t.Errorf("update %d: %v", i, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if c := created.Load(); c != 1 {
				t.Errorf("created %d times, want once", c)
			}
		})
	}
	// A setting is created by CreateSetting, which reads the key locked
	// and puts it only if it is missing: one value wins on both nodes.
	t.Run("Setting", func(t *testing.T) {
		const tries = 8
		var created atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range tries {
			wg.Go(func() {
				<-start
				who := "w" + strconv.Itoa(i)
				v, err := nodes[i%2].CreateSetting(t.Context(), "server-key", who)
				switch {
				case err != nil:
					t.Errorf("create %d: %v", i, err)
				case v == who:
					created.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if c := created.Load(); c != 1 {
			t.Errorf("created %d times, want once", c)
		}
	})
}

// countingObserver adds up what a store reports.
type countingObserver struct {
	commits, updates, events, retries atomic.Int64
}

func (o *countingObserver) Committed(updates, events int) {
	o.commits.Add(1)
	o.updates.Add(int64(updates))
	o.events.Add(int64(events))
}
func (o *countingObserver) Waited(time.Duration) {}
func (o *countingObserver) Retried()             { o.retries.Add(1) }

// TestDeadlockRetried: two Updates that lock two rows in opposite orders
// deadlock; PostgreSQL aborts one, and Update runs its fn again. The
// observer hears of both commits and the retry.
func TestDeadlockRetried(t *testing.T) {
	dsn := testDSN(t)
	var ob countingObserver
	s := testOpen(t, dsn, testSchema(t, dsn), WithObserver(&ob))
	var attempts atomic.Int64
	var firstWrites sync.WaitGroup
	firstWrites.Add(2)
	run := func(first, second string) error {
		tried := false
		return s.Update(t.Context(), func(tx group.Tx) error {
			attempts.Add(1)
			if err := tx.PutUser(group.User{ID: first}); err != nil {
				return err
			}
			// A write may wait in the pipe for the next statement: this read
			// takes it to the server, row lock and all.
			if _, err := tx.User(first); err != nil {
				return err
			}
			if !tried { // both hold their first row before either takes its second
				tried = true
				firstWrites.Done()
				firstWrites.Wait()
			}
			return tx.PutUser(group.User{ID: second})
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- run("a", "b") }()
	go func() { errs <- run("b", "a") }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("update: %v", err)
		}
	}
	if n := attempts.Load(); n != 3 {
		t.Errorf("%d attempts, want 3: two, and the deadlock victim again", n)
	}
	if c, u, r := ob.commits.Load(), ob.updates.Load(), ob.retries.Load(); c != 2 || u != 2 || r != 1 {
		t.Errorf("observed %d commits, %d updates, %d retries; want 2, 2, 1", c, u, r)
	}
	mustUpdate(t, s, appendEvent("bot"))
	if e := ob.events.Load(); e != 1 {
		t.Errorf("observed %d events appended, want 1", e)
	}
}

// TestStatementFailureKeepsTransaction: the conflicts a method reports (a
// taken app id, a duplicate reply) leave the transaction usable, so fn may go
// on and commit.
func TestStatementFailureKeepsTransaction(t *testing.T) {
	dsn := testDSN(t)
	s := testOpen(t, dsn, testSchema(t, dsn))
	reply := group.BotMessage{BotID: "bot1", GroupID: "g", ReplyTo: "msg:1", MsgSeq: 1}
	mustUpdate(t, s, func(tx group.Tx) error {
		if err := tx.PutBot(group.Bot{UserID: "bot1", AppID: "1001"}); err != nil {
			return err
		}
		return tx.AppendBotMessage(reply)
	})
	mustUpdate(t, s, func(tx group.Tx) error {
		if err := tx.PutBot(group.Bot{UserID: "bot2", AppID: "1001"}); group.ErrorCode(err) != group.EConflict {
			return fmt.Errorf("PutBot with a taken app id: %v, want EConflict", err)
		}
		if err := tx.AppendBotMessage(reply); group.ErrorCode(err) != group.EConflict {
			return fmt.Errorf("duplicate AppendBotMessage: %v, want EConflict", err)
		}
		if err := tx.PutBot(group.Bot{UserID: "bot2", AppID: "1002"}); err != nil {
			return err
		}
		return tx.PutUser(group.User{ID: "after", Name: "conflicts"})
	})
	err := s.View(t.Context(), func(r group.Reader) error {
		if b, err := r.Bot("bot2"); err != nil || b.AppID != "1002" {
			return fmt.Errorf("bot2 after the conflicts: %+v, %v", b, err)
		}
		if u, err := r.User("after"); err != nil || u.Name != "conflicts" {
			return fmt.Errorf("user after the conflicts: %+v, %v", u, err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// TestSwallowedFailure: when a statement fails and fn ignores the error, the
// transaction is aborted all the same, and Update says so instead of
// reporting a commit.
func TestSwallowedFailure(t *testing.T) {
	dsn := testDSN(t)
	s := testOpen(t, dsn, testSchema(t, dsn))
	err := s.Update(t.Context(), func(tx group.Tx) error {
		if err := tx.PutUser(group.User{ID: "k"}); err != nil {
			return err
		}
		_ = tx.PutUser(group.User{ID: "u", Name: incompressible(8000)}) // too long to index: fails, ignored
		return nil
	})
	if err == nil {
		t.Fatal("Update committed after a failed statement")
	}
	err = s.View(t.Context(), func(r group.Reader) error {
		_, err := r.User("k")
		return err
	})
	if !group.IsNotExist(err) {
		t.Errorf("the write before the failure: %v, want rolled back", err)
	}
}

// TestInvalidText: text PostgreSQL cannot store (a NUL, invalid UTF-8) is
// bad input, not a failure of the store.
func TestInvalidText(t *testing.T) {
	dsn := testDSN(t)
	s := testOpen(t, dsn, testSchema(t, dsn))
	for _, name := range []string{"nul\x00", "bad \xff utf-8"} {
		err := s.Update(t.Context(), func(tx group.Tx) error { return tx.PutUser(group.User{ID: "user-7", Name: name}) })
		if c := group.ErrorCode(err); c != group.EInvalidParam {
			t.Errorf("PutUser with name %q: %v (code %s), want EInvalidParam", name, err, c)
		}
		// The message reaches callers (bots among them): no stored id, no SQL.
		var de *group.Error
		if errors.As(err, &de) && de.Message != "a text holds a NUL character or invalid UTF-8" {
			t.Errorf("PutUser with name %q: message %q", name, de.Message)
		}
	}
}

// TestTooLongToIndex: a text too long for a b-tree entry (SQLSTATE 54000),
// here an 8 kB user name or mobile, is bad input, not a failure of the
// store. The domain bounds names and mobiles well below that
// (group.MaxNameLen); this is the safety net for a value that gets past it.
// The text is random so that PostgreSQL cannot compress it under the limit.
func TestTooLongToIndex(t *testing.T) {
	dsn := testDSN(t)
	s := testOpen(t, dsn, testSchema(t, dsn))
	huge := incompressible(8000)
	for _, u := range []group.User{{ID: "u", Name: huge}, {ID: "u", Mobile: huge}} {
		err := s.Update(t.Context(), func(tx group.Tx) error { return tx.PutUser(u) })
		if c := group.ErrorCode(err); c != group.EInvalidParam {
			t.Errorf("PutUser with an 8 kB name or mobile: %v (code %s), want EInvalidParam", err, c)
		}
	}
}

// incompressible returns n random base64 characters.
func incompressible(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)[:n]
}

// TestConcurrentOpen: nodes starting together on an empty schema migrate it
// once.
func TestConcurrentOpen(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	const nodes = 4
	var wg sync.WaitGroup
	stores := make([]*Store, nodes)
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() {
			stores[i], errs[i] = Open(t.Context(), dsn, WithSchema(schema), WithChannel(schema), WithMaxConns(2))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var applied int
	err = stores[0].pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&applied)
	if err != nil || applied != len(ms) {
		t.Errorf("schema_migrations holds %d rows (%v), want %d", applied, err, len(ms))
	}
}

// TestCloseWakesWaiters: Close wakes every waiter, and later waits return at once.
func TestCloseWakesWaiters(t *testing.T) {
	dsn := testDSN(t)
	s := testOpen(t, dsn, testSchema(t, dsn))
	ch := s.WaitEvents("bot")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !isClosed(ch) || !isClosed(s.WaitEvents("bot")) {
		t.Error("waiters not woken by Close")
	}
	if err := s.Update(t.Context(), appendEvent("bot")); !errors.Is(err, ErrClosed) {
		t.Errorf("Update after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestListenerCheck: a listener that has been silent for its check interval
// pings its connection and goes on receiving. The test drives a listener of
// its own, one receive at a time.
func TestListenerCheck(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	a := testOpen(t, dsn, schema)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *pgconn.Notification, 1)
	l := &listener{
		cfg:         cfg,
		channel:     schema,
		check:       100 * time.Millisecond,
		logger:      slog.New(slog.NewTextHandler(t.Output(), nil)),
		notify:      func(n *pgconn.Notification) { got <- n },
		reconnected: func() {},
	}
	if err := l.connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer l.conn.Close(context.Background())

	for i := range 3 { // silent checks: each pings the connection
		if err := l.receive(t.Context()); err != nil {
			t.Fatalf("silent check %d: %v", i, err)
		}
		if len(got) != 0 {
			t.Fatalf("silent check %d received %+v", i, <-got)
		}
	}
	mustUpdate(t, a, appendEvent("bot"))
	for deadline := time.Now().Add(wakeTimeout); len(got) == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no notification within %v after the silent checks", wakeTimeout)
		}
		if err := l.receive(t.Context()); err != nil {
			t.Fatalf("receive after the silent checks: %v", err)
		}
	}
	if n := <-got; n.Payload != notification("bot", 1) {
		t.Errorf("notification %q, want %q", n.Payload, notification("bot", 1))
	}
	if n := l.connects.Load(); n != 1 {
		t.Errorf("the listener connected %d times, want once", n)
	}
}
