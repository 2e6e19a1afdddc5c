package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/qun-chat/qun/internal/store/storetest"
)

// dsnVar names the environment variable that points the tests at a
// PostgreSQL database; without it they skip. Each test works in a schema of
// its own, created and dropped by the test.
const dsnVar = "QUN_TEST_POSTGRES_DSN"

// testDSN returns the test database's DSN, or skips tb.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnVar)
	if dsn == "" {
		tb.Skipf("%s is not set: skipping the PostgreSQL store tests (e.g. %s='postgres://postgres@127.0.0.1:5432/test?sslmode=disable')", dsnVar, dsnVar)
	}
	return dsn
}

// testSchema returns the name of a fresh schema, dropped when tb ends.
func testSchema(tb testing.TB, dsn string) string {
	tb.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	schema := "qun_test_" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// testMaxConns keeps the parallel tests under the server's max_connections.
const testMaxConns = 4

// testOpen opens a store on schema; extra options come last and win. The
// store is closed when tb ends.
func testOpen(tb testing.TB, dsn, schema string, extra ...Option) *Store {
	tb.Helper()
	opts := append([]Option{WithSchema(schema), WithChannel(schema), WithMaxConns(testMaxConns),
		WithLogger(slog.New(slog.NewTextHandler(tb.Output(), nil)))}, extra...)
	s, err := Open(tb.Context(), dsn, opts...)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// suiteSlots bounds how many conformance tests hold a store at once: the
// suite runs its tests in parallel (GOMAXPROCS of them), and each store holds
// up to testMaxConns+1 connections of the server's max_connections.
var suiteSlots = make(chan struct{}, 8)

// opener gives each conformance test a schema of its own, once a slot is
// free. The panics the suite provokes are logged to the test's output.
func opener(t *testing.T) func() storetest.Store {
	dsn := testDSN(t)
	suiteSlots <- struct{}{}
	t.Cleanup(func() { <-suiteSlots })
	schema := testSchema(t, dsn)
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	return func() storetest.Store {
		s, err := Open(t.Context(), dsn, WithSchema(schema), WithChannel(schema), WithMaxConns(testMaxConns), WithLogger(logger))
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return s
	}
}

func TestStore(t *testing.T) {
	testDSN(t)
	storetest.Run(t, opener)
}

func TestDeliveryStore(t *testing.T) {
	testDSN(t)
	storetest.RunDelivery(t, opener)
}
