package group_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qun-chat/qun/internal/group"
)

// to_lines and notify_message (reference/wildfire-robot-api.md §6): one
// notification per line, and a custom payload with type > 0 replaces the
// built-in one, for every write that notifies.

// notifyingWrite is one write that posts a group notification, done by
// robotActor as the owner of a seeded normal group.
type notifyingWrite struct {
	name    string
	builtin int // the built-in notification's content type
	// run performs the write and returns the group whose timeline gets the notification.
	run func(e *env, f fixture, n group.Notify) (string, error)
}

var notifyingWrites = []notifyingWrite{
	{"create", group.NotifyCreateGroup, func(e *env, f fixture, n group.Notify) (string, error) {
		return e.svc.CreateGroup(e.t.Context(), group.Robot(robotActor), group.CreateGroupInput{Group: group.Group{ID: f.ID + "-new", Name: "n"}, Notify: n})
	}},
	{"dismiss", group.NotifyDismissGroup, func(e *env, f fixture, n group.Notify) (string, error) {
		return f.ID, e.svc.DismissGroup(e.t.Context(), group.Robot(robotActor), f.ID, n)
	}},
	{"transfer", group.NotifyTransferOwner, func(e *env, f fixture, n group.Notify) (string, error) {
		return f.ID, e.svc.TransferGroup(e.t.Context(), group.Robot(robotActor), f.ID, mem, n)
	}},
	{"modify", group.NotifyChangeName, func(e *env, f fixture, n group.Notify) (string, error) {
		return f.ID, e.svc.ModifyGroup(e.t.Context(), group.Robot(robotActor), f.ID, group.ModifyName, "n", n)
	}},
	{"add", group.NotifyAddMember, func(e *env, f fixture, n group.Notify) (string, error) {
		return f.ID, e.svc.AddMembers(e.t.Context(), group.Robot(robotActor), f.ID, []group.Member{{UserID: newbie}}, n)
	}},
	{"kick", group.NotifyKickMember, func(e *env, f fixture, n group.Notify) (string, error) {
		return f.ID, e.svc.KickMembers(e.t.Context(), group.Robot(robotActor), f.ID, []string{mem}, n)
	}},
	{"quit", group.NotifyQuitGroup, func(e *env, f fixture, n group.Notify) (string, error) {
		return f.ID, e.svc.QuitGroup(e.t.Context(), group.Robot(robotActor), f.ID, n)
	}},
	{"alias", group.NotifyMemberAlias, func(e *env, f fixture, n group.Notify) (string, error) {
		return f.ID, e.svc.SetMemberAlias(e.t.Context(), group.Robot(robotActor), f.ID, mem, "a", n)
	}},
	{"extra", group.NotifyMemberExtra, func(e *env, f fixture, n group.Notify) (string, error) {
		return f.ID, e.svc.SetMemberExtra(e.t.Context(), group.Robot(robotActor), f.ID, mem, "x", n)
	}},
	{"manager", group.NotifySetManager, func(e *env, f fixture, n group.Notify) (string, error) {
		return f.ID, e.svc.SetManagers(e.t.Context(), group.Robot(robotActor), f.ID, []string{mem}, true, n)
	}},
	{"mute", group.NotifyMuteMember, func(e *env, f fixture, n group.Notify) (string, error) {
		return f.ID, e.svc.MuteMembers(e.t.Context(), group.Robot(robotActor), f.ID, []string{mem}, true, n)
	}},
	{"allow", group.NotifyAllowMember, func(e *env, f fixture, n group.Notify) (string, error) {
		return f.ID, e.svc.AllowMembers(e.t.Context(), group.Robot(robotActor), f.ID, []string{mem}, true, n)
	}},
}

