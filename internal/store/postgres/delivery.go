package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/qun-chat/qun/internal/group"
)

// The outbound streams' state (delivery.Store). Each method is one Update or
// one View. A lease is taken and progress recorded by one conditional UPDATE
// each, so that two nodes never both hold a stream.

const deliveryStreamColumns = `bot_id, kind, url, intents, delivered_seq, epoch, last_error, next_attempt,
	dropped, lease_node, lease_until, updated_at`

func deliveryStreamFields(s *group.DeliveryStream) []any {
	return []any{&s.BotID, &s.Kind, &s.URL, &s.Intents, &s.Delivered, &s.Epoch, &s.LastError, msec{&s.NextAttempt},
		&s.Dropped, &s.LeaseNode, msec{&s.LeaseUntil}, msec{&s.UpdatedAt}}
}

const deliveryAttemptColumns = `bot_id, kind, seq, item_id, type, status, error, at, duration_ms`

func deliveryAttemptFields(a *group.DeliveryAttempt) []any {
	return []any{&a.BotID, &a.Kind, &a.Seq, &a.ItemID, &a.Type, &a.Status, &a.Error, msec{&a.At}, durationMillis{&a.Duration}}
}

const deliveryDropColumns = `bot_id, kind, from_seq, to_seq, item_id, type, error, at`

func deliveryDropFields(d *group.DeliveryDrop) []any {
	return []any{&d.BotID, &d.Kind, &d.FromSeq, &d.ToSeq, &d.ItemID, &d.Type, &d.Error, msec{&d.At}}
}

// durationMillis stores a time.Duration as bigint milliseconds.
type durationMillis struct{ d *time.Duration }

// ScanInt64 implements pgtype.Int64Scanner.
func (m durationMillis) ScanInt64(v pgtype.Int8) error {
	if !v.Valid {
		return fmt.Errorf("duration column is NULL")
	}
	*m.d = time.Duration(v.Int64) * time.Millisecond
	return nil
}

// Int64Value implements pgtype.Int64Valuer.
func (m durationMillis) Int64Value() (pgtype.Int8, error) {
	return pgtype.Int8{Int64: m.d.Milliseconds(), Valid: true}, nil
}

