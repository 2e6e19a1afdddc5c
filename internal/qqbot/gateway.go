package qqbot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/qun-chat/qun/internal/access"
)

// Gateway opcodes.
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opResume         = 6
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatACK   = 11
)

// Gateway close codes (QQ gateway/error). A frame larger than MaxFrame closes
// with 1009 (message too big), from the WebSocket library.
const (
	closeUnknownOp         websocket.StatusCode = 4001 // an opcode a client may not send
	closeBadPayload        websocket.StatusCode = 4002 // not JSON, or the wrong shape
	closeNotAuthenticated  websocket.StatusCode = 4003 // a frame before identify/resume
	closeAuthFailed        websocket.StatusCode = 4004 // missing, unknown or expired token
	closeAlreadyAuthed     websocket.StatusCode = 4005 // a second identify/resume
	closeSessionInvalid    websocket.StatusCode = 4006 // after op 9, or the session resumed on another connection
	closeRateLimited       websocket.StatusCode = 4008 // identify/resume rate of the bot exceeded
	closeSessionTimeout    websocket.StatusCode = 4009 // heartbeat timeout or server shutdown: resume
	closeInvalidShard      websocket.StatusCode = 4010 // shard id out of range
	closeShardingRequired  websocket.StatusCode = 4011 // more shards than MaxShards
	closeInvalidIntents    websocket.StatusCode = 4013 // bits that name no intent
	closeDisallowedIntents websocket.StatusCode = 4014 // intents the bot may not have
)

// closeError ends a gateway connection with a close code.
type closeError struct {
	code   websocket.StatusCode
	reason string
}

func (e *closeError) Error() string { return fmt.Sprintf("close %d: %s", e.code, e.reason) }

func closeWith(code websocket.StatusCode, reason string) *closeError {
	return &closeError{code, reason}
}

// frame is a decoded client frame: its opcode and raw d.
type frame struct {
	Op int
	D  json.RawMessage
}

// decodeFrame decodes one client frame. Unknown keys (botgo's "Session":null)
// are ignored.
func decodeFrame(data []byte) (frame, *closeError) {
	var raw struct {
		Op *int            `json:"op"`
		D  json.RawMessage `json:"d"`
	}
	if !isObject(data) || json.Unmarshal(data, &raw) != nil || raw.Op == nil {
		return frame{}, closeWith(closeBadPayload, "frame is not a JSON object with an integer op")
	}
	switch *raw.Op {
	case opHeartbeat, opIdentify, opResume:
		return frame{Op: *raw.Op, D: raw.D}, nil
	}
	return frame{}, closeWith(closeUnknownOp, "unknown opcode")
}

// isObject reports whether data is (syntactically begins as) a JSON object.
func isObject(data []byte) bool {
	data = bytes.TrimSpace(data)
	return len(data) > 0 && data[0] == '{'
}

