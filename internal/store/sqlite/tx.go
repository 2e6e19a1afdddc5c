package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The package's statements, registered by readSQL and writeSQL as the noun
// files declare them. Open prepares them all once; transactions bind them.
var readQueries, writeQueries []string

// writes holds the statements writeSQL registered: their text arguments are
// checked (store.ValidArgs) before they run. A read needs no check: no row
// can hold text that no write lets in, so a read by it finds nothing, as the
// group.Reader contract says.
var writes = map[string]bool{}

// readSQL registers a statement that only reads and returns it.
func readSQL(q string) string {
	readQueries = append(readQueries, q)
	return q
}

// writeSQL registers a statement that writes and returns it.
func writeSQL(q string) string {
	writeQueries = append(writeQueries, q)
	writes[q] = true
	return q
}

// checkedWriteSQL registers a statement that writes, and whose callers
// check its text arguments before they bind them, and returns it.
func checkedWriteSQL(q string) string {
	writeQueries = append(writeQueries, q)
	return q
}

// bulkRows is the most rows one multi-row statement carries. A bulk
// statement is prepared for every power of two rows up to it, so n rows take
// at most n/bulkRows + log2(bulkRows) statements, all prepared at Open. 256
// rows of the widest (members: 7 columns and the user id again) bind 2,048 variables, far under
// SQLite's limit of 32,766; larger statements save little more.
const bulkRows = 256

// bulkSQL is one statement over a list of rows, in every size it is
// prepared in: head, then the row text n times joined by ", ", then tail.
type bulkSQL map[int]string

// bulk registers, with register (readSQL or writeSQL), the statement head
// row, row, ... tail for every power of two rows up to bulkRows.
func bulk(register func(string) string, head, row, tail string) bulkSQL {
	b := make(bulkSQL)
	for n := 1; n <= bulkRows; n *= 2 {
		b[n] = register(head + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") + tail)
	}
	return b
}

// in returns the statement of an IN list for args, of which the first
// fixed are not the list's, and the args padded to its size: a list between
// two powers of two repeats its last value, which IN ignores. The list holds
// 1 to bulkRows values.
func (b bulkSQL) in(fixed int, args []any) (string, []any) {
	size := 1
	for size < len(args)-fixed {
		size *= 2
	}
	for len(args) < fixed+size {
		args = append(args, args[len(args)-1])
	}
	return b[size], args
}

// chunks splits n rows into the sizes b is prepared in, largest first, and
// calls fn with each piece's statement and its rows [from, to).
func (b bulkSQL) chunks(n int, fn func(q string, from, to int) error) error {
	for from := 0; from < n; {
		size := bulkRows
		for size > n-from {
			size /= 2
		}
		if err := fn(b[size], from, from+size); err != nil {
			return err
		}
		from += size
	}
	return nil
}

// dbtx runs the package's prepared statements inside one *sql.Tx. It is used
// by one goroutine at a time.
type dbtx struct {
	ctx      context.Context
	tx       *sql.Tx
	prepared map[string]*sql.Stmt // the DB's statements, shared
	bound    map[string]*sql.Stmt // the ones bound to tx so far
	// statements counts the statements run, for the store's counters.
	statements int64
}

func newDBTx(ctx context.Context, tx *sql.Tx, prepared map[string]*sql.Stmt) *dbtx {
	return &dbtx{ctx: ctx, tx: tx, prepared: prepared, bound: make(map[string]*sql.Stmt)}
}

// stmt returns q bound to the transaction, or EInvalidParam if q writes
// and args hold text that is not valid.
func (c *dbtx) stmt(q string, args []any) (*sql.Stmt, error) {
	if writes[q] && !store.ValidArgs(args...) {
		return nil, store.InvalidText("write")
	}
	c.statements++
	if st, ok := c.bound[q]; ok {
		return st, nil
	}
	p, ok := c.prepared[q]
	if !ok {
		return nil, fmt.Errorf("statement not prepared for this transaction: %.60q", q)
	}
	st := c.tx.StmtContext(c.ctx, p)
	c.bound[q] = st
	return st, nil
}

func (c *dbtx) exec(q string, args ...any) (sql.Result, error) {
	st, err := c.stmt(q, args)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(c.ctx, args...)
}

// scanOne scans the first row of q into dest; no row is sql.ErrNoRows.
func (c *dbtx) scanOne(dest []any, q string, args ...any) error {
	st, err := c.stmt(q, args)
	if err != nil {
		return err
	}
	return st.QueryRowContext(c.ctx, args...).Scan(dest...)
}

// eachRow calls scan for every row of q.
func (c *dbtx) eachRow(scan func(*sql.Rows) error, q string, args ...any) error {
	st, err := c.stmt(q, args)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(c.ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// getOne reads the single row of q as a T; a missing row is ENotExist naming what.
func getOne[T any](c *dbtx, cols func(*T) columns, what string, q string, args ...any) (T, error) {
	var v T
	err := c.scanOne(cols(&v).ptrs(), q, args...)
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, group.Errorf(group.ENotExist, "%s not found", what)
	}
	if err != nil {
		var zero T
		return zero, fmt.Errorf("get %s: %w", what, err)
	}
	return v, nil
}

// getAll reads every row of q as a T.
func getAll[T any](c *dbtx, cols func(*T) columns, what string, q string, args ...any) ([]T, error) {
	var vs []T
	err := c.eachRow(func(rows *sql.Rows) error {
		var v T
		if err := rows.Scan(cols(&v).ptrs()...); err != nil {
			return err
		}
		vs = append(vs, v)
		return nil
	}, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return vs, nil
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// reader implements group.Reader on a read or write transaction.
type reader struct {
	c *dbtx
}

// writer implements group.Tx for one Update of a batch.
type writer struct {
	reader
	// cache answers the reads the writer repeats; see cache.
	cache *cache
	// evented holds the last seq this Update appended per bot, to wake the
	// bots' waiters once the batch commits.
	evented map[string]int64
	// appended counts the events this Update appended.
	appended int
	// handed holds this Update's events per bot, and msgs the messages it
	// appended, to hand to the bots' feeds once the batch commits;
	// usersPut the users it wrote, whose bots' feeds go stale.
	handed   map[string][]store.Committed
	msgs     map[int64]group.Message
	usersPut map[string]bool
}

// handoff is what a batch's successful Updates hand to the feeds.
type handoff struct {
	evs   map[string][]store.Committed
	users map[string]bool
}

// add takes in what one successful Update handed.
func (h *handoff) add(w *writer) {
	for bot, cs := range w.handed {
		if h.evs == nil {
			h.evs = make(map[string][]store.Committed)
		}
		h.evs[bot] = append(h.evs[bot], cs...)
	}
	for u := range w.usersPut {
		if h.users == nil {
			h.users = make(map[string]bool)
		}
		h.users[u] = true
	}
}

// asRead returns t as a store column gives it back: unix milliseconds, UTC.
func asRead(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }
