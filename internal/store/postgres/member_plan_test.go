package postgres

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/qun-chat/qun/internal/group"
)

// TestMemberReadPlans: the reads every member/add and every appended
// message make (the members named, the group's callback bots) probe by key
// in their generic plan, whatever the statistics the plan was made with.
// The pool forces generic plans, and a connection plans a statement once,
// often while the tables are small and not yet analyzed: the plans of
// earlier texts read every member of the group (a bitmap scan of the group,
// or the whole table), so a member/add cost grew with its group, in the
// benchmark about a quarter of PostgreSQL's CPU; or, for the callback bots,
// every robot with a callback on the server, for every message. Each read
// is planned twice: over a few members per group, never analyzed (the state
// the benchmark's connections plan in), and once many robots with a
// callback are in no group of them, analyzed.
func TestMemberReadPlans(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	testOpen(t, dsn, schema)
	// probes reports whether the scan on line j of a plan is an index scan
	// (of index, if set) whose condition holds every one of conds.
	probes := func(lines []string, j int, index string, conds ...string) bool {
		l := lines[j]
		if !strings.Contains(l, "Index Scan using "+index) && !strings.Contains(l, "Index Only Scan using "+index) ||
			j+1 == len(lines) || !strings.Contains(lines[j+1], "Index Cond:") {
			return false
		}
		for _, c := range conds {
			if !strings.Contains(lines[j+1], c) {
				return false
			}
		}
		return true
	}
	reads := []struct {
		name, q, args string
		// ok checks the scan of a table on line j: want says how.
		ok   func(lines []string, j int) bool
		want string
	}{
		{"members of", selectMembersOf, `'g1', '{u1-1,u1-2}'`, func(lines []string, j int) bool {
			return !strings.Contains(lines[j], " on members") || probes(lines, j, "", "group_id = $1", "user_id = ")
		}, "members probed by group_id and user_id"},
		{"callback bots", selectCallbackBots, `'g1'`, func(lines []string, j int) bool {
			switch {
			case strings.Contains(lines[j], " on members"):
				return probes(lines, j, "members_bots", "group_id = $1")
			case strings.Contains(lines[j], " on bots"):
				return probes(lines, j, "", "user_id = m.user_id")
			}
			return true
		}, "the group's robot members read from members_bots, each one's bot probed by user_id"},
	}
	for _, state := range []struct{ name, sql string }{
		{"a few members per group, not analyzed", `
			INSERT INTO members (group_id, user_id, alias, type, extra, joined_at, updated_at)
				SELECT 'g' || g, 'u' || g || '-' || i, '', 0, '', 0, 0 FROM generate_series(1, 64) g, generate_series(1, 5) i;
			INSERT INTO bots (user_id, owner, secret, callback, robot_extra, app_id, app_secret, intents,
				ice_breaker_enabled, ice_breaker_payload, updated_at) VALUES ('u1-1', '', '', 'http://x', '', '', '', 0, false, '{}', 0);
			UPDATE members SET bot = true WHERE user_id = 'u1-1'`},
		{"many robots with a callback elsewhere, analyzed", `
			INSERT INTO bots (user_id, owner, secret, callback, robot_extra, app_id, app_secret, intents,
				ice_breaker_enabled, ice_breaker_payload, updated_at)
				SELECT 'r' || i, '', '', 'http://x', '', 'app-r' || i, '', 0, false, '{}', 0 FROM generate_series(1, 5000) i;
			ANALYZE members; ANALYZE bots`},
	} {
		conn := planConn(t, dsn, schema, "SET plan_cache_mode = force_generic_plan;"+state.sql)
		for i, tt := range reads {
			name := "p" + string(rune('0'+i))
			if _, err := conn.Exec(t.Context(), "PREPARE "+name+" AS "+tt.q); err != nil {
				t.Fatal(err)
			}
			lines := explain(t, conn, "EXPLAIN (COSTS OFF) EXECUTE "+name+"("+tt.args+")", pgx.QueryExecModeSimpleProtocol)
			plan := strings.Join(lines, "\n")
			scans := 0
			for _, l := range lines {
				if strings.Contains(l, " on members") {
					scans++
				}
			}
			for j := range lines {
				if !tt.ok(lines, j) {
					t.Errorf("%s, %s: plan\n%s\nwant %s", tt.name, state.name, plan, tt.want)
					break
				}
			}
			if scans == 0 {
				t.Errorf("%s, %s: plan\n%s\nno scan of members", tt.name, state.name, plan)
			}
		}
	}
}

// TestAddMemberRoundTrips: a lone member/add (a robot adds one member to its
// group) is three round trips: the group with the members' rows, the count
// and the bots (GroupJoining); the member upsert with the notification's
// append and the callback bots; the COMMIT. One to a missing group is two.
func TestAddMemberRoundTrips(t *testing.T) {
	dsn := testDSN(t)
	s := testOpen(t, dsn, testSchema(t, dsn))
	svc := group.NewService(s, group.Config{})
	if _, _, err := svc.CreateRobot(t.Context(), group.RobotInput{User: group.User{ID: "r", Name: "r"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateGroup(t.Context(), group.Robot("r"), group.CreateGroupInput{Group: group.Group{ID: "g"}}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{3, 3} {
		before := s.trips.Load()
		if err := svc.AddMembers(t.Context(), group.Robot("r"), "g", []group.Member{{UserID: fmt.Sprint("u", i)}}, group.Notify{}); err != nil {
			t.Fatal(err)
		}
		if got := s.trips.Load() - before; got != want {
			t.Errorf("member/add %d: %d round trips, want %d", i, got, want)
		}
	}
	// A group not found costs what Group's miss does: the batch, then its
	// key locked with a read again (2; 3 when the miss was read once more
	// before the lock). Nothing else is sent, and nothing is committed.
	before := s.trips.Load()
	if err := svc.AddMembers(t.Context(), group.Robot("r"), "nowhere", []group.Member{{UserID: "u"}}, group.Notify{}); !group.IsNotExist(err) {
		t.Fatalf("member/add to a missing group: %v, want ENotExist", err)
	}
	if got := s.trips.Load() - before; got != 2 {
		t.Errorf("member/add to a missing group: %d round trips, want 2", got)
	}
}
