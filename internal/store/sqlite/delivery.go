package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// The outbound streams' state (delivery.Store). Each method is one Update or
// one View; the statements run on the transactions' own connections.

func deliveryStreamColumns(s *group.DeliveryStream) columns {
	return columns{
		{"bot_id", &s.BotID},
		{"kind", &s.Kind},
		{"url", &s.URL},
		{"intents", &s.Intents},
		{"delivered_seq", &s.Delivered},
		{"epoch", &s.Epoch},
		{"last_error", &s.LastError},
		{"next_attempt", millis{&s.NextAttempt}},
		{"dropped", &s.Dropped},
		{"lease_node", &s.LeaseNode},
		{"lease_until", millis{&s.LeaseUntil}},
		{"updated_at", millis{&s.UpdatedAt}},
	}
}

func deliveryAttemptColumns(a *group.DeliveryAttempt) columns {
	return columns{
		{"bot_id", &a.BotID},
		{"kind", &a.Kind},
		{"seq", &a.Seq},
		{"item_id", &a.ItemID},
		{"type", &a.Type},
		{"status", &a.Status},
		{"error", &a.Error},
		{"at", millis{&a.At}},
		{"duration_ms", durationMillis{&a.Duration}},
	}
}

func deliveryDropColumns(d *group.DeliveryDrop) columns {
	return columns{
		{"bot_id", &d.BotID},
		{"kind", &d.Kind},
		{"from_seq", &d.FromSeq},
		{"to_seq", &d.ToSeq},
		{"item_id", &d.ItemID},
		{"type", &d.Type},
		{"error", &d.Error},
		{"at", millis{&d.At}},
	}
}

// durationMillis stores a time.Duration as whole milliseconds.
type durationMillis struct{ d *time.Duration }

// Scan implements sql.Scanner.
func (m durationMillis) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("duration column holds %T, not an integer", src)
	}
	*m.d = time.Duration(v) * time.Millisecond
	return nil
}

// Value implements driver.Valuer.
func (m durationMillis) Value() (driver.Value, error) { return m.d.Milliseconds(), nil }

// zeroMillis is the zero time as the store keeps it.
var zeroMillis = time.Time{}.UnixMilli()

var (
	deliveryStreamCols  = deliveryStreamColumns(new(group.DeliveryStream))
	deliveryAttemptCols = deliveryAttemptColumns(new(group.DeliveryAttempt))
	deliveryDropCols    = deliveryDropColumns(new(group.DeliveryDrop))

	selectDeliveryStream  = readSQL(`SELECT ` + deliveryStreamCols.list() + ` FROM delivery_streams WHERE bot_id = ? AND kind = ?`)
	selectDeliveryStreams = readSQL(`SELECT ` + deliveryStreamCols.list() + ` FROM delivery_streams
		WHERE url <> '' ORDER BY bot_id, kind`)
	upsertDeliveryStream = writeSQL(`INSERT INTO delivery_streams (` + deliveryStreamCols.list() + `)
		VALUES (` + deliveryStreamCols.marks() + `)
		ON CONFLICT (bot_id, kind) DO UPDATE SET ` + deliveryStreamCols.except("bot_id", "kind").assign())
	takeDeliveryLease = writeSQL(`UPDATE delivery_streams SET lease_node = ?3, lease_until = ?5
		WHERE bot_id = ?1 AND kind = ?2 AND (lease_node = ?3 OR lease_node = '' OR lease_until <= ?4)`)
	renewDeliveryLeases = writeSQL(`UPDATE delivery_streams SET lease_until = ?2 WHERE lease_node = ?1
		RETURNING ` + deliveryStreamCols.list())
	releaseDeliveryLease = writeSQL(`UPDATE delivery_streams SET lease_node = '', lease_until = ?4
		WHERE bot_id = ?1 AND kind = ?2 AND lease_node = ?3`)
	recordDelivery = writeSQL(`UPDATE delivery_streams SET delivered_seq = ?5, last_error = ?6,
			next_attempt = ?7, dropped = dropped + ?8, lease_until = ?9, updated_at = ?10
		WHERE bot_id = ?1 AND kind = ?2 AND lease_node = ?3 AND epoch = ?4`)
	redeliver = writeSQL(`UPDATE delivery_streams SET delivered_seq = ?3, epoch = epoch + 1, last_error = '',
			next_attempt = ?5, updated_at = ?4
		WHERE bot_id = ?1 AND kind = ?2 AND url <> ''`)

	insertDeliveryAttempt = writeSQL(`INSERT INTO delivery_attempts (` + deliveryAttemptCols.list() + `)
		VALUES (` + deliveryAttemptCols.marks() + `)`)
	// Everything but the newest ?3 rows of the stream: the id at offset ?3
	// from the newest and all older ones.
	trimDeliveryAttempts = writeSQL(`DELETE FROM delivery_attempts WHERE bot_id = ?1 AND kind = ?2
		AND id <= (SELECT id FROM delivery_attempts WHERE bot_id = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1 OFFSET ?3)`)
	selectDeliveryAttempts = readSQL(`SELECT ` + deliveryAttemptCols.list() + ` FROM delivery_attempts
		WHERE bot_id = ? AND kind = ? ORDER BY id DESC LIMIT ?`)

	insertDeliveryDrop = writeSQL(`INSERT INTO delivery_drops (` + deliveryDropCols.list() + `)
		VALUES (` + deliveryDropCols.marks() + `)`)
	trimDeliveryDrops = writeSQL(`DELETE FROM delivery_drops WHERE bot_id = ?1 AND kind = ?2
		AND id <= (SELECT id FROM delivery_drops WHERE bot_id = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1 OFFSET ?3)`)
	selectDeliveryDrops = readSQL(`SELECT ` + deliveryDropCols.list() + ` FROM delivery_drops
		WHERE bot_id = ? AND kind = ? ORDER BY id DESC LIMIT ?`)
)

