package postgres

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// notifier wakes this node's WaitEvents callers. Each bot that is waited for
// has one channel, shared by its waiters and closed (then replaced on the
// next wait) by the next wake of that bot. Wakes come from three places:
//
//   - Update, after its own commit, with the seqs it appended;
//   - the listener, for other nodes' commits, with the seq in the notification;
//   - the poller, when a bot's last seq in the database is past every seq
//     woken for, which covers notifications that never came.
//
// Each bot's state records the highest seq a wake was issued for, so one
// commit wakes a bot once however many of them announce it: a waiter that
// came after that wake (and may have read the event) is not woken for it
// again. A notification of another node's commit that arrives after a waiter
// that came after the commit still wakes it: nothing tells the two orders
// apart, and an extra wake only costs the gateway an empty read.
type notifier struct {
	mu     sync.Mutex
	bots   map[string]*botWait
	closed bool
	// baseline asks the poller to read now: a bot it has no seq for is
	// waited for. Without a baseline the poller cannot wake that bot.
	baseline chan struct{}
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

func newNotifier() *notifier {
	return &notifier{bots: make(map[string]*botWait), baseline: make(chan struct{}, 1)}
}

// wait returns the channel the next wake of botID closes.
func (n *notifier) wait(botID string) <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	b := n.bots[botID]
	if b == nil {
		b = &botWait{}
		n.bots[botID] = b
		select {
		case n.baseline <- struct{}{}:
		default: // a read is asked for already
		}
	}
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	b.idle = 0
	return b.ch
}

// wake wakes the waiters of each bot for events up to its seq.
func (n *notifier) wake(seqs map[string]int64) {
	if len(seqs) == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for bot, seq := range seqs {
		n.wakeLocked(bot, seq)
	}
}

func (n *notifier) wakeLocked(botID string, seq int64) {
	b := n.bots[botID]
	if b == nil || seq <= b.woken {
		return // nobody waits, or this wake was issued already
	}
	b.woken = seq
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}

// wakeAll wakes every waiter: the listener reconnected and may have missed
// notifications while it was away.
func (n *notifier) wakeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, b := range n.bots {
		if b.ch != nil {
			close(b.ch)
			b.ch = nil
		}
	}
}

// tracked returns the bots the poller reads the seqs of.
func (n *notifier) tracked() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	bots := make([]string, 0, len(n.bots))
	for bot := range n.bots {
		bots = append(bots, bot)
	}
	return bots
}

// polled applies the last seqs the poller read for bots (a bot missing from
// seqs has none): a seq past both the previous read and the last wake wakes
// the bot's waiters; the first read of a bot only sets its baseline. Bots idle
// for more than one poll are forgotten.
func (n *notifier) polled(bots []string, seqs map[string]int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, bot := range bots {
		b := n.bots[bot]
		if b == nil {
			continue
		}
		seq := seqs[bot]
		if b.known && seq > max(b.polled, b.woken) {
			n.wakeLocked(bot, seq)
		}
		b.polled, b.known = seq, true
		if b.ch == nil {
			if b.idle++; b.idle > 1 {
				delete(n.bots, bot)
			}
		}
	}
}

// close wakes every waiter for good: the store is closing.
func (n *notifier) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	for bot, b := range n.bots {
		if b.ch != nil {
			close(b.ch)
		}
		delete(n.bots, bot)
	}
}

// notified handles a notification from the listener. One from this Store's
// own pool is dropped (see Store.ownPIDs); if its Update did not wake its
// waiters after all (the commit's acknowledgement was lost), the poll does.
func (s *Store) notified(nt *pgconn.Notification) {
	if _, own := s.ownPIDs.Load(nt.PID); own {
		return
	}
	seqText, bot, ok := strings.Cut(nt.Payload, " ")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil {
		s.opts.logger.Warn("postgres: ignoring a malformed notification", "channel", nt.Channel, "payload", nt.Payload)
		return
	}
	s.events.wake(map[string]int64{bot: seq})
}

// selectEventSeqs reads the last seqs of the bots waited for.
const selectEventSeqs = `SELECT bot_id, seq FROM event_seqs WHERE bot_id = ANY($1)`

// poll runs pollOnce every poll interval, and at once when a new bot is
// waited for, until ctx ends: the safety net under LISTEN/NOTIFY.
func (s *Store) poll(ctx context.Context) {
	t := time.NewTicker(s.opts.pollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.events.baseline:
		}
		if err := s.pollOnce(ctx); err != nil && ctx.Err() == nil {
			s.opts.logger.Warn("postgres: polling event seqs", "err", err)
		}
	}
}

// pollOnce reads the last event seqs of the bots waited for and wakes the
// waiters of those whose seq has moved since the previous read; the first
// read of a bot only takes its baseline.
func (s *Store) pollOnce(ctx context.Context) error {
	bots := s.events.tracked()
	if len(bots) == 0 {
		return nil
	}
	seqs, err := s.eventSeqs(ctx, bots)
	if err != nil {
		return err
	}
	s.events.polled(bots, seqs)
	return nil
}

func (s *Store) eventSeqs(ctx context.Context, bots []string) (map[string]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.pollInterval)
	defer cancel()
	rows, err := s.pool.Query(ctx, selectEventSeqs, bots)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	seqs := make(map[string]int64, len(bots))
	for rows.Next() {
		var bot string
		var seq int64
		if err := rows.Scan(&bot, &seq); err != nil {
			return nil, err
		}
		seqs[bot] = seq
	}
	return seqs, rows.Err()
}
