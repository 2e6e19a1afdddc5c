package wildfire

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// The robot message callback: the messages of a robot's groups POSTed to its
// callback URL as Wildfire's OutputMessageData. Wildfire sends them unsigned;
// qun adds Standard Webhooks headers keyed by the robot secret, which a
// receiver may check or ignore. The delivery engine POSTs them; this file
// decides only what they look like.

// Callbacks is told of robots' callback URLs: they are checked (scheme, the
// deny list) before they are kept, and delivered to once kept. The wiring
// implements it over the outbound engine; nil keeps them unchecked and
// undelivered.
type Callbacks interface {
	// CheckCallback refuses a URL that may not be a callback with a domain
	// EInvalidParam error saying why.
	CheckCallback(ctx context.Context, url string) error
	// CallbackSet is told that a robot's callback is now url ("" : none).
	CallbackSet(ctx context.Context, robotID, url string) error
}

// setCallback checks a robot's new callback URL, keeps it and tells the
// wiring, which delivers to it from then on.
func (a *api) setCallback(ctx context.Context, robotID, url string) error {
	if err := a.checkCallback(ctx, url); err != nil {
		return err
	}
	if err := a.svc.SetCallback(ctx, robotID, url); err != nil {
		return err
	}
	return a.callbackSet(ctx, robotID, url)
}

// checkCallback refuses a callback URL the wiring refuses: a domain
// EInvalidParam, 251 with the reason after msg.
func (a *api) checkCallback(ctx context.Context, url string) error {
	if a.callbacks == nil || url == "" {
		return nil
	}
	return a.callbacks.CheckCallback(ctx, url)
}

// callbackSet tells the wiring of a robot's callback as kept.
func (a *api) callbackSet(ctx context.Context, robotID, url string) error {
	if a.callbacks == nil {
		return nil
	}
	return a.callbacks.CallbackSet(ctx, robotID, url)
}

// CallbackItem is one event of a robot's log as its callback carries it.
type CallbackItem struct {
	Seq       int64
	ID        string // webhook-id: the message uid, the same on every attempt
	Type      string
	URL       string // the robot's callback when the log was read
	Body      []byte // OutputMessageData; nil for events the callback does not carry
	CreatedAt time.Time
	// Header returns the signed headers of an attempt at now.
	Header func(now time.Time) http.Header
}

// outputMessageJSON is Wildfire's OutputMessageData (gson field names).
type outputMessageJSON struct {
	MessageID int64       `json:"messageId"`
	Sender    string      `json:"sender"`
	Conv      convJSON    `json:"conv"`
	Payload   payloadJSON `json:"payload"`
	ToUsers   []string    `json:"toUsers,omitempty"` // gson omits the null list
	Timestamp int64       `json:"timestamp"`
}

type convJSON struct {
	Type   int    `json:"type"`
	Target string `json:"target"`
	Line   int    `json:"line"`
}

