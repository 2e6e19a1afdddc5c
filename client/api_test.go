package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store/sqlite"
	"github.com/qun-chat/qun/internal/wildfire"
)

// A real qun (the Wildfire doors over SQLite) that the tests and examples of
// this package call; each test uses its own ids.
var (
	adminURL    string // the Admin API's root
	publicURL   string // the Robot API's root
	adminSecret = "example-admin-secret"
)

func TestMain(m *testing.M) {
	os.Exit(runWithQun(m))
}

func runWithQun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "qun-client-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "qun.db"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	svc := group.NewService(st, group.Config{})
	robot := httptest.NewServer(wildfire.NewRobotAPI(svc, wildfire.RobotOptions{}))
	defer robot.Close()
	admin := httptest.NewServer(wildfire.NewAdminAPI(svc, adminSecret, wildfire.AdminOptions{}))
	defer admin.Close()
	adminURL, publicURL = admin.URL, robot.URL
	return m.Run()
}

func TestUsersAndRobots(t *testing.T) {
	ctx := context.Background()
	admin := client.NewAdmin(adminURL, adminSecret)

	id, err := admin.CreateUser(ctx, client.User{Name: "generated", DisplayName: "G"})
	if err != nil || id == "" {
		t.Fatalf("CreateUser without id = %q, %v", id, err)
	}
	u, err := admin.GetUser(ctx, id)
	if err != nil || u.UserID != id || u.Name != "generated" || u.DisplayName != "G" || u.Type != 0 {
		t.Fatalf("GetUser = %+v, %v", u, err)
	}

	creds, err := admin.CreateRobot(ctx, client.Robot{User: client.User{UserID: "ur-bot", Name: "ur-bot", DisplayName: "Bot"}, Owner: id})
	if err != nil || creds.UserID != "ur-bot" || creds.Secret == "" || creds.AppID == "" || creds.AppSecret == "" {
		t.Fatalf("CreateRobot = %+v, %v", creds, err)
	}
	hello := client.Text("hello, I am Bot")
	if err := admin.SetIceBreaker(ctx, "ur-bot", client.IceBreaker{Enabled: true, Payload: &hello}); err != nil {
		t.Fatal(err)
	}
	r, err := admin.GetRobot(ctx, "ur-bot")
	if err != nil {
		t.Fatal(err)
	}
	want := client.Robot{
		User:  client.User{UserID: "ur-bot", Name: "ur-bot", DisplayName: "Bot", Type: 1, UpdateDt: r.UpdateDt},
		Owner: id, Secret: creds.Secret, AppID: creds.AppID, AppSecret: creds.AppSecret,
		IceBreaker: client.IceBreaker{Enabled: true, Payload: &hello},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Fatalf("GetRobot (-want +got):\n%s", diff)
	}

	_, err = admin.GetUser(ctx, "ur-nobody")
	var we *client.Error
	if !errors.As(err, &we) || we.Code != wildfire.CodeNotExist {
		t.Fatalf("GetUser of an unknown user: %v, want code %d", err, wildfire.CodeNotExist)
	}
	_, err = client.NewAdmin(adminURL, "wrong").GetUser(ctx, id)
	if !errors.As(err, &we) || we.Code != wildfire.CodeAuthFailure {
		t.Fatalf("wrong admin secret: %v, want code %d", err, wildfire.CodeAuthFailure)
	}
}

