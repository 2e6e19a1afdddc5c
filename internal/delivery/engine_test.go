package delivery_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/delivery"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store/sqlite"
)

// wait bounds every wait of these tests: generous, never a timing assertion.
const wait = 30 * time.Second

// testDoor renders an event as {"seq":N} and wants "ok" back; events of
// type "SKIP" are not its stream's.
type testDoor struct{ s group.Store }

func (d testDoor) Items(ctx context.Context, st group.DeliveryStream, after int64, limit int) ([]delivery.Item, int64, error) {
	var evs []group.Event
	var last int64
	err := d.s.View(ctx, func(r group.Reader) (err error) {
		if last, err = r.LastEventSeq(st.BotID); err != nil {
			return err
		}
		evs, err = r.Events(st.BotID, after, limit)
		return err
	})
	var items []delivery.Item
	for _, e := range evs {
		it := delivery.Item{Seq: e.Seq, ID: fmt.Sprintf("%s-%d", e.BotID, e.Seq), Type: string(e.Type), CreatedAt: e.CreatedAt}
		if e.Type != "SKIP" {
			it.Body = fmt.Appendf(nil, `{"seq":%d}`, e.Seq)
			id := it.ID
			it.Header = func(time.Time) http.Header { return http.Header{"Webhook-Id": {id}} }
		}
		items = append(items, it)
	}
	return items, last, err
}

func (testDoor) Check(body []byte) error {
	if string(body) != "ok" {
		return fmt.Errorf("answer %q", body)
	}
	return nil
}

// receiver is a webhook receiver whose answer the test decides per request.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	answer func(seq int64) string // "ok", "500", "d1", "hang" or "redirect"; nil: "ok"
	got    []int64                // the seqs answered "ok", in order
	tries  int                    // every request
	wake   chan struct{}
	done   chan struct{} // closed when the test ends: hanging answers end
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t, wake: make(chan struct{}, 1), done: make(chan struct{})}
	rc.srv = httptest.NewServer(rc)
	t.Cleanup(rc.srv.Close)              // waits for the requests in progress,
	t.Cleanup(func() { close(rc.done) }) // which this ends first
	return rc
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct{ Seq int64 }
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &body); err != nil || !strings.HasSuffix(r.Header.Get("Webhook-Id"), "-"+strconv.FormatInt(body.Seq, 10)) {
		rc.t.Errorf("request %q with id %q", b, r.Header.Get("Webhook-Id"))
	}
	rc.mu.Lock()
	rc.tries++
	answer := "ok"
	if rc.answer != nil {
		answer = rc.answer(body.Seq)
	}
	if answer == "ok" {
		rc.got = append(rc.got, body.Seq)
	}
	rc.mu.Unlock()
	select {
	case rc.wake <- struct{}{}:
	default:
	}
	switch answer {
	case "ok":
		io.WriteString(w, "ok")
	case "500":
		w.WriteHeader(http.StatusInternalServerError)
	case "d1":
		io.WriteString(w, "d1")
	case "hang":
		select {
		case <-r.Context().Done():
		case <-rc.done:
		}
	case "redirect":
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}
}

func (rc *receiver) setAnswer(f func(seq int64) string) {
	rc.mu.Lock()
	rc.answer = f
	rc.mu.Unlock()
}

// requests returns how many requests the receiver got.
func (rc *receiver) requests() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.tries
}

// waitRequests waits until the receiver has got n requests, whatever it answered.
func (rc *receiver) waitRequests(n int) {
	rc.t.Helper()
	deadline := time.After(wait)
	for rc.requests() < n {
		select {
		case <-rc.wake:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			rc.t.Fatalf("receiver got %d requests within %v, want %d", rc.requests(), wait, n)
		}
	}
}

// waitGot waits until the receiver has answered n requests "ok" and returns their seqs.
func (rc *receiver) waitGot(n int) []int64 {
	rc.t.Helper()
	deadline := time.After(wait)
	for {
		rc.mu.Lock()
		got := slices.Clone(rc.got)
		rc.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-rc.wake:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			rc.t.Fatalf("receiver got %v within %v, want %d events", got, wait, n)
		}
	}
}

// env is a store, an engine over it and a stream of bot1 to a receiver.
type env struct {
	t      *testing.T
	path   string // of the store's file
	st     *sqlite.Store
	engine *delivery.Engine
	stop   func() // stops engine and waits for it to record its progress
}

