package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// statements is what a dbtx sends its statements to: a pgx.Tx, or a pipe.
type statements interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Begin(ctx context.Context) (pgx.Tx, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// queued is a statement whose result nobody waits for: it goes to the server
// in front of the next statement that is waited for, in the same round trip.
type queued struct {
	sql  string
	args []any
	// fail, for a write of fn's (dbtx.later), turns its error into the
	// store's, so that the statement that carried it reports it as its own.
	fail func(error) error
	// check, if set, is given the statement's tag: an error from it fails
	// the round trip as the statement's own would (the statements after it
	// in the batch have run, in the same transaction).
	check func(pgconn.CommandTag) error
}

// pipe is one transaction on a pooled connection whose control statements
// (BEGIN, SAVEPOINT, RELEASE, ROLLBACK TO, pg_notify) cost no round trip of
// their own: they are queued and sent as one pgx batch with the next statement
// that returns something. Each round trip costs both processes a wake-up and
// a few syscalls, which on a small machine is most of a short statement's
// cost. It is used by one goroutine at a time.
type pipe struct {
	conn *pgxpool.Conn
	// begin is the transaction not begun yet: it is queued in front of the
	// first statement. nil once sent.
	begin *pgx.TxOptions
	tx    pgx.Tx // the transaction once begun, for nested savepoints
	queue []queued
	// sent counts the round trips, so that the batch can tell whether an
	// Update sent anything.
	sent int
	// writes counts the writes in queue (statements with fail set).
	writes int
	// trips counts the round trips of every pipe of the store (Store.trips).
	trips *atomic.Int64
	// discard is set once the backend may still act on a cancel request
	// (cancelOnDone): release closes the connection rather than give it
	// back to the pool, where the cancel could hit another's statement.
	discard bool
}

func newPipe(conn *pgxpool.Conn, opts pgx.TxOptions, trips *atomic.Int64) *pipe {
	return &pipe{conn: conn, begin: &opts, trips: trips}
}

// trip counts a round trip.
func (p *pipe) trip() {
	p.sent++
	p.trips.Add(1)
}

// push queues a statement whose result is only checked by the next one.
func (p *pipe) push(sql string, args ...any) { p.queue = append(p.queue, queued{sql: sql, args: args}) }

// pushWrite queues a write of fn's whose result fn does not need: fail turns
// its error into the store's, and check (optional) looks at its tag.
func (p *pipe) pushWrite(fail func(error) error, check func(pgconn.CommandTag) error, sql string, args ...any) {
	p.queue = append(p.queue, queued{sql: sql, args: args, fail: fail, check: check})
	p.writes++
}

// begun reports whether anything has gone to the server.
func (p *pipe) begun() bool { return p.begin == nil }

// send sends the queued statements followed by sql, and returns the batch
// positioned at sql's result (the caller reads it and closes br), or the
// error of a queued statement (br closed).
func (p *pipe) send(ctx context.Context, sql string, args ...any) (pgx.BatchResults, error) {
	return p.sendAll(ctx, func(b *pgx.Batch) { b.Queue(sql, args...) })
}

// sendAll is send for the statements last queues: br is positioned at the
// first one's result.
func (p *pipe) sendAll(ctx context.Context, last func(*pgx.Batch)) (pgx.BatchResults, error) {
	p.trip()
	b := &pgx.Batch{}
	began := p.begin != nil
	if began {
		b.BeginTx(*p.begin)
		p.begin = nil
	}
	for _, q := range p.queue {
		b.Queue(q.sql, q.args...)
	}
	// Nothing is queued while the results are read: the array is reused.
	queue := p.queue
	p.queue, p.writes = p.queue[:0], 0
	last(b)
	br := p.conn.SendBatch(ctx, b)
	if began {
		p.tx = br.Tx()
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, fmt.Errorf("begin: %w", err)
		}
	}
	for _, q := range queue {
		tag, err := br.Exec()
		if err == nil && q.check != nil {
			err = q.check(tag)
		}
		if err != nil {
			br.Close()
			if q.fail != nil {
				err = q.fail(err)
			}
			return nil, err
		}
	}
	return br, nil
}

// Exec implements statements.
func (p *pipe) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if p.begun() && len(p.queue) == 0 {
		p.trip()
		return p.conn.Exec(ctx, sql, args...)
	}
	br, err := p.send(ctx, sql, args...)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// QueryRow implements statements.
