package console

import (
	"strconv"
	"testing"
)

// When DefaultMaxSessions resets wait to be shown, a new one forgets only the
// oldest: every other secret not yet shown is still shown once.
func TestRevealedForgetsTheOldestWhenFull(t *testing.T) {
	var v revealed
	for i := range DefaultMaxSessions {
		id := strconv.Itoa(i)
		v.put("s"+id, newSecrets{BotID: "b" + id, Secret: "secret" + id})
	}
	v.put("new", newSecrets{BotID: "bnew", Secret: "fresh"})
	if n := v.take("s0", "b0"); n != nil {
		t.Errorf("the oldest reset is still kept: %+v", n)
	}
	for _, i := range []int{1, DefaultMaxSessions / 2, DefaultMaxSessions - 1} {
		id := strconv.Itoa(i)
		if n := v.take("s"+id, "b"+id); n == nil || n.Secret != "secret"+id {
			t.Errorf("reset %d not yet shown is lost: %+v", i, n)
		}
	}
	if n := v.take("new", "bnew"); n == nil || n.Secret != "fresh" {
		t.Errorf("the newest reset: %+v", n)
	}
	if n := v.take("new", "bnew"); n != nil {
		t.Errorf("a reset is shown twice: %+v", n)
	}

	// Shown ones make room: the next resets forget nothing.
	v.put("s1", newSecrets{BotID: "b1", Secret: "again"})
	v.put("s2", newSecrets{BotID: "b2", Secret: "again"})
	if n := v.take("s3", "b3"); n == nil {
		t.Error("a reset was forgotten while there was room")
	}
	if len(v.m) != v.order.Len() || len(v.m) > DefaultMaxSessions {
		t.Errorf("kept %d by session, %d in order, bound %d", len(v.m), v.order.Len(), DefaultMaxSessions)
	}
}

// A session's second reset replaces its first, and a reset is shown only on
// the page of the bot it renewed.
func TestRevealedOnePerSession(t *testing.T) {
	var v revealed
	v.put("s", newSecrets{BotID: "a", Secret: "first"})
	v.put("s", newSecrets{BotID: "a", Secret: "second"})
	if n := v.take("s", "other"); n != nil {
		t.Errorf("shown on another bot's page: %+v", n)
	}
	if n := v.take("s", "a"); n == nil || n.Secret != "second" {
		t.Errorf("take = %+v, want the second reset", n)
	}
	if len(v.m) != 0 || v.order.Len() != 0 {
		t.Errorf("kept %d/%d after the page showed it", len(v.m), v.order.Len())
	}
}
