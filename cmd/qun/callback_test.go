package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
	"github.com/qun-chat/qun/internal/app/apptest"
	"github.com/qun-chat/qun/internal/group"
)

// wfOutputMessage is the Wildfire SDK's OutputMessageData
// (cn.wildfirechat.pojos.OutputMessageData) with its MessagePayload and
// Conversation, field names exactly as gson writes them; the receiver
// decodes with unknown fields refused.
type wfOutputMessage struct {
	MessageID int64  `json:"messageId"`
	Sender    string `json:"sender"`
	Conv      struct {
		Type   int    `json:"type"`
		Target string `json:"target"`
		Line   int    `json:"line"`
	} `json:"conv"`
	Payload struct {
		Type              int      `json:"type"`
		SearchableContent string   `json:"searchableContent"`
		PushContent       string   `json:"pushContent"`
		PushData          string   `json:"pushData"`
		Content           string   `json:"content"`
		Base64edData      string   `json:"base64edData"`
		MediaType         int      `json:"mediaType"`
		RemoteMediaURL    string   `json:"remoteMediaUrl"`
		PersistFlag       int      `json:"persistFlag"`
		ExpireDuration    int      `json:"expireDuration"`
		MentionedType     int      `json:"mentionedType"`
		MentionedTarget   []string `json:"mentionedTarget"`
		Extra             string   `json:"extra"`
	} `json:"payload"`
	ToUsers   []string `json:"toUsers"`
	Timestamp int64    `json:"timestamp"`
	Client    *struct {
		Platform int    `json:"platform"`
		ClientID string `json:"clientId"`
	} `json:"client"`
}

// callbackReceiver is a Wildfire robot's callback endpoint (Wildfire's
// sample receiver is POST /robot/recvmsg) that checks qun's Standard
// Webhooks signature with the robot secret.
type callbackReceiver struct {
	t      *testing.T
	addr   string
	secret string
	got    chan wfOutputMessage

	mu  sync.Mutex
	srv *http.Server
}

func newCallbackReceiver(t *testing.T, secret string) *callbackReceiver {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &callbackReceiver{t: t, addr: l.Addr().String(), secret: secret, got: make(chan wfOutputMessage, 100)}
	c.serve(l)
	t.Cleanup(c.down)
	return c
}

func (c *callbackReceiver) URL() string { return "http://" + c.addr + "/robot/recvmsg" }

func (c *callbackReceiver) serve(l net.Listener) {
	srv := &http.Server{Handler: c}
	c.mu.Lock()
	c.srv = srv
	c.mu.Unlock()
	go srv.Serve(l)
}