// isAbsent reports whether a raw JSON value is missing or null.
func isAbsent(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// checkHeartbeat validates a heartbeat's d: null, absent or a number.
func checkHeartbeat(d json.RawMessage) *closeError {
	if isAbsent(d) {
		return nil
	}
	var n json.Number
	if json.Unmarshal(d, &n) != nil {
		return closeWith(closeBadPayload, "heartbeat d is not a number")
	}
	return nil
}

// Hello, ACK and Invalid Session frames.
type helloFrame struct {
	Op int `json:"op"`
	D  struct {
		HeartbeatInterval int64 `json:"heartbeat_interval"`
	} `json:"d"`
}

type ackFrame struct {
	Op int `json:"op"`
}

type invalidSessionFrame struct {
	Op int  `json:"op"`
	D  bool `json:"d"`
}

// gatewayURL turns a public base URL into the gateway's WebSocket URL.
func gatewayURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("%q is not an http(s) or ws(s) URL", base)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%q has no host", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/websocket"
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// wsURL is the gateway URL discovery returns for r.
func (s *Server) wsURL(r *http.Request) string {
	if s.opts.PublicURL != "" {
		u, _ := gatewayURL(s.opts.PublicURL) // checked in New
		return u
	}
	scheme := "ws"
	if r.TLS != nil || strings.EqualFold(strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")[0]), "https") {
		scheme = "wss"
	}
	return scheme + "://" + r.Host + "/websocket"
}

// getGateway serves GET /gateway: {"url": ...}.
func (s *Server) getGateway(w http.ResponseWriter, r *http.Request, _ authBot) {
	writeJSON(w, http.StatusOK, struct {
		URL string `json:"url"`
	}{s.wsURL(r)})
}

// Session start limits reported by /gateway/bot. qun limits the rate of
// session starts (IdentifyRate), not a daily count, so these are constants
// that satisfy the SDKs (remaining ≥ shards, max_concurrency ≥ 1).
const (
	sessionStartTotal      = 1000
	sessionStartResetAfter = 24 * time.Hour
)

// getGatewayBot serves GET /gateway/bot: url, shards 1 and session_start_limit.
func (s *Server) getGatewayBot(w http.ResponseWriter, r *http.Request, _ authBot) {
	type limit struct {
		Total          int   `json:"total"`
		Remaining      int   `json:"remaining"`
		ResetAfter     int64 `json:"reset_after"`
		MaxConcurrency int   `json:"max_concurrency"`
	}
	writeJSON(w, http.StatusOK, struct {
		URL               string `json:"url"`
		Shards            int    `json:"shards"`
		SessionStartLimit limit  `json:"session_start_limit"`
	}{s.wsURL(r), 1, limit{sessionStartTotal, sessionStartTotal, sessionStartResetAfter.Milliseconds(), 1}})
}

// serveGateway upgrades GET /websocket and runs the connection. Past
// MaxGatewayConns live connections the upgrade is refused with HTTP 503.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		s.writeError(w, r, badRequest("the gateway speaks WebSocket"))
		return
	}
	c := &conn{s: s, id: newConnID(), kick: make(chan struct{}, 1)} // id before track: kickConn reads it
	switch s.track(c) {
	case trackFull:
		// Not a server error: no error log line per refusal, a warning.
		s.log.Warn("qqbot: gateway connection refused", "limit", s.opts.MaxGatewayConns)
		s.writeError(w, r, errTooManyConns.because(fmt.Sprintf("the node serves its %d connections", s.opts.MaxGatewayConns)))
		return
	case trackShut:
		if ws, err := websocket.Accept(w, r, nil); err == nil {
			access.From(w).Hijack()
			_ = ws.Close(closeSessionTimeout, "server shutting down")
		}
		return
	}
	defer s.untrack(c)
	bw := &burstWriter{ResponseWriter: w, timeout: s.opts.WriteTimeout}
	ws, err := websocket.Accept(bw, r, nil)
	if err != nil {
		access.From(w).Refuse(strconv.Itoa(codeInvalidRequest), "WebSocket upgrade failed: "+err.Error())
		return // Accept has answered
	}
	access.From(w).Hijack() // the connection logs its own end
	ws.SetReadLimit(s.opts.MaxFrame)
	c.ws, c.sock = ws, bw.conn
	c.serve()
}

// write sends one frame within the write timeout.
func (c *conn) write(v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.s.opts.WriteTimeout)
	defer cancel()
	return c.writeMessage(ctx, v)
}

// writeBurst sends frames as one burst: each is its own WebSocket message
// (clients parse one JSON document per message), and the socket gets them
// together, in one write when they fit in DefaultBurstBytes. The socket
// writes are bounded by the write timeout (burstConn's deadline), so the
// messages are written without a timer each.
func (c *conn) writeBurst(frames []dispatch) error {
	if len(frames) == 0 {
		return nil
	}
	c.sock.begin()
	for _, f := range frames {
		if err := c.writeMessage(context.Background(), f); err != nil {
			_ = c.sock.end()
			return err
		}
	}
	if err := c.sock.end(); err != nil {
		return goneError{err}
	}
	return nil
}

// writeMessage sends one frame as one WebSocket message.
func (c *conn) writeMessage(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("marshal frame: %w", err)
	}
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return goneError{err}
	}
	return nil
}

// DefaultBurstBytes bounds what a burst of event frames keeps in memory
// before writing it to the socket: a burst of small frames (a few hundred
// bytes each, up to DefaultEventBatch of them) is one write, a burst of
// large ones one write per this many bytes.
const DefaultBurstBytes = 64 << 10

