package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencent-connect/botgo"
	"github.com/tencent-connect/botgo/constant"
	"github.com/tencent-connect/botgo/dto"
	"github.com/tencent-connect/botgo/interaction/webhook"
	"github.com/tencent-connect/botgo/token"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app/apptest"
	"github.com/qun-chat/qun/internal/group"
)

// hookReceiver is a bot in webhook mode: botgo's own webhook.HTTPHandler,
// unmodified, behind a switch that makes it fail the ways receivers fail,
// on an address that can go down and come back. The frames botgo accepts
// reach mnBotgoAttach's sink.
type hookReceiver struct {
	t     *testing.T
	addr  string
	creds *token.QQBotCredentials

	mu       sync.Mutex
	srv      *http.Server
	mode     string // "500", "d1" or "hang" for the next fails requests
	fails    int
	delay    time.Duration // before each answer
	requests []http.Header // with Content-Length, of every request
}

func newHookReceiver(t *testing.T, creds *token.QQBotCredentials) *hookReceiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hookReceiver{t: t, addr: l.Addr().String(), creds: creds}
	h.serve(l)
	t.Cleanup(h.down)
	return h
}

func (h *hookReceiver) URL() string { return "http://" + h.addr + "/qqbot" }

func (h *hookReceiver) serve(l net.Listener) {
	srv := &http.Server{Handler: h}
	h.mu.Lock()
	h.srv = srv
	h.mu.Unlock()
	go srv.Serve(l)
}

// down closes the receiver: connections are refused until up.
func (h *hookReceiver) down() {
	h.mu.Lock()
	srv := h.srv
	h.srv = nil
	h.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// up listens again on the same address.
func (h *hookReceiver) up() {
	h.t.Helper()
	l, err := net.Listen("tcp", h.addr)
	if err != nil {
		h.t.Fatalf("listen again on %s: %v", h.addr, err)
	}
	h.serve(l)
}

// failNext makes the next n requests fail with mode.
func (h *hookReceiver) failNext(mode string, n int) {
	h.mu.Lock()
	h.mode, h.fails = mode, n
	h.mu.Unlock()
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	hd := r.Header.Clone()
	hd.Set("Content-Length", fmt.Sprint(r.ContentLength))
	h.mu.Lock()
	h.requests = append(h.requests, hd)
	mode := ""
	if h.fails > 0 {
		mode = h.mode
		h.fails--
	}
	delay := h.delay
	h.mu.Unlock()
	time.Sleep(delay)
	switch mode {
	case "500":
		w.WriteHeader(http.StatusInternalServerError)
	case "d1": // what botgo answers when its handler fails
		io.WriteString(w, webhook.GenDispatchACK(false))
	case "hang":
		<-r.Context().Done()
	default:
		r.Body = io.NopCloser(bytes.NewReader(body))
		webhook.HTTPHandler(w, r, h.creds)
	}
}

// headers returns the headers of every request so far.
func (h *hookReceiver) headers() []http.Header {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]http.Header(nil), h.requests...)
}

// hookFrames checks the frames botgo accepted from a webhook: in order, each once.
type hookFrames struct {
	t      *testing.T
	frames <-chan mnFrame
	last   uint32 // the seq of the last frame
}

// next waits for the next frame and checks that it is typ with the seq after the last.
func (f *hookFrames) next(what, typ string) mnFrame {
	f.t.Helper()
	select {
	case fr := <-f.frames:
		if fr.Type != typ || (f.last != 0 && fr.Seq != f.last+1) || !strings.HasPrefix(fr.EventID, typ+":") || fr.Group == "" {
			f.t.Fatalf("%s: frame %+v, want %s with s=%d", what, fr, typ, f.last+1)
		}
		f.last = fr.Seq
		return fr
	case <-time.After(mnWait):
		f.t.Fatalf("%s: no %s frame within %v", what, typ, mnWait)
		panic("unreachable")
	}
}

// deliveriesResult is /admin/robot/deliveries' result.
type deliveriesResult struct {
	Webhook struct {
		URL          string `json:"url"`
		DeliveredSeq int64  `json:"delivered_seq"`
		Pending      int64  `json:"pending"`
		LastError    string `json:"last_error"`
		NextAttempt  int64  `json:"next_attempt"`
		Node         string `json:"node"`
	} `json:"webhook"`
	Attempts []struct {
		ID     string `json:"id"`
		T      string `json:"t"`
		Status int    `json:"status"`
		Error  string `json:"error"`
	} `json:"attempts"`
}

// waitDeliveries polls /admin/robot/deliveries until ok.
func waitDeliveries(t *testing.T, what string, admin *client.Client, ok func(deliveriesResult) bool) deliveriesResult {
	t.Helper()
	return waitFor(t, what, func() (deliveriesResult, error) {
		var d deliveriesResult
		mnCall(t, what, admin, "/admin/robot/deliveries", map[string]any{"robotId": "mnbot", "limit": 100}, &d)
		return d, nil
	}, ok)
}

