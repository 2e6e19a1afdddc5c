package group_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store/sqlite"
)

// The domain's rules are tested through Service over the real SQLite store:
// each test opens a store in a temp dir, seeds groups straight through
// Store.Update (so every member type can be set up exactly), calls one
// operation and then reads back the state, the timeline and the event logs.

// t0 is where the injected clock starts.
var t0 = time.Date(2025, 4, 1, 8, 0, 0, 0, time.UTC)

// clock is the injected clock; it moves only when a test advances it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// The cast. Every seeded group has an owner, a manager, a member, a muted
// member, a removed member, an allowed member and a robot member; the actor
// under test is added in the role the row names.
const (
	robotActor = "bot1"   // the robot acting through the Robot API
	userActor  = "u1"     // the user the Admin API acts for
	botA       = "botA"   // a robot that is a normal member of every seeded group
	botOut     = "botOut" // a robot that is in no seeded group
	botIce     = "botIce" // a robot with an ice-breaker, in no seeded group

	owner   = "owner"
	mgr     = "mgr"
	mem     = "mem"
	muted   = "mute"
	gone    = "gone"
	allowed = "allow"
	newbie  = "new1"
	nobody  = "nobody" // never has a row anywhere
)

// bots are every robot of the env, in a fixed order.
var bots = []string{robotActor, botA, botOut, botIce}

// users are every id whose member rows a snapshot records.
var users = []string{robotActor, userActor, botA, botOut, botIce, owner, mgr, mem, muted, gone, allowed, newbie, nobody}

// lines are the timeline lines a snapshot records.
var lines = []int{0, 1, 2, 3, 7}

// iceBreaker is botIce's ice-breaker message.
var iceBreaker = group.Payload{Type: group.ContentText, Content: "hello, I am botIce"}

// kind is who acts: a robot, or a user through the Admin API. Both have the
// rights of their member row and nothing more.
type kind struct {
	name  string
	id    string
	actor group.Actor
	bot   bool
}

var kinds = []kind{
	{"robot", robotActor, group.Robot(robotActor), true},
	{"user", userActor, group.AsUser(userActor), false},
}

// row picks a matrix row for k: robot when k is the robot and robot is not
// empty, else want. Robots differ only where they own an organization group:
// they manage it as the owner of a restricted group.
func (k kind) row(want, robot string) string {
	if k.bot && robot != "" {
		return robot
	}
	return want
}

// role is the actor's member type in the seeded group; -1 means no row.
type role struct {
	name string
	typ  int
}

const noRow = -1

// roles are the columns of every permission matrix, in this order.
var roles = []role{
	{"owner", group.MemberOwner},
	{"manager", group.MemberManager},
	{"member", group.MemberNormal},
	{"silent", group.MemberSilent},
	{"removed", group.MemberRemoved},
	{"allowed", group.MemberAllowed},
	{"outsider", noRow},
}

// groupTypes names the group types for subtest names.
var groupTypes = []string{"normal", "free", "restricted", "org"}

// ok is the "code" of a success.
const ok group.Code = ""

// codeLetters spell expected codes in the matrices, one letter per column.
var codeLetters = map[rune]group.Code{
	'o': ok,
	'r': group.ENotRight,
	'n': group.ENotInGroup,
	'a': group.EAlreadyMember,
	'p': group.EInvalidParam,
	'x': group.ENotExist,
	'm': group.EGroupMuted,
}

// codes turns a matrix row like "oorrnrr" into codes.
func codes(t testing.TB, s string) []group.Code {
	t.Helper()
	var cs []group.Code
	for _, r := range s {
		c, found := codeLetters[r]
		if !found {
			t.Fatalf("bad code letter %q in %q", r, s)
		}
		cs = append(cs, c)
	}
	return cs
}

// codeOf returns err's domain code, ok for nil.
func codeOf(err error) group.Code {
	if err == nil {
		return ok
	}
	return group.ErrorCode(err)
}

// checkCode fails the test unless err has the wanted code.
func checkCode(t testing.TB, err error, want group.Code) {
	t.Helper()
	if got := codeOf(err); got != want {
		t.Fatalf("error = %v (code %q), want code %q", err, got, want)
	}
}

// env is one store and service; with gives a subtest its own view of it.
type env struct {
	t testing.TB
	*shared
}

