package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store"
)

// SQLSTATE codes the store tells apart; every other error is wrapped as is.
const (
	sqlUniqueViolation      = "23505"
	sqlSerializationFailure = "40001"
	sqlDeadlockDetected     = "40P01"
	// A NUL character or invalid UTF-8 in a text value: bad input, not a
	// failure of the store.
	sqlCharacterNotInRepertoire = "22021"
	sqlUntranslatableCharacter  = "22P05"
	// program_limit_exceeded: chiefly a text too long for a b-tree index
	// entry (about 2.7 kB after compression), such as a huge user name. The
	// domain bounds the indexed texts; this keeps a value past the bound a
	// bad input too.
	sqlProgramLimitExceeded = "54000"
)

// isRetryable reports whether PostgreSQL aborted a transaction in a way that
// running it again may not repeat.
func isRetryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == sqlSerializationFailure || pe.Code == sqlDeadlockDetected)
}

// dbtx runs statements in one transaction: an attempt of an Update, or a View.
// It is used by one goroutine at a time.
type dbtx struct {
	ctx context.Context
	tx  statements // a pgx.Tx or a pipe
	// write is set in an Update: keyed reads then lock what they read.
	write bool
	// retry is set once a statement fails with a deadlock or a serialization
	// failure: the transaction is aborted, whatever fn makes of the error, and
	// Update runs fn again.
	retry bool
	// lockWait is set once a statement of an Update in a shared batch waited
	// for a lock longer than the batch allows (see batch.go).
	lockWait bool
	// sent counts the statements sent through the methods below, so that a
	// read made ahead of time (writer.aheadBots) is used only while nothing
	// was sent after it.
	sent int
}

// fail turns a statement's error into the store's: a unique violation is an
// EConflict, bad or oversized text an EInvalidParam (all by SQLSTATE, never by
// message), anything else wrapped with what the statement was doing. A domain
// error's message reaches the caller, so it names no schema object and no
// stored id: what the statement was doing, and the constraint, are wrapped
// around it, for the log.
func (c *dbtx) fail(what string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case sqlUniqueViolation:
			return fmt.Errorf("postgres: %s: constraint %s: %w", what, pe.ConstraintName, group.Errorf(group.EConflict, "a unique value is taken"))
		case sqlCharacterNotInRepertoire, sqlUntranslatableCharacter:
			return fmt.Errorf("postgres: %s: %w", what, group.Errorf(group.EInvalidParam, "a text holds a NUL character or invalid UTF-8"))
		case sqlProgramLimitExceeded:
			return fmt.Errorf("postgres: %s: %w", what, group.Errorf(group.EInvalidParam, "a value is too long for the database"))
		case sqlSerializationFailure, sqlDeadlockDetected:
			c.retry = true
		case sqlLockNotAvailable:
			c.lockWait = true
		}
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// Text PostgreSQL refuses (a NUL, invalid UTF-8) never reaches it: a failed
// statement would abort the whole transaction. exec and writeRow, which
// write, refuse it with EInvalidParam (store.ValidArgs); the reads find
// nothing by it, as no row can hold it (readArgs).

// exec runs a write.
func (c *dbtx) exec(what, q string, args ...any) (pgconn.CommandTag, error) {
	if !store.ValidArgs(args...) {
		return pgconn.CommandTag{}, store.InvalidText(what)
	}
	c.sent++
	tag, err := c.tx.Exec(c.ctx, q, args...)
	if err != nil {
		return tag, c.fail(what, err)
	}
	return tag, nil
}

// later runs a write whose result fn does not need. In a batch (a pipe) it is
// queued and goes with the next statement that returns something, or the
// commit, in the same round trip: an error of its own is then reported by that
// statement, as this one's (see pipe). Elsewhere it runs at once.
func (c *dbtx) later(what, q string, args ...any) error {
	p, ok := c.tx.(*pipe)
	if !ok {
		_, err := c.exec(what, q, args...)
		return err
	}
	if !store.ValidArgs(args...) {
		return store.InvalidText(what)
	}
	c.sent++
	p.pushWrite(func(err error) error { return c.fail(what, err) }, nil, q, args...)
	return nil
}

