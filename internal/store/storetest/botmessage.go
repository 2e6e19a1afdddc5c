package storetest

import (
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

func testBotMessage(t *testing.T, s group.Store) {
	appendAll := func(t *testing.T, ms ...group.BotMessage) {
		t.Helper()
		update(t, s, func(tx group.Tx) error { return all(tx.AppendBotMessage, ms...) })
	}
	reply := func(bot, to string, seq int) group.BotMessage {
		return group.BotMessage{BotID: bot, GroupID: "g", MessageUID: 7, ReplyTo: to, MsgSeq: seq, CreatedAt: t0}
	}
	proactive := func(bot, groupID string, created time.Time) group.BotMessage {
		return group.BotMessage{BotID: bot, GroupID: groupID, MessageUID: 8, MsgSeq: 1, CreatedAt: created}
	}

	t.Run("Replies", func(t *testing.T) {
		appendAll(t, reply("bot1", "msg:1", 1), reply("bot1", "msg:1", 2), reply("bot1", "event:3", 1), reply("bot2", "msg:1", 1))
		for _, tt := range []struct {
			bot, to string
			want    int
		}{{"bot1", "msg:1", 2}, {"bot1", "event:3", 1}, {"bot2", "msg:1", 1}, {"bot1", "msg:2", 0}, {"nobody", "msg:1", 0}} {
			got := read(t, s, func(r group.Reader) (int, error) { return r.CountReplies(tt.bot, tt.to) })
			diff(t, "CountReplies("+tt.bot+", "+tt.to+")", tt.want, got)
		}
	})
	t.Run("DuplicateReply", func(t *testing.T) {
		err := s.Update(t.Context(), func(tx group.Tx) error { return tx.AppendBotMessage(reply("bot1", "msg:1", 2)) })
		wantCode(t, "AppendBotMessage of a duplicate (msg_id, msg_seq)", err, group.EConflict)
		got := read(t, s, func(r group.Reader) (int, error) { return r.CountReplies("bot1", "msg:1") })
		diff(t, "CountReplies after the duplicate", 2, got)
	})
	t.Run("Proactive", func(t *testing.T) {
		// Proactive messages are never duplicates, even with one MsgSeq.
		appendAll(t,
			proactive("bot1", "g", at(-2*time.Hour)),
			proactive("bot1", "g", at(-time.Hour)),
			proactive("bot1", "g", t0),
			proactive("bot1", "g", at(time.Hour)),
			proactive("bot1", "h", t0),
			proactive("bot2", "g", t0),
		)
		for _, tt := range []struct {
			name       string
			bot, group string
			since      time.Time
			want       int
		}{
			{"window", "bot1", "g", at(-90 * time.Minute), 3},
			{"since is inclusive", "bot1", "g", t0, 2},
			{"all", "bot1", "g", at(-24 * time.Hour), 4},
			{"none", "bot1", "g", at(2 * time.Hour), 0},
			{"other group", "bot1", "h", at(-24 * time.Hour), 1},
			{"other bot", "bot2", "g", at(-24 * time.Hour), 1},
		} {
			got := read(t, s, func(r group.Reader) (int, error) { return r.CountProactive(tt.bot, tt.group, tt.since) })
			diff(t, "CountProactive "+tt.name, tt.want, got)
		}
	})
}
