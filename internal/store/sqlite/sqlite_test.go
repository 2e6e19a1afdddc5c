package sqlite

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/qun-chat/qun/internal/store/storetest"
)

// opener opens stores on a database file in the test's temporary directory.
// The panics the suite provokes are logged to the test's output.
func opener(t *testing.T) func() storetest.Store {
	path := filepath.Join(t.TempDir(), "qun.db")
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	return func() storetest.Store {
		s, err := Open(t.Context(), path, WithLogger(logger))
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return s
	}
}

func TestStore(t *testing.T) {
	storetest.Run(t, opener)
}

func TestDeliveryStore(t *testing.T) {
	storetest.RunDelivery(t, opener)
}
