package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// The bot page's outbound sections: the QQ webhook with its validation, the
// deliveries of the webhook and callback streams, and the bot's live gateway
// sessions. The console holds none of their rules: it goes through these
// interfaces, which the wiring implements with what the Admin API uses.

// Deliveries shows and changes a bot's webhook and deliveries.
type Deliveries interface {
	// SetWebhook validates url as the bot's QQ webhook (op 13) and sets it
	// with intents (0: every group event); "" turns it off. A refused URL is
	// an EInvalidParam error whose message says why.
	SetWebhook(ctx context.Context, botID, url string, intents int64) (group.Webhook, error)
	// Webhook returns the bot's webhook; none set is the zero Webhook.
	Webhook(ctx context.Context, botID string) (group.Webhook, error)
	// Deliveries reports the bot's streams and their newest attempts, at most limit.
	Deliveries(ctx context.Context, botID string, limit int) (group.DeliveryReport, error)
	// Redeliver sends the bot's stream kind again from event seq fromSeq.
	Redeliver(ctx context.Context, botID string, kind group.DeliveryKind, fromSeq int64) error
}

// Sessions lists a bot's gateway sessions, from the store: every node's.
type Sessions interface {
	// Sessions returns the bot's sessions, the last updated first, at most limit.
	Sessions(ctx context.Context, botID string, limit int) ([]group.SessionStatus, error)
}

// Bounds of the bot page's outbound sections.
const (
	// DefaultBotAttempts is how many delivery attempts the bot page shows.
	DefaultBotAttempts = 20
	// DefaultBotSessions is how many gateway sessions the bot page lists.
	DefaultBotSessions = 20
)

// timeFormat is how the outbound sections show a time (UTC).
const timeFormat = "2006-01-02 15:04:05"

func showTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(timeFormat)
}

// deliveryData is what the outbound sections of a bot's page show; a
// section whose interface the wiring did not give is left out.
type deliveryData struct {
	BotID         string
	HasDeliveries bool
	Webhook       group.Webhook
	URLInput      string // the form's URL: the one entered when it was refused
	WebhookError  string // why the URL entered was refused
	Streams       []streamRow
	Attempts      []attemptRow
	HasSessions   bool
	Sessions      []sessionRow
}

type streamRow struct {
	Kind        string
	Name        string
	URL         string
	Delivered   int64
	Pending     int64
	LastError   string
	NextAttempt string
	Dropped     int64
	Node        string
	From        int64 // what Redeliver suggests: the first event not done with
}

type attemptRow struct {
	Kind     string
	Seq      int64
	Type     string
	Status   int
	Error    string
	At       string
	Duration string
}

type sessionRow struct {
	ID          string
	Shard       string
	Live        bool
	Node        string
	ConnectedAt string
	SeenAt      string
	LastSeq     int64
}

