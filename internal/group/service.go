package group

import (
	"context"
	"crypto/rand"
	"time"
)

// Limits and defaults of the domain. Each is overridable through Config.
const (
	// DefaultMaxGroupMembers is the member limit of a group whose own
	// MaxMemberCount is 0 (Wildfire's t_settings default is 3000).
	DefaultMaxGroupMembers = 3000
	// DefaultMaxMembersPerCall bounds the members of one create, add, kick or
	// manager call, so one request cannot hold the writer for long.
	DefaultMaxMembersPerCall = 2000
	// DefaultBulkMembers is the most members a write may name and still not
	// be a bulk write.
	DefaultBulkMembers = 100
	// DefaultMaxBulkWrites is how many bulk writes run at once; more wait
	// their turn before they reach the store. A store with one writer (SQLite)
	// runs every Update queued in one batch before it answers any of them, so
	// a few callers sending 2,000-member writes back to back would otherwise
	// keep one in every batch and make every other write wait behind them.
	DefaultMaxBulkWrites = 1
	// DefaultMaxLines bounds the lines of one to_lines list.
	DefaultMaxLines = 16
	// MaxLine is the highest line number a conversation may have.
	MaxLine = 255
	// MaxIDLen bounds user, group and member ids (Wildfire stores them in varchar(64)).
	MaxIDLen = 64
	// MaxNameLen bounds a user's name and mobile, which are looked up by value
	// (Wildfire keeps them in varchar(64); 256 bytes hold 64 characters of any script).
	MaxNameLen = 256
	// MaxURLLen bounds a webhook or callback URL, in bytes: every door refuses
	// a longer one (EInvalidParam) before it is validated or stored. 2048 is
	// what browsers and proxies commonly carry.
	MaxURLLen = 2048
	// DefaultPassiveWindow is how long a mentioning message may be replied to passively.
	DefaultPassiveWindow = 5 * time.Minute
	// DefaultPassiveReplies is how many passive replies one message or event allows.
	DefaultPassiveReplies = 5
	// DefaultProactiveQuota is how many proactive messages a bot may send to one
	// group per DefaultProactivePeriod.
	DefaultProactiveQuota = 4
	// DefaultProactivePeriod is the window the proactive quota counts over.
	DefaultProactivePeriod = 30 * 24 * time.Hour
)

// Config holds the domain's tunable rules.
type Config struct {
	MaxGroupMembers   int
	MaxMembersPerCall int
	BulkMembers       int // writes naming more members are bulk writes
	MaxBulkWrites     int // bulk writes running at once
	PassiveWindow     time.Duration
	PassiveReplies    int
	ProactiveQuota    int // 0: DefaultProactiveQuota; negative: unlimited
	ProactivePeriod   time.Duration
	// GroupChanges records every group change in the ServerLog, in the
	// change's transaction, for the operator's group callbacks.
	GroupChanges bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewID returns a fresh random id for groups and users; nil means 16 random base-62 characters.
	NewID func() string
}

