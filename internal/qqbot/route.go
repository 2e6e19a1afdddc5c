package qqbot

import (
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/qun-chat/qun/internal/access"
)

// routes returns the door's handler: every path qun serves, in one table.
// Unknown paths and methods get QQ error bodies too, never the ServeMux's
// plain-text ones.
func (s *Server) routes() http.Handler {
	table := []struct {
		pattern string
		methods map[string]http.HandlerFunc
	}{
		{"/app/getAppAccessToken", map[string]http.HandlerFunc{http.MethodPost: s.getAppAccessToken}},
		{"/gateway", map[string]http.HandlerFunc{http.MethodGet: s.auth(s.getGateway)}},
		{"/gateway/bot", map[string]http.HandlerFunc{http.MethodGet: s.auth(s.getGatewayBot)}},
		{"/users/@me", map[string]http.HandlerFunc{http.MethodGet: s.auth(s.getMe)}},
		{"/v2/groups/{group_openid}/members", map[string]http.HandlerFunc{
			http.MethodGet:  s.auth(s.getGroupMembers),
			http.MethodPost: s.auth(s.postGroupMembers),
		}},
		{"/v2/groups/{group_openid}/messages", map[string]http.HandlerFunc{http.MethodPost: s.auth(s.postGroupMessage)}},
		// The real gateway URL ends in a slash; serve both forms.
		{"/websocket", map[string]http.HandlerFunc{http.MethodGet: s.serveGateway}},
		{"/websocket/", map[string]http.HandlerFunc{http.MethodGet: s.serveGateway}},
	}
	mux := http.NewServeMux()
	for _, rt := range table {
		mux.HandleFunc(rt.pattern, s.methods(rt.methods))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errNotFound.because("no such path"))
	})
	// Every answer is recorded (package access): a debug line per request,
	// an info line per refused one with its reason, an error line per
	// server error, each with the trace id, and the request metrics.
	door := access.Door{Name: "qq", Log: s.log, Observer: s.opts.Observer}
	return door.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trace := newTraceID()
		w.Header().Set(traceHeader, trace)
		rec := access.From(w)
		rec.With(slog.String("trace_id", trace))
		defer func() {
			// The pattern the mux matched, never the raw path; "/" is the
			// catch-all of unknown paths.
			if r.Pattern != "" && r.Pattern != "/" {
				rec.SetRoute(r.Pattern)
			}
		}()
		defer s.recoverPanic(w, r)
		// The ServeMux would redirect an unclean path ("//x", "/a/../b") with
		// an HTML body; no route has one.
		if !cleanPath(r.URL.Path) {
			s.writeError(w, r, errNotFound.because("unclean path"))
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

// cleanPath reports whether p has no empty or dot segment. A trailing slash
// is allowed ("/websocket/" is a route); "//" is not.
func cleanPath(p string) bool {
	c := path.Clean(p)
	return p == c || c != "/" && p == c+"/"
}

// recoverPanic, deferred around every request, turns a panic (a bug: the
// fuzz tests look for them) into a 500 with the QQ error body and its trace
// id, and an error log line with the stack, instead of a dropped connection.
// A gateway connection recovers on its own (conn.serve): it is hijacked.
func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.log.Error("qqbot: panic", "method", r.Method, "path", r.URL.Path, "trace_id", w.Header().Get(traceHeader),
		"panic", v, "stack", string(debug.Stack()))
	access.From(w).Fail(strconv.Itoa(codeServerError), fmt.Errorf("panic: %v", v))
	s.writeAPIError(w, errServer)
}

// methods dispatches on the request method; others get 405 with Allow.
func (s *Server) methods(m map[string]http.HandlerFunc) http.HandlerFunc {
	allow := make([]string, 0, len(m))
	for k := range m {
		allow = append(allow, k)
	}
	sort.Strings(allow)
	allowed := strings.Join(allow, ", ")
	return func(w http.ResponseWriter, r *http.Request) {
		h, ok := m[r.Method]
		if !ok {
			w.Header().Set("Allow", allowed)
			s.writeError(w, r, errMethod.because(r.Method+" instead of "+allowed))
			return
		}
		h(w, r)
	}
}

// authHandler serves a request authenticated as a bot.
type authHandler func(w http.ResponseWriter, r *http.Request, b authBot)

// auth checks the Authorization header ("QQBot {token}", or the legacy
// "Bot {appid}.{token}") and the optional X-Union-Appid, then the app's REST
// rate limit.
func (s *Server) auth(h authHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := s.authenticate(r.Context(), r.Header.Get("Authorization"), true)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		access.From(w).SetCaller(b.bot.AppID)
		if app := r.Header.Get("X-Union-Appid"); app != "" && app != b.bot.AppID {
			s.writeError(w, r, errTokenInvalid.because("X-Union-Appid is not the token's app id"))
			return
		}
		if !s.restRate.allow(b.bot.AppID, s.now()) {
			s.writeError(w, r, errRateLimited.because(fmt.Sprintf("over %d requests per second", s.opts.RESTRate)))
			return
		}
		h(w, r, b)
	}
}
