package delivery

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// Limits and defaults. Each is overridable through Options; a zero option
// means its default.
const (
	// DefaultTimeout bounds one POST, from dialling to the last byte of the
	// answer read; a receiver that takes longer is retried.
	DefaultTimeout = 5 * time.Second
	// DefaultRetryMin is the wait after an item's first failed attempt; each
	// further failure doubles it, up to DefaultRetryMax, with jitter.
	DefaultRetryMin = time.Second
	// DefaultRetryMax caps the wait between two attempts of one item.
	DefaultRetryMax = 5 * time.Minute
	// DefaultRetention is how long an event is tried before it is given up
	// on and recorded as dropped: the event retention, after which the log
	// forgets it anyway.
	DefaultRetention = 24 * time.Hour
	// DefaultLeaseTTL is how long a node's lease of a stream holds without
	// being renewed; the holder renews it every third of it, and another
	// node takes a stream over this long after its holder died.
	DefaultLeaseTTL = 30 * time.Second
	// DefaultScanInterval is how often a node lists the streams that are on,
	// to find those set on other nodes and those whose holder died.
	DefaultScanInterval = 5 * time.Second
	// DefaultBatch is how many events a stream reads from the log at once.
	// Progress is recorded at least once per batch and whenever the stream
	// has caught up, so that a crash repeats at most a batch.
	DefaultBatch = 100
	// DefaultKeep is how many recent attempts and drops are kept per stream.
	DefaultKeep = 100
	// DefaultMaxResponse bounds how much of an answer is read; the rest is
	// discarded with the connection.
	DefaultMaxResponse = 64 << 10
	// DefaultMaxConnsPerHost bounds the connections to one receiver host, so
	// that the bots sharing a slow receiver hold few sockets between them.
	DefaultMaxConnsPerHost = 4
	// DefaultMaxIdleConns bounds the idle keep-alive connections of a node.
	DefaultMaxIdleConns = 256
)

// DefaultDeny are the address ranges a callback may not reach unless the
// operator says otherwise: link-local (cloud metadata at 169.254.169.254
// included) and the metadata addresses of clouds that use others.
var DefaultDeny = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS over IPv6
}

// Item is one event of a stream as its door renders it.
type Item struct {
	Seq       int64
	ID        string // the id the receiver sees; the same on every attempt
	Type      string
	Body      []byte // nil: the event is not the stream's and is skipped
	URL       string // where it goes; "": the stream's URL
	CreatedAt time.Time
	// Header returns the headers of an attempt made at now (its signature).
	Header func(now time.Time) http.Header
}

// Door renders one kind of stream: what its items look like on the wire and
// what answer delivers them.
type Door interface {
	// Items returns the stream's events after seq after, at most limit, in
	// order, and the bot's last event seq as of the read.
	Items(ctx context.Context, st group.DeliveryStream, after int64, limit int) (items []Item, last int64, err error)
	// Check judges the body of a 2xx answer: nil means delivered.
	Check(body []byte) error
}

// Events wakes a stream when its bot's log grows (group.Store does).
type Events interface {
	WaitEvents(botID string) <-chan struct{}
}