// burstBufs recycles the buffers of bursts, so that an idle connection holds none.
var burstBufs = sync.Pool{New: func() any { return new([]byte) }}

// burstConn is a gateway connection's socket, under the WebSocket library.
// The library writes every message to the socket as soon as it is complete,
// a syscall each; between begin and end, burstConn keeps what the library
// writes and sends it together. Its mutex keeps the bytes in order: the
// library's read goroutine may write control frames (pong, close) at any
// time, and those go out with the burst.
type burstConn struct {
	net.Conn
	timeout time.Duration // bounds each socket write of a burst

	mu   sync.Mutex
	open bool
	buf  *[]byte // from burstBufs while open
}

// Write writes p through, or keeps it while a burst is open.
func (b *burstConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return b.Conn.Write(p)
	}
	*b.buf = append(*b.buf, p...)
	if len(*b.buf) >= DefaultBurstBytes {
		if err := b.flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// begin opens a burst.
func (b *burstConn) begin() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.open = true
	b.buf = burstBufs.Get().(*[]byte)
}

// end writes what the burst kept and closes it.
func (b *burstConn) end() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.flush()
	if cap(*b.buf) <= 2*DefaultBurstBytes { // one huge frame's buffer is not kept
		burstBufs.Put(b.buf)
	}
	b.open, b.buf = false, nil
	return err
}

// flush writes the kept bytes within the timeout; b.mu is held.
func (b *burstConn) flush() error {
	if len(*b.buf) == 0 {
		return nil
	}
	if err := b.Conn.SetWriteDeadline(time.Now().Add(b.timeout)); err != nil {
		return err
	}
	_, err := b.Conn.Write(*b.buf)
	*b.buf = (*b.buf)[:0]
	if err != nil {
		return err
	}
	return b.Conn.SetWriteDeadline(time.Time{})
}

// burstWriter gives the WebSocket library a burstConn when it hijacks the
// HTTP connection.
type burstWriter struct {
	http.ResponseWriter
	timeout time.Duration
	conn    *burstConn // set by Hijack
}

