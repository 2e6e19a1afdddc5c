package sqlite

import "sync"

// notifier wakes WaitEvents callers. Each bot has at most one channel, shared
// by its waiters and closed (then forgotten) by the next commit that appends
// an event for that bot.
type notifier struct {
	mu      sync.Mutex
	waiting map[string]chan struct{}
	closed  bool
}

func (n *notifier) init() { n.waiting = make(map[string]chan struct{}) }

// wait returns the channel the next wake of botID closes.
func (n *notifier) wait(botID string) <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	ch, ok := n.waiting[botID]
	if !ok {
		ch = make(chan struct{})
		n.waiting[botID] = ch
	}
	return ch
}

// wake closes the channels of the given bots. The writer calls it after the
// commit and before answering the Updates, so that a channel obtained before
// an Update returned is closed by the time it returns.
func (n *notifier) wake(botIDs map[string]struct{}) {
	if len(botIDs) == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for id := range botIDs {
		if ch, ok := n.waiting[id]; ok {
			close(ch)
			delete(n.waiting, id)
		}
	}
}

// close wakes every waiter for good: the store is closing.
func (n *notifier) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	for id, ch := range n.waiting {
		close(ch)
		delete(n.waiting, id)
	}
}
