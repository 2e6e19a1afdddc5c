package sqlite

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
)

// column pairs a column name with the field it is read into and written
// from. Each noun lists its columns once, in a func from *T to columns, and
// both its SQL and its scanning derive from that list: adding a column is one
// line there (and a migration).
type column struct {
	name string
	ptr  any // a pointer to the field, or an adapter that is a sql.Scanner and a driver.Valuer
}

type columns []column

// list is "a, b, c".
func (cs columns) list() string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// marks is "?, ?, ?", one per column.
func (cs columns) marks() string {
	return strings.TrimSuffix(strings.Repeat("?, ", len(cs)), ", ")
}

// assign is "a = excluded.a, b = excluded.b", for an upsert's DO UPDATE SET.
func (cs columns) assign() string {
	sets := make([]string, len(cs))
	for i, c := range cs {
		sets[i] = c.name + " = excluded." + c.name
	}
	return strings.Join(sets, ", ")
}

// ptrs is the scan destinations, which are also the statement arguments:
// database/sql dereferences pointers and calls Valuers.
func (cs columns) ptrs() []any {
	ps := make([]any, len(cs))
	for i, c := range cs {
		ps[i] = c.ptr
	}
	return ps
}

// except is cs without the named columns.
func (cs columns) except(names ...string) columns {
	out := make(columns, 0, len(cs))
next:
	for _, c := range cs {
		for _, n := range names {
			if c.name == n {
				continue next
			}
		}
		out = append(out, c)
	}
	return out
}

// millis stores a time.Time as unix milliseconds. The zero time round-trips.
type millis struct{ t *time.Time }

// Scan implements sql.Scanner.
func (m millis) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("time column holds %T, not an integer", src)
	}
	*m.t = time.UnixMilli(v).UTC()
	return nil
}

// Value implements driver.Valuer.
func (m millis) Value() (driver.Value, error) { return m.t.UnixMilli(), nil }

// payloadJSON stores a group.Payload as JSON text, in the form internal/store
// fixes for every store.
type payloadJSON struct{ p *group.Payload }

// Scan implements sql.Scanner.
func (j payloadJSON) Scan(src any) error {
	p, err := store.ScanPayload(src)
	if err != nil {
		return err
	}
	*j.p = p
	return nil
}

// ValidText reports whether the payload's text may be stored (store.ValidArgs).
func (j payloadJSON) ValidText() bool { return j.p.ValidText() }

// Value implements driver.Valuer.
func (j payloadJSON) Value() (driver.Value, error) {
	b, err := store.EncodePayload(*j.p)
	if err != nil {
		return nil, fmt.Errorf("encode payload: %w", err)
	}
	return string(b), nil
}

// text is the column of a query that returns one string per row.
func text(s *string) columns { return columns{{"", s}} }
