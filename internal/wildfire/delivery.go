package wildfire

import (
	"context"

	"github.com/qun-chat/qun/internal/group"
)

// The Admin API's outbound delivery calls: a bot's QQ webhook, what its
// streams delivered, and sending again from a point. This door only parses
// and renders them; the work is done behind Deliveries.

// Deliveries is what the delivery calls of the Admin API go through. The
// wiring implements it over the outbound engine and the QQ door; a nil
// Deliveries answers those calls with 254.
type Deliveries interface {
	// SetWebhook validates url as the robot's QQ webhook (op 13) and sets it
	// with intents (0: every group event); url "" turns it off. A refused
	// URL is a domain EInvalidParam error whose message says why.
	SetWebhook(ctx context.Context, robotID, url string, intents int64) (Webhook, error)
	// Webhook returns the robot's webhook; none set is the zero Webhook.
	Webhook(ctx context.Context, robotID string) (Webhook, error)
	// Deliveries reports the robot's streams and their newest attempts, at most limit.
	Deliveries(ctx context.Context, robotID string, limit int) (DeliveryReport, error)
	// Redeliver sends the robot's streams (kind "" : every stream that is
	// on) again from event seq fromSeq.
	Redeliver(ctx context.Context, robotID string, kind group.DeliveryKind, fromSeq int64) error
}

// The reports are the domain's, so that the console shows the same ones
// from the same implementation.
type (
	Webhook        = group.Webhook
	StreamReport   = group.StreamReport
	AttemptReport  = group.AttemptReport
	DropReport     = group.DropReport
	DeliveryReport = group.DeliveryReport
)

type webhookJSON struct {
	URL       string `json:"url"`
	Intents   int64  `json:"intents"`
	Validated bool   `json:"validated"`
}

type streamJSON struct {
	URL          string `json:"url"`
	DeliveredSeq int64  `json:"delivered_seq"`
	Pending      int64  `json:"pending"`
	LastError    string `json:"last_error"`
	NextAttempt  int64  `json:"next_attempt"` // ms; 0 when nothing is failing
	Dropped      int64  `json:"dropped"`
	Node         string `json:"node"`
}

type attemptJSON struct {
	Stream     string `json:"stream"`
	ID         string `json:"id"`
	Seq        int64  `json:"seq"`
	T          string `json:"t"`
	Status     int    `json:"status"`
	Error      string `json:"error"`
	At         int64  `json:"at"` // ms
	DurationMS int64  `json:"duration_ms"`
}

type dropJSON struct {
	Stream  string `json:"stream"`
	FromSeq int64  `json:"from_seq"`
	ToSeq   int64  `json:"to_seq"`
	ID      string `json:"id"`
	T       string `json:"t"`
	Error   string `json:"error"`
	At      int64  `json:"at"` // ms
}

type deliveriesJSON struct {
	Webhook  streamJSON    `json:"webhook"`
	Callback streamJSON    `json:"callback"`
	Attempts []attemptJSON `json:"attempts"`
	Drops    []dropJSON    `json:"drops"`
}

func newStreamJSON(s StreamReport) streamJSON {
	out := streamJSON{URL: s.URL, DeliveredSeq: s.DeliveredSeq, Pending: s.Pending, LastError: s.LastError, Dropped: s.Dropped, Node: s.Node}
	if !s.NextAttempt.IsZero() {
		out.NextAttempt = millis(s.NextAttempt)
	}
	return out
}

// errNoDeliveries answers the delivery calls when the wiring gave none.
var errNoDeliveries = errCode(CodeNotImplement, "this server delivers no webhooks or callbacks")

// DefaultDeliveriesLimit is how many attempts /admin/robot/deliveries shows
// without a limit; MaxDeliveriesLimit is the most it shows.
const (
	DefaultDeliveriesLimit = 20
	MaxDeliveriesLimit     = 100
)

