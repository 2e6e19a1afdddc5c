package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
	"github.com/qun-chat/qun/internal/app/apptest"
	"github.com/qun-chat/qun/internal/group"
)

// runCommand runs the command line in-process and returns its exit code and output.
func runCommand(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := Run(t.Context(), args, func(string) string { return "" }, &out, &out)
	return code, out.String()
}

// botEvents reads a bot's whole event log from the store.
func botEvents(t *testing.T, st group.Store, botID string) []group.Event {
	t.Helper()
	var events []group.Event
	err := st.View(t.Context(), func(r group.Reader) (err error) {
		events, err = r.Events(botID, 0, 1000)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// timelineTypes reads a group's timeline through the Admin API: the payload type of each message.
func timelineTypes(t *testing.T, admin *client.Client, groupID string) []int {
	t.Helper()
	var timeline struct {
		Messages []struct {
			Payload struct {
				Type int `json:"type"`
			} `json:"payload"`
		} `json:"messages"`
	}
	apptest.Call(t, admin, "/admin/group/messages", map[string]any{"group_id": groupID}, &timeline)
	var types []int
	for _, m := range timeline.Messages {
		types = append(types, m.Payload.Type)
	}
	return types
}

// TestBackupAndRestore backs up a running qun while it serves, restores the
// backup into a second qun, and finds there everything written before it.
func TestBackupAndRestore(t *testing.T) {
	dataA := t.TempDir()
	a := apptest.Start(t, apptest.Config(t, dataA))
	admin := client.NewAdmin(a.Admin, a.Secret)
	apptest.Call(t, admin, "/admin/user/create", map[string]any{"userId": "alice", "name": "alice", "displayName": "Alice"}, nil)
	var robot struct {
		UserID, Secret, AppID, AppSecret string
	}
	apptest.Call(t, admin, "/admin/robot/create", map[string]any{"userId": "echo", "name": "echo", "displayName": "Echo"}, &robot)
	apptest.Call(t, admin, "/admin/group/create", map[string]any{"group": map[string]any{
		"group_info": map[string]any{"target_id": "club", "name": "Club", "owner": "alice"},
		"members":    []any{map[string]any{"member_id": "echo"}},
	}}, nil)
	apptest.Call(t, admin, "/admin/message/send", map[string]any{"sender": "alice", "conv": map[string]any{"type": 1, "target": "club"},
		"payload": map[string]any{"type": 1, "searchableContent": "@Echo hi", "mentionedType": 1, "mentionedTarget": []string{"echo"}}}, nil)
	wantEvents := botEvents(t, a.Store, "echo")
	wantTimeline := timelineTypes(t, admin, "club")
	if len(wantEvents) != 2 || len(wantTimeline) != 2 {
		t.Fatalf("before the backup: events %v, timeline %v; want an add-robot and an @-message in each", wantEvents, wantTimeline)
	}

	// The backup runs while qun serves, as a separate command would.
	backup := filepath.Join(t.TempDir(), "qun-backup.db")
	if code, out := runCommand(t, "backup", "--data", dataA, backup); code != 0 || !strings.Contains(out, "backed up") {
		t.Fatalf("qun backup: exit %d, %s", code, out)
	}
	if code, out := runCommand(t, "backup", "--data", dataA, backup); code != 1 || !strings.Contains(out, "exists") {
		t.Fatalf("qun backup onto the backup: exit %d, %s; want 1 and a refusal", code, out)
	}
	// Written after the backup: not in it.
	apptest.Call(t, admin, "/admin/user/create", map[string]any{"userId": "late", "name": "late"}, nil)
	apptest.Call(t, admin, "/admin/group/member/add", map[string]any{"group_id": "club", "members": []any{map[string]any{"member_id": "late"}}}, nil)

	// Restore as the README says: the backup becomes qun.db, the admin secret goes beside it.
	dataB := t.TempDir()
	copyFile(t, backup, filepath.Join(dataB, "qun.db"))
	copyFile(t, filepath.Join(dataA, app.AdminSecretFile), filepath.Join(dataB, app.AdminSecretFile))
	b := apptest.Start(t, apptest.Config(t, dataB))
	if b.Secret != a.Secret {
		t.Fatal("restored qun has another admin secret")
	}
	adminB := client.NewAdmin(b.Admin, b.Secret)

	var alice struct{ DisplayName string }
	apptest.Call(t, adminB, "/admin/user/get_info", map[string]any{"userId": "alice"}, &alice)
	if alice.DisplayName != "Alice" {
		t.Errorf("restored alice: display name %q", alice.DisplayName)
	}
	if code, err := adminB.Call(t.Context(), "/admin/user/get_info", map[string]any{"userId": "late"}, nil); code != 253 {
		t.Errorf("a user created after the backup: code %d, err %v; want 253 (not in the backup)", code, err)
	}
	var members struct {
		Members []struct {
			MemberID string `json:"member_id"`
		} `json:"members"`
	}
	apptest.Call(t, adminB, "/admin/group/member/list", map[string]any{"group_id": "club"}, &members)
	var ids []string
	for _, m := range members.Members {
		ids = append(ids, m.MemberID)
	}
	if strings.Join(ids, ",") != "alice,echo" {
		t.Errorf("restored members %v, want alice,echo", ids)
	}
	if diff := cmp.Diff(wantTimeline, timelineTypes(t, adminB, "club")); diff != "" {
		t.Errorf("restored timeline (-before backup +restored):\n%s", diff)
	}
	if diff := cmp.Diff(wantEvents, botEvents(t, b.Store, "echo")); diff != "" {
		t.Errorf("restored event log (-before backup +restored):\n%s", diff)
	}
	// The robot's and the bot's credentials came along.
	apptest.Call(t, client.NewRobot(b.Public, "echo", robot.Secret), "/robot/profile", map[string]any{}, nil)
	body, _ := json.Marshal(map[string]string{"appId": robot.AppID, "clientSecret": robot.AppSecret})
	resp, err := http.Post(b.Public+"/app/getAppAccessToken", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("bot token on the restored qun: HTTP %d", resp.StatusCode)
	}
}

func TestBackupCommand(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		out  string
	}{
		{"no file", []string{"backup"}, nil, 2, "give one FILE"},
		{"two files", []string{"backup", "a", "b"}, nil, 2, "give one FILE"},
		{"no database", []string{"backup", "--data", dir, filepath.Join(dir, "b.db")}, nil, 1, "no database at " + filepath.Join(dir, "qun.db")},
		{"postgres flag", []string{"backup", "--db", "postgres://u:pw@db/qun", "b.db"}, nil, 1, "pg_dump"},
		{"postgres env", []string{"backup", "b.db"}, map[string]string{"QUN_DB": "postgres://u:pw@db/qun"}, 1, "pg_dump"},
		{"help", []string{"backup", "-h"}, nil, 0, "Restore:"},
		{"qun help backup", []string{"help", "backup"}, nil, 0, "Restore:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			code := Run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, &out, &out)
			if code != tc.code || !strings.Contains(out.String(), tc.out) {
				t.Fatalf("exit %d, output %q; want exit %d containing %q", code, out.String(), tc.code, tc.out)
			}
			if strings.Contains(out.String(), "pw@") {
				t.Fatalf("password printed: %q", out.String())
			}
		})
	}
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Errorf("a failed backup left %v", names)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
