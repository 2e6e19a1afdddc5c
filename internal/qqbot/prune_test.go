package qqbot

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// TestPruneBacklog: one Prune clears a backlog larger than a batch, in
// several Updates, and keeps what is not old yet; bot messages go once no
// send limit counts them.
func TestPruneBacklog(t *testing.T) {
	pruned := &prunedRows{}
	e := newEnv(t, func(_ *group.Config, o *Options) { o.EventRetention = time.Hour; o.Observer = pruned })
	e.stop() // Run's own passes would race with the one under test
	e.clock.freeze()
	now := e.srv.now()
	period := e.svc.Config().ProactivePeriod
	const backlog = DefaultPruneBatch + 5
	err := e.store.Update(e.ctx(), func(tx group.Tx) error {
		for i := range backlog + 1 {
			created := now.Add(-2 * time.Hour) // past EventRetention
			if i == backlog {
				created = now // the one to keep
			}
			if _, err := tx.AppendEvent(group.Event{BotID: "bot1", Type: group.EventAddRobot, GroupID: "g", CreatedAt: created}); err != nil {
				return err
			}
		}
		for _, created := range []time.Time{now.Add(-period - time.Minute), now.Add(-period + time.Minute)} {
			m := group.BotMessage{BotID: "bot1", GroupID: "g", MessageUID: 1, MsgSeq: 1, CreatedAt: created}
			if err := tx.AppendBotMessage(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	before := pruned.rows.Load()
	if err := e.srv.Prune(e.ctx()); err != nil {
		t.Fatal(err)
	}
	if n := pruned.rows.Load() - before; n != backlog+1 { // the old events and one bot message
		t.Errorf("the observer heard of %d pruned rows, want %d", n, backlog+1)
	}
	err = e.store.View(e.ctx(), func(r group.Reader) error {
		events, err := r.Events("bot1", 0, backlog+1)
		if err != nil {
			return err
		}
		if len(events) != 1 || events[0].Seq != backlog+1 {
			t.Errorf("%d events left after Prune, want only the newest (seq %d)", len(events), backlog+1)
		}
		n, err := r.CountProactive("bot1", "g", time.Time{})
		if err != nil {
			return err
		}
		if n != 1 {
			t.Errorf("%d proactive messages left after Prune, want the one inside the proactive period", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// prunedRows counts the rows the door reports pruned.
type prunedRows struct {
	nopObserver
	rows atomic.Int64
}

func (p *prunedRows) Pruned(rows int) { p.rows.Add(int64(rows)) }