func TestGroupsOnBothDoors(t *testing.T) {
	ctx := context.Background()
	admin := client.NewAdmin(adminURL, adminSecret)
	creds, err := admin.CreateRobot(ctx, client.Robot{User: client.User{UserID: "gb-bot", Name: "gb-bot", DisplayName: "GB"}})
	if err != nil {
		t.Fatal(err)
	}
	memberIDs := func(ms []client.Member, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range ms {
			ids = append(ids, fmt.Sprintf("%s/%d", m.MemberID, m.Type))
		}
		return strings.Join(ids, ",")
	}

	// The Admin API, acting as the server: group_info.owner is the owner.
	gid, err := admin.CreateGroup(ctx, "", client.GroupInfo{TargetID: "gb-admin", Name: "admin's", Owner: "gb-alice", Type: 2}, []client.Member{{MemberID: "gb-bot"}})
	if err != nil || gid != "gb-admin" {
		t.Fatalf("CreateGroup = %q, %v", gid, err)
	}
	g, err := admin.GetGroup(ctx, gid)
	if err != nil || g.Name != "admin's" || g.Owner != "gb-alice" || g.Type != 2 {
		t.Fatalf("GetGroup = %+v, %v", g, err)
	}
	if err := admin.AddMembers(ctx, "gb-alice", gid, []client.Member{{MemberID: "gb-carol"}, {MemberID: "gb-dave"}}); err != nil {
		t.Fatal(err)
	}
	if err := admin.KickMembers(ctx, "", gid, []string{"gb-dave"}); err != nil {
		t.Fatal(err)
	}
	if got := memberIDs(admin.Members(ctx, "", gid)); got != "gb-alice/2,gb-bot/0,gb-carol/0" {
		t.Fatalf("members = %s", got)
	}
	// An operator's rights are checked: carol is no manager of a restricted group.
	err = admin.KickMembers(ctx, "gb-carol", gid, []string{"gb-bot"})
	var we *client.Error
	if !errors.As(err, &we) || we.Code != wildfire.CodeNotRight {
		t.Fatalf("kick by a normal member: %v, want code %d", err, wildfire.CodeNotRight)
	}

	// The same helpers signed as the robot go to /robot/...: it owns what it creates.
	bot := client.NewRobot(publicURL, creds.UserID, creds.Secret)
	bgid, err := bot.CreateGroup(ctx, "", client.GroupInfo{Name: "bot's"}, []client.Member{{MemberID: "gb-alice"}})
	if err != nil || bgid == "" {
		t.Fatalf("robot CreateGroup = %q, %v", bgid, err)
	}
	if err := bot.AddMembers(ctx, "", bgid, []client.Member{{MemberID: "gb-carol"}}); err != nil {
		t.Fatal(err)
	}
	if got := memberIDs(bot.Members(ctx, "", bgid)); got != "gb-bot/2,gb-alice/0,gb-carol/0" {
		t.Fatalf("members of the robot's group = %s", got)
	}
	if g, err := bot.GetGroup(ctx, bgid); err != nil || g.Owner != "gb-bot" {
		t.Fatalf("robot GetGroup = %+v, %v", g, err)
	}
	if _, err := bot.SendMessage(ctx, "gb-alice", bgid, client.Text("from the bot")); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.SendMessage(ctx, "gb-alice", bgid, client.Text("@GB hi").Mention("gb-bot")); err != nil {
		t.Fatal(err)
	}

	// The timeline, a page at a time: the create and add notifications, then
	// the two messages (the robot's is its own, whatever sender said).
	var got []client.Message
	q := client.TimelineQuery{GroupID: bgid, Limit: 1}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("timeline does not end")
		}
		tl, err := admin.Messages(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tl.Messages...)
		if tl.Next == 0 {
			break
		}
		q.After = tl.Next
	}
	var lines []string
	for _, m := range got {
		lines = append(lines, fmt.Sprintf("%d %s %d %s %v", m.Seq, m.Sender, m.Payload.Type, m.Payload.SearchableContent, m.Payload.MentionedTarget))
	}
	want := []string{"1 gb-bot 104  []", "2 gb-bot 105  []", "3 gb-bot 1 from the bot []", "4 gb-alice 1 @GB hi [gb-bot]"}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Fatalf("timeline (-want +got):\n%s", diff)
	}
	if got[3].Payload.MentionedType != client.MentionSome {
		t.Fatalf("mention type %d", got[3].Payload.MentionedType)
	}
}