func newEnv(t *testing.T, opts delivery.Options) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "qun.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, path: path, st: st}
	e.start(opts)
	return e
}

// start runs an engine until the test ends or e.stop is called.
func (e *env) start(opts delivery.Options) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(e.t.Output(), nil))
	}
	if opts.RetryMin == 0 {
		opts.RetryMin, opts.RetryMax = time.Millisecond, 5*time.Millisecond
	}
	if opts.Deny == nil {
		opts.Deny = []netip.Prefix{} // the receivers are on loopback
	}
	eng := delivery.New(e.st, e.st, map[group.DeliveryKind]delivery.Door{group.DeliveryWebhook: testDoor{e.st}}, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { eng.Run(ctx); close(done) }()
	stop := func() {
		cancel()
		<-done
	}
	e.engine, e.stop = eng, stop
	e.t.Cleanup(stop)
}

func (e *env) target(url string) { e.targetOf("bot1", url) }

// targetOf points botID's stream at url.
func (e *env) targetOf(botID, url string) {
	e.t.Helper()
	if _, err := e.st.SetDeliveryTarget(e.t.Context(), botID, group.DeliveryWebhook, url, 0, time.Now()); err != nil {
		e.t.Fatal(err)
	}
	e.engine.Notify(botID, group.DeliveryWebhook)
}

// events appends n events of type typ to bot1's log, created at created.
func (e *env) events(n int, typ group.EventType, created time.Time) {
	e.eventsOf("bot1", n, typ, created)
}

