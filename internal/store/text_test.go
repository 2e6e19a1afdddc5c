package store

import (
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

type textValuer struct{ ok bool }

func (v textValuer) ValidText() bool { return v.ok }

func TestValidArgs(t *testing.T) {
	good, nul, bad := "ok", "a\x00b", "a\xffb"
	evt, badEvt := group.EventAddRobot, group.EventType(bad)
	for _, tt := range []struct {
		name string
		args []any
		want bool
	}{
		{"none", nil, true},
		{"strings", []any{good, &good, []string{good, ""}, 3, int64(4), true}, true},
		{"NUL", []any{good, nul}, false},
		{"invalid UTF-8", []any{bad}, false},
		{"pointer", []any{&nul}, false},
		{"slice", []any{[]string{good, bad}}, false},
		{"named string", []any{evt, &evt}, true},
		{"bad named string", []any{&badEvt}, false},
		{"valuer", []any{textValuer{true}}, true},
		{"bad valuer", []any{textValuer{false}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidArgs(tt.args...); got != tt.want {
				t.Errorf("ValidArgs(%q) = %v, want %v", tt.args, got, tt.want)
			}
		})
	}
}
