package client

import "context"

// The delivery calls: a bot's QQ webhook, what its streams delivered, and
// sending again from a point. They are Admin API calls only.

// Delivery streams, as /admin/robot/redeliver names them.
const (
	StreamWebhook  = "webhook"  // the bot's QQ webhook
	StreamCallback = "callback" // the robot's Wildfire callback
)

// Webhook is a bot's QQ webhook: URL empty when it has none. Every URL qun
// keeps passed op 13 validation.
type Webhook struct {
	URL       string `json:"url"`
	Intents   int64  `json:"intents"`
	Validated bool   `json:"validated"`
}

// Deliveries is what /admin/robot/deliveries shows: both streams, their
// newest attempts and the newest records of events given up on, newest first.
type Deliveries struct {
	Webhook  Stream    `json:"webhook"`
	Callback Stream    `json:"callback"`
	Attempts []Attempt `json:"attempts"`
	Drops    []Drop    `json:"drops"`
}

// Stream is one delivery stream's progress. Seqs are the bot's event-log
// seqs (a webhook frame's s is one more).
type Stream struct {
	URL          string `json:"url"` // "": off
	DeliveredSeq int64  `json:"delivered_seq"`
	Pending      int64  `json:"pending"` // events after DeliveredSeq
	LastError    string `json:"last_error"`
	NextAttempt  int64  `json:"next_attempt"` // Unix ms; 0 when nothing is failing
	Dropped      int64  `json:"dropped"`      // events ever given up on
	Node         string `json:"node"`         // the node delivering it; "" when none
}

// Attempt is one POST of a stream.
type Attempt struct {
	Stream     string `json:"stream"`
	ID         string `json:"id"` // the frame id or webhook-id the receiver saw
	Seq        int64  `json:"seq"`
	T          string `json:"t"`
	Status     int    `json:"status"` // 0: no answer
	Error      string `json:"error"`  // "": delivered
	At         int64  `json:"at"`     // Unix ms
	DurationMS int64  `json:"duration_ms"`
}

// Drop records events of a stream given up on, FromSeq to ToSeq included.
type Drop struct {
	Stream  string `json:"stream"`
	FromSeq int64  `json:"from_seq"`
	ToSeq   int64  `json:"to_seq"`
	ID      string `json:"id"`
	T       string `json:"t"`
	Error   string `json:"error"`
	At      int64  `json:"at"` // Unix ms
}

// SetWebhook sets a bot's QQ webhook, which qun first validates with op 13;
// url "" turns it off. intents 0 is qun's default, every group event (1<<25).
func (c *Client) SetWebhook(ctx context.Context, robotID, url string, intents int64) (Webhook, error) {
	body := struct {
		RobotID string `json:"robotId"`
		URL     string `json:"url"`
		Intents int64  `json:"intents,omitempty"`
	}{robotID, url, intents}
	var res Webhook
	err := c.call(ctx, "/admin/robot/webhook", body, &res)
	return res, err
}

// Deliveries returns a robot's streams and their newest attempts, at most
// limit of them (0: qun's default, 20; at most 100).
func (c *Client) Deliveries(ctx context.Context, robotID string, limit int) (Deliveries, error) {
	body := struct {
		RobotID string `json:"robotId"`
		Limit   int    `json:"limit,omitempty"`
	}{robotID, limit}
	var res Deliveries
	err := c.call(ctx, "/admin/robot/deliveries", body, &res)
	return res, err
}

// Redeliver sends a robot's stream (StreamWebhook or StreamCallback; "":
// every stream that is on) again, from event seq fromSeq on.
func (c *Client) Redeliver(ctx context.Context, robotID, stream string, fromSeq int64) error {
	body := struct {
		RobotID string `json:"robotId"`
		FromSeq int64  `json:"from_seq"`
		Stream  string `json:"stream,omitempty"`
	}{robotID, fromSeq, stream}
	return c.call(ctx, "/admin/robot/redeliver", body, nil)
}