// readArgs returns the arguments of a read with the keys that cannot name a
// row left out of its lists (a []string of ids), or false if a single key
// cannot name a row, so that the read finds nothing.
func readArgs(args []any) ([]any, bool) {
	out, copied := args, false
	for i, a := range args {
		if list, ok := a.([]string); ok && !store.ValidArgs(list) {
			if !copied {
				out, copied = append([]any(nil), args...), true
			}
			valid := make([]string, 0, len(list))
			for _, s := range list {
				if group.ValidText(s) {
					valid = append(valid, s)
				}
			}
			out[i] = valid
		}
	}
	return out, store.ValidArgs(out...)
}

// writeRow runs a write that returns a row and scans it into dest.
func (c *dbtx) writeRow(what string, dest []any, q string, args ...any) error {
	if !store.ValidArgs(args...) {
		return store.InvalidText(what)
	}
	return c.scanOne(what, dest, q, args...)
}

// scanOne scans the first row of a read into dest; no row is pgx.ErrNoRows, unwrapped.
func (c *dbtx) scanOne(what string, dest []any, q string, args ...any) error {
	args, ok := readArgs(args)
	if !ok {
		return pgx.ErrNoRows
	}
	c.sent++
	err := c.tx.QueryRow(c.ctx, q, args...).Scan(dest...)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return c.fail(what, err)
	}
	return err
}

// count scans the single integer a read returns; no row counts 0.
func (c *dbtx) count(what, q string, args ...any) (int, error) {
	var n int
	if err := c.scanOne(what, []any{&n}, q, args...); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, err
	}
	return n, nil
}

