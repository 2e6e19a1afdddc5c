package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/qun-chat/qun/internal/console"
	"github.com/qun-chat/qun/internal/delivery"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/qqbot"
	"github.com/qun-chat/qun/internal/wildfire"
)

// NodeFile keeps this node's name in the data directory, so that a node
// restarted (or crashed and restarted) takes its own delivery leases back at
// once instead of waiting for them to expire.
const NodeFile = "node-id"

// nodeName returns the node's name, kept in the data directory.
func nodeName(data string) (string, error) {
	path := filepath.Join(data, NodeFile)
	b, err := os.ReadFile(path)
	if name := strings.TrimSpace(string(b)); err == nil && name != "" {
		return name, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("node name: %w", err)
	}
	name := delivery.NewNodeName()
	if err := os.WriteFile(path, []byte(name+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("node name: %w", err)
	}
	return name, nil
}

// qqWebhookDoor renders a bot's QQ webhook stream through the QQ door.
type qqWebhookDoor struct{ qq *qqbot.Server }

// Items implements delivery.Door.
func (d qqWebhookDoor) Items(ctx context.Context, st group.DeliveryStream, after int64, limit int) ([]delivery.Item, int64, error) {
	its, last, err := d.qq.WebhookItems(ctx, st.BotID, st.Intents, after, limit)
	if err != nil {
		return nil, 0, err
	}
	out := make([]delivery.Item, len(its))
	for i, it := range its {
		out[i] = delivery.Item{Seq: it.Seq, ID: it.ID, Type: it.Type, Body: it.Body, CreatedAt: it.CreatedAt, Header: it.Header}
	}
	return out, last, nil
}

// Check implements delivery.Door.
func (qqWebhookDoor) Check(body []byte) error { return qqbot.CheckWebhookAck(body) }

// wildfireCallbackDoor renders a robot's Wildfire callback stream through the Wildfire door.
type wildfireCallbackDoor struct{ store group.Store }

// Items implements delivery.Door.
func (d wildfireCallbackDoor) Items(ctx context.Context, st group.DeliveryStream, after int64, limit int) ([]delivery.Item, int64, error) {
	its, last, err := wildfire.CallbackItems(ctx, d.store, st.BotID, after, limit)
	if err != nil {
		return nil, 0, err
	}
	out := make([]delivery.Item, len(its))
	for i, it := range its {
		out[i] = delivery.Item{Seq: it.Seq, ID: it.ID, Type: it.Type, Body: it.Body, URL: it.URL, CreatedAt: it.CreatedAt, Header: it.Header}
	}
	return out, last, nil
}

// Check implements delivery.Door: Wildfire receivers answer as they like;
// any 2xx is delivered.
func (wildfireCallbackDoor) Check([]byte) error { return nil }

// CheckCallback implements wildfire.Callbacks.
func (d *deliveries) CheckCallback(ctx context.Context, url string) error {
	return d.engine.CheckURL(ctx, url)
}

// CallbackSet implements wildfire.Callbacks: the robot's callback stream
// follows its callback URL, from the end of its log when it starts.
func (d *deliveries) CallbackSet(ctx context.Context, robotID, url string) error {
	if _, err := d.store.SetDeliveryTarget(ctx, robotID, group.DeliveryCallback, url, 0, d.now().Truncate(time.Millisecond)); err != nil {
		return err
	}
	d.engine.Notify(robotID, group.DeliveryCallback)
	return nil
}

// deliveries serves the Admin API's delivery calls over the engine, its
// store and the QQ door.
type deliveries struct {
	engine *delivery.Engine
	store  delivery.Store
	events group.Store
	svc    *group.Service
	qq     *qqbot.Server
	now    func() time.Time
}

var (
	_ wildfire.Deliveries = (*deliveries)(nil)
	_ wildfire.Callbacks  = (*deliveries)(nil)
	_ console.Deliveries  = (*deliveries)(nil)
)

// SetWebhook implements wildfire.Deliveries: the URL must be allowed and
// pass op 13 validation before it is set.
func (d *deliveries) SetWebhook(ctx context.Context, robotID, url string, intents int64) (wildfire.Webhook, error) {
	if _, _, err := d.svc.GetRobot(ctx, robotID); err != nil {
		return wildfire.Webhook{}, err
	}
	if intents == 0 {
		intents = qqbot.DefaultWebhookIntents
	}
	if url != "" {
		if err := d.engine.CheckURL(ctx, url); err != nil {
			return wildfire.Webhook{}, err
		}
		v, err := d.qq.NewWebhookValidation(ctx, robotID)
		if err != nil {
			return wildfire.Webhook{}, err
		}
		status, answer, err := d.engine.Post(ctx, url, v.Header, v.Body)
		if err == nil {
			err = v.Check(status, answer)
		}
		if err != nil {
			return wildfire.Webhook{}, group.Errorf(group.EInvalidParam, "webhook validation (op 13) failed: %v", err)
		}
	}
	st, err := d.store.SetDeliveryTarget(ctx, robotID, group.DeliveryWebhook, url, intents, d.now().Truncate(time.Millisecond))
	if err != nil {
		return wildfire.Webhook{}, err
	}
	d.engine.Notify(robotID, group.DeliveryWebhook)
	return webhookOf(st), nil
}

// webhookOf is a webhook stream as the Admin API shows it; every URL set was validated.
func webhookOf(st group.DeliveryStream) wildfire.Webhook {
	if st.URL == "" {
		return wildfire.Webhook{}
	}
	return wildfire.Webhook{URL: st.URL, Intents: st.Intents, Validated: true}
}

// Webhook implements wildfire.Deliveries.
func (d *deliveries) Webhook(ctx context.Context, robotID string) (wildfire.Webhook, error) {
	st, err := d.store.DeliveryStream(ctx, robotID, group.DeliveryWebhook)
	if group.IsNotExist(err) {
		return wildfire.Webhook{}, nil
	}
	if err != nil {
		return wildfire.Webhook{}, err
	}
	return webhookOf(st), nil
}

// Deliveries implements wildfire.Deliveries.
func (d *deliveries) Deliveries(ctx context.Context, robotID string, limit int) (wildfire.DeliveryReport, error) {
	if _, _, err := d.svc.GetRobot(ctx, robotID); err != nil {
		return wildfire.DeliveryReport{}, err
	}
	var last int64
	err := d.events.View(ctx, func(r group.Reader) (err error) {
		last, err = r.LastEventSeq(robotID)
		return err
	})
	if err != nil {
		return wildfire.DeliveryReport{}, err
	}
	var rep wildfire.DeliveryReport
	for _, kind := range []group.DeliveryKind{group.DeliveryWebhook, group.DeliveryCallback} {
		st, err := d.store.DeliveryStream(ctx, robotID, kind)
		if group.IsNotExist(err) {
			continue
		}
		if err != nil {
			return wildfire.DeliveryReport{}, err
		}
		sr := wildfire.StreamReport{URL: st.URL, DeliveredSeq: st.Delivered, LastError: st.LastError,
			NextAttempt: st.NextAttempt, Dropped: st.Dropped, Node: st.LeaseNode}
		if st.URL != "" {
			sr.Pending = max(last-st.Delivered, 0)
		}
		if kind == group.DeliveryWebhook {
			rep.Webhook = sr
		} else {
			rep.Callback = sr
		}
		as, err := d.store.DeliveryAttempts(ctx, robotID, kind, limit)
		if err != nil {
			return wildfire.DeliveryReport{}, err
		}
		for _, a := range as {
			rep.Attempts = append(rep.Attempts, wildfire.AttemptReport{Kind: kind, ID: a.ItemID, Seq: a.Seq, Type: a.Type,
				Status: a.Status, Error: a.Error, At: a.At, Duration: a.Duration})
		}
		drops, err := d.store.DeliveryDrops(ctx, robotID, kind, limit)
		if err != nil {
			return wildfire.DeliveryReport{}, err
		}
		for _, dr := range drops {
			rep.Drops = append(rep.Drops, wildfire.DropReport{Kind: kind, FromSeq: dr.FromSeq, ToSeq: dr.ToSeq, ID: dr.ItemID,
				Type: dr.Type, Error: dr.Error, At: dr.At})
		}
	}
	slices.SortStableFunc(rep.Attempts, func(a, b wildfire.AttemptReport) int { return b.At.Compare(a.At) })
	slices.SortStableFunc(rep.Drops, func(a, b wildfire.DropReport) int { return b.At.Compare(a.At) })
	if len(rep.Attempts) > limit {
		rep.Attempts = rep.Attempts[:limit]
	}
	if len(rep.Drops) > limit {
		rep.Drops = rep.Drops[:limit]
	}
	return rep, nil
}

// Redeliver implements wildfire.Deliveries.
func (d *deliveries) Redeliver(ctx context.Context, robotID string, kind group.DeliveryKind, fromSeq int64) error {
	kinds := []group.DeliveryKind{kind}
	if kind == "" {
		kinds = []group.DeliveryKind{group.DeliveryWebhook, group.DeliveryCallback}
	}
	now := d.now().Truncate(time.Millisecond)
	done := 0
	for _, k := range kinds {
		_, err := d.store.Redeliver(ctx, robotID, k, fromSeq, now)
		if group.IsNotExist(err) && kind == "" {
			continue
		}
		if err != nil {
			return err
		}
		d.engine.Notify(robotID, k)
		done++
	}
	if done == 0 {
		return group.Errorf(group.ENotExist, "robot %q has no stream that is on", robotID)
	}
	return nil
}

// openDelivery builds the outbound engine over the store and the doors,
// points the operator's group callbacks at the configured URLs, and returns
// the Admin API's view of it.
func (m *Main) openDelivery(ctx context.Context, adminSecret string) (*deliveries, error) {
	cfg := m.Config
	ds := m.Store
	node, err := nodeName(cfg.Data)
	if err != nil {
		return nil, err
	}
	m.Delivery = delivery.New(ds, m.Store, map[group.DeliveryKind]delivery.Door{
		group.DeliveryWebhook:     qqWebhookDoor{m.QQ},
		group.DeliveryCallback:    wildfireCallbackDoor{m.Store},
		group.DeliveryGroupInfo:   groupChangeDoor{m.Store, group.EventGroupInfo, []byte(adminSecret)},
		group.DeliveryGroupMember: groupChangeDoor{m.Store, group.EventGroupMember, []byte(adminSecret)},
	}, delivery.Options{
		Node:      node,
		Logger:    m.Logger,
		Retention: cfg.EventRetention,
		LeaseTTL:  cfg.DeliveryLease,
		Timeout:   cfg.DeliveryTimeout,
		RetryMin:  cfg.DeliveryRetryMin,
		RetryMax:  cfg.DeliveryRetryMax,
		Deny:      cfg.CallbackDeny,
	})
	if err := m.Metrics.WatchGauge("qun_delivery_backlog", "Events the webhook and callback streams this node delivers have not delivered yet.",
		func() float64 { return float64(m.Delivery.Backlog()) }); err != nil {
		return nil, err
	}
	d := &deliveries{engine: m.Delivery, store: ds, events: m.Store, svc: m.Service, qq: m.QQ, now: time.Now}
	for kind, url := range map[group.DeliveryKind]string{group.DeliveryGroupInfo: cfg.GroupInfoCallback, group.DeliveryGroupMember: cfg.GroupMemberCallback} {
		if err := d.setGroupCallback(ctx, kind, url); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// setGroupCallback points one of the operator's group callbacks at url (""
// : off) unless it is there already. Every node should be given the same.
func (d *deliveries) setGroupCallback(ctx context.Context, kind group.DeliveryKind, url string) error {
	st, err := d.store.DeliveryStream(ctx, group.ServerLog, kind)
	if err != nil && !group.IsNotExist(err) {
		return err
	}
	if st.URL == url {
		return nil
	}
	if url != "" {
		if err := d.engine.CheckURL(ctx, url); err != nil {
			return fmt.Errorf("%s callback: %w", kind, err)
		}
	}
	_, err = d.store.SetDeliveryTarget(ctx, group.ServerLog, kind, url, 0, d.now().Truncate(time.Millisecond))
	return err
}

// groupChangeDoor renders one of the operator's group callback streams through the Wildfire door.
type groupChangeDoor struct {
	store group.Store
	event group.EventType
	key   []byte // the admin secret
}

// Items implements delivery.Door.
func (d groupChangeDoor) Items(ctx context.Context, _ group.DeliveryStream, after int64, limit int) ([]delivery.Item, int64, error) {
	its, last, err := wildfire.GroupChangeItems(ctx, d.store, d.event, d.key, after, limit)
	if err != nil {
		return nil, 0, err
	}
	out := make([]delivery.Item, len(its))
	for i, it := range its {
		out[i] = delivery.Item{Seq: it.Seq, ID: it.ID, Type: it.Type, Body: it.Body, CreatedAt: it.CreatedAt, Header: it.Header}
	}
	return out, last, nil
}

// Check implements delivery.Door: any 2xx is delivered.
func (groupChangeDoor) Check([]byte) error { return nil }
