package group_test

import (
	"context"
	"strings"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

// Names and mobiles are looked up by value, so both stores index them; their
// length is bounded so both stores take every accepted value.
func TestUserLimits(t *testing.T) {
	e := newEnv(t, group.Config{})
	ctx := context.Background()
	long := strings.Repeat("n", group.MaxNameLen+1)
	fits := strings.Repeat("n", group.MaxNameLen)
	for _, tc := range []struct {
		name string
		u    group.User
		want group.Code
	}{
		{"name at the limit", group.User{ID: "a", Name: fits, Mobile: fits}, ok},
		{"name too long", group.User{ID: "b", Name: long}, group.EInvalidParam},
		{"mobile too long", group.User{ID: "c", Mobile: long}, group.EInvalidParam},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.PutUser(ctx, tc.u)
			if got := codeOf(err); got != tc.want {
				t.Fatalf("PutUser: %v, want code %q", err, tc.want)
			}
			_, _, err = e.svc.CreateRobot(ctx, group.RobotInput{User: group.User{ID: "r" + tc.u.ID, Name: tc.u.Name, Mobile: tc.u.Mobile}})
			if got := codeOf(err); got != tc.want {
				t.Fatalf("CreateRobot: %v, want code %q", err, tc.want)
			}
		})
	}
	if u, err := e.svc.FindUser(ctx, group.UserQuery{Name: fits}); err != nil || u.ID != "a" {
		t.Fatalf("FindUser by a %d-byte name = %v, %v", group.MaxNameLen, u.ID, err)
	}
}