// setWebhook serves /admin/robot/webhook: {robotId, url, intents?} → {url,
// intents, validated}. A URL that fails validation is refused with 251 and
// a msg saying why.
func (a *api) setWebhook(r *request) (any, error) {
	var body struct {
		robotIDBody
		URL     *flexString `json:"url"`
		Intents flexLong    `json:"intents"`
	}
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	switch {
	case body.RobotID == "":
		return nil, invalid("robotId is missing")
	case body.URL == nil:
		return nil, invalid("url is missing")
	case body.Intents < 0:
		return nil, invalid("intents %d is negative", body.Intents)
	}
	if a.deliveries == nil {
		return nil, errNoDeliveries
	}
	// A refused URL is an EInvalidParam whose message, after msg, says why.
	w, err := a.deliveries.SetWebhook(r.ctx, string(body.RobotID), string(*body.URL), int64(body.Intents))
	if err != nil {
		return nil, err
	}
	return webhookJSON{URL: w.URL, Intents: w.Intents, Validated: w.Validated}, nil
}

// robotDeliveries serves /admin/robot/deliveries: {robotId, limit?} →
// {webhook, callback, attempts, drops}.
func (a *api) robotDeliveries(r *request) (any, error) {
	robotID, limit, err := r.robotLimit(DefaultDeliveriesLimit, MaxDeliveriesLimit)
	if err != nil {
		return nil, err
	}
	if a.deliveries == nil {
		return nil, errNoDeliveries
	}
	rep, err := a.deliveries.Deliveries(r.ctx, robotID, limit)
	if err != nil {
		return nil, err
	}
	out := deliveriesJSON{Webhook: newStreamJSON(rep.Webhook), Callback: newStreamJSON(rep.Callback), Attempts: []attemptJSON{}, Drops: []dropJSON{}}
	for _, d := range rep.Drops {
		out.Drops = append(out.Drops, dropJSON{Stream: string(d.Kind), FromSeq: d.FromSeq, ToSeq: d.ToSeq, ID: d.ID, T: d.Type, Error: d.Error, At: millis(d.At)})
	}
	for _, at := range rep.Attempts {
		out.Attempts = append(out.Attempts, attemptJSON{Stream: string(at.Kind), ID: at.ID, Seq: at.Seq, T: at.Type,
			Status: at.Status, Error: at.Error, At: millis(at.At), DurationMS: at.Duration.Milliseconds()})
	}
	return out, nil
}

// robotLimit decodes a body {robotId, limit?}: limit 0..most, 0 meaning def.
func (r *request) robotLimit(def, most int) (robotID string, limit int, err error) {
	var body struct {
		robotIDBody
		Limit flexInt `json:"limit"`
	}
	if err := r.decode(&body); err != nil {
		return "", 0, err
	}
	switch {
	case body.RobotID == "":
		return "", 0, invalid("robotId is missing")
	case body.Limit < 0 || int(body.Limit) > most:
		return "", 0, invalid("limit %d is out of 0..%d", body.Limit, most)
	}
	limit = int(body.Limit)
	if limit == 0 {
		limit = def
	}
	return string(body.RobotID), limit, nil
}

// redeliver serves /admin/robot/redeliver: {robotId, from_seq, stream?}:
// the robot's streams (or the one named, "webhook" or "callback") send
// every event from from_seq on again.
func (a *api) redeliver(r *request) (any, error) {
	var body struct {
		robotIDBody
		FromSeq *flexLong  `json:"from_seq"`
		Stream  flexString `json:"stream"`
	}
	if err := r.decode(&body); err != nil {
		return nil, err
	}
	kind := group.DeliveryKind(body.Stream)
	switch {
	case body.RobotID == "":
		return nil, invalid("robotId is missing")
	case body.FromSeq == nil:
		return nil, invalid("from_seq is missing")
	case *body.FromSeq < 0:
		return nil, invalid("from_seq %d is negative", *body.FromSeq)
	case kind != "" && kind != group.DeliveryWebhook && kind != group.DeliveryCallback:
		return nil, invalid("stream %q is not webhook or callback", kind)
	}
	if a.deliveries == nil {
		return nil, errNoDeliveries
	}
	return nil, a.deliveries.Redeliver(r.ctx, string(body.RobotID), kind, int64(*body.FromSeq))
}
