package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// testPrune checks that Prune deletes, oldest first and at most limit rows of
// each kind per call, what is past its cutoff, and nothing newer.
func testPrune(t *testing.T, s Store) {
	// Each kind has three old rows, two hours apart and oldest first, and one
	// row that is not old, around a base time of its own; its cutoff is half
	// an hour before its base. The bases are ten days apart, so that a store
	// that mixes up the cutoffs deletes all or none of a kind.
	const day = 24 * time.Hour
	offsets := []time.Duration{-5 * time.Hour, -3 * time.Hour, -time.Hour, 0}
	eventsBase, sessionsBase, botMessagesBase, expiryBase := t0, at(-10*day), at(-20*day), at(10*day)
	cut := func(base time.Time) time.Time { return base.Add(-30 * time.Minute) }
	sessions := []string{"s-5h", "s-3h", "s-1h", "s-new"}
	tokens := []string{"tok-5h", "tok-3h", "tok-1h", "tok-valid"}
	nonces := []string{"n-5h", "n-3h", "n-1h", "n-live"}
	for i, d := range offsets {
		updated := sessionsBase.Add(d)
		putSession(t, s, group.Session{ID: sessions[i], BotID: "bot1", CreatedAt: updated.Add(-day), UpdatedAt: updated})
		expires := expiryBase.Add(d)
		putToken(t, s, group.AccessToken{Token: tokens[i], BotID: "bot1", ExpiresAt: expires, CreatedAt: expires.Add(-2 * time.Hour)})
	}
	update(t, s, func(tx group.Tx) error {
		for i, d := range offsets {
			if _, err := tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventAddRobot, GroupID: "g", CreatedAt: eventsBase.Add(d)}); err != nil {
				return err
			}
			// The second bot message is a reply, the others proactive.
			m := group.BotMessage{BotID: "bot1", GroupID: "g", MessageUID: int64(i + 1), MsgSeq: 1, CreatedAt: botMessagesBase.Add(d)}
			if i == 1 {
				m.ReplyTo = "msg:1"
			}
			if err := tx.AppendBotMessage(m); err != nil {
				return err
			}
			expires := expiryBase.Add(d)
			if _, err := tx.UseNonce(nonces[i], expires, expires.Add(-2*time.Hour)); err != nil {
				return err
			}
		}
		return nil
	})

	prune := func(t *testing.T, limit int) int {
		t.Helper()
		return must(s.Prune(t.Context(), cut(eventsBase), cut(sessionsBase), cut(botMessagesBase), cut(expiryBase), limit))(t, "Prune")
	}
	// kept checks which rows of each kind are left: the oldest gone of each
	// kind are deleted, and nothing else.
	kept := func(t *testing.T, gone int) {
		t.Helper()
		events := read(t, s, func(r group.Reader) ([]group.Event, error) { return r.Events("bot1", 0, 100) })
		var seqs []int64
		for _, e := range events {
			seqs = append(seqs, e.Seq)
		}
		diff(t, "seqs of the events left", []int64{1, 2, 3, 4}[gone:], seqs)
		for i := range 4 {
			wantKept := i >= gone
			_, err := s.Session(t.Context(), sessions[i])
			diff(t, "session "+sessions[i]+" kept", wantKept, err == nil)
			_, err = s.AccessToken(t.Context(), tokens[i])
			diff(t, "access token "+tokens[i]+" kept", wantKept, err == nil)
			diff(t, "nonce "+nonces[i]+" kept", wantKept, nonceRecorded(t, s, nonces[i]))
		}
		replies := read(t, s, func(r group.Reader) (int, error) { return r.CountReplies("bot1", "msg:1") })
		diff(t, "reply to msg:1 kept", gone < 2, replies == 1)
		// The proactive messages are the 1st and 3rd old ones and the new one.
		wantProactive := map[int]int{0: 3, 1: 2, 2: 2, 3: 1}[gone]
		diff(t, "proactive messages kept", wantProactive,
			read(t, s, func(r group.Reader) (int, error) { return r.CountProactive("bot1", "g", botMessagesBase.Add(-day)) }))
	}

	t.Run("LimitZero", func(t *testing.T) {
		diff(t, "rows deleted with limit 0", 0, prune(t, 0))
		kept(t, 0)
	})
	t.Run("Limit", func(t *testing.T) {
		// Five kinds, two of each: the two oldest.
		diff(t, "rows deleted with limit 2", 10, prune(t, 2))
		kept(t, 2)
	})
	t.Run("Repeated", func(t *testing.T) {
		// The rest of the backlog, then nothing: what is not old stays.
		diff(t, "rows deleted by the second call", 5, prune(t, 2))
		kept(t, 3)
		diff(t, "rows deleted by the third call", 0, prune(t, 2))
		kept(t, 3)
	})
	t.Run("SeqContinues", func(t *testing.T) {
		// Even with the whole log pruned, seqs never go back: a resume after
		// seq N must not miss a new event numbered N or less.
		must(s.Prune(t.Context(), eventsBase.Add(time.Hour), cut(sessionsBase), cut(botMessagesBase), cut(expiryBase), 100))(t, "Prune")
		diff(t, "Events after pruning all", []group.Event(nil),
			read(t, s, func(r group.Reader) ([]group.Event, error) { return r.Events("bot1", 0, 100) }))
		diff(t, "LastEventSeq after pruning all", int64(4),
			read(t, s, func(r group.Reader) (int64, error) { return r.LastEventSeq("bot1") }))
		var e group.Event
		update(t, s, func(tx group.Tx) (err error) {
			e, err = tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventDelRobot, GroupID: "g", CreatedAt: t0})
			return err
		})
		if e.Seq != 0 { // else numbered at the commit
			diff(t, "seq of the next event", int64(5), e.Seq)
		}
		events := read(t, s, func(r group.Reader) ([]group.Event, error) { return r.Events("bot1", 0, 100) })
		if len(events) != 1 || events[0].Seq != 5 {
			t.Errorf("events after the next append: %+v, want one, seq 5", events)
		}
	})
}