type shared struct {
	svc    *group.Service
	store  group.Store // the store svc works on, for seeding and reading back
	clk    *clock
	ngroup atomic.Int64
}

// with returns the env for a subtest.
func (e *env) with(t *testing.T) *env { return &env{t: t, shared: e.shared} }

// newEnv opens a fresh store in a temp dir, with the robots of the cast.
func newEnv(t testing.TB, cfg group.Config) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "qun.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	clk := &clock{now: t0}
	var n atomic.Int64
	cfg.Now = clk.Now
	cfg.NewID = func() string { return fmt.Sprintf("id%d", n.Add(1)) }
	e := &env{t: t, shared: &shared{svc: group.NewService(st, cfg), store: st, clk: clk}}
	for _, id := range bots {
		if _, _, err := e.svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: id, Name: id}, Owner: owner}); err != nil {
			t.Fatalf("create robot %s: %v", id, err)
		}
	}
	if err := e.svc.SetIceBreaker(t.Context(), botIce, group.IceBreaker{Enabled: true, Payload: iceBreaker}); err != nil {
		t.Fatalf("set ice-breaker: %v", err)
	}
	for _, id := range []string{userActor, owner, mgr, mem, muted, gone, allowed, newbie} {
		if _, err := e.svc.PutUser(t.Context(), group.User{ID: id, Name: id}); err != nil {
			t.Fatalf("put user %s: %v", id, err)
		}
	}
	return e
}

// now is the time the service stamps writes with.
func (e *env) now() time.Time { return e.clk.Now().Truncate(time.Millisecond) }

// groupOpt adjusts a seeded group.
type groupOpt func(*group.Group)

func withJoinType(jt int) groupOpt  { return func(g *group.Group) { g.JoinType = jt } }
func withMute() groupOpt            { return func(g *group.Group) { g.Mute = 1 } }
func withMaxMembers(n int) groupOpt { return func(g *group.Group) { g.MaxMemberCount = n } }

// fixture is a seeded group.
type fixture struct {
	ID    string
	Owner string
	// Rows are every member row in Pos order as (id, type), removed ones included.
	Rows []idType
	// Active are the active members in Pos order.
	Active []idType
}

// after returns the active members in Pos order once the changes are made:
// a row keeps its position when its type changes, a new row goes last, and
// a row changed to MemberRemoved is no longer active.
func (f fixture) after(changes ...idType) []idType {
	rows := append([]idType(nil), f.Rows...)
	for _, c := range changes {
		i := -1
		for j, m := range rows {
			if m.ID == c.ID {
				i = j
			}
		}
		if i < 0 {
			rows = append(rows, c)
		} else {
			rows[i].Type = c.Type
		}
	}
	var out []idType
	for _, m := range rows {
		if m.Type != group.MemberRemoved {
			out = append(out, m)
		}
	}
	return out
}

type idType struct {
	ID   string
	Type int
}

// seed creates a group of type gtype holding the cast, with actor (when not
// "") in the member type actorType (noRow: no row), right after the owner.
func (e *env) seed(gtype int, actor string, actorType int, opts ...groupOpt) fixture {
	e.t.Helper()
	ownerID := owner
	if actor != "" && actorType == group.MemberOwner {
		ownerID = actor
	}
	ms := []idType{{ownerID, group.MemberOwner}}
	if actor != "" && actorType != noRow && actorType != group.MemberOwner {
		ms = append(ms, idType{actor, actorType})
	}
	ms = append(ms,
		idType{mgr, group.MemberManager},
		idType{mem, group.MemberNormal},
		idType{muted, group.MemberSilent},
		idType{gone, group.MemberRemoved},
		idType{allowed, group.MemberAllowed},
		idType{botA, group.MemberNormal},
	)
	return e.seedMembers(gtype, ownerID, ms, opts...)
}

