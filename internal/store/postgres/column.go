package postgres

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/qun-chat/qun/internal/group"
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

// storedPayload is the JSON form of group.Payload in the database. Its keys
// are fixed here so that renaming a domain field cannot change stored data;
// the conversions below stop compiling if the two structs diverge. They are
// the keys the SQLite store writes, so data moves between the two as is.
type storedPayload struct {
	Type              int      `json:"type,omitempty"`
	SearchableContent string   `json:"searchableContent,omitempty"`
	PushContent       string   `json:"pushContent,omitempty"`
	PushData          string   `json:"pushData,omitempty"`
	Content           string   `json:"content,omitempty"`
	Data              []byte   `json:"data,omitempty"`
	MediaType         int      `json:"mediaType,omitempty"`
	RemoteMediaURL    string   `json:"remoteMediaUrl,omitempty"`
	PersistFlag       int      `json:"persistFlag,omitempty"`
	ExpireDuration    int      `json:"expireDuration,omitempty"`
	MentionedType     int      `json:"mentionedType,omitempty"`
	MentionedTarget   []string `json:"mentionedTarget,omitempty"`
	Extra             string   `json:"extra,omitempty"`
}

// payloadJSON stores a group.Payload in a json column: pgx encodes it with
// MarshalJSON and scans it with Scan (not UnmarshalJSON: pgx zeroes a JSON
// destination before it unmarshals, and this one is only a pointer).
type payloadJSON struct{ p *group.Payload }

// MarshalJSON implements json.Marshaler.
func (j *payloadJSON) MarshalJSON() ([]byte, error) {
	return json.Marshal(storedPayload(*j.p))
}

// Scan implements sql.Scanner.
func (j *payloadJSON) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("payload column holds %T, not json", src)
	}
	var sp storedPayload
	if err := json.Unmarshal(b, &sp); err != nil {
		return fmt.Errorf("decode payload: %w", err)
	}
	*j.p = group.Payload(sp)
	return nil
}

// payload is the column value of *p.
func payload(p *group.Payload) *payloadJSON { return &payloadJSON{p} }

// text is the fields of a single text column.
func text(s *string) []any { return []any{s} }
