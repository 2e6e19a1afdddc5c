package store

import (
	"strings"
	"testing"

	"github.com/qun-chat/qun/internal/group"
)

func committed(bot string, seqs ...int64) []Committed {
	cs := make([]Committed, len(seqs))
	for i, s := range seqs {
		cs[i] = Committed{Event: group.Event{BotID: bot, Seq: s}}
	}
	return cs
}

// A feed gets what is handed after it was made, once; a wake it was not
// handed for moves woken past it; a wake without seqs, the bounds, a write
// of the bot's user and Close make it lost.
func TestFeed(t *testing.T) {
	w := NewWaiters()
	w.Hand(map[string][]Committed{"a": committed("a", 1)}, nil) // before the feed: not its
	f, g := w.Feed("a"), w.Feed("b")
	w.Hand(map[string][]Committed{"a": committed("a", 2, 3), "b": committed("b", 7)}, nil)
	w.Wake(map[string]int64{"a": 3, "b": 7})
	evs, woken, lost := f.Take()
	if len(evs) != 2 || evs[0].Event.Seq != 2 || evs[1].Event.Seq != 3 || woken != 3 || lost {
		t.Fatalf("take: %v, woken %d, lost %v; want seqs 2, 3, woken 3, not lost", evs, woken, lost)
	}
	if evs, _, _ := g.Take(); len(evs) != 1 || evs[0].Event.BotID != "b" {
		t.Errorf("b's feed took %v, want b's event 7", evs)
	}
	if evs, woken, lost := f.Take(); len(evs) != 0 || woken != 3 || lost {
		t.Errorf("a second take: %v, woken %d, lost %v; want nothing, 3, not lost", evs, woken, lost)
	}

	// A wake from elsewhere (another node) hands nothing: woken says so.
	w.Wake(map[string]int64{"a": 5})
	if evs, woken, _ := f.Take(); len(evs) != 0 || woken != 5 {
		t.Errorf("after a wake for 5: %v, woken %d; want nothing, 5", evs, woken)
	}

	// Past the bounds: dropped, lost until the next take.
	many := make([]int64, MaxFeedEvents+1)
	for i := range many {
		many[i] = int64(6 + i)
	}
	w.Hand(map[string][]Committed{"a": committed("a", many...)}, nil)
	if evs, _, lost := f.Take(); len(evs) != 0 || !lost {
		t.Errorf("past %d events: %d kept, lost %v; want none, lost", MaxFeedEvents, len(evs), lost)
	}
	big := committed("a", 1000)
	big[0].Event.Data = strings.Repeat("x", MaxFeedBytes)
	w.Hand(map[string][]Committed{"a": big}, nil)
	if evs, _, lost := f.Take(); len(evs) != 0 || !lost {
		t.Errorf("past %d bytes: %d kept, lost %v; want none, lost", MaxFeedBytes, len(evs), lost)
	}
	if _, _, lost := f.Take(); lost {
		t.Error("lost stays after the take that reported it")
	}

	// The bot's user written: lost, though the commit's events are handed to nobody.
	w.Hand(map[string][]Committed{"a": committed("a", 1001)}, map[string]bool{"a": true})
	if _, _, lost := f.Take(); !lost {
		t.Error("a commit that wrote the bot's user left the feed not lost")
	}
	w.Hand(map[string][]Committed{"a": committed("a", 1002)}, map[string]bool{"a": true})
	w.Hand(map[string][]Committed{"a": committed("a", 1003)}, nil)
	if evs, _, lost := f.Take(); !lost || len(evs) != 0 {
		t.Errorf("hands after a user write, before a take: %d events, lost %v; want none, lost", len(evs), lost)
	}

	// A wake without seqs (a listener reconnected): lost.
	w.WakeAll()
	if _, _, lost := f.Take(); !lost {
		t.Error("WakeAll left the feed not lost")
	}

	// Closed: handed nothing, lost; the registry forgets it.
	f.Close()
	w.Hand(map[string][]Committed{"a": committed("a", 1004)}, nil)
	if evs, _, lost := f.Take(); len(evs) != 0 || !lost {
		t.Errorf("closed feed: %d events, lost %v", len(evs), lost)
	}
	if _, ok := w.feeds["a"]; ok {
		t.Error("the registry keeps a closed feed's bot")
	}
	w.Close()
	if _, _, lost := g.Take(); !lost {
		t.Error("after the registry's Close a take is not lost")
	}
}
