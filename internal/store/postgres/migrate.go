package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/qun-chat/qun/internal/store"
)

// migrationFiles are the schema changes, numbered NNNN_name.sql. A file that
// has landed is never edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations in order, numbered 1, 2, 3...
func migrations() ([]store.Migration, error) {
	return store.ReadMigrations(migrationFiles, "migrations")
}

const (
	// The session advisory lock that one node at a time migrates under,
	// keyed by the schema so that databases in separate schemas do not wait
	// for each other.
	lockMigrations   = `SELECT pg_advisory_lock(hashtextextended($1, 0))`
	unlockMigrations = `SELECT pg_advisory_unlock(hashtextextended($1, 0))`

	createSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    bigint PRIMARY KEY,
		name       text   NOT NULL,
		applied_at bigint NOT NULL
	)`
)

// migrate creates schema if it is not empty and missing, and applies the
// migrations the database lacks, each in its own transaction, all under an
// advisory lock so that nodes starting together migrate once, logging each
// one applied. It refuses a database migrated by a newer binary.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string, logger *slog.Logger) (err error) {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	key := "qun migrations " + schema
	if _, err := conn.Exec(ctx, lockMigrations, key); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() {
		// Without the unlock the lock would stay with the pooled connection.
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), unlockMigrations, key); uerr != nil {
			conn.Conn().Close(context.WithoutCancel(ctx)) //nolint:errcheck // closing releases the lock too
			err = errors.Join(err, fmt.Errorf("migrate: unlock: %w", uerr))
		}
	}()

	if schema != "" {
		if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("migrate: create schema %q: %w", schema, err)
		}
	}
	if _, err := conn.Exec(ctx, createSchemaMigrations); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	var latest int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&latest); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	if latest > len(ms) {
		return fmt.Errorf("migrate: database schema version %d is newer than this binary's %d", latest, len(ms))
	}
	for _, m := range ms[latest:] {
		start := time.Now()
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
		logger.Info("postgres: migration applied", "migration", m.Name, "version", m.Version, "took", time.Since(start))
	}
	return nil
}
