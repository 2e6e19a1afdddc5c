package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// Limits of a live stream.
const (
	// DefaultStreamPoll is how often a live stream reads what came after the
	// last item it sent (a read by key: cheap whatever the log's length).
	DefaultStreamPoll = 500 * time.Millisecond
	// DefaultStreamLifetime ends a stream after this long; the browser's
	// EventSource reconnects with Last-Event-ID and misses nothing.
	DefaultStreamLifetime = 5 * time.Minute
)

// sseEvent is one Server-Sent Event: its id (a seq) and its one-line data.
type sseEvent struct {
	id   int64
	data []byte
}

// readAfter reads the items after seq after: the events to send, the seq to
// continue after, and whether more may follow at once.
type readAfter func(after int64) (events []sseEvent, next int64, more bool, err error)

// startAt returns where a stream starts: after the seq of Last-Event-ID,
// else of ?after=; ok is false for a value that is no whole number, and
// given is false when neither is there.
func startAt(r *http.Request) (after int64, given, ok bool) {
	from := r.Header.Get("Last-Event-ID")
	if from == "" {
		from = r.URL.Query().Get("after")
	}
	if from == "" {
		return 0, false, true
	}
	after, err := strconv.ParseInt(from, 10, 64)
	return after, true, err == nil && after >= 0
}

// serveStream answers a stream of Server-Sent Events: read from after on,
// every StreamPoll, until the browser leaves, the console stops or
// DefaultStreamLifetime passes. It is the one answer without
// Content-Length: a stream has no length.
func (c *Console) serveStream(w http.ResponseWriter, r *http.Request, what string, after int64, read readAfter) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n\n")
	if err := rc.Flush(); err != nil {
		c.log.Warn("console: stream cannot flush", "stream", what, "err", err)
		return
	}
	tick := time.NewTicker(c.opt.StreamPoll)
	defer tick.Stop()
	end := time.NewTimer(DefaultStreamLifetime)
	defer end.Stop()
	for {
		for {
			evs, next, more, err := read(after)
			if err != nil {
				if r.Context().Err() == nil {
					c.log.Warn("console: stream", "stream", what, "err", err)
				}
				return
			}
			for _, e := range evs {
				fmt.Fprintf(w, "id: %d\ndata: %s\n\n", e.id, e.data)
			}
			after = next
			if len(evs) > 0 {
				rc.Flush()
			}
			if !more {
				break
			}
		}
		select {
		case <-r.Context().Done():
			return
		case <-c.done:
			return
		case <-end.C:
			return
		case <-tick.C:
		}
	}
}

// stream sends a group's new timeline messages as Server-Sent Events, each
// a rendered line as JSON with its seq as the event id, after the seq given
// by Last-Event-ID or ?after=.
func (c *Console) stream(w http.ResponseWriter, r *http.Request, s *session) {
	gid := r.PathValue("id")
	lang := language(r)
	if !c.mayGroup(r.Context(), s, gid) {
		c.fail(w, r, s, http.StatusForbidden, text(lang, "forbidden"))
		return
	}
	after, given, ok := startAt(r)
	if !ok || !given {
		c.fail(w, r, s, http.StatusBadRequest, text(lang, "bad_after"))
		return
	}
	if _, err := c.svc.GetGroup(r.Context(), gid); err != nil {
		c.domainError(w, r, s, err)
		return
	}
	c.serveStream(w, r, "timeline "+gid, after, func(after int64) ([]sseEvent, int64, bool, error) {
		msgs, next, err := c.svc.Timeline(r.Context(), gid, 0, after, group.MaxTimelinePage)
		evs := make([]sseEvent, len(msgs))
		for i, m := range msgs {
			b, _ := json.Marshal(render(lang, m)) // a line of strings and numbers: it cannot fail
			evs[i] = sseEvent{id: m.Seq, data: b}
			after = m.Seq
		}
		return evs, after, next != 0, err
	})
}
