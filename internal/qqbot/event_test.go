package qqbot

import (
	"strings"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

func TestStripMention(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"@QunBot hello", " hello"},
		{"@qunbot hello", " hello"}, // the user name when the display name does not match
		{"@QunBot", ""},
		{"hello @QunBot", "hello @QunBot"},
		{"@Other hi", "@Other hi"},
		{"", ""},
	} {
		if got := stripMention(tc.in, "QunBot", "qunbot"); got != tc.want {
			t.Errorf("stripMention(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIDsRoundTrip(t *testing.T) {
	s := &Server{key: []byte("0123456789abcdef0123456789abcdef")}
	id := s.eventID("bot1", group.EventAddRobot, 42)
	if !strings.HasPrefix(id, "GROUP_ADD_ROBOT:") || strings.ToLower(id[16:]) != id[16:] {
		t.Errorf("event id %q", id)
	}
	for _, tc := range []struct {
		bot, id string
		ok      bool
	}{
		{"bot1", id, true},
		{"bot1", strings.TrimPrefix(id, "GROUP_ADD_ROBOT:"), true},
		{"bot2", id, false},
		{"bot1", id[:len(id)-1] + "0", id[len(id)-1] == '0'},
		{"bot1", "GROUP_ADD_ROBOT:", false},
		{"bot1", "42", false},
	} {
		seq, ok := s.parseEventID(tc.bot, tc.id)
		if ok != tc.ok || (ok && seq != 42) {
			t.Errorf("parseEventID(%s, %q) = %d, %v; want ok=%v", tc.bot, tc.id, seq, ok, tc.ok)
		}
	}
	m := s.msgID("bot1", 7)
	if !strings.HasPrefix(m, msgIDPrefix) {
		t.Errorf("msg id %q", m)
	}
	for _, tc := range []struct {
		bot, id string
		ok      bool
	}{
		{"bot1", m, true},
		{"bot2", m, false},
		{"bot1", strings.TrimPrefix(m, msgIDPrefix), false},
		{"bot1", msgIDPrefix + "!!", false},
		{"bot1", msgIDPrefix, false},
	} {
		uid, ok := s.parseMsgID(tc.bot, tc.id)
		if ok != tc.ok || (ok && uid != 7) {
			t.Errorf("parseMsgID(%s, %q) = %d, %v; want ok=%v", tc.bot, tc.id, uid, ok, tc.ok)
		}
	}
}

func TestIntentsAndShards(t *testing.T) {
	for _, tc := range []struct {
		requested, allowed int64
		code               int
	}{
		{intentGroupAndC2C, 0, 0},
		{intentGuilds | intentGuildMembers | intentPublicGuildMessages | intentGroupAndC2C, 0, 0},
		{0, 0, 0},
		{1 << 9, 0, int(closeDisallowedIntents)},
		{1 << 9, 1<<9 | 1, 0},
		{intentGroupAndC2C, intentGuilds, int(closeDisallowedIntents)},
		{1 << 15, 0, int(closeInvalidIntents)},
		{1 << 31, 0, int(closeInvalidIntents)},
		{-1, 0, int(closeInvalidIntents)},
	} {
		ce := checkIntents(tc.requested, tc.allowed)
		if got := 0; ce != nil {
			got = int(ce.code)
			if got != tc.code {
				t.Errorf("checkIntents(%#x, %#x) = %d, want %d", tc.requested, tc.allowed, got, tc.code)
			}
		} else if tc.code != 0 {
			t.Errorf("checkIntents(%#x, %#x) accepted, want %d", tc.requested, tc.allowed, tc.code)
		}
	}
	// fnv32a("C9F778FE6ADF9D1D1DBE395BF744A33A") = 0x74c3efd3, a documented example.
	if got := shardOf("C9F778FE6ADF9D1D1DBE395BF744A33A", 4); got != 0x74c3efd3%4 {
		t.Errorf("shardOf = %d", got)
	}
}