// Options configures an Engine. The zero value delivers with every default.
type Options struct {
	// Node names this node in leases; empty: a random name. A node that
	// keeps its name across restarts takes its own leases back at once.
	Node   string
	Now    func() time.Time                     // nil: time.Now
	After  func(time.Duration) <-chan time.Time // nil: time.After
	Logger *slog.Logger                         // nil: slog.Default()

	Timeout         time.Duration // DefaultTimeout
	RetryMin        time.Duration // DefaultRetryMin
	RetryMax        time.Duration // DefaultRetryMax
	Retention       time.Duration // DefaultRetention
	LeaseTTL        time.Duration // DefaultLeaseTTL
	ScanInterval    time.Duration // DefaultScanInterval
	Batch           int           // DefaultBatch
	Keep            int           // DefaultKeep
	MaxResponse     int64         // DefaultMaxResponse
	MaxConnsPerHost int           // DefaultMaxConnsPerHost
	// Deny lists the address ranges no callback may reach, checked when a
	// URL is set and on every dial. nil: DefaultDeny; empty: none.
	Deny []netip.Prefix
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Timeout, DefaultTimeout)
	def(&o.RetryMin, DefaultRetryMin)
	def(&o.RetryMax, DefaultRetryMax)
	o.RetryMax = max(o.RetryMax, o.RetryMin)
	def(&o.Retention, DefaultRetention)
	def(&o.LeaseTTL, DefaultLeaseTTL)
	def(&o.ScanInterval, DefaultScanInterval)
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Keep <= 0 {
		o.Keep = DefaultKeep
	}
	if o.MaxResponse <= 0 {
		o.MaxResponse = DefaultMaxResponse
	}
	if o.MaxConnsPerHost <= 0 {
		o.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	if o.Deny == nil {
		o.Deny = DefaultDeny
	}
	if o.Node == "" {
		o.Node = NewNodeName()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// NewNodeName returns a random node name.
func NewNodeName() string {
	var b [8]byte
	crand.Read(b[:])
	return "node-" + hex.EncodeToString(b[:])
}

// streamKey names a stream.
type streamKey struct {
	bot  string
	kind group.DeliveryKind
}

// Engine delivers every stream that is on, one goroutine per stream, each
// holding the stream's lease while it delivers. It is safe for concurrent use.
type Engine struct {
	store  Store
	events Events
	doors  map[group.DeliveryKind]Door
	opts   Options
	log    *slog.Logger
	client *http.Client

	mu      sync.Mutex
	ctx     context.Context // Run's; nil before Run
	workers map[streamKey]*worker
	wg      sync.WaitGroup
	scan    chan struct{}
}

// New returns an engine over the store, waking on events, with a door per
// stream kind it delivers.
func New(store Store, events Events, doors map[group.DeliveryKind]Door, opts Options) *Engine {
	opts = opts.withDefaults()
	return &Engine{
		store:   store,
		events:  events,
		doors:   doors,
		opts:    opts,
		log:     opts.Logger,
		client:  newClient(opts),
		workers: make(map[streamKey]*worker),
		scan:    make(chan struct{}, 1),
	}
}

// Backlog returns how many events the streams this node delivers have not
// done with yet (delivered, skipped as not theirs, or dropped), each as of
// its last read of its bot's log: the pending deliveries of this node. A
// stream that is failing counts the events it had read when it started
// retrying; another node's streams count there.
func (e *Engine) Backlog() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var n int64
	for _, w := range e.workers {
		n += w.backlog.Load()
	}
	return n
}

// Node returns the name this node holds leases under.
func (e *Engine) Node() string { return e.opts.Node }

// Run delivers until ctx is done; it then stops every stream, records how
// far each got, releases its leases and returns nil.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	e.ctx = ctx
	e.mu.Unlock()
	defer func() {
		e.wg.Wait()
		e.client.CloseIdleConnections()
	}()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.renew(ctx)
	}()
	for {
		sts, err := e.store.DeliveryStreams(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.Error("delivery: list streams", "err", err)
		}
		for _, st := range sts {
			if _, ok := e.doors[st.Kind]; ok {
				e.start(streamKey{st.BotID, st.Kind})
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-e.scan:
		case <-e.opts.After(e.opts.ScanInterval):
		}
	}
}

// renew extends every lease of the node every third of LeaseTTL, in one
// store call, and kicks the workers whose stream changed (a new target, a
// redelivery, on any node) or whose lease another node has taken, so that
// they take their streams anew. Workers record their progress (and with it
// the lease) only when they have something to record.
func (e *Engine) renew(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.opts.After(e.opts.LeaseTTL / 3):
		}
		sts, err := e.store.RenewDeliveryLeases(ctx, e.opts.Node, e.now().Add(e.opts.LeaseTTL))
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("delivery: renew leases", "err", err)
			}
			continue
		}
		held := make(map[streamKey]group.DeliveryStream, len(sts))
		for _, st := range sts {
			held[streamKey{st.BotID, st.Kind}] = st
		}
		e.mu.Lock()
		for k, w := range e.workers {
			ep := w.epoch.Load()
			if ep == 0 {
				continue
			}
			if st, ok := held[k]; !ok || st.Epoch != ep || st.URL == "" {
				w.poke()
			}
		}
		e.mu.Unlock()
	}
}

// Notify tells the engine that a stream of botID changed on this node (its
// target was set, or it was redelivered), so that it acts on it at once
// rather than at its next renewal or scan.
func (e *Engine) Notify(botID string, kind group.DeliveryKind) {
	e.mu.Lock()
	w, ok := e.workers[streamKey{botID, kind}]
	e.mu.Unlock()
	if ok {
		w.poke()
		return
	}
	select {
	case e.scan <- struct{}{}:
	default:
	}
}

// start runs the stream's worker unless it runs already.
func (e *Engine) start(k streamKey) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.workers[k]; ok || e.ctx == nil || e.ctx.Err() != nil {
		return
	}
	w := &worker{e: e, key: k, door: e.doors[k.kind], kick: make(chan struct{}, 1)}
	e.workers[k] = w
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		w.run(e.ctx)
		e.mu.Lock()
		delete(e.workers, k)
		e.mu.Unlock()
	}()
}

// now returns the clock's time at millisecond precision, the precision the
// stores keep.
func (e *Engine) now() time.Time { return e.opts.Now().Truncate(time.Millisecond) }

