package console

import (
	"net/http"
	"strings"
)

// Limits of the playground's view of a bot's events.
const (
	// DefaultRecentEvents is how many of the bot's latest events the view
	// starts with (read by key from the log's last seq).
	DefaultRecentEvents = 20
	// DefaultEventsRead bounds one read of the bot's event log.
	DefaultEventsRead = 100
)

// RawEvent is one event of a bot's log and the JSON the bot was sent for it.
type RawEvent struct {
	Seq  int64
	JSON []byte // the gateway's op 0 frame, byte for byte; nil: the gateway does not send it
}

// botEvents streams, as Server-Sent Events, the frames a bot was sent for
// its events, each its exact JSON with the event's log seq as the event id:
// from Last-Event-ID or ?after=, else the bot's DefaultRecentEvents latest.
// The operator may follow any bot, a bot developer only that bot.
func (c *Console) botEvents(w http.ResponseWriter, r *http.Request, s *session) {
	lang := language(r)
	if c.opt.BotEvents == nil {
		c.fail(w, r, s, http.StatusNotFound, text(lang, "not_found"))
		return
	}
	bot := strings.TrimSpace(r.URL.Query().Get("bot"))
	if bot == "" {
		c.fail(w, r, s, http.StatusBadRequest, fieldText(lang, "bot", "empty"))
		return
	}
	if !c.mayBot(w, r, s, bot) {
		return
	}
	after, given, ok := startAt(r)
	if !ok {
		c.fail(w, r, s, http.StatusBadRequest, text(lang, "bad_after"))
		return
	}
	_, last, err := c.opt.BotEvents(r.Context(), bot, 0, 0) // the bot exists, and where its log ends
	if err != nil {
		c.domainError(w, r, s, err)
		return
	}
	if !given {
		after = max(0, last-DefaultRecentEvents)
	}
	c.serveStream(w, r, "events of "+bot, after, func(after int64) ([]sseEvent, int64, bool, error) {
		evs, _, err := c.opt.BotEvents(r.Context(), bot, after, DefaultEventsRead)
		var out []sseEvent
		for _, e := range evs {
			if e.JSON != nil {
				out = append(out, sseEvent{id: e.Seq, data: e.JSON})
			}
			after = e.Seq
		}
		return out, after, len(evs) == DefaultEventsRead, err
	})
}

// eventsBot picks the bot whose events the playground shows: the bot
// developer's own, else the one asked for, else the group's first.
func eventsBot(s *session, asked string, bots []string) string {
	switch {
	case !s.operator():
		return s.botID
	case asked != "":
		return asked
	case len(bots) > 0:
		return bots[0]
	}
	return ""
}