func (p *pipe) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if p.begun() && len(p.queue) == 0 {
		p.trip()
		return p.conn.QueryRow(ctx, sql, args...)
	}
	br, err := p.send(ctx, sql, args...)
	if err != nil {
		return errRow{err}
	}
	return batchRow{br}
}

// Query implements statements.
func (p *pipe) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if p.begun() && len(p.queue) == 0 {
		p.trip()
		return p.conn.Query(ctx, sql, args...)
	}
	br, err := p.send(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return batchRows{Rows: rows, br: br}, nil
}

// SendBatch implements statements: b's statements go after whatever is
// queued, in one round trip, and the results are b's alone. An error of a
// queued statement is the first result's.
func (p *pipe) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	br, err := p.sendAll(ctx, func(all *pgx.Batch) {
		for _, q := range b.QueuedQueries {
			all.Queue(q.SQL, q.Arguments...)
		}
	})
	if err != nil {
		return errBatch{err}
	}
	return br
}

// Begin implements statements: a savepoint in the transaction, after
// whatever is queued (only PutBot uses it).
func (p *pipe) Begin(ctx context.Context) (pgx.Tx, error) {
	if !p.begun() || len(p.queue) > 0 {
		if _, err := p.Exec(ctx, `SELECT 1`); err != nil {
			return nil, err
		}
	}
	return p.tx.Begin(ctx)
}

// end sends what is queued followed by sql (COMMIT or ROLLBACK) and reports
// the command tag. The connection is back out of any transaction when the
// error is nil.
func (p *pipe) end(ctx context.Context, sql string) (pgconn.CommandTag, error) {
	return p.Exec(ctx, sql)
}

// release ends whatever the connection is in and gives it back to the pool,
// which closes it if it could not be brought back out of the transaction.
func (p *pipe) release() {
	if p.discard {
		p.conn.Conn().Close(context.Background()) //nolint:errcheck // the server rolls back what is left; the pool drops the closed connection
	} else if p.conn.Conn().PgConn().TxStatus() != 'I' {
		p.conn.Exec(context.Background(), `ROLLBACK`) //nolint:errcheck // the pool closes a connection left in a transaction
	}
	p.conn.Release()
}

// cancelRetry is how often cancelOnDone asks again: a cancel request that
// reaches the backend before it starts on the statements is ignored.
const cancelRetry = 100 * time.Millisecond

// cancelOnDone makes what the backend runs of p's statements until stop is
// called fail with a query-canceled error once ctx is done, by sending it
// cancel requests (again every cancelRetry): a lock wait ends, and nothing
// after the canceled statement runs. The connection is not given up, so
// that the outcome is still read from it; the ctx the statements are sent
// with is not canceled. stop reports whether a cancel request was sent: the
// connection is then discarded at release.
func (p *pipe) cancelOnDone(ctx context.Context) (stop func() bool) {
	done, exited := make(chan struct{}), make(chan struct{})
	pg := p.conn.Conn().PgConn()
	stopWatch := context.AfterFunc(ctx, func() {
		defer close(exited)
		for {
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			pg.CancelRequest(cctx) //nolint:errcheck // best effort: without it the statements just run on
			cancel()
			select {
			case <-done:
				return
			case <-time.After(cancelRetry):
			}
		}
	})
	return func() bool {
		close(done)
		if stopWatch() {
			return false
		}
		<-exited
		p.discard = true
		return true
	}
}

// failed reports whether the transaction (or its current savepoint) is
// aborted: a statement failed and nothing has rolled back to before it.
func (p *pipe) failed() bool { return p.conn.Conn().PgConn().TxStatus() == 'E' }

// batchRow is the row of a statement sent in a batch; Scan closes the batch.
type batchRow struct{ br pgx.BatchResults }

func (r batchRow) Scan(dest ...any) error {
	err := r.br.QueryRow().Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

type errRow struct{ err error }

// errBatch is a batch that failed before its first result: every result is err.
type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow(b) }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }

func (r errRow) Scan(...any) error { return r.err }

// batchRows are the rows of a statement sent in a batch; Close closes the batch.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r batchRows) Close() {
	r.Rows.Close()
	r.br.Close()
}