// eventsOf appends n events of type typ to botID's log, created at created.
func (e *env) eventsOf(botID string, n int, typ group.EventType, created time.Time) {
	e.t.Helper()
	err := e.st.Update(e.t.Context(), func(tx group.Tx) error {
		for range n {
			if _, err := tx.AppendEvent(group.Event{BotID: botID, Type: typ, GroupID: "g1", CreatedAt: created.Truncate(time.Millisecond)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// waitStream waits until the stream satisfies ok and returns it.
func (e *env) waitStream(what string, ok func(group.DeliveryStream) bool) group.DeliveryStream {
	e.t.Helper()
	deadline := time.After(wait)
	for {
		st, err := e.st.DeliveryStream(e.t.Context(), "bot1", group.DeliveryWebhook)
		if err != nil {
			e.t.Fatal(err)
		}
		if ok(st) {
			return st
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			e.t.Fatalf("stream never got %s: %+v", what, st)
		}
	}
}

func seqs(from, to int64) []int64 {
	var s []int64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func TestDeliversInOrderOnce(t *testing.T) {
	e := newEnv(t, delivery.Options{Batch: 7})
	rc := newReceiver(t)
	e.events(3, group.EventAddRobot, time.Now()) // before the stream: not its
	e.target(rc.srv.URL)
	e.events(20, group.EventAddRobot, time.Now())
	e.events(2, "SKIP", time.Now())
	e.events(20, group.EventAddRobot, time.Now())
	got := rc.waitGot(40)
	want := append(seqs(4, 23), seqs(26, 45)...)
	if !slices.Equal(got, want) {
		t.Fatalf("received %v, want %v", got, want)
	}
	st := e.waitStream("delivered 45", func(st group.DeliveryStream) bool { return st.Delivered == 45 })
	if st.LastError != "" || st.Dropped != 0 || st.LeaseNode != e.engine.Node() {
		t.Fatalf("stream %+v", st)
	}
	as, err := e.st.DeliveryAttempts(t.Context(), "bot1", group.DeliveryWebhook, 1)
	if err != nil || len(as) != 1 || as[0].Seq != 45 || as[0].Status != 200 || as[0].Error != "" || as[0].ItemID != "bot1-45" {
		t.Fatalf("newest attempt %+v, %v", as, err)
	}
	// Stopped gracefully: the lease is released and nothing more was sent.
	e.stop()
	st = e.waitStream("no lease", func(st group.DeliveryStream) bool { return st.LeaseNode == "" })
	if n := rc.requests(); n != 40 {
		t.Fatalf("%d requests for 40 events", n)
	}
}

// TestRetries: a receiver that fails each event a few times, in each way,
// still gets every event once, in order.
func TestRetries(t *testing.T) {
	for _, answer := range []string{"500", "d1", "hang", "redirect"} {
		t.Run(answer, func(t *testing.T) {
			e := newEnv(t, delivery.Options{Timeout: 50 * time.Millisecond})
			rc := newReceiver(t)
			fails := map[int64]int{}
			rc.setAnswer(func(seq int64) string {
				if fails[seq] < 3 {
					fails[seq]++
					return answer
				}
				return "ok"
			})
			e.target(rc.srv.URL)
			e.events(5, group.EventAddRobot, time.Now())
			if got := rc.waitGot(5); !slices.Equal(got, seqs(1, 5)) {
				t.Fatalf("received %v, want 1..5", got)
			}
			e.waitStream("delivered 5", func(st group.DeliveryStream) bool { return st.Delivered == 5 })
			as, err := e.st.DeliveryAttempts(t.Context(), "bot1", group.DeliveryWebhook, 100)
			if err != nil || len(as) != 20 {
				t.Fatalf("%d attempts, want 20: %v", len(as), err)
			}
			if as[1].Error == "" || as[1].Seq != 5 || as[0].Error != "" {
				t.Fatalf("attempts %+v", as[:2])
			}
		})
	}
}

// TestReceiverDown: connections refused for a while, then the receiver
// comes up on the same address and gets everything, in order.
func TestReceiverDown(t *testing.T) {
	e := newEnv(t, delivery.Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	e.target("http://" + addr + "/hook")
	e.events(5, group.EventAddRobot, time.Now())
	st := e.waitStream("a refused connection", func(st group.DeliveryStream) bool {
		return strings.Contains(st.LastError, "refused") && !st.NextAttempt.IsZero()
	})
	if st.Delivered != 0 {
		t.Fatalf("stream %+v", st)
	}
	rc := &receiver{t: t, wake: make(chan struct{}, 1), done: make(chan struct{})}
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	srv := &http.Server{Handler: rc}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	if got := rc.waitGot(5); !slices.Equal(got, seqs(1, 5)) {
		t.Fatalf("received %v, want 1..5", got)
	}
	e.waitStream("delivered 5 and no error", func(st group.DeliveryStream) bool { return st.Delivered == 5 && st.LastError == "" })
}

// TestDropped: an event failing past the retention is recorded as dropped,
// and so are events pruned from the log before they could be delivered.
func TestDropped(t *testing.T) {
	e := newEnv(t, delivery.Options{Retention: time.Hour})
	rc := newReceiver(t)
	rc.setAnswer(func(seq int64) string {
		if seq == 1 {
			return "500"
		}
		return "ok"
	})
	e.target(rc.srv.URL)
	e.events(1, group.EventAddRobot, time.Now().Add(-2*time.Hour))
	e.events(1, group.EventAddRobot, time.Now())
	if got := rc.waitGot(1); !slices.Equal(got, []int64{2}) {
		t.Fatalf("received %v, want [2]", got)
	}
	st := e.waitStream("delivered 2", func(st group.DeliveryStream) bool { return st.Delivered == 2 })
	if st.Dropped != 1 {
		t.Fatalf("stream %+v, want 1 dropped", st)
	}
	ds, err := e.st.DeliveryDrops(t.Context(), "bot1", group.DeliveryWebhook, 10)
	if err != nil || len(ds) != 1 || ds[0].FromSeq != 1 || ds[0].ToSeq != 1 || ds[0].ItemID != "bot1-1" || !strings.Contains(ds[0].Error, "HTTP 500") {
		t.Fatalf("drops %+v, %v", ds, err)
	}

	// Stopped; three events come and are pruned (the log up to them, the
	// delivered seq 2 with it: a store prunes a bot's log from its start,
	// and may keep an old event behind a younger one); two more come;
	// started again.
	e.stop()
	e.events(3, group.EventAddRobot, time.Now())
	if _, err := e.st.Prune(t.Context(), time.Now().Add(time.Second), time.Time{}, time.Time{}, time.Time{}, 100); err != nil {
		t.Fatal(err)
	}
	e.events(2, group.EventAddRobot, time.Now().Add(time.Minute))
	e.start(delivery.Options{Retention: time.Hour})
	if got := rc.waitGot(3); !slices.Equal(got, []int64{2, 6, 7}) {
		t.Fatalf("received %v, want [2 6 7]", got)
	}
	st = e.waitStream("delivered 7", func(st group.DeliveryStream) bool { return st.Delivered == 7 })
	ds, _ = e.st.DeliveryDrops(t.Context(), "bot1", group.DeliveryWebhook, 10)
	if st.Dropped != 4 || len(ds) != 2 || ds[0].FromSeq != 3 || ds[0].ToSeq != 5 {
		t.Fatalf("stream %+v, drops %+v; want 3..5 dropped", st, ds)
	}
}

// TestDroppedInside: events missing between two the log still has (a
// store that prunes by created_at, as PostgreSQL does, deletes an old event
// behind a younger one when the clock stepped back, or node clocks
// disagree) are recorded as dropped too, not skipped silently.
func TestDroppedInside(t *testing.T) {
	e := newEnv(t, delivery.Options{Retention: time.Hour})
	rc := newReceiver(t)
	e.target(rc.srv.URL)
	e.stop()
	e.events(6, group.EventAddRobot, time.Now())
	db, err := sql.Open("sqlite", e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// What such a prune leaves: seqs 1, 3 and 6; 2, 4 and 5 gone.
	if _, err := db.Exec(`DELETE FROM events WHERE bot_id = 'bot1' AND seq IN (2, 4, 5)`); err != nil {
		t.Fatal(err)
	}
	e.start(delivery.Options{Retention: time.Hour})
	if got := rc.waitGot(3); !slices.Equal(got, []int64{1, 3, 6}) {
		t.Fatalf("received %v, want [1 3 6]", got)
	}
	st := e.waitStream("delivered 6", func(st group.DeliveryStream) bool { return st.Delivered == 6 })
	ds, err := e.st.DeliveryDrops(t.Context(), "bot1", group.DeliveryWebhook, 10)
	if err != nil || st.Dropped != 3 || len(ds) != 2 || ds[0].FromSeq != 4 || ds[0].ToSeq != 5 || ds[1].FromSeq != 2 || ds[1].ToSeq != 2 {
		t.Fatalf("stream %+v, drops %+v, %v; want 2..2 and 4..5 dropped", st, ds, err)
	}
}

// TestDeny: a stream whose URL reaches a denied address is refused on every
// dial, whatever was checked when it was set.
func TestDeny(t *testing.T) {
	e := newEnv(t, delivery.Options{Deny: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	rc := newReceiver(t)
	e.target(rc.srv.URL) // set behind CheckURL's back
	e.events(1, group.EventAddRobot, time.Now())
	e.waitStream("a denied dial", func(st group.DeliveryStream) bool { return strings.Contains(st.LastError, "deny list") })
	if n := rc.requests(); n != 0 {
		t.Fatalf("the denied receiver got %d requests", n)
	}
	long := "http://example.com/" + strings.Repeat("a", group.MaxURLLen)
	for _, u := range []string{rc.srv.URL, "ftp://example.com/", "http:///nohost", "http://user:pw@example.com/", "::", long[:group.MaxURLLen+1]} {
		err := e.engine.CheckURL(t.Context(), u)
		var de *group.Error
		if !errors.As(err, &de) || de.Code != group.EInvalidParam {
			t.Errorf("CheckURL(%q) = %v, want EInvalidParam", u, err)
		}
	}
	open := newEnv(t, delivery.Options{}).engine
	if err := open.CheckURL(t.Context(), rc.srv.URL); err != nil {
		t.Errorf("CheckURL without a deny list: %v", err)
	}
	if err := open.CheckURL(t.Context(), long[:group.MaxURLLen]); err != nil {
		t.Errorf("CheckURL of a URL of MaxURLLen bytes: %v", err)
	}
	if err := open.CheckURL(t.Context(), long[:group.MaxURLLen+1]); group.ErrorCode(err) != group.EInvalidParam {
		t.Errorf("CheckURL of a URL one byte over MaxURLLen = %v, want EInvalidParam", err)
	}
}

// TestRedeliver sends a stream's events again from a point.
func TestRedeliver(t *testing.T) {
	e := newEnv(t, delivery.Options{})
	rc := newReceiver(t)
	e.target(rc.srv.URL)
	e.events(4, group.EventAddRobot, time.Now())
	rc.waitGot(4)
	e.waitStream("delivered 4", func(st group.DeliveryStream) bool { return st.Delivered == 4 })
	if _, err := e.st.Redeliver(t.Context(), "bot1", group.DeliveryWebhook, 2, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.engine.Notify("bot1", group.DeliveryWebhook)
	if got := rc.waitGot(7); !slices.Equal(got, []int64{1, 2, 3, 4, 2, 3, 4}) {
		t.Fatalf("received %v, want 1..4 then 2..4", got)
	}
}

// TestTakeOver: a second node delivers a stream once the first stops.
func TestTakeOver(t *testing.T) {
	e := newEnv(t, delivery.Options{Node: "node-a", LeaseTTL: time.Second})
	rc := newReceiver(t)
	e.target(rc.srv.URL)
	e.events(3, group.EventAddRobot, time.Now())
	rc.waitGot(3)
	stopA := e.stop
	e.start(delivery.Options{Node: "node-b", LeaseTTL: time.Second, ScanInterval: 10 * time.Millisecond})
	e.events(1, group.EventAddRobot, time.Now())
	rc.waitGot(4)
	stopA()
	e.events(2, group.EventAddRobot, time.Now())
	if got := rc.waitGot(6); !slices.Equal(got, seqs(1, 6)) {
		t.Fatalf("received %v, want 1..6", got)
	}
	e.waitStream("node-b's lease", func(st group.DeliveryStream) bool { return st.LeaseNode == "node-b" && st.Delivered == 6 })
}

// TestSlowReceiver: a receiver that never answers holds up its own bot's
// stream only; another bot's events all arrive meanwhile.
func TestSlowReceiver(t *testing.T) {
	e := newEnv(t, delivery.Options{Timeout: time.Hour})
	slow, fast := newReceiver(t), newReceiver(t) // closed before the engine stops: the hanging POST ends
	slow.setAnswer(func(int64) string { return "hang" })
	e.targetOf("bot1", slow.srv.URL)
	e.targetOf("bot2", fast.srv.URL)
	e.eventsOf("bot1", 3, group.EventAddRobot, time.Now())
	e.eventsOf("bot2", 20, group.EventAddRobot, time.Now())
	if got := fast.waitGot(20); !slices.Equal(got, seqs(1, 20)) {
		t.Fatalf("the other bot's receiver got %v, want 1..20", got)
	}
	// The slow stream's first POST may still be on its way: wait for it,
	// then there must be no second one while it hangs.
	slow.waitRequests(1)
	if n := slow.requests(); n != 1 {
		t.Fatalf("the hanging receiver got %d requests, want the first event's only", n)
	}
}

// TestRenewWhileIdle: an idle stream keeps its lease (the node renews all
// its leases at once), and a redelivery made elsewhere, with no Notify on
// this node, is picked up at the next renewal.
func TestRenewWhileIdle(t *testing.T) {
	e := newEnv(t, delivery.Options{LeaseTTL: time.Second})
	rc := newReceiver(t)
	e.target(rc.srv.URL)
	e.events(2, group.EventAddRobot, time.Now())
	rc.waitGot(2)
	st := e.waitStream("delivered 2", func(st group.DeliveryStream) bool { return st.Delivered == 2 })
	e.waitStream("its lease renewed while idle", func(s group.DeliveryStream) bool {
		return s.LeaseNode == st.LeaseNode && s.LeaseUntil.After(st.LeaseUntil)
	})
	if _, err := e.st.Redeliver(t.Context(), "bot1", group.DeliveryWebhook, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := rc.waitGot(4); !slices.Equal(got, []int64{1, 2, 1, 2}) {
		t.Fatalf("received %v, want 1, 2 and again 1, 2", got)
	}
}

// TestBacklog: the engine counts the events its streams have not delivered
// yet, a failing receiver's included, and none once they are delivered.
func TestBacklog(t *testing.T) {
	e := newEnv(t, delivery.Options{RetryMin: 20 * time.Millisecond, RetryMax: 20 * time.Millisecond})
	rc := newReceiver(t)
	rc.setAnswer(func(int64) string { return "500" })
	waitBacklog := func(want int64) {
		t.Helper()
		deadline := time.After(wait)
		for e.engine.Backlog() != want {
			select {
			case <-time.After(5 * time.Millisecond):
			case <-deadline:
				t.Fatalf("backlog %d, want %d", e.engine.Backlog(), want)
			}
		}
	}
	if n := e.engine.Backlog(); n != 0 {
		t.Fatalf("backlog of no stream: %d", n)
	}
	e.target(rc.srv.URL)
	e.events(5, group.EventAddRobot, time.Now())
	waitBacklog(5)
	for deadline := time.Now().Add(wait); rc.requests() < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d attempts within %v, want 3", rc.requests(), wait)
		}
	}
	if n := e.engine.Backlog(); n != 5 { // all refused: nothing is done with
		t.Fatalf("backlog while retrying: %d, want 5", n)
	}
	rc.setAnswer(nil)
	rc.waitGot(5)
	waitBacklog(0)
}
