package store

import "testing"

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// A store's own commits are its only wakes: each wake closes the bot's
// channel and the next wait gets a fresh one, whatever the seqs.
func TestWaitersOwnCommits(t *testing.T) {
	w := NewWaiters()
	a, b := w.Wait("a"), w.Wait("b")
	if a != w.Wait("a") {
		t.Error("two waits of one bot got different channels")
	}
	w.Wake(map[string]int64{"a": 5})
	if !closed(a) || closed(b) {
		t.Fatalf("after a wake of a: a closed %v, b closed %v; want true, false", closed(a), closed(b))
	}
	again := w.Wait("a")
	if closed(again) {
		t.Fatal("a wait after the wake is closed already")
	}
	w.Wake(map[string]int64{"a": 6})
	if !closed(again) {
		t.Error("the next commit did not wake the new waiter")
	}
	if got := w.Tracked(); len(got) != 1 || got[0] != "b" {
		t.Errorf("tracked %v after a's wakes, want only b: a woken bot is forgotten", got)
	}
	if w.Baseline() != nil {
		t.Error("a registry without a poller asks for baselines")
	}
	w.Close()
	if !closed(b) || !closed(w.Wait("c")) {
		t.Error("Close left a waiter asleep, or a wait after Close blocks")
	}
}

// A shared store's wakes come from several sources: one seq wakes a bot
// once, the poller's first read only takes the baseline, and an idle bot is
// forgotten after a poll.
func TestPolledWaiters(t *testing.T) {
	w := NewPolledWaiters()
	a := w.Wait("a")
	select {
	case <-w.Baseline():
	default:
		t.Fatal("a new bot did not ask the poller for a baseline")
	}
	w.Polled([]string{"a"}, map[string]int64{"a": 3})
	if closed(a) {
		t.Fatal("the poll that took the baseline woke the waiter")
	}
	w.Wake(map[string]int64{"a": 4}) // this node's commit
	if !closed(a) {
		t.Fatal("a commit did not wake the waiter")
	}
	later := w.Wait("a")
	w.Wake(map[string]int64{"a": 4})                  // the same commit, announced again
	w.Polled([]string{"a"}, map[string]int64{"a": 4}) // and polled
	if closed(later) {
		t.Fatal("a waiter that came after the wake was woken again for the same seq")
	}
	w.Polled([]string{"a"}, map[string]int64{"a": 5}) // a notification that never came
	if !closed(later) {
		t.Fatal("the poller did not wake the waiter for a new seq")
	}
	w.Polled([]string{"a"}, map[string]int64{"a": 5})
	w.Polled([]string{"a"}, map[string]int64{"a": 5})
	if got := w.Tracked(); len(got) != 0 {
		t.Errorf("tracked %v after two idle polls, want none", got)
	}
	b := w.Wait("b")
	w.WakeAll()
	if !closed(b) {
		t.Error("WakeAll left a waiter asleep")
	}
}
