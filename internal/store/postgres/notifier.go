package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

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
	s.events.Wake(map[string]int64{bot: seq})
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
		case <-s.events.Baseline():
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
	bots := s.events.Tracked()
	if len(bots) == 0 {
		return nil
	}
	seqs, err := s.eventSeqs(ctx, bots)
	if err != nil {
		return err
	}
	s.events.Polled(bots, seqs)
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