func (c *callbackReceiver) down() {
	c.mu.Lock()
	srv := c.srv
	c.srv = nil
	c.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (c *callbackReceiver) up() {
	c.t.Helper()
	l, err := net.Listen("tcp", c.addr)
	if err != nil {
		c.t.Fatalf("listen again on %s: %v", c.addr, err)
	}
	c.serve(l)
}

func (c *callbackReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	id, ts, sig := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature")
	mac := hmac.New(sha256.New, []byte(c.secret))
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); sig != want || r.Method != http.MethodPost || r.ContentLength != int64(len(body)) {
		c.t.Errorf("callback %s with id %q, timestamp %q, signature %q (want %q), length %d", r.Method, id, ts, sig, want, r.ContentLength)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var m wfOutputMessage
	if err := dec.Decode(&m); err != nil {
		c.t.Errorf("callback body %s: %v", body, err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if id != strconv.FormatInt(m.MessageID, 10) {
		c.t.Errorf("webhook-id %q for messageId %d", id, m.MessageID)
	}
	c.got <- m
	io.WriteString(w, "ok")
}

// next waits for the next callback.
func (c *callbackReceiver) next(what string) wfOutputMessage {
	c.t.Helper()
	select {
	case m := <-c.got:
		return m
	case <-time.After(mnWait):
		c.t.Fatalf("%s: no callback within %v", what, mnWait)
		panic("unreachable")
	}
}

// TestWildfireCallback: a robot with a callback URL hears every message and
// notification of its groups as OutputMessageData, but its own messages;
// through a receiver that is down for a while, in order.
func TestWildfireCallback(t *testing.T) {
	cfg := apptest.Config(t, t.TempDir())
	cfg.DeliveryRetryMin, cfg.DeliveryRetryMax = time.Millisecond, 20*time.Millisecond
	cfg.CallbackDeny = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tm := apptest.Start(t, cfg)
	admin := client.NewAdmin(tm.Admin, tm.Secret)
	mnCall(t, "create alice", admin, "/admin/user/create", map[string]any{"userId": "alice", "name": "alice"}, nil)

	// Refused callbacks: 251 with the reason, and nothing kept.
	for _, tc := range []struct{ url, msg string }{
		{"ftp://example.com/", "not http or https"},
		{"http://10.1.2.3/hook", "deny list"},
		{"http://example.com/" + strings.Repeat("a", group.MaxURLLen), "longer than 2048 bytes"},
	} {
		code, err := admin.Call(t.Context(), "/admin/robot/create", map[string]any{"userId": "wfbot", "name": "wfbot", "secret": "wf-secret", "callback": tc.url}, nil)
		var ce *client.Error
		if code != 251 || !errors.As(err, &ce) || !strings.Contains(ce.Msg, tc.msg) {
			t.Errorf("robot/create with callback %s: %d %v, want 251 with %q", tc.url, code, err, tc.msg)
		}
	}
	rcv := newCallbackReceiver(t, "wf-secret")
	mnCall(t, "create the robot with its callback", admin, "/admin/robot/create",
		map[string]any{"userId": "wfbot", "name": "wfbot", "secret": "wf-secret", "callback": rcv.URL()}, nil)
	robot := client.NewRobot(tm.Public, "wfbot", "wf-secret")
	if code, err := robot.Call(t.Context(), "/robot/set_callback", map[string]any{"url": "http://10.9.9.9/"}, nil); code != 251 {
		t.Errorf("set_callback to a denied address: %d %v, want 251", code, err)
	}

	// A group created with the robot: the creation notification (104).
	mnCall(t, "create g1", admin, "/admin/group/create", map[string]any{"operator": "alice",
		"group": map[string]any{"group_info": map[string]any{"target_id": "g1", "name": "g1", "type": 2, "owner": "alice"},
			"members": []any{map[string]any{"member_id": "wfbot"}}}}, nil)
	m := rcv.next("group created")
	if m.Payload.Type != 104 || m.Sender != "alice" || m.Conv.Type != 1 || m.Conv.Target != "g1" || m.Conv.Line != 0 ||
		m.MessageID == 0 || m.Timestamp == 0 || m.Payload.Base64edData == "" {
		t.Fatalf("creation notification %+v", m)
	}
	if data, err := base64.StdEncoding.DecodeString(m.Payload.Base64edData); err != nil || !strings.Contains(string(data), `"g":"g1"`) {
		t.Errorf("creation notification data %q: %v", data, err)
	}

	// A chat message mentioning the robot, on line 1.
	mnCall(t, "alice mentions the robot", admin, "/admin/message/send", map[string]any{
		"sender": "alice", "conv": map[string]any{"type": 1, "target": "g1", "line": 1},
		"payload": map[string]any{"type": 1, "searchableContent": "@wfbot hello", "mentionedType": 1, "mentionedTarget": []string{"wfbot"}}}, nil)
	m = rcv.next("mention")
	if m.Payload.Type != 1 || m.Payload.SearchableContent != "@wfbot hello" || m.Payload.MentionedType != 1 ||
		strings.Join(m.Payload.MentionedTarget, ",") != "wfbot" || m.Conv.Line != 1 || m.Sender != "alice" {
		t.Fatalf("mention %+v", m)
	}

	// Its own message is not called back; the next one is.
	mnCall(t, "the robot speaks", robot, "/robot/message/send", map[string]any{
		"conv": map[string]any{"type": 1, "target": "g1", "line": 0}, "payload": map[string]any{"type": 1, "searchableContent": "mine"}}, nil)
	mnCall(t, "rename g1", admin, "/admin/group/modify", map[string]any{"group_id": "g1", "operator": "alice", "type": 0, "value": "renamed"}, nil)
	if m = rcv.next("rename"); m.Payload.Type != 110 {
		t.Fatalf("after its own message: %+v, want the rename (110)", m)
	}

	// Down for a while: every message, in order.
	rcv.down()
	for i := range 5 {
		mnCall(t, "a message while down", admin, "/admin/message/send", map[string]any{
			"sender": "alice", "conv": map[string]any{"type": 1, "target": "g1", "line": 0},
			"payload": map[string]any{"type": 1, "searchableContent": strconv.Itoa(i)}}, nil)
	}
	waitCallbackError(t, admin)
	rcv.up()
	for i := range 5 {
		if m = rcv.next("after the receiver came back"); m.Payload.SearchableContent != strconv.Itoa(i) {
			t.Fatalf("message %d after the receiver came back: %+v", i, m)
		}
	}

	// Without a callback nothing is kept for it; set again, only later messages come.
	mnCall(t, "delete_callback", robot, "/robot/delete_callback", nil, nil)
	mnCall(t, "a message without a callback", admin, "/admin/message/send", map[string]any{
		"sender": "alice", "conv": map[string]any{"type": 1, "target": "g1", "line": 0}, "payload": map[string]any{"type": 1, "searchableContent": "unheard"}}, nil)
	mnCall(t, "set_callback", robot, "/robot/set_callback", map[string]any{"url": rcv.URL()}, nil)
	mnCall(t, "a message with the callback again", admin, "/admin/message/send", map[string]any{
		"sender": "alice", "conv": map[string]any{"type": 1, "target": "g1", "line": 0}, "payload": map[string]any{"type": 1, "searchableContent": "heard"}}, nil)
	if m = rcv.next("callback set again"); m.Payload.SearchableContent != "heard" {
		t.Fatalf("after set_callback: %+v, want the later message", m)
	}
}

// waitCallbackError waits until the robot's callback stream reports a failure.
func waitCallbackError(t *testing.T, admin *client.Client) {
	t.Helper()
	deadline := time.Now().Add(mnWait)
	for {
		var d struct {
			Callback struct {
				LastError string `json:"last_error"`
				Pending   int64  `json:"pending"`
			} `json:"callback"`
		}
		mnCall(t, "callback deliveries", admin, "/admin/robot/deliveries", map[string]any{"robotId": "wfbot"}, &d)
		if d.Callback.LastError != "" && d.Callback.Pending > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the callback stream never failed: %+v", d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// signedReceiver collects the bodies of Standard Webhooks requests signed with secret.
type signedReceiver struct {
	t      *testing.T
	url    string
	secret string
	got    chan []byte
}

func newSignedReceiver(t *testing.T, secret string) *signedReceiver {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &signedReceiver{t: t, url: "http://" + l.Addr().String() + "/group/callback", secret: secret, got: make(chan []byte, 100)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		id, ts := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp")
		mac := hmac.New(sha256.New, []byte(r.secret))
		mac.Write([]byte(id + "." + ts + "." + string(body)))
		if req.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) || id == "" {
			t.Errorf("group callback with id %q, signature %q", id, req.Header.Get("webhook-signature"))
		}
		r.got <- body
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return r
}

// next decodes the next body into v, refusing unknown fields.
func (r *signedReceiver) next(what string, v any) {
	r.t.Helper()
	select {
	case b := <-r.got:
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			r.t.Fatalf("%s: %s: %v", what, b, err)
		}
	case <-time.After(mnWait):
		r.t.Fatalf("%s: no group callback within %v", what, mnWait)
	}
}

// wfGroupUpdateEvent and wfGroupMemberUpdateEvent are Wildfire's pojos
// (cn.wildfirechat.pojos), field names exactly.
type wfGroupUpdateEvent struct {
	OperatorID string `json:"operatorId"`
	GroupID    string `json:"groupId"`
	Type       int    `json:"type"`
	GroupInfo  struct {
		TargetID       string `json:"target_id"`
		Name           string `json:"name"`
		Portrait       string `json:"portrait"`
		Owner          string `json:"owner"`
		Type           int    `json:"type"`
		Extra          string `json:"extra"`
		Mute           int    `json:"mute"`
		JoinType       int    `json:"join_type"`
		PrivateChat    int    `json:"private_chat"`
		Searchable     int    `json:"searchable"`
		MaxMemberCount int    `json:"max_member_count"`
		HistoryMessage int    `json:"history_message"`
		SuperGroup     bool   `json:"super_group"`
	} `json:"groupInfo"`
}

type wfGroupMemberUpdateEvent struct {
	OperatorID string   `json:"operatorId"`
	GroupID    string   `json:"groupId"`
	MemberIDs  []string `json:"memberIds"`
	Type       int      `json:"type"`
	Value      string   `json:"value"`
}

// TestGroupCallbacks: the operator's app server hears every group and member
// change as Wildfire's GroupUpdateEvent and GroupMemberUpdateEvent, signed
// with the admin secret, in order.
func TestGroupCallbacks(t *testing.T) {
	data := t.TempDir()
	cfg := apptest.Config(t, data)
	const secret = "group-callback-secret" // kept as if generated, so the receivers know it first
	if err := os.WriteFile(filepath.Join(data, app.AdminSecretFile), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	info, member := newSignedReceiver(t, secret), newSignedReceiver(t, secret)
	cfg.GroupInfoCallback, cfg.GroupMemberCallback = info.url, member.url
	tm := apptest.Start(t, cfg)
	admin := client.NewAdmin(tm.Admin, tm.Secret)
	for _, u := range []string{"alice", "bob", "carol"} {
		mnCall(t, "create "+u, admin, "/admin/user/create", map[string]any{"userId": u, "name": u}, nil)
	}
	mnCall(t, "create g1", admin, "/admin/group/create", map[string]any{"operator": "alice",
		"group": map[string]any{"group_info": map[string]any{"target_id": "g1", "name": "g1", "type": 2}, "members": []any{map[string]any{"member_id": "bob"}}}}, nil)
	var gu wfGroupUpdateEvent
	info.next("create", &gu)
	if gu.Type != 0 || gu.OperatorID != "alice" || gu.GroupID != "g1" || gu.GroupInfo.TargetID != "g1" || gu.GroupInfo.Owner != "alice" {
		t.Fatalf("create: %+v", gu)
	}
	mnCall(t, "add carol", admin, "/admin/group/member/add", map[string]any{"group_id": "g1", "operator": "alice", "members": []any{map[string]any{"member_id": "carol"}},
		"notify_message": map[string]any{"type": 1, "searchableContent": "welcome"}}, nil)
	var mu wfGroupMemberUpdateEvent
	member.next("add", &mu)
	if mu.Type != 0 || mu.OperatorID != "alice" || strings.Join(mu.MemberIDs, ",") != "carol" {
		t.Fatalf("add: %+v", mu)
	}
	mnCall(t, "rename", admin, "/admin/group/modify", map[string]any{"group_id": "g1", "operator": "alice", "type": 0, "value": "renamed"}, nil)
	info.next("rename", &gu)
	if gu.Type != 1 || gu.GroupInfo.Name != "renamed" {
		t.Fatalf("rename: %+v", gu)
	}
	mnCall(t, "mute", admin, "/admin/group/modify", map[string]any{"group_id": "g1", "operator": "alice", "type": 3, "value": "1"}, nil)
	info.next("mute", &gu)
	if gu.Type != 3 || gu.GroupInfo.Mute != 1 {
		t.Fatalf("mute: %+v", gu)
	}
	mnCall(t, "alias", admin, "/admin/group/member/set_alias", map[string]any{"group_id": "g1", "operator": "alice", "memberId": "bob", "alias": "Bobby"}, nil)
	member.next("alias", &mu)
	if mu.Type != 4 || strings.Join(mu.MemberIDs, ",") != "bob" || mu.Value != "Bobby" {
		t.Fatalf("alias: %+v", mu)
	}
	mnCall(t, "kick", admin, "/admin/group/member/del", map[string]any{"group_id": "g1", "operator": "alice", "members": []string{"carol"}}, nil)
	member.next("kick", &mu)
	if mu.Type != 2 || strings.Join(mu.MemberIDs, ",") != "carol" {
		t.Fatalf("kick: %+v", mu)
	}
	mnCall(t, "dismiss", admin, "/admin/group/del", map[string]any{"group_id": "g1", "operator": "alice"}, nil)
	info.next("dismiss", &gu)
	if gu.Type != 5 || gu.GroupID != "g1" || gu.GroupInfo.TargetID != "g1" {
		t.Fatalf("dismiss: %+v", gu)
	}
}

// TestDeliveriesShowDrops: events given up on are shown by /admin/robot/deliveries.
func TestDeliveriesShowDrops(t *testing.T) {
	tm := apptest.Start(t, apptest.Config(t, t.TempDir()))
	admin := client.NewAdmin(tm.Admin, tm.Secret)
	mnCall(t, "create the robot", admin, "/admin/robot/create", map[string]any{"userId": "wfbot", "name": "wfbot"}, nil)
	// A stream held by a node of the test's own, which records a drop.
	ds := tm.Store
	now := time.Now().Truncate(time.Millisecond)
	st, err := ds.SetDeliveryTarget(t.Context(), "wfbot", group.DeliveryCallback, "http://127.0.0.1:9/", 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ds.TakeDeliveryLease(t.Context(), "wfbot", group.DeliveryCallback, "test-node", now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	drop := group.DeliveryDrop{BotID: "wfbot", Kind: group.DeliveryCallback, FromSeq: 3, ToSeq: 5, Error: "pruned from the event log before delivery", At: now}
	if ok, err := ds.RecordDelivery(t.Context(), group.DeliveryProgress{BotID: "wfbot", Kind: group.DeliveryCallback, Node: "test-node",
		Epoch: st.Epoch, Delivered: 5, LeaseUntil: now.Add(time.Hour), UpdatedAt: now}, nil, []group.DeliveryDrop{drop}, 10); err != nil || !ok {
		t.Fatalf("RecordDelivery: %v, %v", ok, err)
	}
	var d struct {
		Callback struct {
			Dropped int64  `json:"dropped"`
			Node    string `json:"node"`
		} `json:"callback"`
		Drops []struct {
			Stream  string `json:"stream"`
			FromSeq int64  `json:"from_seq"`
			ToSeq   int64  `json:"to_seq"`
			Error   string `json:"error"`
			At      int64  `json:"at"`
		} `json:"drops"`
	}
	mnCall(t, "deliveries", admin, "/admin/robot/deliveries", map[string]any{"robotId": "wfbot"}, &d)
	if d.Callback.Dropped != 3 || d.Callback.Node != "test-node" || len(d.Drops) != 1 || d.Drops[0].Stream != "callback" ||
		d.Drops[0].FromSeq != 3 || d.Drops[0].ToSeq != 5 || d.Drops[0].Error != drop.Error || d.Drops[0].At != now.UnixMilli() {
		t.Fatalf("deliveries %+v", d)
	}
}
