package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// listener holds one connection, outside the pool, that LISTENs on the
// store's channel and hands each notification to notify. When the connection
// fails it connects again, and then calls reconnected: notifications sent
// while it was away are lost, so every waiter must look.
type listener struct {
	cfg            *pgx.ConnConfig
	channel        string
	check          time.Duration // silence after which the connection is pinged
	reconnectDelay time.Duration
	logger         *slog.Logger
	notify         func(*pgconn.Notification)
	reconnected    func()

	conn     *pgx.Conn    // used by run only, after connect
	connects atomic.Int64 // successful connections, for tests
}

// connect opens the connection and starts listening.
func (l *listener) connect(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return fmt.Errorf("listener: connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.channel}.Sanitize()); err != nil {
		conn.Close(context.WithoutCancel(ctx)) //nolint:errcheck // the LISTEN error is the one to report
		return fmt.Errorf("listener: listen on %q: %w", l.channel, err)
	}
	l.conn = conn
	l.connects.Add(1)
	return nil
}

// run receives notifications until ctx ends, reconnecting as needed. It
// closes the connection before it returns.
func (l *listener) run(ctx context.Context) {
	defer func() {
		if l.conn != nil {
			l.conn.Close(context.Background()) //nolint:errcheck // closing for good
		}
	}()
	for {
		if l.conn == nil {
			if err := l.connect(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				l.logger.Warn("postgres: listener failed; retrying", "err", err, "in", l.reconnectDelay)
				select {
				case <-ctx.Done():
					return
				case <-time.After(l.reconnectDelay):
				}
				continue
			}
			l.logger.Info("postgres: listener reconnected", "channel", l.channel)
			l.reconnected()
		}
		if err := l.receive(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			l.logger.Warn("postgres: listener connection lost", "err", err)
			l.conn.Close(context.Background()) //nolint:errcheck // replaced below
			l.conn = nil
		}
	}
}

// receive waits up to l.check for a notification and hands it on; after that
// long without one it pings the connection. An error means the connection
// is unusable.
func (l *listener) receive(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, l.check)
	n, err := l.conn.WaitForNotification(wctx)
	cancel()
	switch {
	case err == nil:
		l.notify(n)
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		pctx, cancel := context.WithTimeout(ctx, l.check)
		defer cancel()
		return l.conn.Ping(pctx)
	default:
		return err
	}
}
