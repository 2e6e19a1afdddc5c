package group_test

import (
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// The text rule (group.ValidText): every id, name, value and payload text a
// client gives is refused with EInvalidParam when it holds a NUL or invalid
// UTF-8, before anything is read or written, on every operation.
func TestInvalidText(t *testing.T) {
	e := newEnv(t, group.Config{})
	owns := group.Robot(robotActor)
	txt := func(s string) *group.Payload { return &group.Payload{Type: group.ContentText, Content: s} }
	ops := []struct {
		name string
		run  func(e *env, gid, bad string) error
	}{
		{"create/group-id", func(e *env, _, bad string) error {
			_, err := e.svc.CreateGroup(e.t.Context(), owns, group.CreateGroupInput{Group: group.Group{ID: bad}})
			return err
		}},
		{"create/name", func(e *env, gid, bad string) error {
			_, err := e.svc.CreateGroup(e.t.Context(), owns, group.CreateGroupInput{Group: group.Group{ID: gid + "-new", Name: bad}})
			return err
		}},
		{"create/portrait", func(e *env, gid, bad string) error {
			_, err := e.svc.CreateGroup(e.t.Context(), owns, group.CreateGroupInput{Group: group.Group{ID: gid + "-new", Portrait: bad}})
			return err
		}},
		{"create/extra", func(e *env, gid, bad string) error {
			_, err := e.svc.CreateGroup(e.t.Context(), owns, group.CreateGroupInput{Group: group.Group{ID: gid + "-new", Extra: bad}})
			return err
		}},
		{"create/admin-owner", func(e *env, gid, bad string) error {
			_, err := e.svc.CreateGroup(e.t.Context(), group.Admin, group.CreateGroupInput{Group: group.Group{ID: gid + "-new", Owner: bad}})
			return err
		}},
		{"create/member-id", func(e *env, gid, bad string) error {
			_, err := e.svc.CreateGroup(e.t.Context(), owns, group.CreateGroupInput{Group: group.Group{ID: gid + "-new"}, Members: []group.Member{{UserID: mem}, {UserID: bad}}})
			return err
		}},
		{"create/member-alias", func(e *env, gid, bad string) error {
			_, err := e.svc.CreateGroup(e.t.Context(), owns, group.CreateGroupInput{Group: group.Group{ID: gid + "-new"}, Members: []group.Member{{UserID: mem, Alias: bad}}})
			return err
		}},
		{"create/member-extra", func(e *env, gid, bad string) error {
			_, err := e.svc.CreateGroup(e.t.Context(), owns, group.CreateGroupInput{Group: group.Group{ID: gid + "-new"}, Members: []group.Member{{UserID: mem, Extra: bad}}})
			return err
		}},
		{"create/notify_message", func(e *env, gid, bad string) error {
			_, err := e.svc.CreateGroup(e.t.Context(), owns, group.CreateGroupInput{Group: group.Group{ID: gid + "-new"}, Notify: group.Notify{Message: txt(bad)}})
			return err
		}},
		{"create/operator", func(e *env, gid, bad string) error {
			_, err := e.svc.CreateGroup(e.t.Context(), group.AsUser(bad), group.CreateGroupInput{Group: group.Group{ID: gid + "-new"}})
			return err
		}},
		{"get_info", func(e *env, _, bad string) error { _, err := e.svc.GetGroup(e.t.Context(), bad); return err }},
		{"del/group-id", func(e *env, _, bad string) error { return e.svc.DismissGroup(e.t.Context(), owns, bad, group.Notify{}) }},
		{"del/operator", func(e *env, gid, bad string) error {
			return e.svc.DismissGroup(e.t.Context(), group.AsUser(bad), gid, group.Notify{})
		}},
		{"del/notify_message", func(e *env, gid, bad string) error {
			return e.svc.DismissGroup(e.t.Context(), owns, gid, group.Notify{Message: txt(bad)})
		}},
		{"transfer/new-owner", func(e *env, gid, bad string) error {
			return e.svc.TransferGroup(e.t.Context(), owns, gid, bad, group.Notify{})
		}},
		{"modify/value", func(e *env, gid, bad string) error {
			return e.svc.ModifyGroup(e.t.Context(), owns, gid, group.ModifyName, bad, group.Notify{})
		}},
		{"member/list", func(e *env, _, bad string) error { _, err := e.svc.ListMembers(e.t.Context(), owns, bad); return err }},
		{"member/get", func(e *env, gid, bad string) error {
			_, err := e.svc.GetMember(e.t.Context(), owns, gid, bad)
			return err
		}},
		{"members-page", func(e *env, _, bad string) error {
			_, _, err := e.svc.MembersPage(e.t.Context(), owns, bad, 0, 10)
			return err
		}},
		{"member/add/id", func(e *env, gid, bad string) error {
			return e.svc.AddMembers(e.t.Context(), owns, gid, []group.Member{{UserID: newbie}, {UserID: bad}}, group.Notify{})
		}},
		{"member/add/alias", func(e *env, gid, bad string) error {
			return e.svc.AddMembers(e.t.Context(), owns, gid, []group.Member{{UserID: newbie, Alias: bad}}, group.Notify{})
		}},
		{"member/del", func(e *env, gid, bad string) error {
			return e.svc.KickMembers(e.t.Context(), owns, gid, []string{mem, bad}, group.Notify{})
		}},
		{"member/quit/operator", func(e *env, gid, bad string) error {
			return e.svc.QuitGroup(e.t.Context(), group.AsUser(bad), gid, group.Notify{})
		}},
		{"set_alias/alias", func(e *env, gid, bad string) error {
			return e.svc.SetMemberAlias(e.t.Context(), owns, gid, mem, bad, group.Notify{})
		}},
		{"set_alias/member-id", func(e *env, gid, bad string) error {
			return e.svc.SetMemberAlias(e.t.Context(), owns, gid, bad, "a", group.Notify{})
		}},
		{"set_extra/extra", func(e *env, gid, bad string) error {
			return e.svc.SetMemberExtra(e.t.Context(), owns, gid, mem, bad, group.Notify{})
		}},
		{"manager/set", func(e *env, gid, bad string) error {
			return e.svc.SetManagers(e.t.Context(), owns, gid, []string{mem, bad}, true, group.Notify{})
		}},
		{"message/send/target", func(e *env, _, bad string) error {
			_, err := e.svc.SendMessage(e.t.Context(), group.SendInput{Sender: robotActor, ConvType: group.ConvGroup, Target: bad, Payload: *txt("hi")})
			return err
		}},
		{"message/send/sender", func(e *env, gid, bad string) error {
			_, err := e.svc.SendMessage(e.t.Context(), group.SendInput{Sender: bad, ConvType: group.ConvGroup, Target: gid, Payload: *txt("hi")})
			return err
		}},
		{"message/send/content", func(e *env, gid, bad string) error {
			_, err := e.svc.SendMessage(e.t.Context(), group.SendInput{Sender: robotActor, ConvType: group.ConvGroup, Target: gid, Payload: *txt(bad)})
			return err
		}},
		{"message/send/mentioned", func(e *env, gid, bad string) error {
			p := group.Payload{Type: group.ContentText, Content: "hi", MentionedType: group.MentionSome, MentionedTarget: []string{botA, bad}}
			_, err := e.svc.SendMessage(e.t.Context(), group.SendInput{Sender: robotActor, ConvType: group.ConvGroup, Target: gid, Payload: p})
			return err
		}},
		{"bot-send/content", func(e *env, gid, bad string) error {
			_, err := e.svc.BotSend(e.t.Context(), group.BotSendInput{BotID: robotActor, GroupID: gid, Payload: *txt(bad)})
			return err
		}},
		{"proactive/group-id", func(e *env, _, bad string) error { return e.svc.SetProactive(e.t.Context(), owns, bad, botA, false) }},
		{"timeline", func(e *env, _, bad string) error {
			_, _, err := e.svc.Timeline(e.t.Context(), bad, 0, 0, 10)
			return err
		}},
		{"groups-of-user", func(e *env, _, bad string) error { _, err := e.svc.GroupsOfUser(e.t.Context(), bad); return err }},
		{"user/create/id", func(e *env, _, bad string) error {
			_, err := e.svc.PutUser(e.t.Context(), group.User{ID: bad})
			return err
		}},
		{"user/create/name", func(e *env, gid, bad string) error {
			_, err := e.svc.PutUser(e.t.Context(), group.User{ID: gid + "-user", Name: bad})
			return err
		}},
		{"user/create/extra", func(e *env, gid, bad string) error {
			_, err := e.svc.PutUser(e.t.Context(), group.User{ID: gid + "-user", Extra: bad})
			return err
		}},
		{"user/find", func(e *env, _, bad string) error {
			_, err := e.svc.FindUser(e.t.Context(), group.UserQuery{Name: bad})
			return err
		}},
		{"update_profile", func(e *env, _, bad string) error {
			return e.svc.UpdateProfile(e.t.Context(), robotActor, group.ProfileDisplayName, bad)
		}},
		{"robot/create/secret", func(e *env, gid, bad string) error {
			_, _, err := e.svc.CreateRobot(e.t.Context(), group.RobotInput{User: group.User{ID: gid + "-bot"}, Secret: bad})
			return err
		}},
		{"robot/create/callback", func(e *env, gid, bad string) error {
			_, _, err := e.svc.CreateRobot(e.t.Context(), group.RobotInput{User: group.User{ID: gid + "-bot"}, Callback: bad})
			return err
		}},
		{"set_callback", func(e *env, _, bad string) error { return e.svc.SetCallback(e.t.Context(), robotActor, bad) }},
		{"ice-breaker", func(e *env, _, bad string) error {
			return e.svc.SetIceBreaker(e.t.Context(), robotActor, group.IceBreaker{Enabled: true, Payload: *txt(bad)})
		}},
	}
	for _, op := range ops {
		for _, b := range []struct{ name, s string }{{"NUL", "a\x00b"}, {"invalid-UTF-8", "a\xffb"}} {
			t.Run(op.name+"/"+b.name, func(t *testing.T) {
				t.Parallel()
				e := e.with(t)
				f := e.seed(group.GroupNormal, robotActor, group.MemberOwner)
				before := e.state(f.ID, f.ID+"-new")
				u, _, _ := e.svc.GetRobot(t.Context(), robotActor)
				checkCode(t, op.run(e, f.ID, b.s), group.EInvalidParam)
				e.noTrace(before, f.ID, f.ID+"-new")
				if after, _, _ := e.svc.GetRobot(t.Context(), robotActor); after != u {
					t.Errorf("the robot changed: %+v, was %+v", after, u)
				}
				for _, id := range []string{f.ID + "-user", f.ID + "-bot"} {
					if _, err := e.svc.FindUser(t.Context(), group.UserQuery{UserID: id}); !group.IsNotExist(err) {
						t.Errorf("user %s: %v, want none", id, err)
					}
				}
			})
		}
	}
}
