package qqbot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
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

// The pooled MACs give exactly the ids their doc comments specify, also
// when used from many goroutines at once.
func TestIDsMatchTheirSpec(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	s := &Server{key: key}
	ref := func(parts ...string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(strings.Join(parts, "\x00")))
		return m.Sum(nil)
	}
	be := func(v int64) string { return string(binary.BigEndian.AppendUint64(nil, uint64(v))) }
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				bot, id, n := fmt.Sprintf("bot%d", g), fmt.Sprintf("group-%d", i), int64(g*1000+i)
				if got, want := s.openID(bot, group.OpenIDGroup, id), strings.ToUpper(hex.EncodeToString(ref(bot, group.OpenIDGroup, id)[:16])); got != want {
					t.Errorf("openID(%s, %s) = %s, want %s", bot, id, got, want)
				}
				wantEvent := "GROUP_ADD_ROBOT:" + hex.EncodeToString([]byte(be(n)+string(ref("event", bot, be(n))[:4])))
				if got := s.eventID(bot, group.EventAddRobot, n); got != wantEvent {
					t.Errorf("eventID(%s, %d) = %s, want %s", bot, n, got, wantEvent)
				}
				wantMsg := msgIDPrefix + base64.RawURLEncoding.EncodeToString([]byte(be(n)+string(ref("msg", bot, be(n))[:8])))
				if got := s.msgID(bot, n); got != wantMsg {
					t.Errorf("msgID(%s, %d) = %s, want %s", bot, n, got, wantMsg)
				}
			}
		})
	}
	wg.Wait()
}

// Routing an event to a shard computes no openid per event: none at all for
// one shard, and one per group and connection for more.
func TestWantsReusesGroupOpenIDs(t *testing.T) {
	s := &Server{key: []byte("0123456789abcdef0123456789abcdef")}
	e := group.Event{BotID: "bot1", GroupID: "g1", Seq: 1, Type: group.EventAddRobot}
	c := func(shardID, count int) *conn {
		return &conn{s: s, bot: authBot{bot: group.Bot{UserID: "bot1"}},
			sess: group.Session{ID: "s", BotID: "bot1", ShardID: shardID, ShardCount: count, Intents: intentsGroup}}
	}
	one := c(0, 1)
	if n := testing.AllocsPerRun(100, func() { one.wants(e) }); n != 0 || !one.wants(e) {
		t.Errorf("one shard: %v allocations per event", n)
	}
	sh := shardOf(s.openID("bot1", group.OpenIDGroup, "g1"), 2)
	for id := range 2 {
		two := c(id, 2)
		if two.wants(e) != (id == sh) {
			t.Errorf("shard %d of 2 wants the event of a group on shard %d", id, sh)
		}
		if n := testing.AllocsPerRun(100, func() { two.wants(e) }); n != 0 {
			t.Errorf("shard %d of 2: %v allocations per event", id, n)
		}
	}
	// The per-connection cache stays bounded.
	many := c(0, 2)
	for i := range 10 * maxConnGroups {
		many.wants(group.Event{BotID: "bot1", GroupID: fmt.Sprint("g", i)})
	}
	if n := len(many.groups.cur) + len(many.groups.old); n > 2*maxConnGroups {
		t.Errorf("%d groups cached, want at most %d", n, 2*maxConnGroups)
	}
}

// An id costs one allocation, its string: the keyed HMAC is reused.
func TestIDsReuseTheirMAC(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	s := &Server{key: []byte("0123456789abcdef0123456789abcdef")}
	for name, f := range map[string]func(){
		"openID":  func() { s.openID("bot1", group.OpenIDMember, "alice") },
		"eventID": func() { s.eventID("bot1", group.EventAtMessage, 42) },
		"msgID":   func() { s.msgID("bot1", 42) },
	} {
		if n := testing.AllocsPerRun(100, f); n > 1 {
			t.Errorf("%s: %v allocations, want 1", name, n)
		}
	}
}

func BenchmarkEventIDs(b *testing.B) {
	s := &Server{key: []byte("0123456789abcdef0123456789abcdef")}
	b.ReportAllocs()
	for i := range b.N {
		s.eventID("bot1", group.EventAtMessage, int64(i))
		s.msgID("bot1", int64(i))
		s.openID("bot1", group.OpenIDMember, "alice")
	}
}