// getOne reads the single row of q as a T; a missing row is ENotExist naming what.
func getOne[T any](c *dbtx, fields func(*T) []any, what, q string, args ...any) (T, error) {
	var v T
	err := c.scanOne("get "+what, fields(&v), q, args...)
	if errors.Is(err, pgx.ErrNoRows) {
		var zero T
		return zero, group.Errorf(group.ENotExist, "%s not found", what)
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// getAll reads every row of q as a T; no rows is a nil slice.
func getAll[T any](c *dbtx, fields func(*T) []any, what, q string, args ...any) ([]T, error) {
	args, ok := readArgs(args)
	if !ok {
		return nil, nil
	}
	c.sent++
	rows, err := c.tx.Query(c.ctx, q, args...)
	if err != nil {
		return nil, c.fail("list "+what, err)
	}
	vs, err := scanAll(rows, fields)
	if err != nil {
		return nil, c.fail("list "+what, err)
	}
	return vs, nil
}

// scanAll reads every row of rows as a T and closes rows; no rows is a nil slice.
func scanAll[T any](rows pgx.Rows, fields func(*T) []any) ([]T, error) {
	defer rows.Close()
	var vs []T
	for rows.Next() {
		var v T
		if err := rows.Scan(fields(&v)...); err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}

// read is one statement of dbtx.reads: what it reads (for errors), its
// query and arguments, and what takes its rows (and closes them).
type read struct {
	what string
	q    string
	args []any
	take func(pgx.Rows) error
}

// reads runs reads that do not depend on one another in one round trip, in
// order: each costs a wake-up of both processes when sent alone. A read
// whose key cannot name a row (readArgs) is not sent and takes nothing.
func (c *dbtx) reads(rs ...read) error {
	b := &pgx.Batch{}
	sent := make([]read, 0, len(rs))
	for _, r := range rs {
		args, ok := readArgs(r.args)
		if !ok {
			continue
		}
		b.Queue(r.q, args...)
		sent = append(sent, r)
	}
	if len(sent) == 0 {
		return nil
	}
	c.sent++
	br := c.tx.SendBatch(c.ctx, b)
	for _, r := range sent {
		rows, err := br.Query()
		if err == nil {
			err = r.take(rows)
		}
		if err != nil {
			br.Close()
			return c.fail(r.what, err)
		}
	}
	if err := br.Close(); err != nil {
		return c.fail(sent[len(sent)-1].what, err)
	}
	return nil
}

// into is a read's take that sets *vs to its rows, each a T.
func into[T any](vs *[]T, fields func(*T) []any) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		var err error
		*vs, err = scanAll(rows, fields)
		return err
	}
}

// A keyed read inside an Update locks what it reads, so that fn's
// read-modify-write cannot be lost to a concurrent Update (READ COMMITTED
// alone would let two of them read the same row and both write it back):
//
//   - a row that exists is read FOR UPDATE: a concurrent Update reading it
//     waits for this transaction to end, then reads the committed row;
//   - for nouns that are created by "read, not found, put" (groups, users,
//     settings), a key with no row takes a transaction-scoped advisory lock
//     on the key and is read again in a new snapshot, so two Updates creating
//     the same key run one after the other too.
//
// Other nouns and listings are read without locks: the domain reads them after
// the group they belong to, whose lock orders them.
type lockedRead struct {
	q      string // the plain query, for View
	locked string // q FOR UPDATE
	class  int32  // advisory lock class for a missing key; 0 for none
}

func keyed(q string, class int32) lockedRead {
	return lockedRead{q: q, locked: q + " FOR UPDATE", class: class}
}

// Advisory lock classes, the first key of pg_advisory_xact_lock(int, int);
// the second is hashtext(key). A hash collision only makes two Updates wait
// for each other.
const (
	lockClassBase  = 0x71756e00 // "qun\0", apart from other applications' locks
	lockGroupKey   = lockClassBase + 1
	lockUserKey    = lockClassBase + 2
	lockSettingKey = lockClassBase + 3
	// lockBotMark orders a user's member rows against the user becoming a
	// robot (see markBotMembers); its second key is a bucket of the user id.
	lockBotMark = lockClassBase + 4
)

const lockKey = `SELECT pg_advisory_xact_lock($1, hashtext($2))`

// getKeyed is getOne for a keyed read: locking, as above, inside an Update.
func getKeyed[T any](c *dbtx, fields func(*T) []any, what string, r lockedRead, key string, args ...any) (T, error) {
	if !c.write || !store.ValidArgs(key) {
		return getOne(c, fields, what, r.q, args...)
	}
	v, err := getOne(c, fields, what, r.locked, args...)
	if r.class == 0 || !group.IsNotExist(err) {
		return v, err
	}
	return getKeyedMissed(c, fields, what, r, key, args...)
}

// getKeyedMissed is getKeyed after its read (r.locked inside an Update, r.q
// in a View) found no row: inside an Update, the key of a noun created by
// "read, not found, put" is locked and read again; otherwise the miss is
// ENotExist.
func getKeyedMissed[T any](c *dbtx, fields func(*T) []any, what string, r lockedRead, key string, args ...any) (T, error) {
	var zero T
	if !c.write || r.class == 0 || !store.ValidArgs(key) {
		return zero, group.Errorf(group.ENotExist, "%s not found", what)
	}
	if err := c.later("lock "+what, lockKey, r.class, key); err != nil {
		return zero, err
	}
	return getOne(c, fields, what, r.locked, args...)
}

// reader implements group.Reader on a transaction.
type reader struct {
	c *dbtx
}

// writer implements group.Tx for one attempt of an Update.
type writer struct {
	reader
	// evented holds the last seq appended per bot, to notify other nodes
	// at commit and wake this node's waiters after it.
	evented map[string]int64
	// appended counts the events this attempt appended.
	appended int
	// events are the events appended in a batch (a pipe), which get their
	// seqs at its commit (see appendEvents).
	events []group.Event
	// aheadBots is the group's bot members, read in the round trip of the
	// append of a message that mentions someone (AppendMessageCallbacks),
	// which SendMessage reads next (BotMembers).
	aheadBots *aheadRead
}

// aheadRead is a read made in the round trip of an earlier statement, for
// the one that fn is known to make next: valid while the transaction has
// sent nothing since (dbtx.sent is still at).
type aheadRead struct {
	key string
	ids []string
	at  int
}

// notifyEvents tells every node listening on the channel which bots got
// events; PostgreSQL delivers the notifications at commit, and not at all
// after a rollback.
const notifyEvents = `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`

// notify queues the notifications of the events w appended.
func (w *writer) notify(channel string) error {
	if len(w.evented) == 0 {
		return nil
	}
	payloads := make([]string, 0, len(w.evented))
	for bot, seq := range w.evented {
		payloads = append(payloads, notification(bot, seq))
	}
	_, err := w.c.exec("notify events", notifyEvents, channel, payloads)
	return err
}

// notification is the payload that announces events of botID up to seq.
func notification(botID string, seq int64) string {
	return strconv.FormatInt(seq, 10) + " " + botID
}