// backoff returns the wait after the n-th failed attempt of an item:
// RetryMin doubled n-1 times, capped at RetryMax, less up to half of it at
// random so that streams failing together do not retry together.
func (e *Engine) backoff(n int) time.Duration {
	d := e.opts.RetryMin
	for i := 1; i < n && d < e.opts.RetryMax; i++ {
		d *= 2
	}
	d = min(d, e.opts.RetryMax)
	return d - rand.N(d/2+1)
}

// errLost means the worker no longer holds its stream as it read it: the
// lease went to another node, or the stream's epoch moved on.
var errLost = errors.New("delivery: lease or epoch lost")

// worker delivers one stream.
type worker struct {
	e    *Engine
	key  streamKey
	door Door
	kick chan struct{}
	// epoch is that of the session the worker holds the stream at; 0 when
	// it holds none. The renewer compares it with the store's.
	epoch atomic.Int64
	// backlog is how many events of the bot's log the stream has not done
	// with, as of its last read of the log; 0 while it holds no session.
	backlog atomic.Int64
}

// poke wakes the worker to take its stream anew.
func (w *worker) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// run takes the stream's lease and delivers while it holds it, until the
// stream is off or ctx is done.
func (w *worker) run(ctx context.Context) {
	e := w.e
	for ctx.Err() == nil {
		now := e.now()
		st, took, err := e.store.TakeDeliveryLease(ctx, w.key.bot, w.key.kind, e.opts.Node, now, now.Add(e.opts.LeaseTTL))
		switch {
		case group.IsNotExist(err):
			return
		case err != nil:
			if ctx.Err() == nil {
				e.log.Error("delivery: take lease", "bot", w.key.bot, "kind", w.key.kind, "err", err)
			}
			w.wait(ctx, e.opts.RetryMin)
			continue
		case st.URL == "":
			if took {
				w.release()
			}
			return
		case !took:
			// Another node delivers it; look again when its lease would expire.
			w.wait(ctx, min(max(st.LeaseUntil.Sub(now), time.Millisecond), e.opts.LeaseTTL))
			continue
		}
		s := &session{w: w, st: st, pos: st.Delivered, renewAt: now.Add(e.opts.LeaseTTL / 3)}
		w.epoch.Store(st.Epoch)
		err = s.deliver(ctx)
		w.epoch.Store(0)
		w.backlog.Store(0)
		if ctx.Err() != nil {
			s.flush(true)
			w.release()
			return
		}
		if err != nil && !errors.Is(err, errLost) {
			e.log.Error("delivery: stream", "bot", w.key.bot, "kind", w.key.kind, "err", err)
			w.wait(ctx, e.opts.RetryMin)
		}
	}
}

// wait waits d, or less if the stream is kicked or ctx ends; it reports
// whether it was kicked.
func (w *worker) wait(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
	case <-w.kick:
		return true
	case <-w.e.opts.After(d):
	}
	return false
}

// release gives the lease up, so that another node may take the stream at once.
func (w *worker) release() {
	ctx, cancel := context.WithTimeout(context.Background(), w.e.opts.Timeout)
	defer cancel()
	if err := w.e.store.ReleaseDeliveryLease(ctx, w.key.bot, w.key.kind, w.e.opts.Node); err != nil {
		w.e.log.Warn("delivery: release lease", "bot", w.key.bot, "kind", w.key.kind, "err", err)
	}
}

// session is a worker's hold of its stream at one epoch.
type session struct {
	w        *worker
	st       group.DeliveryStream
	pos      int64 // the last seq done with
	last     int64 // the bot's last event seq, as of the last read
	lastErr  string
	next     time.Time // of the failing item
	attempts []group.DeliveryAttempt
	drops    []group.DeliveryDrop
	renewAt  time.Time
	dirty    bool // pos or the error moved since the last flush
}