func TestNotify(t *testing.T) {
	e := newEnv(t, group.Config{})
	custom := &group.Payload{Type: group.ContentText, Content: "custom", Extra: "x", MentionedType: group.MentionSome, MentionedTarget: []string{mem}}
	for _, w := range notifyingWrites {
		// Each line once, in line order; no lines means line 0.
		t.Run(w.name+"/to_lines", func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
			gid := f.ID
			if w.name == "create" {
				gid = f.ID + "-new"
			}
			before := e.state(gid)
			_, err := w.run(e, f, group.Notify{Lines: []int{7, 0, 7, 2}})
			checkCode(t, err, ok)
			d := e.since(before, gid)
			var gotLines []int
			for _, m := range d.Messages {
				gotLines = append(gotLines, m.Line)
				if m.Sender != robotActor || m.Payload.Type != w.builtin || !cmp.Equal(m.Payload, d.Messages[0].Payload) {
					t.Errorf("line %d: sender %q payload %+v, want %q and the line-0 payload of type %d", m.Line, m.Sender, m.Payload, robotActor, w.builtin)
				}
			}
			if diff := cmp.Diff([]int{0, 2, 7}, gotLines); diff != "" {
				t.Errorf("notified lines (-want +got):\n%s", diff)
			}
		})
		t.Run(w.name+"/notify_message", func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
			gid := f.ID
			if w.name == "create" {
				gid = f.ID + "-new"
			}
			before := e.state(gid)
			_, err := w.run(e, f, group.Notify{Lines: []int{1, 3}, Message: custom})
			checkCode(t, err, ok)
			want := []group.Message{
				{GroupID: gid, Line: 1, Sender: robotActor, Payload: *custom, CreatedAt: e.now()},
				{GroupID: gid, Line: 3, Sender: robotActor, Payload: *custom, CreatedAt: e.now()},
			}
			if diff := cmp.Diff(want, e.since(before, gid).Messages, deltaOpts); diff != "" {
				t.Errorf("notifications (-want +got):\n%s", diff)
			}
		})
		// A notify_message of type 0 does not replace the built-in one.
		t.Run(w.name+"/notify_message-type-0", func(t *testing.T) {
			t.Parallel()
			e := e.with(t)
			f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
			gid := f.ID
			if w.name == "create" {
				gid = f.ID + "-new"
			}
			before := e.state(gid)
			_, err := w.run(e, f, group.Notify{Message: &group.Payload{Content: "ignored"}})
			checkCode(t, err, ok)
			msgs := e.since(before, gid).Messages
			if len(msgs) != 1 || msgs[0].Line != 0 || msgs[0].Payload.Type != w.builtin {
				t.Errorf("notifications = %+v, want one built-in %d on line 0", msgs, w.builtin)
			}
		})
	}
	// A write without a built-in notification posts a custom one.
	t.Run("modify-admin-type/notify_message", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		f := e.seed(group.GroupNormal, "", noRow)
		before := e.state(f.ID)
		checkCode(t, e.svc.ModifyGroup(t.Context(), group.Admin, f.ID, group.ModifyMaxMemberCount, "9", group.Notify{Message: custom}), ok)
		want := []group.Message{{GroupID: f.ID, Line: 0, Sender: "", Payload: *custom, CreatedAt: e.now()}}
		if diff := cmp.Diff(want, e.since(before, f.ID).Messages, deltaOpts); diff != "" {
			t.Errorf("notifications (-want +got):\n%s", diff)
		}
	})
}

// FuzzNotify feeds arbitrary names and aliases, as a stranger would send
// them, through modify and set_alias: valid text must be stored as given and
// the notification must carry it in valid JSON; anything else (a NUL,
// invalid UTF-8) is refused with EInvalidParam and leaves no trace.
func FuzzNotify(f *testing.F) {
	for _, s := range []string{"new name", "", "v-alias", `"quoted" \ back`, "<&>", "名字", "\u2028\u2029", "\x00nul", "\xff\xfe"} {
		f.Add(s)
	}
	e := newEnv(f, group.Config{})
	f.Fuzz(func(t *testing.T, value string) {
		e := e.with(t)
		fx := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
		before := e.state(fx.ID)
		if !group.ValidText(value) {
			checkCode(t, e.svc.ModifyGroup(t.Context(), group.Robot(robotActor), fx.ID, group.ModifyName, value, group.Notify{}), group.EInvalidParam)
			checkCode(t, e.svc.SetMemberAlias(t.Context(), group.Robot(robotActor), fx.ID, mem, value, group.Notify{}), group.EInvalidParam)
			e.noTrace(before, fx.ID)
			return
		}
		checkCode(t, e.svc.ModifyGroup(t.Context(), group.Robot(robotActor), fx.ID, group.ModifyName, value, group.Notify{}), ok)
		checkCode(t, e.svc.SetMemberAlias(t.Context(), group.Robot(robotActor), fx.ID, mem, value, group.Notify{}), ok)
		if g, _ := e.group(fx.ID); g.Name != value {
			t.Errorf("name = %q, want %q", g.Name, value)
		}
		if m, _ := e.member(fx.ID, mem); m.Alias != value {
			t.Errorf("alias = %q, want %q", m.Alias, value)
		}
		msgs := e.since(before, fx.ID).Messages
		if len(msgs) != 2 {
			t.Fatalf("%d notifications, want 2", len(msgs))
		}
		for i, wantM := range []string{"", mem} {
			var d map[string]string
			if err := json.Unmarshal(msgs[i].Payload.Data, &d); err != nil {
				t.Fatalf("notification %d data %q is not JSON: %v", i, msgs[i].Payload.Data, err)
			}
			want := map[string]string{"g": fx.ID, "o": robotActor, "n": value, "m": wantM}
			if diff := cmp.Diff(want, d); diff != "" {
				t.Errorf("notification %d data (-want +got):\n%s", i, diff)
			}
		}
	})
}