var (
	selectDeliveryStream  = keyed(`SELECT `+deliveryStreamColumns+` FROM delivery_streams WHERE bot_id = $1 AND kind = $2`, 0)
	selectDeliveryStreams = `SELECT ` + deliveryStreamColumns + ` FROM delivery_streams
		WHERE url <> '' ORDER BY bot_id, kind`
	upsertDeliveryStream = `INSERT INTO delivery_streams (` + deliveryStreamColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (bot_id, kind) DO UPDATE SET url = excluded.url, intents = excluded.intents,
			delivered_seq = excluded.delivered_seq, epoch = excluded.epoch, last_error = excluded.last_error,
			next_attempt = excluded.next_attempt, dropped = excluded.dropped, lease_node = excluded.lease_node,
			lease_until = excluded.lease_until, updated_at = excluded.updated_at`
	takeDeliveryLease = `UPDATE delivery_streams SET lease_node = $3, lease_until = $5
		WHERE bot_id = $1 AND kind = $2 AND (lease_node = $3 OR lease_node = '' OR lease_until <= $4)`
	renewDeliveryLeases = `UPDATE delivery_streams SET lease_until = $2 WHERE lease_node = $1
		RETURNING ` + deliveryStreamColumns
	releaseDeliveryLease = `UPDATE delivery_streams SET lease_node = '', lease_until = $4
		WHERE bot_id = $1 AND kind = $2 AND lease_node = $3`
	recordDelivery = `UPDATE delivery_streams SET delivered_seq = $5, last_error = $6,
			next_attempt = $7, dropped = dropped + $8, lease_until = $9, updated_at = $10
		WHERE bot_id = $1 AND kind = $2 AND lease_node = $3 AND epoch = $4`
	redeliver = `UPDATE delivery_streams SET delivered_seq = $3, epoch = epoch + 1, last_error = '',
			next_attempt = $5, updated_at = $4
		WHERE bot_id = $1 AND kind = $2 AND url <> ''`

	insertDeliveryAttempts = `INSERT INTO delivery_attempts (` + deliveryAttemptColumns + `)
		SELECT $1, $2, * FROM unnest($3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::bigint[], $9::bigint[])`
	// Everything but the newest $3 rows of the stream.
	trimDeliveryAttempts = `DELETE FROM delivery_attempts WHERE bot_id = $1 AND kind = $2
		AND id <= (SELECT id FROM delivery_attempts WHERE bot_id = $1 AND kind = $2 ORDER BY id DESC LIMIT 1 OFFSET $3)`
	selectDeliveryAttempts = `SELECT ` + deliveryAttemptColumns + ` FROM delivery_attempts
		WHERE bot_id = $1 AND kind = $2 ORDER BY id DESC LIMIT $3`

	insertDeliveryDrop = `INSERT INTO delivery_drops (` + deliveryDropColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	trimDeliveryDrops  = `DELETE FROM delivery_drops WHERE bot_id = $1 AND kind = $2
		AND id <= (SELECT id FROM delivery_drops WHERE bot_id = $1 AND kind = $2 ORDER BY id DESC LIMIT 1 OFFSET $3)`
	selectDeliveryDrops = `SELECT ` + deliveryDropColumns + ` FROM delivery_drops
		WHERE bot_id = $1 AND kind = $2 ORDER BY id DESC LIMIT $3`
)

// deliveryStream reads a stream in a transaction, locking it in an Update.
func (r *reader) deliveryStream(botID string, kind group.DeliveryKind) (group.DeliveryStream, error) {
	return getKeyed(r.c, deliveryStreamFields, fmt.Sprintf("%s stream of bot %q", kind, botID), selectDeliveryStream, botID, botID, string(kind))
}

// SetDeliveryTarget implements delivery.Store.
func (s *Store) SetDeliveryTarget(ctx context.Context, botID string, kind group.DeliveryKind, url string, intents int64, now time.Time) (group.DeliveryStream, error) {
	var st group.DeliveryStream
	err := s.Update(ctx, func(tx group.Tx) error {
		w := tx.(*writer)
		old, err := w.deliveryStream(botID, kind)
		if err != nil && !group.IsNotExist(err) {
			return err
		}
		st = old
		if err != nil || old.URL == "" {
			last, err := w.LastEventSeq(botID)
			if err != nil {
				return err
			}
			st = group.DeliveryStream{BotID: botID, Kind: kind, Delivered: last, Epoch: old.Epoch, Dropped: old.Dropped}
		}
		st.URL, st.Intents, st.Epoch, st.LastError, st.NextAttempt, st.UpdatedAt = url, intents, st.Epoch+1, "", time.Time{}, now
		_, err = w.c.exec(fmt.Sprintf("set %s stream of bot %q", kind, botID), upsertDeliveryStream, deliveryStreamFields(&st)...)
		return err
	})
	return st, err
}

// DeliveryStream implements delivery.Store.
func (s *Store) DeliveryStream(ctx context.Context, botID string, kind group.DeliveryKind) (group.DeliveryStream, error) {
	var st group.DeliveryStream
	err := s.View(ctx, func(r group.Reader) (err error) {
		st, err = r.(*reader).deliveryStream(botID, kind)
		return err
	})
	return st, err
}

// DeliveryStreams implements delivery.Store.
func (s *Store) DeliveryStreams(ctx context.Context) ([]group.DeliveryStream, error) {
	var sts []group.DeliveryStream
	err := s.View(ctx, func(r group.Reader) (err error) {
		sts, err = getAll(r.(*reader).c, deliveryStreamFields, "delivery streams", selectDeliveryStreams)
		return err
	})
	return sts, err
}

// TakeDeliveryLease implements delivery.Store.
func (s *Store) TakeDeliveryLease(ctx context.Context, botID string, kind group.DeliveryKind, node string, now, until time.Time) (group.DeliveryStream, bool, error) {
	var st group.DeliveryStream
	var took bool
	err := s.Update(ctx, func(tx group.Tx) error {
		w := tx.(*writer)
		tag, err := w.c.exec(fmt.Sprintf("take lease of %s stream of bot %q", kind, botID), takeDeliveryLease,
			botID, string(kind), node, millis(now), millis(until))
		if err != nil {
			return err
		}
		took = tag.RowsAffected() == 1
		st, err = w.deliveryStream(botID, kind)
		return err
	})
	return st, took, err
}

// RenewDeliveryLeases implements delivery.Store.
func (s *Store) RenewDeliveryLeases(ctx context.Context, node string, until time.Time) ([]group.DeliveryStream, error) {
	var sts []group.DeliveryStream
	err := s.Update(ctx, func(tx group.Tx) (err error) {
		sts, err = getAll(tx.(*writer).c, deliveryStreamFields, "renewed delivery streams", renewDeliveryLeases, node, millis(until))
		return err
	})
	return sts, err
}

// ReleaseDeliveryLease implements delivery.Store.
func (s *Store) ReleaseDeliveryLease(ctx context.Context, botID string, kind group.DeliveryKind, node string) error {
	return s.Update(ctx, func(tx group.Tx) error {
		_, err := tx.(*writer).c.exec(fmt.Sprintf("release lease of %s stream of bot %q", kind, botID), releaseDeliveryLease,
			botID, string(kind), node, millis(time.Time{}))
		return err
	})
}

// RecordDelivery implements delivery.Store. The attempts go in as one
// statement: a batch of a fast receiver holds a hundred of them.
func (s *Store) RecordDelivery(ctx context.Context, p group.DeliveryProgress, attempts []group.DeliveryAttempt, drops []group.DeliveryDrop, keep int) (bool, error) {
	var ok bool
	err := s.Update(ctx, func(tx group.Tx) error {
		ok = false
		c := tx.(*writer).c
		what := fmt.Sprintf("record %s delivery of bot %q", p.Kind, p.BotID)
		var dropped int64
		for _, d := range drops {
			dropped += d.ToSeq - d.FromSeq + 1
		}
		tag, err := c.exec(what, recordDelivery, p.BotID, string(p.Kind), p.Node, p.Epoch, p.Delivered, p.LastError,
			millis(p.NextAttempt), dropped, millis(p.LeaseUntil), millis(p.UpdatedAt))
		if err != nil || tag.RowsAffected() == 0 {
			return err // the lease or the epoch moved on: nothing is recorded
		}
		ok = true
		if len(attempts) > 0 {
			n := len(attempts)
			seqs, ids, types, statuses, errs, ats, durs := make([]int64, n), make([]string, n), make([]string, n),
				make([]int64, n), make([]string, n), make([]int64, n), make([]int64, n)
			for i, a := range attempts {
				seqs[i], ids[i], types[i], statuses[i], errs[i], ats[i], durs[i] =
					a.Seq, a.ItemID, a.Type, int64(a.Status), a.Error, millis(a.At), a.Duration.Milliseconds()
			}
			if _, err := c.exec(what, insertDeliveryAttempts, p.BotID, string(p.Kind), seqs, ids, types, statuses, errs, ats, durs); err != nil {
				return err
			}
			if _, err := c.exec(what, trimDeliveryAttempts, p.BotID, string(p.Kind), max(keep, 0)); err != nil {
				return err
			}
		}
		for _, d := range drops {
			if _, err := c.exec(what, insertDeliveryDrop, deliveryDropFields(&d)...); err != nil {
				return err
			}
		}
		if len(drops) > 0 {
			if _, err := c.exec(what, trimDeliveryDrops, p.BotID, string(p.Kind), max(keep, 0)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return ok, nil
}

// DeliveryAttempts implements delivery.Store.
func (s *Store) DeliveryAttempts(ctx context.Context, botID string, kind group.DeliveryKind, limit int) ([]group.DeliveryAttempt, error) {
	if limit < 1 {
		return nil, nil
	}
	var as []group.DeliveryAttempt
	err := s.View(ctx, func(r group.Reader) (err error) {
		as, err = getAll(r.(*reader).c, deliveryAttemptFields, "delivery attempts", selectDeliveryAttempts, botID, string(kind), limit)
		return err
	})
	return as, err
}

// DeliveryDrops implements delivery.Store.
func (s *Store) DeliveryDrops(ctx context.Context, botID string, kind group.DeliveryKind, limit int) ([]group.DeliveryDrop, error) {
	if limit < 1 {
		return nil, nil
	}
	var ds []group.DeliveryDrop
	err := s.View(ctx, func(r group.Reader) (err error) {
		ds, err = getAll(r.(*reader).c, deliveryDropFields, "delivery drops", selectDeliveryDrops, botID, string(kind), limit)
		return err
	})
	return ds, err
}

// Redeliver implements delivery.Store.
func (s *Store) Redeliver(ctx context.Context, botID string, kind group.DeliveryKind, fromSeq int64, now time.Time) (group.DeliveryStream, error) {
	var st group.DeliveryStream
	err := s.Update(ctx, func(tx group.Tx) error {
		w := tx.(*writer)
		tag, err := w.c.exec(fmt.Sprintf("redeliver %s stream of bot %q", kind, botID), redeliver,
			botID, string(kind), max(fromSeq, 1)-1, millis(now), millis(time.Time{}))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return group.Errorf(group.ENotExist, "bot %q has no %s stream that is on", botID, kind)
		}
		st, err = w.deliveryStream(botID, kind)
		return err
	})
	return st, err
}
