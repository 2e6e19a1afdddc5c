// Package wildfire serves qun's two Wildfire-compatible HTTP doors: the Robot
// API (/robot/..., signed with a robot's own secret, on the public listener)
// and the Admin API (/admin/..., signed with the admin secret, on the admin
// listener).
//
// It checks signatures, decodes bodies as leniently as gson, calls
// group.Service, and maps domain errors to Wildfire's numeric codes in one
// table (code.go); a refused call's msg says why after Wildfire's text
// ("Invalid parameter: group_id is missing"). It holds no group rule: who may
// do what is decided by package group. It imports only the standard library,
// internal/group and internal/access (the access log and request metrics).
//
// The contract is reference/wildfire-robot-api.md and reference/admin-api.md.
// Where qun deliberately differs from the Wildfire community server the
// difference is documented on the option or handler concerned; in short:
//
//   - the timestamp must be within SignWindow (default 5 min) of now in both
//     directions, not 2 h in the past and unlimited in the future;
//   - a replayed request (same rid, nonce and timestamp within the window) is
//     refused with 244, as a bad signature is;
//   - unknown paths answer HTTP 404 and other methods than POST HTTP 405, both
//     with {"code":254,"msg":"not implement"}, where Wildfire answers an
//     empty HTTP 500; bad bodies answer 251, never HTTP 500;
//   - a robot's custom notify_message is honoured on every write (Wildfire's
//     config-key typo refuses it with 248 except on member/add);
//   - the robot manager/set, manager/mute and manager/allow calls are served.
package wildfire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/qun-chat/qun/internal/access"
	"github.com/qun-chat/qun/internal/group"
)

// Limits of the doors. Each is overridable through the options.
const (
	// DefaultSignWindow is how far a signed request's timestamp may be from
	// now, in either direction: an older or a later one gets 243 "sign
	// expired". Wildfire accepts 2 h in the past and any time in the future;
	// qun is tighter so that a captured request is useless soon and the nonce
	// cache needs to remember keys for only 2×SignWindow.
	DefaultSignWindow = 5 * time.Minute
	// DefaultRobotRate is how many calls one robot may make per
	// RobotRatePeriod (a leaky bucket: a burst of this many, draining a tenth
	// of it per second), Wildfire's http.robot.rate_limit default.
	DefaultRobotRate = 1000
	// DefaultMaxBody bounds a request body; a larger one gets 251.
	DefaultMaxBody int64 = 1 << 20
	// MaxBodyDepth bounds how deeply a body's JSON may nest; Wildfire's models
	// need 4 levels, and a deeper body gets 251 before it is parsed.
	MaxBodyDepth = 32
)

// RobotOptions configures the Robot API. Zero values mean the defaults,
// except RobotRate, where 0 turns the limit off.
type RobotOptions struct {
	// Now is the clock for the signature window; nil means time.Now.
	Now func() time.Time
	// Logger receives server errors and panics; nil means slog.Default().
	Logger *slog.Logger
	// Nonces remembers signed requests to refuse replays; nil means a new
	// MemoryNonces on the Now clock (fine for one node).
	Nonces NonceCache
	// SignWindow is the allowed distance of a timestamp from now; 0 means DefaultSignWindow.
	SignWindow time.Duration
	// RobotRate is the calls per robot per RobotRatePeriod; 0 means no limit.
	// The wiring passes DefaultRobotRate unless configured otherwise.
	RobotRate int
	// MaxBody bounds request bodies; 0 means DefaultMaxBody.
	MaxBody int64
	// Observer receives every answered call, for metrics; nil counts nothing.
	Observer access.Observer
	// Callbacks checks and delivers robots' callback URLs; nil: neither.
	Callbacks Callbacks
}

// AdminOptions configures the Admin API. Zero values mean the defaults. The
// Admin API has no rate limit: it listens on the operator's own address.
type AdminOptions struct {
	// Now is the clock for the signature window; nil means time.Now.
	Now func() time.Time
	// Logger receives server errors and panics; nil means slog.Default().
	Logger *slog.Logger
	// Nonces remembers signed requests to refuse replays; nil means a new MemoryNonces.
	Nonces NonceCache
	// SignWindow is the allowed distance of a timestamp from now; 0 means DefaultSignWindow.
	SignWindow time.Duration
	// MaxBody bounds request bodies; 0 means DefaultMaxBody.
	MaxBody int64
	// Observer receives every answered call, for metrics; nil counts nothing.
	Observer access.Observer
	// Deliveries serves the outbound delivery calls; nil answers them with 254.
	Deliveries Deliveries
	// Callbacks checks and delivers robots' callback URLs; nil: neither.
	Callbacks Callbacks
	// Sessions lists a robot's gateway sessions; nil answers
	// /admin/robot/sessions with 254.
	Sessions Sessions
}