// deliveryStream reads a stream in a transaction.
func (c *dbtx) deliveryStream(botID string, kind group.DeliveryKind) (group.DeliveryStream, error) {
	return getOne(c, deliveryStreamColumns, fmt.Sprintf("%s stream of bot %q", kind, botID), selectDeliveryStream, botID, kind)
}

// SetDeliveryTarget implements delivery.Store.
func (s *Store) SetDeliveryTarget(ctx context.Context, botID string, kind group.DeliveryKind, url string, intents int64, now time.Time) (group.DeliveryStream, error) {
	var st group.DeliveryStream
	err := s.Update(ctx, func(tx group.Tx) error {
		w := tx.(*writer)
		old, err := w.c.deliveryStream(botID, kind)
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
		if _, err := w.c.exec(upsertDeliveryStream, deliveryStreamColumns(&st).ptrs()...); err != nil {
			return fmt.Errorf("set %s stream of bot %q: %w", kind, botID, err)
		}
		return nil
	})
	return st, err
}

// DeliveryStream implements delivery.Store.
func (s *Store) DeliveryStream(ctx context.Context, botID string, kind group.DeliveryKind) (group.DeliveryStream, error) {
	var st group.DeliveryStream
	err := s.View(ctx, func(r group.Reader) (err error) {
		st, err = r.(*reader).c.deliveryStream(botID, kind)
		return err
	})
	return st, err
}

