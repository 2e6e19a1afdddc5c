// Package access turns what each HTTP request of a door came to — its route,
// caller, status, door code, reason and duration — into the access log lines
// and the request metrics, the same way for every door.
//
// A door wraps its handler with Door.Wrap and, while it serves, fills in the
// request's Record (From): the route pattern, the caller, and why it refused
// or failed. Wrap then writes
//
//   - at debug, one "request" line per request: door, method, route, status,
//     code, duration, caller;
//   - at info, one "request refused" line per refused request: door, route,
//     caller, status, code, reason;
//   - at error, one "request failed" line per server error, with the error.
//
// Nothing else of the request is logged: no header, so never a secret, a
// token or a signature, and no body. It imports only the standard library;
// the doors import it and internal/metrics implements its Observer.
package access

import (
	"log/slog"
	"net/http"
	"time"
)

// Observer receives every request a door answered, for metrics.
type Observer interface {
	// Request reports one answered request: the door ("robot", "admin",
	// "qq", "console"), the route's pattern (Unmatched for a path no route serves:
	// never a raw path, so that the set of routes stays bounded), the
	// door's code ("0" for a success) and how long the answer took.
	Request(door, route, code string, d time.Duration)
}

// Unmatched is the route of a request whose path no route serves.
const Unmatched = "unmatched"

// Record is one request as its door serves it. The door fills it in through
// From; every method is a no-op on a nil Record, so that a handler called
// directly (in a test) needs no wrapping.
type Record struct {
	http.ResponseWriter

	// Route is the pattern of the route that served the request; empty
	// means Unmatched.
	Route string
	// Caller names who called: a robot id (as its rid header claims), a
	// bot's app id, or "admin". Empty when unknown.
	Caller string

	status   int
	code     string
	reason   string
	err      error
	hijacked bool
	attrs    []slog.Attr
}

// From returns the Record that wraps w, or nil.
func From(w http.ResponseWriter) *Record {
	rec, _ := w.(*Record)
	return rec
}

// WriteHeader implements http.ResponseWriter, noting the status.
func (rec *Record) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
	rec.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (rec *Record) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.ResponseWriter.Write(b)
}

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController and
// the WebSocket library's hijack.
func (rec *Record) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// SetRoute sets the route pattern.
func (rec *Record) SetRoute(route string) {
	if rec != nil {
		rec.Route = route
	}
}

// SetCaller sets who called.
func (rec *Record) SetCaller(caller string) {
	if rec != nil {
		rec.Caller = caller
	}
}

// Refuse notes that the door answered with its error code for reason, a
// sentence for the operator (it may name ids; never a secret).
func (rec *Record) Refuse(code, reason string) {
	if rec != nil {
		rec.code, rec.reason, rec.err = code, reason, nil
	}
}

// Fail notes a server error: the door answered code, and err is logged.
func (rec *Record) Fail(code string, err error) {
	if rec != nil {
		rec.code, rec.reason, rec.err = code, "", err
	}
}

// Hijack notes that the connection left HTTP (a WebSocket upgrade): the
// request is neither logged nor counted, as its connection has lines of its own.
func (rec *Record) Hijack() {
	if rec != nil {
		rec.hijacked = true
	}
}

// With adds attributes to the request's log lines (a trace id).
func (rec *Record) With(attrs ...slog.Attr) {
	if rec != nil {
		rec.attrs = append(rec.attrs, attrs...)
	}
}

// Door logs and counts the requests of one door.
type Door struct {
	// Name is the door's name in log lines and metrics.
	Name string
	// Log receives the lines; nil means slog.Default().
	Log *slog.Logger
	// Observer receives every answered request; nil counts nothing.
	Observer Observer
}

// Wrap returns next with every request recorded, logged and counted.
func (d Door) Wrap(next http.Handler) http.Handler {
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &Record{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(rec, r)
		if rec.hijacked {
			return
		}
		d.finish(log, rec, r, time.Since(start))
	})
}

func (d Door) finish(log *slog.Logger, rec *Record, r *http.Request, took time.Duration) {
	route, code, status := rec.Route, rec.code, rec.status
	if route == "" {
		route = Unmatched
	}
	if code == "" {
		code = "0"
	}
	if status == 0 {
		status = http.StatusOK
	}
	if d.Observer != nil {
		d.Observer.Request(d.Name, route, code, took)
	}
	ctx := r.Context()
	refused := rec.err == nil && code != "0"
	if rec.err == nil && !refused && !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := append([]slog.Attr{
		slog.String("door", d.Name), slog.String("method", r.Method), slog.String("route", route),
		slog.Int("status", status), slog.String("code", code), slog.Duration("duration", took),
		slog.String("caller", rec.Caller),
	}, rec.attrs...)
	log.LogAttrs(ctx, slog.LevelDebug, "request", attrs...)
	switch {
	case rec.err != nil:
		log.LogAttrs(ctx, slog.LevelError, "request failed", append(attrs, slog.Any("err", rec.err))...)
	case refused:
		log.LogAttrs(ctx, slog.LevelInfo, "request refused", append(attrs, slog.String("reason", rec.reason))...)
	}
}
