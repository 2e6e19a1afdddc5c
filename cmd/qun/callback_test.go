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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qun-chat/qun/client"
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
	cfg := testConfig(t, t.TempDir())
	cfg.DeliveryRetryMin, cfg.DeliveryRetryMax = time.Millisecond, 20*time.Millisecond
	cfg.CallbackDeny = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tm := startMain(t, cfg)
	admin := client.NewAdmin(tm.Admin, tm.Secret)
	mnCall(t, "create alice", admin, "/admin/user/create", map[string]any{"userId": "alice", "name": "alice"}, nil)

	// Refused callbacks: 251 with the reason, and nothing kept.
	for _, tc := range []struct{ url, msg string }{
		{"ftp://example.com/", "not http or https"},
		{"http://10.1.2.3/hook", "deny list"},
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