// seedMembers creates a group of type gtype owned by ownerID with exactly
// the member rows ms, inserted in order.
func (e *env) seedMembers(gtype int, ownerID string, ms []idType, opts ...groupOpt) fixture {
	e.t.Helper()
	now := e.now()
	g := group.Group{ID: fmt.Sprintf("g%d", e.ngroup.Add(1)), Name: "group", Owner: ownerID, Type: gtype, CreatedAt: now, UpdatedAt: now}
	for _, o := range opts {
		o(&g)
	}
	f := fixture{ID: g.ID, Owner: ownerID, Rows: ms}
	err := e.store.Update(e.t.Context(), func(tx group.Tx) error {
		if err := tx.PutGroup(g); err != nil {
			return err
		}
		for _, m := range ms {
			if err := tx.PutMember(group.Member{GroupID: g.ID, UserID: m.ID, Type: m.Type, JoinedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatalf("seed group: %v", err)
	}
	for _, m := range ms {
		if m.Type != group.MemberRemoved {
			f.Active = append(f.Active, m)
		}
	}
	return f
}

// state is everything a write may change, for the groups of interest.
type state struct {
	Groups    map[string]group.Group
	Members   map[string]group.Member    // "group/user", any type
	Messages  map[string][]group.Message // "group/line"
	Events    map[string][]group.Event   // per bot, only events of the groups of interest
	Proactive map[string]bool            // "group/bot"
	Sent      map[string]int             // "group/bot": proactive messages ever sent
}

// state reads the state of the given groups.
func (e *env) state(groups ...string) state {
	e.t.Helper()
	s := state{
		Groups:    map[string]group.Group{},
		Members:   map[string]group.Member{},
		Messages:  map[string][]group.Message{},
		Events:    map[string][]group.Event{},
		Proactive: map[string]bool{},
		Sent:      map[string]int{},
	}
	in := map[string]bool{}
	for _, g := range groups {
		in[g] = true
	}
	err := e.store.View(e.t.Context(), func(r group.Reader) error {
		for _, gid := range groups {
			g, err := r.Group(gid)
			switch {
			case err == nil:
				s.Groups[gid] = g
			case !group.IsNotExist(err):
				return fmt.Errorf("group %s: %w", gid, err)
			}
			for _, u := range users {
				m, err := r.Member(gid, u)
				switch {
				case err == nil:
					s.Members[gid+"/"+u] = m
				case !group.IsNotExist(err):
					return fmt.Errorf("member %s/%s: %w", gid, u, err)
				}
			}
			for _, l := range lines {
				ms, err := r.Messages(gid, l, 0, 10000)
				if err != nil {
					return fmt.Errorf("messages %s/%d: %w", gid, l, err)
				}
				if len(ms) > 0 {
					s.Messages[fmt.Sprintf("%s/%d", gid, l)] = ms
				}
			}
			for _, b := range bots {
				p, err := r.Proactive(gid, b)
				if err != nil {
					return fmt.Errorf("proactive %s/%s: %w", gid, b, err)
				}
				s.Proactive[gid+"/"+b] = p
				n, err := r.CountProactive(b, gid, time.Time{})
				if err != nil {
					return fmt.Errorf("count proactive %s/%s: %w", gid, b, err)
				}
				s.Sent[gid+"/"+b] = n
			}
		}
		for _, b := range bots {
			evs, err := r.Events(b, 0, 100000)
			if err != nil {
				return fmt.Errorf("events %s: %w", b, err)
			}
			for _, ev := range evs {
				if in[ev.GroupID] {
					s.Events[b] = append(s.Events[b], ev)
				}
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatalf("read state: %v", err)
	}
	return s
}

// noTrace fails the test if anything changed since before.
func (e *env) noTrace(before state, groups ...string) {
	e.t.Helper()
	if diff := cmp.Diff(before, e.state(groups...)); diff != "" {
		e.t.Errorf("a refused write left a trace (-before +after):\n%s", diff)
	}
}

// delta is what a write appended: the timeline messages of the groups of
// interest (by group in the given order, then line, then seq) and each bot's
// events.
type delta struct {
	Messages []group.Message
	Events   map[string][]group.Event
}

// since returns what was appended after before.
func (e *env) since(before state, groups ...string) delta {
	e.t.Helper()
	after := e.state(groups...)
	d := delta{Events: map[string][]group.Event{}}
	for _, g := range groups {
		for _, l := range lines {
			k := fmt.Sprintf("%s/%d", g, l)
			d.Messages = append(d.Messages, after.Messages[k][len(before.Messages[k]):]...)
		}
	}
	for b, evs := range after.Events {
		if n := len(before.Events[b]); len(evs) > n {
			d.Events[b] = evs[n:]
		}
	}
	return d
}

// deltaOpts compare deltas: UIDs and sequence numbers are the store's.
var deltaOpts = cmp.Options{
	cmpopts.IgnoreFields(group.Message{}, "UID", "Seq"),
	cmpopts.IgnoreFields(group.Event{}, "Seq"),
	cmpopts.EquateEmpty(),
}

// checkDelta compares what a write appended with what it should have.
func (e *env) checkDelta(before state, want delta, groups ...string) {
	e.t.Helper()
	if want.Events == nil {
		want.Events = map[string][]group.Event{}
	}
	if diff := cmp.Diff(want, e.since(before, groups...), deltaOpts); diff != "" {
		e.t.Errorf("appended messages and events (-want +got):\n%s", diff)
	}
}

// note is a notification message as a write appends it.
func (e *env) note(gid string, line int, sender string, typ int, data string) group.Message {
	return group.Message{GroupID: gid, Line: line, Sender: sender, Payload: group.Payload{Type: typ, Data: []byte(data)}, CreatedAt: e.now()}
}

// iceMessage is botIce's ice-breaker posted into gid.
func (e *env) iceMessage(gid string) group.Message {
	return group.Message{GroupID: gid, Line: 0, Sender: botIce, Payload: iceBreaker, CreatedAt: e.now()}
}

// event is a bot event as a write appends it.
func (e *env) event(typ group.EventType, gid, operator string) group.Event {
	return group.Event{Type: typ, GroupID: gid, OperatorID: operator, CreatedAt: e.now()}
}

// events builds a per-bot event map from (bot, event) pairs.
func events(pairs ...any) map[string][]group.Event {
	m := map[string][]group.Event{}
	for i := 0; i < len(pairs); i += 2 {
		b := pairs[i].(string)
		ev := pairs[i+1].(group.Event)
		ev.BotID = b
		m[b] = append(m[b], ev)
	}
	return m
}

// member returns a member row, failing the test on errors other than not-exist.
func (e *env) member(gid, uid string) (group.Member, bool) {
	e.t.Helper()
	var m group.Member
	err := e.store.View(e.t.Context(), func(r group.Reader) (err error) {
		m, err = r.Member(gid, uid)
		return err
	})
	if group.IsNotExist(err) {
		return group.Member{}, false
	}
	if err != nil {
		e.t.Fatalf("member %s/%s: %v", gid, uid, err)
	}
	return m, true
}

// group returns a group, failing the test on errors other than not-exist.
func (e *env) group(gid string) (group.Group, bool) {
	e.t.Helper()
	var g group.Group
	err := e.store.View(e.t.Context(), func(r group.Reader) (err error) {
		g, err = r.Group(gid)
		return err
	})
	if group.IsNotExist(err) {
		return group.Group{}, false
	}
	if err != nil {
		e.t.Fatalf("group %s: %v", gid, err)
	}
	return g, true
}

// activeTypes lists the active members of gid in Pos order.
func (e *env) activeTypes(gid string) []idType {
	e.t.Helper()
	ms, err := e.svc.ListMembers(e.t.Context(), group.Admin, gid)
	if err != nil {
		e.t.Fatalf("list members of %s: %v", gid, err)
	}
	var out []idType
	for _, m := range ms {
		out = append(out, idType{m.UserID, m.Type})
	}
	return out
}

// checkMemberTypes compares the active members of gid with want.
func (e *env) checkMemberTypes(gid string, want []idType) {
	e.t.Helper()
	if diff := cmp.Diff(want, e.activeTypes(gid), cmpopts.EquateEmpty()); diff != "" {
		e.t.Errorf("active members of %s (-want +got):\n%s", gid, diff)
	}
}

// checkMemberType checks one row's type; want noRow means no row.
func (e *env) checkMemberType(gid, uid string, want int) {
	e.t.Helper()
	m, found := e.member(gid, uid)
	got := m.Type
	if !found {
		got = noRow
	}
	if got != want {
		e.t.Errorf("member %s of %s: type %d, want %d", uid, gid, got, want)
	}
}

// activeBots are the bots among active members.
func activeBots(active []idType) []string {
	var out []string
	for _, m := range active {
		for _, b := range bots {
			if m.ID == b {
				out = append(out, b)
			}
		}
	}
	return out
}

// jsonList renders ids as a JSON array of strings.
func jsonList(ids ...string) string {
	return `["` + strings.Join(ids, `","`) + `"]`
}

// isActive reports whether a role is a current membership.
func (r role) isActive() bool { return r.typ != noRow && r.typ != group.MemberRemoved }
