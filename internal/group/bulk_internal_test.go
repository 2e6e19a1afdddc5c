package group

import (
	"context"
	"errors"
	"testing"
)

// Bulk writes take turns: while MaxBulkWrites of them run, another waits
// (here: gives up with its context), and writes of few members never wait.
func TestBulkTurn(t *testing.T) {
	s := NewService(nil, Config{BulkMembers: 2, MaxBulkWrites: 1})
	done, err := s.bulkTurn(t.Context(), 3)
	if err != nil {
		t.Fatalf("first bulk write: %v", err)
	}
	if small, err := s.bulkTurn(t.Context(), 2); err != nil {
		t.Fatalf("a write of 2 members waited: %v", err)
	} else {
		small()
	}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.bulkTurn(canceled, 3); !errors.Is(err, context.Canceled) {
		t.Fatalf("second bulk write while the first runs: %v, want %v", err, context.Canceled)
	}
	done()
	again, err := s.bulkTurn(t.Context(), 3)
	if err != nil {
		t.Fatalf("bulk write after the first ended: %v", err)
	}
	again()
}
