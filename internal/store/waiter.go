package store

import "sync"

// Waiters is the registry behind a store's WaitEvents. Each bot that is
// waited for has one channel, shared by its waiters and closed (then replaced
// on the next wait) by the next wake of that bot.
//
// A store on its own file is woken by its own commits only. A shared store is
// woken from three places: its own commits, with the seqs they appended;
// other nodes' notifications, with the seq each announces; and a poller, when
// a bot's last seq in the database is past every seq woken for, which covers
// notifications that never came. Each bot's state then records the highest
// seq a wake was issued for, so one commit wakes a bot once however many of
// them announce it: a waiter that came after that wake (and may have read the
// event) is not woken for it again. A notification of another node's commit
// that arrives after a waiter that came after the commit still wakes it:
// nothing tells the two orders apart, and an extra wake only costs the
// gateway an empty read.
//
// Waiters is safe for concurrent use.
type Waiters struct {
	mu     sync.Mutex
	bots   map[string]*botWait
	closed bool
	// polled is set for a shared store: a bot's state outlives its wake
	// until the poller finds it idle (see Polled).
	polled bool
	// baseline asks the poller to read now: a bot it has no seq for is
	// waited for. Without a baseline the poller cannot wake that bot.
	baseline chan struct{}
	// feeds are the bots' Feeds, by bot.
	feeds map[string]map[*Feed]struct{}
}

type botWait struct {
	ch chan struct{} // closed by the next wake; nil when nobody waits
	// woken is the highest seq of the bot a wake was issued for (0: none):
	// a second wake for it, from another source, is dropped.
	woken int64
	// polled is the seq the poller read last; known is false until it has.
	polled int64
	known  bool
	// idle counts the polls since the bot last had a waiter; the state is
	// kept over one poll so that a gateway that re-waits right after a wake
	// keeps it.
	idle int
}

// NewWaiters returns the registry of a store whose own commits are its only
// wakes: a bot's state is forgotten once it is woken.
func NewWaiters() *Waiters {
	return &Waiters{bots: make(map[string]*botWait)}
}

// NewPolledWaiters returns the registry of a store that other nodes'
// notifications and a poller wake too: a bot's state, with the highest seq
// woken for, is kept until Polled finds it idle, and a bot newly waited for
// asks the poller (Baseline) for its seq.
func NewPolledWaiters() *Waiters {
	return &Waiters{bots: make(map[string]*botWait), polled: true, baseline: make(chan struct{}, 1)}
}

// Wait returns the channel the next wake of botID closes. After Close it
// returns a closed channel.
func (w *Waiters) Wait(botID string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	b := w.bots[botID]
	if b == nil {
		b = &botWait{}
		w.bots[botID] = b
		if w.polled {
			select {
			case w.baseline <- struct{}{}:
			default: // a read is asked for already
			}
		}
	}
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	b.idle = 0
	return b.ch
}

// Wake wakes the waiters of each bot for events up to its seq. A store
// calls it after its commit and before the Update returns, so that a channel
// obtained before an Update returned is closed by the time it returns.
func (w *Waiters) Wake(seqs map[string]int64) {
	if len(seqs) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for bot, seq := range seqs {
		w.wakeLocked(bot, seq)
	}
}

func (w *Waiters) wakeLocked(botID string, seq int64) {
	w.announce(botID, seq)
	b := w.bots[botID]
	if b == nil || seq <= b.woken {
		return // nobody waits, or this wake was issued already
	}
	if !w.polled {
		if b.ch != nil {
			close(b.ch)
		}
		delete(w.bots, botID)
		return
	}
	b.woken = seq
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}

// WakeAll wakes every waiter: a shared store's listener reconnected and may
// have missed notifications while it was away.
func (w *Waiters) WakeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dropFeeds()
	for _, b := range w.bots {
		if b.ch != nil {
			close(b.ch)
			b.ch = nil
		}
	}
}

// Baseline is signalled when a bot is newly waited for, so that the poller
// reads its seq at once; it is nil for a registry of NewWaiters.
func (w *Waiters) Baseline() <-chan struct{} { return w.baseline }

// Tracked returns the bots the poller reads the seqs of.
func (w *Waiters) Tracked() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	bots := make([]string, 0, len(w.bots))
	for bot := range w.bots {
		bots = append(bots, bot)
	}
	return bots
}

// Polled applies the last seqs the poller read for bots (a bot missing from
// seqs has none): a seq past both the previous read and the last wake wakes
// the bot's waiters; the first read of a bot only sets its baseline. Bots idle
// for more than one poll are forgotten.
func (w *Waiters) Polled(bots []string, seqs map[string]int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, bot := range bots {
		b := w.bots[bot]
		if b == nil {
			continue
		}
		seq := seqs[bot]
		if b.known && seq > max(b.polled, b.woken) {
			w.wakeLocked(bot, seq)
		}
		b.polled, b.known = seq, true
		if b.ch == nil {
			if b.idle++; b.idle > 1 {
				delete(w.bots, bot)
			}
		}
	}
}

// Close wakes every waiter for good: the store is closing.
func (w *Waiters) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.dropFeeds()
	for bot, b := range w.bots {
		if b.ch != nil {
			close(b.ch)
		}
		delete(w.bots, bot)
	}
}