// Hijack implements http.Hijacker.
func (w *burstWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &burstConn{Conn: nc, timeout: w.timeout}
	// The library writes through brw.Writer, which wraps nc: empty it
	// (net/http hands it over flushed) and point it at the burstConn.
	if err := brw.Writer.Flush(); err != nil {
		_ = nc.Close()
		return nil, nil, err
	}
	brw.Writer.Reset(w.conn)
	return w.conn, brw, nil
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *burstWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// goneError is a failed read or write: the client went away or stopped
// reading. It ends the connection without a log line.
type goneError struct{ err error }

func (e goneError) Error() string { return "client gone: " + e.err.Error() }
func (e goneError) Unwrap() error { return e.err }

// inbound is what the read goroutine hands to the connection loop.
type inbound struct {
	data []byte
	err  error
}

// serve runs the connection: Hello, then identify or resume, heartbeats and
// event delivery, until the client leaves or a close code ends it. A panic
// (a bug) closes the connection with 1011 and a log line with the stack; the
// HTTP server's recovery could not answer a hijacked connection.
func (c *conn) serve() {
	s := c.s
	s.opts.Observer.GatewayOpened()
	readCtx, stopRead := context.WithCancel(context.Background())
	defer stopRead()
	defer func() {
		if c.feed != nil {
			c.feed.Close()
		}
	}()
	// Deferred after stopRead, so that it runs first: a canceled read drops
	// the connection without a close frame.
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("qqbot: gateway panic", "bot", c.botID(), "panic", v, "stack", string(debug.Stack()))
			c.closed(websocket.StatusInternalError, "server error", "server")
			_ = c.ws.Close(websocket.StatusInternalError, "server error")
		}
	}()
	in := make(chan inbound)
	go func() {
		for {
			_, data, err := c.ws.Read(readCtx)
			select {
			case in <- inbound{data, err}:
			case <-readCtx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	err := c.loop(in)
	_ = c.touch(true) // a session taken over is closed with err's code anyway
	var ce *closeError
	var gone goneError
	switch {
	case errors.As(err, &ce):
		c.closed(ce.code, ce.reason, "server")
		if c.botID() == "" {
			// Close waits up to 5 s for the peer's close frame; a client that
			// never identified gets DefaultUnidentifiedCloseWait, so that it
			// does not hold a connection slot for long.
			t := time.AfterFunc(DefaultUnidentifiedCloseWait, func() { _ = c.ws.CloseNow() })
			defer t.Stop()
		}
		_ = c.ws.Close(ce.code, ce.reason)
	case errors.As(err, &gone):
		var cerr websocket.CloseError
		switch {
		case errors.As(gone.err, &cerr):
			c.closed(cerr.Code, cerr.Reason, "client")
		case strings.Contains(gone.err.Error(), "read limited at"):
			// The library has closed with 1009; it has no error value to tell by.
			c.closed(websocket.StatusMessageTooBig, fmt.Sprintf("a frame over %d bytes", s.opts.MaxFrame), "server")
		default:
			c.closed(websocket.StatusAbnormalClosure, "connection lost: "+gone.err.Error(), "client")
		}
		_ = c.ws.CloseNow()
	case s.ctx.Err() != nil: // a store call was cut short by Close
		c.closed(closeSessionTimeout, "server shutting down, resume", "server")
		_ = c.ws.Close(closeSessionTimeout, "server shutting down, resume")
	default:
		s.log.Error("qqbot: gateway", "bot", c.botID(), "err", err)
		c.closed(websocket.StatusInternalError, "server error", "server")
		_ = c.ws.Close(websocket.StatusInternalError, "server error")
	}
}

// closed logs and counts the end of the connection: its close code and
// reason, and who closed it.
func (c *conn) closed(code websocket.StatusCode, reason, by string) {
	c.s.opts.Observer.GatewayClosed(int(code))
	c.s.log.Info("qqbot: gateway connection closed", "code", int(code), "reason", reason, "by", by,
		"bot", c.botID(), "session", c.sess.ID, "conn", c.id)
}

// loop is the connection's state machine; it returns why the connection ends.
func (c *conn) loop(in <-chan inbound) error {
	s := c.s
	if err := c.write(helloFrame{Op: opHello, D: struct {
		HeartbeatInterval int64 `json:"heartbeat_interval"`
	}{s.opts.HeartbeatInterval.Milliseconds()}}); err != nil {
		return err
	}
	// Until identify or resume the shorter IdentifyTimeout applies; every
	// frame handled after that is a heartbeat, or closes.
	deadline := time.NewTimer(s.opts.IdentifyTimeout)
	defer deadline.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return closeWith(closeSessionTimeout, "server shutting down, resume")
		case <-c.kick:
			return closeWith(closeSessionInvalid, "session resumed on another connection")
		case <-deadline.C:
			return closeWith(closeSessionTimeout, "session timed out")
		case <-c.wake:
			if err := c.deliver(s.ctx); err != nil {
				return err
			}
		case m := <-in:
			if m.err != nil {
				return goneError{m.err} // includes 1009 for a frame over MaxFrame, sent by the library
			}
			f, ce := decodeFrame(m.data)
			if ce != nil {
				return ce
			}
			if err := c.handle(f); err != nil {
				return err
			}
			deadline.Reset(s.opts.HeartbeatTimeout) // a heartbeat, identify or resume
		}
	}
}

// handle acts on one client frame.
func (c *conn) handle(f frame) error {
	switch f.Op {
	case opHeartbeat:
		if !c.identified() {
			return closeWith(closeNotAuthenticated, "identify first")
		}
		if ce := checkHeartbeat(f.D); ce != nil {
			return ce
		}
		// Deliver what is committed already first, so that the progress the
		// touch stores includes it.
		select {
		case <-c.wake:
			if err := c.deliver(c.s.ctx); err != nil {
				return err
			}
		default:
		}
		if err := c.write(ackFrame{Op: opHeartbeatACK}); err != nil {
			return err
		}
		return c.touch(false)
	case opIdentify:
		if c.identified() {
			return closeWith(closeAlreadyAuthed, "already identified")
		}
		return c.identify(f.D)
	case opResume:
		if c.identified() {
			return closeWith(closeAlreadyAuthed, "already identified")
		}
		return c.resume(f.D)
	}
	return closeWith(closeUnknownOp, "unknown opcode")
}
