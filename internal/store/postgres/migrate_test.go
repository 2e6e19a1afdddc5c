package postgres

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
)

func TestMigrationsLogged(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, m := range ms {
		all = append(all, m.Name)
	}
	for i, want := range [][]string{all, nil} { // the second Open applies nothing
		var log bytes.Buffer
		s := testOpen(t, dsn, schema, WithLogger(slog.New(slog.NewJSONHandler(&log, nil))))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for dec := json.NewDecoder(&log); dec.More(); {
			var rec struct {
				Msg       string `json:"msg"`
				Migration string `json:"migration"`
			}
			if err := dec.Decode(&rec); err != nil {
				t.Fatalf("log line: %v", err)
			}
			if rec.Msg == "postgres: migration applied" {
				got = append(got, rec.Migration)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("open %d logged migrations %v, want %v", i+1, got, want)
		}
	}
}
