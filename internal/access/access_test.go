package access

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type request struct{ door, route, code string }

type recorder struct{ got []request }

func (r *recorder) Request(door, route, code string, _ time.Duration) {
	r.got = append(r.got, request{door, route, code})
}

// One line and one count per request; a refused one adds an info line, a
// failed one an error line; a hijacked one has neither; an unknown route is
// Unmatched.
func TestDoor(t *testing.T) {
	var logs bytes.Buffer
	obs := &recorder{}
	d := Door{Name: "robot", Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Observer: obs}
	h := d.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := From(w)
		switch r.URL.Path {
		case "/ok":
			rec.SetRoute("/ok")
			rec.SetCaller("robota")
		case "/refused":
			rec.SetRoute("/refused")
			rec.Refuse("251", "group_id is missing")
		case "/failed":
			rec.Fail("4", errors.New("disk full"))
			w.WriteHeader(http.StatusInternalServerError)
		case "/ws":
			rec.Hijack()
		}
		w.Write([]byte("{}"))
	}))
	for _, p := range []string{"/ok", "/refused", "/failed", "/ws"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", p, nil))
	}
	want := []request{{"robot", "/ok", "0"}, {"robot", "/refused", "251"}, {"robot", Unmatched, "4"}}
	if len(obs.got) != len(want) {
		t.Fatalf("observed %v, want %v", obs.got, want)
	}
	for i := range want {
		if obs.got[i] != want[i] {
			t.Errorf("observed %v, want %v", obs.got[i], want[i])
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	wantLines := []string{
		"level=DEBUG msg=request door=robot method=POST route=/ok status=200 code=0",
		"level=DEBUG msg=request door=robot method=POST route=/refused status=200 code=251",
		`level=INFO msg="request refused" door=robot method=POST route=/refused status=200 code=251`,
		"level=DEBUG msg=request door=robot method=POST route=unmatched status=500 code=4",
		`level=ERROR msg="request failed" door=robot method=POST route=unmatched status=500 code=4`,
	}
	if len(lines) != len(wantLines) {
		t.Fatalf("log:\n%s", logs.String())
	}
	for i, w := range wantLines {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %q lacks %q", lines[i], w)
		}
	}
	if !strings.Contains(lines[0], "caller=robota") || !strings.Contains(lines[2], `reason="group_id is missing"`) || !strings.Contains(lines[4], `err="disk full"`) {
		t.Errorf("log:\n%s", logs.String())
	}
	// Outside a Door there is no Record, and its methods do nothing.
	none := From(httptest.NewRecorder())
	none.SetRoute("/x")
	none.Refuse("1", "x")
}

// BenchmarkWrap is what the record costs a request at the default level
// (info, so no debug line): the wrapper, the clock and the observer call.
func BenchmarkWrap(b *testing.B) {
	d := Door{Name: "robot", Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Observer: nopRecorder{}}
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { From(w).SetRoute("/x"); w.Write(nil) })
	h := d.Wrap(plain)
	r := httptest.NewRequest("POST", "/x", nil)
	w := httptest.NewRecorder()
	b.Run("baseline", func(b *testing.B) {
		for b.Loop() {
			plain.ServeHTTP(w, r)
		}
	})
	b.Run("wrapped", func(b *testing.B) {
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
}

type nopRecorder struct{}

func (nopRecorder) Request(string, string, string, time.Duration) {}