// api is one door: its settings and the service it calls.
type api struct {
	svc     *group.Service
	log     *slog.Logger
	now     func() time.Time
	window  time.Duration
	nonces  NonceCache
	maxBody int64
	// perCall bounds every list of a body: the domain's MaxMembersPerCall.
	perCall int
	limiter *rateLimiter // Robot API only; nil: no limit
	secrets secretCache  // Robot API only
	// admin is true for the Admin API, whose requests are signed with
	// adminSecret and carry no rid.
	admin       bool
	adminSecret string
	observer    access.Observer
	deliveries  Deliveries // Admin API only; nil: not served
	callbacks   Callbacks  // nil: callback URLs are kept unchecked
	sessions    Sessions   // Admin API only; nil: not served
}

func newAPI(svc *group.Service, now func() time.Time, log *slog.Logger, nonces NonceCache, window time.Duration, maxBody int64) *api {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	if nonces == nil {
		m := NewMemoryNonces()
		m.Now = now
		nonces = m
	}
	if window <= 0 {
		window = DefaultSignWindow
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	perCall := group.DefaultMaxMembersPerCall
	if svc != nil {
		perCall = svc.Config().MaxMembersPerCall
	}
	return &api{svc: svc, log: log, now: now, window: window, nonces: nonces, maxBody: maxBody, perCall: perCall}
}

// NewRobotAPI returns the Robot API handler, serving the paths of robotRoutes
// under /robot/. Every call is signed with the robot's secret; the robot is
// the actor of every group call, whatever the body's operator says.
func NewRobotAPI(svc *group.Service, opts RobotOptions) http.Handler {
	a := newAPI(svc, opts.Now, opts.Logger, opts.Nonces, opts.SignWindow, opts.MaxBody)
	a.limiter = newRateLimiter(opts.RobotRate, a.now)
	a.observer, a.callbacks = opts.Observer, opts.Callbacks
	if svc != nil {
		svc.WatchBots(a.forgetSecret)
	}
	return a.handler(robotRoutes)
}

// NewAdminAPI returns the Admin API handler, serving the paths of adminRoutes
// under /admin/. Every call is signed with adminSecret; an empty adminSecret
// refuses every call with 248. A group call acts as the body's operator, with
// that user's rights, or with full rights when operator is empty.
func NewAdminAPI(svc *group.Service, adminSecret string, opts AdminOptions) http.Handler {
	a := newAPI(svc, opts.Now, opts.Logger, opts.Nonces, opts.SignWindow, opts.MaxBody)
	a.admin, a.adminSecret = true, adminSecret
	a.observer, a.deliveries, a.callbacks, a.sessions = opts.Observer, opts.Deliveries, opts.Callbacks, opts.Sessions
	return a.handler(adminRoutes)
}

// route is one call of a door.
type route struct {
	path string
	call func(*api, *request) (any, error)
}

// robotRoutes are the calls of the Robot API.
var robotRoutes = []route{
	{"/robot/group/create", (*api).createGroup},
	{"/robot/group/del", (*api).dismissGroup},
	{"/robot/group/get_info", (*api).getGroupInfo},
	{"/robot/group/transfer", (*api).transferGroup},
	{"/robot/group/modify", (*api).modifyGroup},
	{"/robot/group/member/list", (*api).listMembers},
	{"/robot/group/member/get", (*api).getMember},
	{"/robot/group/member/add", (*api).addMembers},
	{"/robot/group/member/del", (*api).kickMembers},
	{"/robot/group/member/quit", (*api).quitGroup},
	{"/robot/group/member/set_alias", (*api).setMemberAlias},
	{"/robot/group/member/set_extra", (*api).setMemberExtra},
	{"/robot/group/manager/set", (*api).setManagers},
	{"/robot/group/manager/mute", (*api).muteMembers},
	{"/robot/group/manager/allow", (*api).allowMembers},
	{"/robot/message/send", (*api).robotSendMessage},
	{"/robot/profile", (*api).robotProfile},
	{"/robot/user_info", (*api).getUserInfo},
	{"/robot/update_profile", (*api).robotUpdateProfile},
	{"/robot/set_callback", (*api).robotSetCallback},
	{"/robot/get_callback", (*api).robotGetCallback},
	{"/robot/delete_callback", (*api).robotDeleteCallback},
}

// adminRoutes are the calls of the Admin API.
var adminRoutes = []route{
	{"/admin/user/create", (*api).createUser},
	{"/admin/user/get_info", (*api).getUserInfo},
	{"/admin/robot/create", (*api).createRobot},
	{"/admin/user/get_robot_info", (*api).getRobotInfo},
	{"/admin/robot/ice_breaker", (*api).setIceBreaker},
	{"/admin/robot/reset_secret", (*api).resetSecret},
	{"/admin/robot/intents", (*api).setIntents},
	{"/admin/group/create", (*api).createGroup},
	{"/admin/group/del", (*api).dismissGroup},
	{"/admin/group/get_info", (*api).getGroupInfo},
	{"/admin/group/transfer", (*api).transferGroup},
	{"/admin/group/modify", (*api).modifyGroup},
	{"/admin/group/member/list", (*api).listMembers},
	{"/admin/group/member/get", (*api).getMember},
	{"/admin/group/member/add", (*api).addMembers},
	{"/admin/group/member/del", (*api).kickMembers},
	{"/admin/group/member/quit", (*api).quitGroup},
	{"/admin/group/member/set_alias", (*api).setMemberAlias},
	{"/admin/group/member/set_extra", (*api).setMemberExtra},
	{"/admin/group/manager/set", (*api).setManagers},
	{"/admin/group/manager/mute", (*api).muteMembers},
	{"/admin/group/manager/allow", (*api).allowMembers},
	{"/admin/group/of_user", (*api).groupsOfUser},
	{"/admin/group/robot/proactive", (*api).setProactive},
	{"/admin/group/messages", (*api).groupMessages},
	{"/admin/message/send", (*api).adminSendMessage},
	{"/admin/robot/webhook", (*api).setWebhook},
	{"/admin/robot/deliveries", (*api).robotDeliveries},
	{"/admin/robot/redeliver", (*api).redeliver},
	{"/admin/robot/sessions", (*api).robotSessions},
}

// handler builds the door's handler from its routes. Every answer is
// recorded (package access): a debug line per call, an info line per refused
// call with its reason, an error line per server error, and the metrics.
func (a *api) handler(routes []route) http.Handler {
	mux := http.NewServeMux()
	known := make(map[string]bool, len(routes))
	for _, rt := range routes {
		mux.Handle("POST "+rt.path, a.serve(rt))
		known[rt.path] = true
	}
	// Everything else: a known path with another method, or an unknown path.
	// Wildfire answers both with an empty HTTP 500; qun says which it is.
	// The body stays Wildfire's exact 254 (clients probing for a call
	// compare it); the reason goes to the log.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		status, reason := http.StatusNotFound, "no such call"
		if known[r.URL.Path] {
			status, reason = http.StatusMethodNotAllowed, r.Method+" instead of POST"
			w.Header().Set("Allow", http.MethodPost)
			access.From(w).SetRoute(r.URL.Path) // a known path: the set stays bounded
		}
		access.From(w).Refuse(strconv.Itoa(CodeNotImplement), reason)
		a.write(w, status, envelope{Code: CodeNotImplement, Msg: codeMessages[CodeNotImplement]})
	})
	door := access.Door{Name: "robot", Log: a.log, Observer: a.observer}
	if a.admin {
		door.Name = "admin"
	}
	return door.Wrap(a.recoverPanics(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The ServeMux would redirect an unclean path ("//robot/x",
		// "/robot/./x") with an HTML body; no route has one.
		if !cleanPath(r.URL) {
			access.From(w).Refuse(strconv.Itoa(CodeNotImplement), "unclean path")
			a.write(w, http.StatusNotFound, envelope{Code: CodeNotImplement, Msg: codeMessages[CodeNotImplement]})
			return
		}
		mux.ServeHTTP(w, r)
	})))
}