// CallbackItems renders robotID's events after seq after, at most limit, as
// its callback carries them, and returns the robot's last event seq: every
// message recorded for it (group.EventRobotMessage) as OutputMessageData, to
// the robot's callback URL as it is now. Other events, and every event while
// the robot has no callback, are not carried.
func CallbackItems(ctx context.Context, st group.Store, robotID string, after int64, limit int) ([]CallbackItem, int64, error) {
	var items []CallbackItem
	var last int64
	var b group.Bot
	err := st.View(ctx, func(r group.Reader) error {
		var err error
		if b, err = r.Bot(robotID); err != nil {
			return err
		}
		if last, err = r.LastEventSeq(robotID); err != nil {
			return err
		}
		evs, err := r.Events(robotID, after, limit)
		if err != nil {
			return err
		}
		for _, e := range evs {
			it := CallbackItem{Seq: e.Seq, ID: strconv.FormatInt(e.MessageUID, 10), Type: string(e.Type), URL: b.Callback, CreatedAt: e.CreatedAt}
			if e.Type == group.EventRobotMessage && b.Callback != "" {
				m, err := r.Message(e.MessageUID)
				if err != nil && !group.IsNotExist(err) {
					return err
				}
				if err == nil {
					if it.Body, err = json.Marshal(outputMessageJSON{MessageID: m.UID, Sender: m.Sender,
						Conv:    convJSON{Type: group.ConvGroup, Target: m.GroupID, Line: m.Line},
						Payload: newPayloadJSON(m.Payload), Timestamp: millis(m.CreatedAt)}); err != nil {
						return fmt.Errorf("encode message %d: %w", m.UID, err)
					}
				}
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("wildfire: callback events of robot %q: %w", robotID, err)
	}
	key := []byte(b.Secret)
	for i := range items {
		if it := items[i]; it.Body != nil {
			items[i].Header = func(now time.Time) http.Header { return SignWebhook(key, it.ID, now, it.Body) }
		}
	}
	return items, last, nil
}

// groupUpdateJSON is Wildfire's GroupUpdateEvent.
type groupUpdateJSON struct {
	OperatorID string        `json:"operatorId"`
	GroupID    string        `json:"groupId"`
	Type       int           `json:"type"`
	GroupInfo  groupInfoJSON `json:"groupInfo"`
}

// groupMemberUpdateJSON is Wildfire's GroupMemberUpdateEvent.
type groupMemberUpdateJSON struct {
	OperatorID string   `json:"operatorId"`
	GroupID    string   `json:"groupId"`
	MemberIDs  []string `json:"memberIds"`
	Type       int      `json:"type"`
	Value      string   `json:"value"`
}

// GroupChangeItems renders the server log's events after seq after, at most
// limit, as the operator's group callback of t carries them, signed with
// key (the admin secret), and returns the log's last seq: each event of
// type t (group.EventGroupInfo: a GroupUpdateEvent, whose groupInfo is the
// group as it is when the log is read, only its id once it is dismissed;
// group.EventGroupMember: a GroupMemberUpdateEvent).
func GroupChangeItems(ctx context.Context, st group.Store, t group.EventType, key []byte, after int64, limit int) ([]CallbackItem, int64, error) {
	var items []CallbackItem
	var last int64
	err := st.View(ctx, func(r group.Reader) error {
		var err error
		if last, err = r.LastEventSeq(group.ServerLog); err != nil {
			return err
		}
		evs, err := r.Events(group.ServerLog, after, limit)
		if err != nil {
			return err
		}
		for _, e := range evs {
			it := CallbackItem{Seq: e.Seq, ID: "group-change-" + strconv.FormatInt(e.Seq, 10), Type: string(e.Type), CreatedAt: e.CreatedAt}
			if e.Type == t {
				var ch group.GroupChange
				if err := json.Unmarshal([]byte(e.Data), &ch); err != nil {
					return fmt.Errorf("group change %d: %w", e.Seq, err)
				}
				var body any
				if t == group.EventGroupInfo {
					info := groupInfoJSON{TargetID: e.GroupID}
					if g, err := r.Group(e.GroupID); err == nil {
						info = newGroupInfoJSON(g)
					} else if !group.IsNotExist(err) {
						return err
					}
					body = groupUpdateJSON{OperatorID: e.OperatorID, GroupID: e.GroupID, Type: ch.Type, GroupInfo: info}
				} else {
					ids := ch.MemberIDs
					if ids == nil {
						ids = []string{}
					}
					body = groupMemberUpdateJSON{OperatorID: e.OperatorID, GroupID: e.GroupID, MemberIDs: ids, Type: ch.Type, Value: ch.Value}
				}
				if it.Body, err = json.Marshal(body); err != nil {
					return fmt.Errorf("encode group change %d: %w", e.Seq, err)
				}
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("wildfire: group changes: %w", err)
	}
	for i := range items {
		if it := items[i]; it.Body != nil {
			items[i].Header = func(now time.Time) http.Header { return SignWebhook(key, it.ID, now, it.Body) }
		}
	}
	return items, last, nil
}

// SignWebhook returns the Standard Webhooks headers of a body: webhook-id,
// webhook-timestamp (unix seconds) and webhook-signature "v1," followed by
// the base64 HMAC-SHA256, keyed with key, of "id.timestamp.body".
func SignWebhook(key []byte, id string, now time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(now.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	h := make(http.Header, 4)
	h.Set("Webhook-Id", id)
	h.Set("Webhook-Timestamp", ts)
	h.Set("Webhook-Signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	h.Set("Content-Type", "application/json")
	return h
}
