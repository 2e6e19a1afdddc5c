package storetest

import (
	"fmt"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// BenchSendAtScale measures a message that mentions the group's robot, sent
// through the domain (group.Service.SendMessage: the group, the sender, the
// timeline append, the group's robots, the robot's event) in a group of 10
// members and in one of 100,000, on the same store in the same run. What
// differs between the two is what grows with the group: the send reads the
// group's robots on every mention, and must not read every member to find
// them. Compare the two ns/op.
func BenchSendAtScale(b *testing.B, s group.Store) {
	svc := group.NewService(s, group.Config{})
	ctx := b.Context()
	if _, _, err := svc.CreateRobot(ctx, group.RobotInput{User: group.User{ID: "robot", Name: "robot"}}); err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10, 100_000} {
		gid := fmt.Sprintf("g%d", n)
		ms := make([]group.Member, 0, n)
		ms = append(ms, group.Member{GroupID: gid, UserID: "owner", Type: group.MemberOwner},
			group.Member{GroupID: gid, UserID: "robot", Type: group.MemberNormal})
		for i := len(ms); i < n; i++ {
			ms = append(ms, group.Member{GroupID: gid, UserID: fmt.Sprintf("u%06d", i), Type: group.MemberNormal})
		}
		// The rows go in directly: the domain's create notifies every member.
		if err := s.Update(ctx, func(tx group.Tx) error {
			if err := tx.PutGroup(group.Group{ID: gid, Owner: "owner"}); err != nil {
				return err
			}
			return tx.PutMembers(ms)
		}); err != nil {
			b.Fatal(err)
		}
	}
	send := func(b *testing.B, gid string) {
		_, err := svc.SendMessage(ctx, group.SendInput{Sender: "owner", ConvType: group.ConvGroup, Target: gid,
			Payload: group.Payload{Type: group.ContentText, SearchableContent: "hi", MentionedType: group.MentionSome,
				MentionedTarget: []string{"robot"}}})
		if err != nil {
			b.Fatal(err)
		}
	}
	// A few sends first, so that the checkpoint of the 100,000 rows'
	// pages falls on none of the measured ones.
	for range 20 {
		send(b, "g10")
		send(b, "g100000")
	}
	for _, n := range []int{10, 100_000} {
		gid := fmt.Sprintf("g%d", n)
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			for b.Loop() {
				send(b, gid)
			}
		})
	}
}
