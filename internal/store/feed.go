package store

import "github.com/qun-chat/qun/internal/group"

// Committed is group.CommittedEvent: an event as its commit left it.
type Committed = group.CommittedEvent

// Feed bounds: what a feed keeps between two Takes. Past either it drops what
// it kept and is lost until the next Take: its reader reads the log instead.
const (
	MaxFeedEvents = 256
	MaxFeedBytes  = 1 << 20
)

// Feed is one reader's subscription to the events a bot's commits append in
// this process: the store hands each commit's events to the bot's feeds
// (Hand) before it wakes the bot's waiters, so that a reader that is caught
// up can send them without reading the log. A feed never replaces the log:
// what it was not handed (events committed before it was made, by another
// process or node, or past its bounds) it cannot give, and Take says so; the
// reader then reads the log, which stays the record.
//
// A feed is made by Waiters.Feed and must be closed (Close) when its reader
// ends. It is safe for concurrent use.
type Feed struct {
	w   *Waiters
	bot string

	// Guarded by w.mu.
	pending []Committed
	bytes   int
	woken   int64 // the highest seq a wake or a hand announced for the bot
	lost    bool  // something was not handed since the last Take
}

// Feed returns a new feed of botID's committed events; it gets those of the
// commits after the call.
func (w *Waiters) Feed(botID string) *Feed {
	f := &Feed{w: w, bot: botID}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		f.lost = true
		return f
	}
	if w.feeds == nil {
		w.feeds = make(map[string]map[*Feed]struct{})
	}
	fs := w.feeds[botID]
	if fs == nil {
		fs = make(map[*Feed]struct{})
		w.feeds[botID] = fs
	}
	fs[f] = struct{}{}
	return f
}

// Close ends the feed; it is handed nothing after.
func (f *Feed) Close() {
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if fs := w.feeds[f.bot]; fs != nil {
		delete(fs, f)
		if len(fs) == 0 {
			delete(w.feeds, f.bot)
		}
	}
	f.pending, f.bytes, f.lost = nil, 0, true
}

// Take returns the events handed to the feed since the last Take, in seq
// order, and the highest seq any commit announced for the bot so far; lost
// reports that something was not handed in between (the feed's bounds, a
// wake from elsewhere, a commit that changed the bot's user), so that the
// events cannot stand in for the log. A reader whose cursor is at or past
// woken after the events it took has everything committed so far.
//
// It implements group.EventFeed.
func (f *Feed) Take() (evs []Committed, woken int64, lost bool) {
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	evs, woken, lost = f.pending, f.woken, f.lost
	f.pending, f.bytes, f.lost = nil, 0, w.closed
	return evs, woken, lost
}

// committedSize is about what c holds in memory.
func committedSize(c Committed) int {
	e := c.Event
	n := 128 + len(e.BotID) + len(e.Type) + len(e.GroupID) + len(e.OperatorID) + len(e.Data)
	if m := c.Message; m != nil {
		p := m.Payload
		n += 256 + len(m.GroupID) + len(m.Sender) + len(p.SearchableContent) + len(p.PushContent) +
			len(p.PushData) + len(p.Content) + len(p.Data) + len(p.RemoteMediaURL) + len(p.Extra)
		for _, t := range p.MentionedTarget {
			n += 16 + len(t)
		}
	}
	return n
}

// Hand gives each bot's feeds the events one commit appended for it, in seq
// order and all of them (a commit's events of one bot are contiguous), and
// marks stale the feeds of the bots in changed (the commit wrote their user:
// a reader renders events with it, and re-reads it with the log). A store
// calls it after the commit and before Wake.
func (w *Waiters) Hand(evs map[string][]Committed, changed map[string]bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.feeds) == 0 {
		return
	}
	for bot := range changed {
		for f := range w.feeds[bot] {
			f.drop()
		}
	}
	for bot, cs := range evs {
		if len(cs) == 0 {
			continue
		}
		for f := range w.feeds[bot] {
			f.woken = max(f.woken, cs[len(cs)-1].Event.Seq)
			if f.lost {
				continue
			}
			for _, c := range cs {
				f.bytes += committedSize(c)
				f.pending = append(f.pending, c)
			}
			if len(f.pending) > MaxFeedEvents || f.bytes > MaxFeedBytes {
				f.drop()
			}
		}
	}
}

// drop empties the feed and marks it lost; w.mu is held.
func (f *Feed) drop() {
	f.pending, f.bytes, f.lost = nil, 0, true
}

// announce records a wake of bot for events up to seq: a feed not handed
// them reads the log; w.mu is held.
func (w *Waiters) announce(bot string, seq int64) {
	for f := range w.feeds[bot] {
		f.woken = max(f.woken, seq)
	}
}

// DropFeeds marks every feed lost: the store cannot tell what changed (a
// commit of another process on the same file).
func (w *Waiters) DropFeeds() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dropFeeds()
}

// dropFeeds marks every feed lost (a wake that names no seq); w.mu is held.
func (w *Waiters) dropFeeds() {
	for _, fs := range w.feeds {
		for f := range fs {
			f.drop()
		}
	}
}