// nonceRecorded reports whether the store still holds nonce key, whatever its
// expiry, without changing anything: it tries the nonce at the beginning of
// time and rolls the try back.
func nonceRecorded(t *testing.T, s group.Store, key string) bool {
	t.Helper()
	var fresh bool
	err := s.Update(t.Context(), func(tx group.Tx) (err error) {
		if fresh, err = tx.UseNonce(key, at(time.Hour), time.UnixMilli(0)); err != nil {
			return err
		}
		return errTest
	})
	if !errors.Is(err, errTest) {
		t.Fatalf("UseNonce(%s): %v", key, err)
	}
	return !fresh
}

// testPruneEvents checks the events Prune deletes across many bots: every
// event past the cutoff that no younger event of its bot precedes, in
// batches of at most limit, and never an event that is not past it. Per bot
// what is left is the end of its log, one unbroken run of seqs. An event
// past the cutoff behind a younger one of its bot (its created_at went back:
// the clock stepped back, or two nodes' clocks disagree) is kept until that
// one is past the cutoff too: deleting it would leave a hole inside the log,
// which a resume after a seq before it would replay past without a word.
func testPruneEvents(t *testing.T, s Store) {
	cutoff := at(-30 * time.Minute)
	logs := map[string][]time.Duration{
		"b1": {-5 * time.Hour, -4 * time.Hour, -3 * time.Hour, -2 * time.Hour, 0}, // four old, then one not
		"b2": {-3 * time.Hour, -2 * time.Hour, -time.Hour},                        // all old
		"b0": {-5 * time.Hour, 0, -4 * time.Hour, time.Hour},                      // the clock stepped back after seq 2
		"b4": {0, time.Minute},                                                    // none old
	}
	bots := []string{"b0", "b1", "b2", "b4"}
	// One Update per event, the bots' events interleaved, as senders append them.
	for i := range 5 {
		for _, b := range bots {
			if i < len(logs[b]) {
				update(t, s, func(tx group.Tx) error {
					_, err := tx.AppendEvent(group.Event{BotID: b, Type: group.EventAddRobot, GroupID: "g", CreatedAt: at(logs[b][i])})
					return err
				})
			}
		}
	}
	seqsOf := func(t *testing.T, bot string) []int64 {
		t.Helper()
		var seqs []int64
		for _, e := range read(t, s, func(r group.Reader) ([]group.Event, error) { return r.Events(bot, 0, 100) }) {
			seqs = append(seqs, e.Seq)
		}
		return seqs
	}
	// prune prunes events before before, limit at a time, until a batch
	// comes back short (as qqbot.Server.Prune does), and returns how many it
	// deleted. Nothing but events is old.
	prune := func(t *testing.T, before time.Time, limit int) int {
		t.Helper()
		all := 0
		for range 20 {
			n := must(s.Prune(t.Context(), before, at(-100*24*time.Hour), at(-100*24*time.Hour), at(-100*24*time.Hour), limit))(t, "Prune")
			if n > limit {
				t.Fatalf("Prune with limit %d deleted %d rows", limit, n)
			}
			all += n
			if n < limit {
				return all
			}
		}
		t.Fatalf("Prune with limit %d still deleting after 20 batches", limit)
		return 0
	}

	t.Run("Cutoff", func(t *testing.T) {
		// Batches of 3 end inside the logs of b1 and b2; a batch of 100
		// after them finds what is left.
		deleted := prune(t, cutoff, 3)
		deleted += prune(t, cutoff, 100)
		diff(t, "events of b1 left", []int64{5}, seqsOf(t, "b1"))
		diff(t, "events of b2 left", []int64(nil), seqsOf(t, "b2"))
		diff(t, "events of b4 left", []int64{1, 2}, seqsOf(t, "b4"))
		// b0 (first in id order, so that a batch may walk all of its
		// log): seq 1 is old and goes; seqs 2 and 4 are not; seq 3 is old
		// but behind seq 2, and stays: no hole between 2 and 4.
		diff(t, "events of b0 left", []int64{2, 3, 4}, seqsOf(t, "b0"))
		diff(t, "events deleted", 4+3+1, deleted)
	})
	t.Run("AllPruned", func(t *testing.T) {
		// b2's log is empty; its seqs go on.
		diff(t, "LastEventSeq of b2", int64(3), read(t, s, func(r group.Reader) (int64, error) { return r.LastEventSeq("b2") }))
		update(t, s, func(tx group.Tx) error {
			_, err := tx.AppendEvent(group.Event{BotID: "b2", Type: group.EventDelRobot, GroupID: "g", CreatedAt: t0})
			return err
		})
		diff(t, "events of b2 after the next append", []int64{4}, seqsOf(t, "b2"))
	})
	t.Run("Later", func(t *testing.T) {
		// An hour later the events of t0 are old too, b0's stepped-back
		// one with them; what is an hour and a minute in is not.
		prune(t, at(30*time.Minute), 2)
		diff(t, "events of b1 left", []int64(nil), seqsOf(t, "b1"))
		diff(t, "events of b2 left", []int64(nil), seqsOf(t, "b2"))
		diff(t, "events of b0 left", []int64{4}, seqsOf(t, "b0"))
		diff(t, "events of b4 left", []int64(nil), seqsOf(t, "b4"))
		diff(t, "prune with nothing old", 0, prune(t, at(30*time.Minute), 2))
		for _, b := range bots {
			if got := read(t, s, func(r group.Reader) (int64, error) { return r.LastEventSeq(b) }); got != int64(len(logs[b]))+map[string]int64{"b2": 1}[b] {
				t.Errorf("LastEventSeq of %s after pruning: %d", b, got)
			}
		}
	})
}