func (c Config) withDefaults() Config {
	if c.MaxGroupMembers <= 0 {
		c.MaxGroupMembers = DefaultMaxGroupMembers
	}
	if c.MaxMembersPerCall <= 0 {
		c.MaxMembersPerCall = DefaultMaxMembersPerCall
	}
	if c.BulkMembers <= 0 {
		c.BulkMembers = DefaultBulkMembers
	}
	if c.MaxBulkWrites <= 0 {
		c.MaxBulkWrites = DefaultMaxBulkWrites
	}
	if c.PassiveWindow <= 0 {
		c.PassiveWindow = DefaultPassiveWindow
	}
	if c.PassiveReplies <= 0 {
		c.PassiveReplies = DefaultPassiveReplies
	}
	if c.ProactiveQuota == 0 {
		c.ProactiveQuota = DefaultProactiveQuota
	}
	if c.ProactivePeriod <= 0 {
		c.ProactivePeriod = DefaultProactivePeriod
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.NewID == nil {
		c.NewID = func() string { return RandomString(16) }
	}
	return c
}

// Service performs the operations of the model. Every door calls it; every
// write is one Store.Update.
type Service struct {
	store Store
	cfg   Config
	bulk  chan struct{} // one token per bulk write running
	watch watchers
}

// NewService returns a Service over store.
func NewService(store Store, cfg Config) *Service {
	cfg = cfg.withDefaults()
	return &Service{store: store, cfg: cfg, bulk: make(chan struct{}, cfg.MaxBulkWrites)}
}

// Config returns the service's configuration, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// now returns the clock's time at millisecond precision, the precision every
// door and store keeps.
func (s *Service) now() time.Time { return s.cfg.Now().Truncate(time.Millisecond) }

// update runs fn in one transaction with a fixed now.
func (s *Service) update(ctx context.Context, fn func(tx Tx, now time.Time) error) error {
	now := s.now()
	return s.store.Update(ctx, func(tx Tx) error { return fn(tx, now) })
}

// bulkTurn waits, if a write naming n members is a bulk write, until fewer
// than MaxBulkWrites bulk writes run, and returns the function that ends its
// turn. A caller that gives up while waiting gets ctx's error.
func (s *Service) bulkTurn(ctx context.Context, n int) (done func(), err error) {
	if n <= s.cfg.BulkMembers {
		return func() {}, nil
	}
	select {
	case s.bulk <- struct{}{}:
		return func() { <-s.bulk }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// writeGroup checks a write's actor, group id and notification override,
// then runs fn in one transaction on the existing group groupID.
func (s *Service) writeGroup(ctx context.Context, a Actor, groupID string, n Notify, fn func(tx Tx, g Group, now time.Time) error) error {
	return s.writeGroupBy(ctx, a, groupID, n, func(tx Tx) (Group, error) { return tx.Group(groupID) }, fn)
}

// writeGroupBy is writeGroup with the group read by get, which may read
// more with it (such as Reader.GroupJoining).
func (s *Service) writeGroupBy(ctx context.Context, a Actor, groupID string, n Notify, get func(tx Tx) (Group, error), fn func(tx Tx, g Group, now time.Time) error) error {
	if err := checkActor(a); err != nil {
		return err
	}
	if err := checkText("group id", groupID); err != nil {
		return err
	}
	if err := checkNotify(n); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, now time.Time) error {
		g, err := get(tx)
		if err != nil {
			return err
		}
		return fn(tx, g, now)
	})
}

// view runs fn in a read snapshot.
func (s *Service) view(ctx context.Context, fn func(r Reader) error) error {
	return s.store.View(ctx, fn)
}

// Actor is who performs an operation.
//
// A robot (Robot API) and a user the Admin API acts for (its operator field)
// have the rights their member row gives them in the group, and nothing more:
// Wildfire evaluates robot requests with isAdmin=false, as a normal user. One
// exception: a robot may create an organization group, and manages one it
// owns as the owner of a restricted group (see rulesType). The Admin API
// without an operator acts as the server itself, with full rights; then
// UserID is empty and notifications carry an empty operator.
type Actor struct {
	UserID string
	Admin  bool
}

// Robot returns the actor for a robot's own call.
func Robot(id string) Actor { return Actor{UserID: id} }

// AsUser returns the actor for the Admin API acting for a user.
func AsUser(id string) Actor { return Actor{UserID: id} }

// Admin is the actor for the Admin API acting on its own.
var Admin = Actor{Admin: true}

// Notify is the optional override of a write's group notification:
// Wildfire's to_lines and notify_message.
type Notify struct {
	Lines   []int    // the lines the notification goes to; empty means [0]
	Message *Payload // replaces the built-in notification when its Type > 0
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// RandomString returns n random base-62 characters from crypto/rand.
func RandomString(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("group: crypto/rand failed: " + err.Error())
		}
		for _, c := range buf {
			// Bytes of 248 and above would favour the first characters: skip them.
			if int(c) < 4*len(base62) && len(out) < n {
				out = append(out, base62[int(c)%len(base62)])
			}
		}
	}
	return string(out)
}

// checkUser validates the fields of a user given by a client.
func checkUser(u User) error {
	if len(u.Name) > MaxNameLen || len(u.Mobile) > MaxNameLen {
		return Errorf(EInvalidParam, "name and mobile are limited to %d bytes", MaxNameLen)
	}
	return checkText("user", u.ID, u.Name, u.Password, u.DisplayName, u.Portrait, u.Mobile, u.Email,
		u.Address, u.Company, u.Social, u.Extra)
}

// checkID validates an id given by a client.
func checkID(what, id string) error {
	if id == "" {
		return Errorf(EInvalidParam, "%s is empty", what)
	}
	if len(id) > MaxIDLen {
		return Errorf(EInvalidParam, "%s is longer than %d bytes", what, MaxIDLen)
	}
	return checkText(what, id)
}
