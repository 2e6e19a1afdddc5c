// Package qqbot is qun's Bot Open Platform door: the QQ Bot open platform API
// v2 (access tokens, gateway discovery, the op-code WebSocket gateway, group
// members and group messages) served so that the official SDKs (botgo, botpy)
// work against qun with only their base URL changed.
//
// The door parses requests, maps the bots' openids to internal ids, calls the
// domain (internal/group) and renders its answers and events in the QQ shapes;
// every group rule lives in the domain. Door state (access tokens, gateway
// sessions, openid mappings) is kept in the door's own Store, so that it
// survives a restart and is shared by every node.
//
// It imports the domain, internal/access (the access log and request
// metrics), the standard library and github.com/coder/websocket; never a
// store or another door.
package qqbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/qun-chat/qun/internal/access"
	"github.com/qun-chat/qun/internal/group"
)

// Limits and defaults. Each is overridable through Options; a zero option
// means its default.
const (
	// DefaultHeartbeatInterval is the heartbeat_interval announced in Hello
	// (the value the real gateway sends).
	DefaultHeartbeatInterval = 41250 * time.Millisecond
	// DefaultHeartbeatTimeout closes a connection (4009) that sent no heartbeat
	// for this long. botpy beats every 30 s whatever Hello says, so it stays
	// well above that.
	DefaultHeartbeatTimeout = 90 * time.Second
	// DefaultIdentifyTimeout closes a connection (4009, so that an SDK simply
	// connects again) that has not identified or resumed this long after
	// Hello: an unauthenticated connection holds a slot of MaxGatewayConns,
	// so it may not idle as long as an authenticated one. It never exceeds
	// HeartbeatTimeout.
	DefaultIdentifyTimeout = 10 * time.Second
	// DefaultMaxGatewayConns is how many gateway connections one node serves
	// at once, authenticated or not; an upgrade past it gets HTTP 503 and the
	// QQ error body, and the SDK retries (another node, behind a balancer).
	DefaultMaxGatewayConns = 10_000
	// DefaultUnidentifiedCloseWait is how long the server waits for a client
	// that never identified to answer its close frame before dropping the
	// connection (an identified client gets the WebSocket library's 5 s).
	DefaultUnidentifiedCloseWait = time.Second
	// DefaultEventRetention is how long a bot's events are kept for resume;
	// older ones are pruned and a resume that needs them gets op 9.
	DefaultEventRetention = 24 * time.Hour
	// DefaultSessionRetention is how long a gateway session may go unseen
	// (no identify, resume, heartbeat or connection) and still be resumed.
	DefaultSessionRetention = 24 * time.Hour
	// DefaultTokenTTL is the lifetime of an access token (QQ: 7200 s).
	DefaultTokenTTL = 7200 * time.Second
	// DefaultTokenOverlap is the end of a token's life during which a token
	// request gets a new token while the old one stays valid (QQ: 60 s).
	DefaultTokenOverlap = 60 * time.Second
	// DefaultMaxFrame is the largest gateway frame a client may send; clients
	// send only identify, resume and heartbeats. A larger frame closes the
	// connection with 1009 (message too big).
	DefaultMaxFrame = 16 << 10
	// DefaultMaxBody is the largest REST request body.
	DefaultMaxBody = 64 << 10
	// DefaultIdentifyRate is how many identifies and resumes one bot may make
	// per minute (as a burst, refilled evenly); more close with 4008.
	DefaultIdentifyRate = 30
	// DefaultRESTRate is how many REST requests one app may make per second
	// (as a burst, refilled evenly); more get HTTP 429. A token request
	// counts against its app only once its secret matched, so that strangers
	// who know the (public) app id cannot spend the bot's budget.
	DefaultRESTRate = 200
	// DefaultTokenFailRate is how many token requests with a wrong secret one
	// app may get answered per minute (as a burst, refilled evenly); more get
	// HTTP 429. A right secret is never refused by it, so strangers cannot
	// lock the bot out of its tokens; secrets are 32 random characters, so
	// the limit tells a misconfigured or hostile client to back off rather
	// than guard against guessing.
	DefaultTokenFailRate = 30
	// DefaultMaxShards is the largest shard count an identify may ask for; more
	// close with 4011.
	DefaultMaxShards = 16
	// DefaultPruneInterval is how often Run prunes expired events, sessions and tokens.
	DefaultPruneInterval = 10 * time.Minute
	// DefaultPruneBatch is how many rows of each kind (events, sessions, bot
	// messages, tokens, nonces) one Store.Prune deletes at most; a pass runs
	// batches until one comes back short. It bounds how long one batch
	// holds SQLite's single writer (some tens of milliseconds) while keeping
	// a large backlog to few batches.
	DefaultPruneBatch = 10_000
	// DefaultWriteTimeout bounds one gateway frame write, and each socket
	// write of a burst of event frames (see DefaultBurstBytes); a client
	// that does not read is disconnected.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultEventBatch is how many events the gateway reads from the log at once.
	DefaultEventBatch = 100
	// DefaultTokenCache is how long a validated access token is trusted from
	// memory before it is read from the store again.
	DefaultTokenCache = 30 * time.Second
)

