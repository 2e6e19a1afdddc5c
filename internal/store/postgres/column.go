package postgres

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
)

// Each noun file lists its columns once, as a const naming them in order and
// a func returning pointers to the fields in the same order. The pointers are
// the scan destinations and, for inserts, the statement arguments (pgx
// dereferences them), so a column is added in two adjacent lines (and a
// migration).

// msec stores a time.Time as bigint unix milliseconds, the precision the
// domain keeps. Times read back are UTC; the zero time round-trips.
type msec struct{ t *time.Time }

// ScanInt64 implements pgtype.Int64Scanner.
func (m msec) ScanInt64(v pgtype.Int8) error {
	if !v.Valid {
		return fmt.Errorf("time column is NULL")
	}
	*m.t = time.UnixMilli(v.Int64).UTC()
	return nil
}

// Int64Value implements pgtype.Int64Valuer.
func (m msec) Int64Value() (pgtype.Int8, error) {
	return pgtype.Int8{Int64: m.t.UnixMilli(), Valid: true}, nil
}

// millis is t as the store keeps it.
func millis(t time.Time) int64 { return t.UnixMilli() }

// payloadJSON stores a group.Payload in a json column, in the form
// internal/store fixes for every store. pgx encodes it with MarshalJSON and
// scans it with Scan (not UnmarshalJSON: pgx zeroes a JSON destination before
// it unmarshals, and this one is only a pointer).
type payloadJSON struct{ p *group.Payload }

// MarshalJSON implements json.Marshaler.
func (j *payloadJSON) MarshalJSON() ([]byte, error) {
	return store.EncodePayload(*j.p)
}

// ValidText reports whether the payload's text may be stored (store.ValidArgs).
func (j *payloadJSON) ValidText() bool { return j.p.ValidText() }

// Scan implements sql.Scanner.
func (j *payloadJSON) Scan(src any) error {
	p, err := store.ScanPayload(src)
	if err != nil {
		return err
	}
	*j.p = p
	return nil
}

// payload is the column value of *p.
func payload(p *group.Payload) *payloadJSON { return &payloadJSON{p} }

// text is the fields of a single text column.
func text(s *string) []any { return []any{s} }