func TestMentionDoesNotAlias(t *testing.T) {
	base := client.Text("hi").Mention("a")
	x, y := base.Mention("b"), base.Mention("c")
	if got := fmt.Sprint(base.MentionedTarget, x.MentionedTarget, y.MentionedTarget); got != "[a] [a b] [a c]" {
		t.Fatalf("targets %s", got)
	}
	if p := client.Text("hi").Mention(); p.MentionedType != 0 {
		t.Fatalf("Mention() changed the type to %d", p.MentionedType)
	}
}

func TestCallRaw(t *testing.T) {
	ctx := context.Background()
	admin := client.NewAdmin(adminURL, adminSecret)
	res, err := admin.CallRaw(ctx, "/admin/user/create", []byte(`{"userId":"cr-alice","name":"alice"}`))
	if err != nil || string(res) != `{"userId":"cr-alice"}` {
		t.Fatalf("CallRaw = %s, %v", res, err)
	}
	_, err = admin.CallRaw(ctx, "/admin/user/create", []byte(`{"userId":`))
	var we *client.Error
	if !errors.As(err, &we) || we.Code != wildfire.CodeInvalidParameter || we.Msg != "Invalid parameter: the body is not valid JSON (at byte 10)" {
		t.Fatalf("malformed body: %v", err)
	}
	_, err = admin.CallRaw(ctx, "/admin/nothing", []byte(`{}`))
	if err == nil || errors.As(err, &we) || !strings.Contains(err.Error(), fmt.Sprint(http.StatusNotFound)) {
		t.Fatalf("unknown path: %v", err)
	}
}

// TestDeliveryCallsReachTheirChecks: this package's qun delivers nothing
// (cmd/qun's TestQuickstartWebhook runs these calls against a qun that
// does), so each call must get past the door's checks of its body, which
// come first, to the 254 of a server without deliveries; a body the door
// refuses is the caller's 251.
func TestDeliveryCallsReachTheirChecks(t *testing.T) {
	ctx := context.Background()
	admin := client.NewAdmin(adminURL, adminSecret)
	code := func(err error) int {
		var we *client.Error
		if !errors.As(err, &we) {
			t.Fatalf("%v is not a Wildfire error", err)
		}
		return we.Code
	}
	_, err := admin.SetWebhook(ctx, "dc-bot", "http://127.0.0.1:1/qqbot", 0)
	if c := code(err); c != wildfire.CodeNotImplement {
		t.Errorf("SetWebhook: %v, want code %d", err, wildfire.CodeNotImplement)
	}
	_, err = admin.SetWebhook(ctx, "dc-bot", "", 1<<25) // off: url "" is sent
	if c := code(err); c != wildfire.CodeNotImplement {
		t.Errorf("SetWebhook off: %v, want code %d", err, wildfire.CodeNotImplement)
	}
	_, err = admin.Deliveries(ctx, "dc-bot", 5)
	if c := code(err); c != wildfire.CodeNotImplement {
		t.Errorf("Deliveries: %v, want code %d", err, wildfire.CodeNotImplement)
	}
	_, err = admin.Deliveries(ctx, "dc-bot", wildfire.MaxDeliveriesLimit+1)
	if c := code(err); c != wildfire.CodeInvalidParameter || !strings.Contains(err.Error(), "limit 101 is out of 0..100") {
		t.Errorf("Deliveries with too big a limit: %v, want code %d", err, wildfire.CodeInvalidParameter)
	}
	err = admin.Redeliver(ctx, "dc-bot", "", 0) // from_seq 0 is sent
	if c := code(err); c != wildfire.CodeNotImplement {
		t.Errorf("Redeliver: %v, want code %d", err, wildfire.CodeNotImplement)
	}
	err = admin.Redeliver(ctx, "dc-bot", "gateway", 1)
	if c := code(err); c != wildfire.CodeInvalidParameter || !strings.Contains(err.Error(), `stream "gateway"`) {
		t.Errorf("Redeliver of an unknown stream: %v, want code %d", err, wildfire.CodeInvalidParameter)
	}
}