// cleanPath reports whether u's path is in the one form a route can have: no
// empty or dot segment, no trailing slash, no encoded slash.
func cleanPath(u *url.URL) bool {
	return path.Clean(u.Path) == u.Path && !strings.Contains(strings.ToLower(u.RawPath), "%2f")
}

// request is one authenticated call.
type request struct {
	ctx  context.Context
	body []byte
	// robot is the calling robot's id on the Robot API, "" on the Admin API.
	robot string
	// perCall bounds the members, member ids and mentioned targets of the
	// body's lists (the domain's MaxMembersPerCall); a longer list is 251
	// before its elements are decoded (see list).
	perCall int
}

// actor returns who performs a group call. On the Robot API it is always the
// robot: Wildfire overwrites the body's operator with the rid. On the Admin
// API a non-empty operator is honoured (the call has that user's rights);
// an empty one means the admin itself, with full rights.
func (r *request) actor(operator flexString) group.Actor {
	switch {
	case r.robot != "":
		return group.Robot(r.robot)
	case operator != "":
		return group.AsUser(string(operator))
	}
	return group.Admin
}

// serve runs one call: authenticate, read the body, call, settle the
// nonce (a replay found only now outweighs the call's result), reply.
func (a *api) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := &request{ctx: r.Context(), perCall: a.perCall}
		rec := access.From(w)
		rec.SetRoute(rt.path)
		var claim nonceClaim
		var err error
		if a.admin {
			rec.SetCaller("admin")
			claim, err = a.authAdmin(r)
		} else {
			rec.SetCaller(r.Header.Get("rid")) // as claimed until the signature is checked
			req.robot, claim, err = a.authRobot(r)
		}
		var result any
		if err == nil {
			req.ctx = claim.ctx
			req.body, err = readBody(w, r, a.maxBody)
			if err == nil {
				result, err = rt.call(a, req)
			}
			err = claim.check(err)
		}
		a.reply(w, result, err)
	})
}

