package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// Limits of a live timeline.
const (
	// DefaultStreamPoll is how often a live timeline reads the messages after
	// the last one it sent (a read by key: cheap whatever the timeline's length).
	DefaultStreamPoll = 500 * time.Millisecond
	// DefaultStreamLifetime ends a stream after this long; the browser's
	// EventSource reconnects with Last-Event-ID and misses nothing.
	DefaultStreamLifetime = 5 * time.Minute
)

// stream sends a group's new timeline messages as Server-Sent Events, each
// a rendered line as JSON with its seq as the event id, after the seq given
// by Last-Event-ID or ?after=. It is the one answer without Content-Length:
// a stream has no length.
func (c *Console) stream(w http.ResponseWriter, r *http.Request, s *session) {
	gid := r.PathValue("id")
	lang := language(r)
	if !c.mayGroup(r.Context(), s, gid) {
		c.fail(w, r, s, http.StatusForbidden, text(lang, "forbidden"))
		return
	}
	from := r.Header.Get("Last-Event-ID")
	if from == "" {
		from = r.URL.Query().Get("after")
	}
	after, err := strconv.ParseInt(from, 10, 64)
	if err != nil || after < 0 {
		c.fail(w, r, s, http.StatusBadRequest, "after is a whole number")
		return
	}
	if _, err := c.svc.GetGroup(r.Context(), gid); err != nil {
		c.domainError(w, r, s, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		c.fail(w, r, s, http.StatusInternalServerError, text(lang, "server_error"))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n\n")
	flusher.Flush()
	tick := time.NewTicker(c.opt.StreamPoll)
	defer tick.Stop()
	end := time.NewTimer(DefaultStreamLifetime)
	defer end.Stop()
	for {
		for {
			msgs, next, err := c.svc.Timeline(r.Context(), gid, 0, after, group.MaxTimelinePage)
			if err != nil {
				if r.Context().Err() == nil {
					c.log.Warn("console: stream", "group", gid, "err", err)
				}
				return
			}
			for _, m := range msgs {
				b, _ := json.Marshal(render(lang, m))
				fmt.Fprintf(w, "id: %d\ndata: %s\n\n", m.Seq, b)
				after = m.Seq
			}
			if len(msgs) > 0 {
				flusher.Flush()
			}
			if next == 0 {
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