// Options configures a Server. The zero value serves with every default.
type Options struct {
	// PublicURL is the base URL clients reach this door at, like
	// "https://qq.example.com"; the gateway URL returned by discovery is its
	// ws(s) form plus "/websocket". Empty: derived from each request's Host
	// and TLS or X-Forwarded-Proto.
	PublicURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives errors and connection events; nil means slog.Default().
	Logger *slog.Logger
	// Observer receives requests, gateway connections, sessions, delivered
	// events and pruned rows, for metrics; nil counts nothing.
	Observer Observer
	// Node names this node in the sessions its connections hold, so that a
	// listing of a bot's sessions says where each is connected.
	Node string

	HeartbeatInterval time.Duration // DefaultHeartbeatInterval
	HeartbeatTimeout  time.Duration // DefaultHeartbeatTimeout
	IdentifyTimeout   time.Duration // DefaultIdentifyTimeout, at most HeartbeatTimeout
	MaxGatewayConns   int           // DefaultMaxGatewayConns per node
	EventRetention    time.Duration // DefaultEventRetention
	SessionRetention  time.Duration // DefaultSessionRetention
	TokenTTL          time.Duration // DefaultTokenTTL; must exceed DefaultTokenOverlap
	MaxFrame          int64         // DefaultMaxFrame
	MaxBody           int64         // DefaultMaxBody
	IdentifyRate      int           // DefaultIdentifyRate per minute; negative: unlimited
	RESTRate          int           // DefaultRESTRate per second; negative: unlimited
	TokenFailRate     int           // DefaultTokenFailRate per minute; negative: unlimited
	MaxShards         int           // DefaultMaxShards
	PruneInterval     time.Duration // DefaultPruneInterval
	WriteTimeout      time.Duration // DefaultWriteTimeout
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.HeartbeatInterval, DefaultHeartbeatInterval)
	def(&o.HeartbeatTimeout, DefaultHeartbeatTimeout)
	def(&o.IdentifyTimeout, DefaultIdentifyTimeout)
	o.IdentifyTimeout = min(o.IdentifyTimeout, o.HeartbeatTimeout)
	def(&o.EventRetention, DefaultEventRetention)
	def(&o.SessionRetention, DefaultSessionRetention)
	def(&o.TokenTTL, DefaultTokenTTL)
	def(&o.PruneInterval, DefaultPruneInterval)
	def(&o.WriteTimeout, DefaultWriteTimeout)
	if o.MaxFrame <= 0 {
		o.MaxFrame = DefaultMaxFrame
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.IdentifyRate == 0 {
		o.IdentifyRate = DefaultIdentifyRate
	}
	if o.RESTRate == 0 {
		o.RESTRate = DefaultRESTRate
	}
	if o.TokenFailRate == 0 {
		o.TokenFailRate = DefaultTokenFailRate
	}
	if o.MaxGatewayConns <= 0 {
		o.MaxGatewayConns = DefaultMaxGatewayConns
	}
	if o.MaxShards <= 0 {
		o.MaxShards = DefaultMaxShards
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	return o
}

// Observer receives what the door does, for metrics (internal/metrics
// implements it). Its methods are called on the request and connection
// goroutines: they must be cheap and safe for concurrent use.
type Observer interface {
	access.Observer
	// GatewayOpened is called when a gateway connection is upgraded, and
	// GatewayClosed when it ends, with the close code it ended with: the
	// server's, the client's, or 1006 when it was dropped without one.
	GatewayOpened()
	GatewayClosed(code int)
	// SessionStarted is called for every successful identify (resumed
	// false) and resume.
	SessionStarted(resumed bool)
	// InvalidSession is called for every op 9 sent.
	InvalidSession()
	// EventDelivered is called for every event frame sent to a session;
	// replayed is set for the frames a resume replays.
	EventDelivered(replayed bool)
	// Pruned is called after every prune Update with the rows it deleted.
	Pruned(rows int)
}

// nopObserver counts nothing.
type nopObserver struct{}

func (nopObserver) Request(string, string, string, time.Duration) {}
func (nopObserver) GatewayOpened()                                {}
func (nopObserver) GatewayClosed(int)                             {}
func (nopObserver) SessionStarted(bool)                           {}
func (nopObserver) InvalidSession()                               {}
func (nopObserver) EventDelivered(bool)                           {}
func (nopObserver) Pruned(int)                                    {}

// Server is the Bot Open Platform door. It is safe for concurrent use.
type Server struct {
	svc   *group.Service
	store Store
	opts  Options
	log   *slog.Logger

	key     []byte    // the openid key, shared by every node through the store
	macs    sync.Pool // of *macState keyed with key; see mac
	tokens  *cache[string, tokenEntry]
	openids *cache[openIDKey, group.OpenID]

	restRate      *limiter
	identifyRate  *limiter
	tokenFailRate *limiter // wrong secrets, per known app id: at most a bucket per bot

	handler http.Handler

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup // live gateway connections
}

// New returns the door over svc, keeping its state in st (the store svc
// works on). It reads (or on first start creates) the openid key in st.
func New(svc *group.Service, st Store, opts Options) (*Server, error) {
	if svc == nil || st == nil {
		return nil, errors.New("qqbot: nil service or store")
	}
	opts = opts.withDefaults()
	if opts.HeartbeatInterval < time.Millisecond {
		// Hello carries milliseconds, and botgo panics on a zero interval.
		return nil, fmt.Errorf("qqbot: heartbeat interval %v is under a millisecond", opts.HeartbeatInterval)
	}
	if opts.TokenTTL <= DefaultTokenOverlap {
		return nil, fmt.Errorf("qqbot: token TTL %v must exceed the %v overlap", opts.TokenTTL, DefaultTokenOverlap)
	}
	if opts.PublicURL != "" {
		if _, err := gatewayURL(opts.PublicURL); err != nil {
			return nil, fmt.Errorf("qqbot: public URL: %w", err)
		}
	}
	s := &Server{
		svc:           svc,
		store:         st,
		opts:          opts,
		log:           opts.Logger,
		tokens:        newCache[string, tokenEntry](maxCachedTokens),
		openids:       newCache[openIDKey, group.OpenID](maxCachedOpenIDs),
		restRate:      newLimiter(opts.RESTRate, time.Second),
		identifyRate:  newLimiter(opts.IdentifyRate, time.Minute),
		tokenFailRate: newLimiter(opts.TokenFailRate, time.Minute),
		conns:         make(map[*conn]struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
	defer cancel()
	key, err := loadOpenIDKey(ctx, s.store)
	if err != nil {
		return nil, fmt.Errorf("qqbot: %w", err)
	}
	s.key = key
	s.handler = s.routes()
	svc.WatchBots(s.forgetBot)
	return s, nil
}

// Handler returns the HTTP handler of the public listener: the REST API and
// the WebSocket gateway at /websocket.
func (s *Server) Handler() http.Handler { return s.handler }

// Options returns the options the server runs with, defaults filled in.
func (s *Server) Options() Options { return s.opts }

// Run prunes (see Prune) at once and then every PruneInterval until ctx is
// done or the server is closed; it then returns nil. A failed pass is logged
// and the next one carries on where it stopped.
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(s.opts.PruneInterval)
	defer t.Stop()
	for {
		if err := s.Prune(ctx); err != nil && ctx.Err() == nil && s.ctx.Err() == nil {
			s.log.Error("qqbot: prune", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Prune deletes the events older than EventRetention, the sessions unseen
// for SessionRetention, the bot messages that no send limit counts any more
// and the expired access tokens and nonces, and forgets idle rate-limit
// state. It deletes DefaultPruneBatch rows of each kind per transaction, so that
// no transaction (and no hold on SQLite's single writer) is long, until a
// batch comes back short. It stops with the error when ctx ends or the server
// is closed; the next pass goes on from there.
func (s *Server) Prune(ctx context.Context) error {
	now := s.now()
	s.restRate.prune(now)
	s.identifyRate.prune(now)
	s.tokenFailRate.prune(now)
	// The cutoffs stay fixed for the pass, so that it ends however fast rows expire.
	eventsBefore := now.Add(-s.opts.EventRetention)
	sessionsBefore := now.Add(-s.opts.SessionRetention)
	// A bot message counts towards the proactive quota for ProactivePeriod,
	// and towards its message's passive replies for PassiveWindow (later
	// replies are refused); past both it is dead weight.
	cfg := s.svc.Config()
	botMessagesBefore := now.Add(-max(cfg.ProactivePeriod, cfg.PassiveWindow))
	for {
		deleted, err := s.store.Prune(ctx, eventsBefore, sessionsBefore, botMessagesBefore, now, DefaultPruneBatch)
		if err != nil {
			return err
		}
		s.opts.Observer.Pruned(deleted)
		// Only a batch that filled up for some kind can have left rows behind.
		if deleted < DefaultPruneBatch {
			return nil
		}
		if err := s.ctx.Err(); err != nil {
			return err // closed
		}
	}
}

// Close closes every live gateway connection with close code 4009 (so that
// the SDKs resume, here or on another node), refuses new ones and stops Run.
// It returns once the connections are gone; it does not close the store.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// now returns the clock's time at millisecond precision, the precision the
// stores keep.
func (s *Server) now() time.Time { return s.opts.Now().Truncate(time.Millisecond) }

// Answers of track.
const (
	tracked   = iota
	trackShut // the server is closed
	trackFull // MaxGatewayConns connections are live
)

// track registers a connection before its upgrade, so that MaxGatewayConns
// counts every connection from its first byte on.
func (s *Server) track(c *conn) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return trackShut
	case len(s.conns) >= s.opts.MaxGatewayConns:
		return trackFull
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return tracked
}

// untrack forgets a connection that has ended.
func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// kickConn tells the connection of this node with id, if there is one, that
// its session was resumed on another connection. A resume kicks exactly the
// connection it took the session from, as its UpdateSession read it: two resumes
// racing on one node each kick their own predecessor, never the winner.
func (s *Server) kickConn(id string) {
	if id == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.id == id {
			select {
			case c.kick <- struct{}{}:
			default:
			}
			return
		}
	}
}