// TestWebhookBotgo runs a bot in webhook mode with botgo's own handler:
// op 13 validation, every group event signed as botgo checks it, a passive
// reply through REST, and a receiver that is down, answers d:1, answers
// 500 or hangs still getting every event once, in order.
func TestWebhookBotgo(t *testing.T) {
	frames, _ := mnBotgoAttach(t)
	cfg := apptest.Config(t, t.TempDir())
	cfg.DeliveryRetryMin, cfg.DeliveryRetryMax, cfg.DeliveryTimeout = time.Millisecond, 20*time.Millisecond, 300*time.Millisecond
	tm := apptest.Start(t, cfg)
	admin := client.NewAdmin(tm.Admin, tm.Secret)
	var bot struct {
		AppID     string `json:"appId"`
		AppSecret string `json:"appSecret"`
	}
	mnCall(t, "create the bot", admin, "/admin/robot/create", map[string]any{"userId": "mnbot", "name": "mnbot", "displayName": "MNBot"}, &bot)
	for _, u := range []string{"alice", "bob"} {
		mnCall(t, "create "+u, admin, "/admin/user/create", map[string]any{"userId": u, "name": u}, nil)
	}
	creds := &token.QQBotCredentials{AppID: bot.AppID, AppSecret: bot.AppSecret}
	rcv := newHookReceiver(t, creds)

	// Refused URLs: 251 with the reason; an unknown robot 253.
	wrong := newHookReceiver(t, &token.QQBotCredentials{AppID: bot.AppID, AppSecret: "not the bot's secret"})
	for _, tc := range []struct {
		body map[string]any
		code int
		msg  string
	}{
		{map[string]any{"robotId": "mnbot", "url": wrong.URL()}, 251, "validation (op 13) failed: validation answered an empty body"},
		{map[string]any{"robotId": "mnbot", "url": tm.Public + "/nothing-here"}, 251, "validation answered HTTP 404"},
		{map[string]any{"robotId": "mnbot", "url": "ftp://" + rcv.addr + "/"}, 251, "not http or https"},
		{map[string]any{"robotId": "mnbot", "url": rcv.URL() + "?" + strings.Repeat("a", group.MaxURLLen)}, 251, "longer than 2048 bytes"},
		{map[string]any{"robotId": "mnbot"}, 251, ""},
		{map[string]any{"robotId": "nobody", "url": rcv.URL()}, 253, ""},
	} {
		code, err := admin.Call(t.Context(), "/admin/robot/webhook", tc.body, nil)
		var we *client.Error
		if code != tc.code || !errors.As(err, &we) || !strings.Contains(we.Msg, tc.msg) {
			t.Errorf("webhook %v: code %d, %v; want %d with %q", tc.body, code, err, tc.code, tc.msg)
		}
	}

	var hook struct {
		URL       string `json:"url"`
		Intents   int64  `json:"intents"`
		Validated bool   `json:"validated"`
	}
	mnCall(t, "set the webhook", admin, "/admin/robot/webhook", map[string]any{"robotId": "mnbot", "url": rcv.URL()}, &hook)
	if hook.URL != rcv.URL() || hook.Intents != 1<<25 || !hook.Validated {
		t.Fatalf("webhook result %+v", hook)
	}
	var info struct {
		Webhook struct {
			URL     string `json:"url"`
			Intents int64  `json:"intents"`
		} `json:"webhook"`
	}
	mnCall(t, "get_robot_info", admin, "/admin/user/get_robot_info", map[string]any{"robotId": "mnbot"}, &info)
	if info.Webhook.URL != rcv.URL() || info.Webhook.Intents != 1<<25 {
		t.Fatalf("get_robot_info webhook %+v", info.Webhook)
	}

	// All five group events, and a passive reply to the mention.
	f := &hookFrames{t: t, frames: frames}
	mnCall(t, "create g1", admin, "/admin/group/create", map[string]any{"operator": "alice",
		"group": map[string]any{"group_info": map[string]any{"target_id": "g1", "name": "g1", "type": 2, "owner": "alice"},
			"members": []any{map[string]any{"member_id": "bob"}, map[string]any{"member_id": "mnbot"}}}}, nil)
	added := f.next("create", "GROUP_ADD_ROBOT")
	if added.Seq != 2 || added.Op == "" { // s is the log seq plus one
		t.Fatalf("GROUP_ADD_ROBOT %+v", added)
	}
	mnProactive(t, "proactive off", admin, "alice", "g1", false)
	f.next("proactive off", "GROUP_MSG_REJECT")
	mnMention(t, "mention", admin, "bob", "g1", "ping")
	at := f.next("mention", "GROUP_AT_MESSAGE_CREATE")
	if at.Content != " ping" || at.MsgID == "" || at.Group != added.Group {
		t.Fatalf("GROUP_AT_MESSAGE_CREATE %+v", at)
	}
	constant.TokenDomain, constant.APIDomain, constant.SandBoxAPIDomain = tm.Public, tm.Public, tm.Public
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ts := token.NewQQBotTokenSource(creds)
	if err := token.StartRefreshAccessToken(ctx, ts); err != nil {
		t.Fatalf("token: %v", err)
	}
	api := botgo.NewOpenAPI(creds.AppID, ts).WithTimeout(mnWait)
	// Proactive messages are off: only a passive reply is accepted.
	if _, err := api.PostGroupMessage(ctx, at.Group, &dto.MessageToCreate{Content: "pong", MsgID: at.MsgID, MsgSeq: 1}); err != nil {
		t.Fatalf("passive reply: %v", err)
	}
	if _, err := api.PostGroupMessage(ctx, at.Group, &dto.MessageToCreate{Content: "hello"}); err == nil || !strings.Contains(err.Error(), "40034105") {
		t.Fatalf("proactive message while they are off: %v, want 40034105", err)
	}
	mnProactive(t, "proactive on", admin, "alice", "g1", true)
	f.next("proactive on", "GROUP_MSG_RECEIVE")
	mnCall(t, "kick the bot", admin, "/admin/group/member/del", map[string]any{"group_id": "g1", "operator": "alice", "members": []string{"mnbot"}}, nil)
	f.next("kick", "GROUP_DEL_ROBOT")
	mnCall(t, "add the bot again", admin, "/admin/group/member/add", map[string]any{"group_id": "g1", "operator": "alice", "members": []any{map[string]any{"member_id": "mnbot"}}}, nil)
	f.next("add again", "GROUP_ADD_ROBOT")

	for i, h := range rcv.headers() {
		if h.Get("X-Bot-Appid") != bot.AppID || h.Get("User-Agent") != "QQBot-Callback" || h.Get("Content-Length") == "-1" ||
			h.Get("X-Signature-Timestamp") == "" || len(h.Get("X-Signature-Ed25519")) != 128 || h.Get("Content-Type") != "application/json" {
			t.Errorf("request %d headers %v", i, h)
		}
	}

	// A receiver that fails still gets every event once, in order.
	toggles := func(what string, n int) {
		for i := range n {
			allow := i%2 == 1
			mnProactive(t, what, admin, "alice", "g1", allow)
		}
	}
	expect := func(what string, n int) {
		for i := range n {
			typ := "GROUP_MSG_REJECT"
			if i%2 == 1 {
				typ = "GROUP_MSG_RECEIVE"
			}
			f.next(what, typ)
		}
	}
	// Let the stream record the last ack first: an ack still in flight when
	// the receiver goes down would (rightly) be delivered again.
	waitDeliveries(t, "caught up before the receiver goes down", admin, func(d deliveriesResult) bool {
		return d.Webhook.Pending == 0 && d.Webhook.DeliveredSeq == int64(f.last)-1
	})
	rcv.down()
	toggles("receiver down", 4)
	waitDeliveries(t, "receiver down", admin, func(d deliveriesResult) bool {
		return strings.Contains(d.Webhook.LastError, "refused") && d.Webhook.NextAttempt > 0 && d.Webhook.Pending == 4
	})
	rcv.up()
	expect("receiver back up", 4)
	for _, mode := range []string{"500", "d1", "hang"} {
		rcv.failNext(mode, 3)
		toggles("receiver answering "+mode, 4)
		expect("receiver answering "+mode, 4)
	}
	d := waitDeliveries(t, "caught up", admin, func(d deliveriesResult) bool {
		return d.Webhook.DeliveredSeq == int64(f.last)-1 && d.Webhook.Pending == 0 && d.Webhook.LastError == ""
	})
	var errs []string
	for _, a := range d.Attempts {
		if a.Error != "" {
			errs = append(errs, a.Error)
		}
	}
	joined := strings.Join(errs, "\n")
	for _, want := range []string{"HTTP 500", "d:1", "timeout"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no attempt failed with %q: %v", want, errs)
		}
	}

	// Redelivery from a point (a log seq: one less than a frame's s) sends the same frames again.
	last := f.last
	mnCall(t, "redeliver", admin, "/admin/robot/redeliver", map[string]any{"robotId": "mnbot", "from_seq": last - 2}, nil)
	f.last = last - 2
	expect("redelivered", 2)
	// And then the next event, once: nothing else was queued.
	toggles("after redelivery", 1)
	f.next("after redelivery", "GROUP_MSG_REJECT")

	// Turned off: nothing more is delivered.
	mnCall(t, "turn the webhook off", admin, "/admin/robot/webhook", map[string]any{"robotId": "mnbot", "url": ""}, &hook)
	if hook.URL != "" || hook.Validated {
		t.Fatalf("webhook turned off: %+v", hook)
	}
}