// readBody reads the whole body, at most max bytes. A body of a declared
// length is read into one buffer of that size, not grown while read.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, max)
	if n := r.ContentLength; n > 0 && n <= max {
		b := make([]byte, n)
		if _, err := io.ReadFull(body, b); err != nil {
			return nil, invalid("the body ended before its Content-Length") // the client went away
		}
		return b, nil
	}
	b, err := io.ReadAll(body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, invalid("the body is larger than %d bytes", max)
	}
	if err != nil {
		return nil, invalid("the body could not be read") // the client went away
	}
	return b, nil
}

// decode parses the body, which must be a JSON object, into v. Any failure
// (empty body, not an object, too deep, not JSON, a field of the wrong type)
// is a 251 that says which.
func (r *request) decode(v any) error {
	b := bytes.TrimSpace(r.body)
	switch {
	case len(b) == 0:
		return invalid("the body is empty")
	case b[0] != '{':
		return invalid("the body is not a JSON object")
	case tooDeep(b, MaxBodyDepth):
		return invalid("the body nests deeper than %d levels", MaxBodyDepth)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return jsonInvalid("", v, err)
	}
	return nil
}

// tooDeep reports whether the JSON text b nests objects and arrays more than
// max levels. It only counts brackets outside strings; the parser checks the rest.
func tooDeep(b []byte, max int) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return true
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}

// envelope is Wildfire's RestResult.
type envelope struct {
	Code   int    `json:"code"`
	Msg    string `json:"msg"`
	Result any    `json:"result,omitempty"`
}

// authEcho is the copy of code and msg that Wildfire puts in the result of a
// failed signature check.
type authEcho struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

// reply writes the answer to a call: the result, or err as a Wildfire code
// whose msg says why (wireMessage). A server error's detail stays in the
// log; the client learns only "server error".
func (a *api) reply(w http.ResponseWriter, result any, err error) {
	if err == nil {
		a.write(w, http.StatusOK, envelope{Code: CodeSuccess, Msg: codeMessages[CodeSuccess], Result: result})
		return
	}
	code, known := wireCode(err)
	env := envelope{Code: code, Msg: codeMessages[code]}
	switch rec := access.From(w); {
	case !known:
		rec.Fail(strconv.Itoa(code), err)
	case errors.Is(err, context.Canceled):
		rec.Refuse(strconv.Itoa(code), "the client went away")
	default:
		env.Msg = wireMessage(code, wireReason(err))
		rec.Refuse(strconv.Itoa(code), env.Msg)
	}
	var we *wireError
	if errors.As(err, &we) && we.Auth {
		env.Result = authEcho{Code: code, Msg: env.Msg}
	}
	a.write(w, http.StatusOK, env)
}

// write sends env as the JSON body with status and its Content-Length:
// net/http would send an answer over 2 KiB chunked, and Wildfire's Java admin
// SDK reads a body only when Content-Length is positive (Wildfire's own
// server always sends it).
func (a *api) write(w http.ResponseWriter, status int, env envelope) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // gson is built with disableHtmlEscaping
	if err := enc.Encode(env); err != nil {
		a.log.Error("wildfire: encode reply", "err", err)
		buf.Reset()
		enc.Encode(envelope{Code: CodeServerError, Msg: codeMessages[CodeServerError]})
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// recoverPanics turns a panic in a call into code 4 and a log line. No call
// should panic (the fuzz tests look for one); this keeps one bug from
// dropping the connection without an answer.
func (a *api) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.log.Error("wildfire: panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			access.From(w).Fail(strconv.Itoa(CodeServerError), fmt.Errorf("panic: %v", v))
			a.write(w, http.StatusOK, envelope{Code: CodeServerError, Msg: codeMessages[CodeServerError]})
		}()
		next.ServeHTTP(w, r)
	})
}