// DeliveryStreams implements delivery.Store.
func (s *Store) DeliveryStreams(ctx context.Context) ([]group.DeliveryStream, error) {
	var sts []group.DeliveryStream
	err := s.View(ctx, func(r group.Reader) (err error) {
		sts, err = getAll(r.(*reader).c, deliveryStreamColumns, "delivery streams", selectDeliveryStreams)
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
		res, err := w.c.exec(takeDeliveryLease, botID, kind, node, now.UnixMilli(), until.UnixMilli())
		if err != nil {
			return fmt.Errorf("take lease of %s stream of bot %q: %w", kind, botID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		took = n == 1
		st, err = w.c.deliveryStream(botID, kind)
		return err
	})
	return st, took, err
}

// RenewDeliveryLeases implements delivery.Store.
func (s *Store) RenewDeliveryLeases(ctx context.Context, node string, until time.Time) ([]group.DeliveryStream, error) {
	var sts []group.DeliveryStream
	err := s.Update(ctx, func(tx group.Tx) (err error) {
		sts, err = getAll(tx.(*writer).c, deliveryStreamColumns, "renewed delivery streams", renewDeliveryLeases, node, until.UnixMilli())
		return err
	})
	return sts, err
}

// ReleaseDeliveryLease implements delivery.Store.
func (s *Store) ReleaseDeliveryLease(ctx context.Context, botID string, kind group.DeliveryKind, node string) error {
	return s.Update(ctx, func(tx group.Tx) error {
		if _, err := tx.(*writer).c.exec(releaseDeliveryLease, botID, kind, node, zeroMillis); err != nil {
			return fmt.Errorf("release lease of %s stream of bot %q: %w", kind, botID, err)
		}
		return nil
	})
}

// RecordDelivery implements delivery.Store.
func (s *Store) RecordDelivery(ctx context.Context, p group.DeliveryProgress, attempts []group.DeliveryAttempt, drops []group.DeliveryDrop, keep int) (bool, error) {
	var ok bool
	err := s.Update(ctx, func(tx group.Tx) error {
		c := tx.(*writer).c
		var dropped int64
		for _, d := range drops {
			dropped += d.ToSeq - d.FromSeq + 1
		}
		res, err := c.exec(recordDelivery, p.BotID, p.Kind, p.Node, p.Epoch, p.Delivered, p.LastError,
			p.NextAttempt.UnixMilli(), dropped, p.LeaseUntil.UnixMilli(), p.UpdatedAt.UnixMilli())
		if err != nil {
			return fmt.Errorf("record %s delivery of bot %q: %w", p.Kind, p.BotID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // the lease or the epoch moved on: nothing is recorded
		}
		ok = true
		for _, a := range attempts {
			if _, err := c.exec(insertDeliveryAttempt, deliveryAttemptColumns(&a).ptrs()...); err != nil {
				return fmt.Errorf("record %s attempt of bot %q: %w", p.Kind, p.BotID, err)
			}
		}
		for _, d := range drops {
			if _, err := c.exec(insertDeliveryDrop, deliveryDropColumns(&d).ptrs()...); err != nil {
				return fmt.Errorf("record %s drop of bot %q: %w", p.Kind, p.BotID, err)
			}
		}
		if len(attempts) > 0 {
			if _, err := c.exec(trimDeliveryAttempts, p.BotID, p.Kind, max(keep, 0)); err != nil {
				return fmt.Errorf("trim %s attempts of bot %q: %w", p.Kind, p.BotID, err)
			}
		}
		if len(drops) > 0 {
			if _, err := c.exec(trimDeliveryDrops, p.BotID, p.Kind, max(keep, 0)); err != nil {
				return fmt.Errorf("trim %s drops of bot %q: %w", p.Kind, p.BotID, err)
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
		as, err = getAll(r.(*reader).c, deliveryAttemptColumns, "delivery attempts", selectDeliveryAttempts, botID, kind, limit)
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
		ds, err = getAll(r.(*reader).c, deliveryDropColumns, "delivery drops", selectDeliveryDrops, botID, kind, limit)
		return err
	})
	return ds, err
}

// Redeliver implements delivery.Store.
func (s *Store) Redeliver(ctx context.Context, botID string, kind group.DeliveryKind, fromSeq int64, now time.Time) (group.DeliveryStream, error) {
	var st group.DeliveryStream
	err := s.Update(ctx, func(tx group.Tx) error {
		c := tx.(*writer).c
		res, err := c.exec(redeliver, botID, kind, max(fromSeq, 1)-1, now.UnixMilli(), zeroMillis)
		if err != nil {
			return fmt.Errorf("redeliver %s stream of bot %q: %w", kind, botID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return group.Errorf(group.ENotExist, "bot %q has no %s stream that is on", botID, kind)
		}
		st, err = c.deliveryStream(botID, kind)
		return err
	})
	return st, err
}