// loadDelivery reads the outbound sections of botID's page.
func (c *Console) loadDelivery(ctx context.Context, lang, botID string) (*deliveryData, error) {
	d := &deliveryData{BotID: botID}
	if c.opt.Deliveries != nil {
		d.HasDeliveries = true
		w, err := c.opt.Deliveries.Webhook(ctx, botID)
		if err != nil {
			return nil, err
		}
		d.Webhook, d.URLInput = w, w.URL
		rep, err := c.opt.Deliveries.Deliveries(ctx, botID, DefaultBotAttempts)
		if err != nil {
			return nil, err
		}
		for _, s := range []struct {
			kind group.DeliveryKind
			rep  group.StreamReport
		}{{group.DeliveryWebhook, rep.Webhook}, {group.DeliveryCallback, rep.Callback}} {
			d.Streams = append(d.Streams, streamRow{Kind: string(s.kind), Name: text(lang, "stream_"+string(s.kind)),
				URL: s.rep.URL, Delivered: s.rep.DeliveredSeq, Pending: s.rep.Pending, LastError: s.rep.LastError,
				NextAttempt: showTime(s.rep.NextAttempt), Dropped: s.rep.Dropped, Node: s.rep.Node, From: s.rep.DeliveredSeq + 1})
		}
		for _, a := range rep.Attempts {
			d.Attempts = append(d.Attempts, attemptRow{Kind: string(a.Kind), Seq: a.Seq, Type: a.Type, Status: a.Status,
				Error: a.Error, At: showTime(a.At), Duration: a.Duration.String()})
		}
	}
	if c.opt.Sessions != nil {
		d.HasSessions = true
		ss, err := c.opt.Sessions.Sessions(ctx, botID, DefaultBotSessions)
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			d.Sessions = append(d.Sessions, sessionRow{ID: s.ID, Shard: strconv.Itoa(s.ShardID) + "/" + strconv.Itoa(s.ShardCount),
				Live: s.Live, Node: s.Node, ConnectedAt: showTime(s.ConnectedAt), SeenAt: showTime(s.UpdatedAt), LastSeq: s.LastSeq})
		}
	}
	return d, nil
}

// deliveriesOf reports whether s may change botID's deliveries here: the
// operator any bot's, a bot developer only theirs, and only when the wiring
// gave the console deliveries. It answers the refusal itself.
func (c *Console) deliveriesOf(w http.ResponseWriter, r *http.Request, s *session, botID string) bool {
	if !c.mayBot(w, r, s, botID) {
		return false
	}
	if c.opt.Deliveries == nil {
		c.fail(w, r, s, http.StatusNotImplemented, text(language(r), "no_deliveries"))
		return false
	}
	return true
}

// setWebhook validates the URL entered (op 13) and sets it; a refused URL
// shows the bot's page again with the reason beside the form.
func (c *Console) setWebhook(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	if !c.deliveriesOf(w, r, s, id) {
		return
	}
	lang := language(r)
	u := strings.TrimSpace(r.PostForm.Get("url"))
	if len(u) > group.MaxURLLen { // refused before it is echoed back into the page
		c.fail(w, r, s, http.StatusBadRequest, fieldText(lang, "webhook_url", "too_long"))
		return
	}
	cur, err := c.opt.Deliveries.Webhook(r.Context(), id)
	if err != nil {
		c.domainError(w, r, s, err)
		return
	}
	_, err = c.opt.Deliveries.SetWebhook(r.Context(), id, u, cur.Intents) // the intents stay as they were
	if ge := (*group.Error)(nil); errors.As(err, &ge) && ge.Code == group.EInvalidParam {
		c.showBot(w, r, s, id, http.StatusBadRequest, func(d *deliveryData) { d.URLInput, d.WebhookError = u, ge.Message })
		return
	}
	if err != nil {
		c.domainError(w, r, s, err)
		return
	}
	flash := "webhook_validated"
	if u == "" {
		flash = "webhook_off"
	}
	redirect(w, "/bots/"+url.PathEscape(id)+"?flash="+flash)
}

// redeliver sends one of the bot's streams again from the event seq entered.
func (c *Console) redeliver(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	if !c.deliveriesOf(w, r, s, id) {
		return
	}
	lang := language(r)
	kind := group.DeliveryKind(r.PostForm.Get("stream"))
	if kind != group.DeliveryWebhook && kind != group.DeliveryCallback {
		c.fail(w, r, s, http.StatusBadRequest, text(lang, "bad_stream"))
		return
	}
	from, err := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get("from_seq")), 10, 64)
	if err != nil || from < 0 {
		c.fail(w, r, s, http.StatusBadRequest, text(lang, "bad_from_seq"))
		return
	}
	if err := c.opt.Deliveries.Redeliver(r.Context(), id, kind, from); err != nil {
		c.domainError(w, r, s, err)
		return
	}
	redirect(w, "/bots/"+url.PathEscape(id)+"?flash=redelivered")
}