// deliver delivers the stream from pos on, as long as the lease and the
// epoch hold; it returns errLost when they do not, and ctx's error when ctx ends.
func (s *session) deliver(ctx context.Context) error {
	e, w := s.w.e, s.w
	for {
		wake := e.events.WaitEvents(w.key.bot) // before the read: nothing is missed
		items, last, err := w.door.Items(ctx, s.st, s.pos, e.opts.Batch)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("read events: %w", err)
		}
		s.last = last
		s.count()
		// Events missing from the log were pruned before they could be
		// delivered: before the first item, or between two (a store that
		// prunes by created_at deletes an old event behind a younger one
		// when clocks disagree), or all of them.
		if len(items) == 0 && last > s.pos {
			s.drop(s.pos+1, last, Item{}, "pruned from the event log before delivery")
		}
		for _, it := range items {
			if it.Seq > s.pos+1 {
				s.drop(s.pos+1, it.Seq-1, Item{}, "pruned from the event log before delivery")
			}
			if it.Body == nil {
				s.pos, s.dirty = it.Seq, true
				continue
			}
			err := s.send(ctx, it)
			s.count()
			if err != nil {
				return err
			}
			if len(s.attempts) >= e.opts.Batch || !e.now().Before(s.renewAt) {
				if err := s.flush(false); err != nil {
					return err
				}
			}
		}
		s.count()
		if len(items) >= e.opts.Batch {
			continue
		}
		// Caught up: record it, then wait for the log to grow.
		if err := s.flush(false); err != nil {
			return err
		}
		// The lease is renewed for every stream of the node at once (renew);
		// a change of the stream anywhere, or a lost lease, kicks it.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.kick:
			return s.flush(false) // take it anew
		case <-wake:
		}
	}
}

// count notes the stream's backlog for Engine.Backlog.
func (s *session) count() { s.w.backlog.Store(max(0, s.last-s.pos)) }

// send delivers one item, retrying with backoff until it is delivered or
// past the retention (then it is dropped).
func (s *session) send(ctx context.Context, it Item) error {
	e, w := s.w.e, s.w
	for n := 1; ; n++ {
		start := e.now()
		// A POST under way when the node stops is finished (within the
		// timeout), so that a graceful restart repeats nothing.
		status, err := e.post(context.WithoutCancel(ctx), s.st.URL, it, w.door)
		a := group.DeliveryAttempt{BotID: w.key.bot, Kind: w.key.kind, Seq: it.Seq, ItemID: it.ID, Type: it.Type,
			Status: status, At: start, Duration: e.now().Sub(start)}
		if err == nil {
			s.attempts = append(s.attempts, a)
			s.pos, s.lastErr, s.next, s.dirty = it.Seq, "", time.Time{}, true
			return ctx.Err()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a.Error = err.Error()
		s.attempts = append(s.attempts, a)
		now := e.now()
		if now.Sub(it.CreatedAt) >= e.opts.Retention {
			s.drop(it.Seq, it.Seq, it, fmt.Sprintf("not delivered within %v: %v", e.opts.Retention, err))
			return nil
		}
		d := e.backoff(n)
		s.lastErr, s.next, s.dirty = a.Error, now.Add(d), true
		if err := s.flush(false); err != nil {
			return err
		}
		for until := now.Add(d); ; {
			left := until.Sub(e.now())
			if left <= 0 {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if w.wait(ctx, min(left, s.renewAt.Sub(e.now()))) {
				return s.flush(false) // the stream changed here: take it anew
			}
			if !e.now().Before(s.renewAt) {
				if err := s.flush(true); err != nil {
					return err
				}
			}
		}
	}
}

// drop records the events from..to as given up on and moves past them.
func (s *session) drop(from, to int64, it Item, reason string) {
	e, w := s.w.e, s.w
	e.log.Warn("delivery: dropped", "bot", w.key.bot, "kind", w.key.kind, "from", from, "to", to, "reason", reason)
	s.drops = append(s.drops, group.DeliveryDrop{BotID: w.key.bot, Kind: w.key.kind, FromSeq: from, ToSeq: to,
		ItemID: it.ID, Type: it.Type, Error: reason, At: e.now()})
	s.pos, s.lastErr, s.next, s.dirty = to, "", time.Time{}, true
}

// flush records the session's progress, attempts and drops and renews the
// lease, if anything changed or renew is set. It returns errLost if the
// lease or the epoch moved on; the unrecorded progress is then another
// node's (or the new epoch's) to make again.
func (s *session) flush(renew bool) error {
	e, w := s.w.e, s.w
	if !s.dirty && !renew && len(s.attempts) == 0 && len(s.drops) == 0 {
		return nil
	}
	now := e.now()
	p := group.DeliveryProgress{BotID: w.key.bot, Kind: w.key.kind, Node: e.opts.Node, Epoch: s.st.Epoch,
		Delivered: s.pos, LastError: s.lastErr, NextAttempt: s.next, LeaseUntil: now.Add(e.opts.LeaseTTL), UpdatedAt: now}
	// The final flush of a stopping node runs after its context ended.
	ctx, cancel := context.WithTimeout(context.Background(), e.opts.Timeout)
	defer cancel()
	ok, err := e.store.RecordDelivery(ctx, p, s.attempts, s.drops, e.opts.Keep)
	if err != nil {
		return fmt.Errorf("record progress: %w", err)
	}
	s.attempts, s.drops, s.dirty = s.attempts[:0], s.drops[:0], false
	if !ok {
		return errLost
	}
	s.renewAt = now.Add(e.opts.LeaseTTL / 3)
	return nil
}
