package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits of sign-in and sessions.
const (
	// DefaultSessionLifetime is how long a session lasts after sign-in.
	DefaultSessionLifetime = 12 * time.Hour
	// DefaultMaxSessions bounds the sessions kept in memory; sign-in is
	// refused while that many unexpired sessions exist.
	DefaultMaxSessions = 10000
	// DefaultSignInAttempts is how many sign-in attempts one client address
	// may make per DefaultSignInWindow, right or wrong.
	DefaultSignInAttempts = 10
	// DefaultSignInWindow is the window DefaultSignInAttempts counts over.
	DefaultSignInWindow = time.Minute
	// DefaultMaxSignInClients bounds the client addresses the rate limiter
	// remembers; when full, windows that ended are forgotten first.
	DefaultMaxSignInClients = 10000
)

// Cookie names.
const (
	sessionCookie = "qun_console"
	signInCookie  = "qun_console_signin" // the sign-in form's CSRF token, before any session
	langCookie    = "qun_lang"
)

// session is one signed-in browser. Sessions live in memory: a restart of
// qun signs everyone out.
type session struct {
	id      string
	csrf    string
	botID   string // "" for the operator
	expires time.Time
}

func (s *session) operator() bool { return s.botID == "" }

// sessions holds the signed-in browsers.
type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	now func() time.Time
}

func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("console: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for botID ("" for the operator), or reports false
// when DefaultMaxSessions are live.
func (ss *sessions) create(botID string) (*session, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	if len(ss.m) >= DefaultMaxSessions {
		for id, s := range ss.m {
			if !now.Before(s.expires) {
				delete(ss.m, id)
			}
		}
		if len(ss.m) >= DefaultMaxSessions {
			return nil, false
		}
	}
	s := &session{id: newToken(), csrf: newToken(), botID: botID, expires: now.Add(DefaultSessionLifetime)}
	ss.m[s.id] = s
	return s, true
}

// get returns the live session of r's cookie, or nil.
func (ss *sessions) get(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[c.Value]
	if s == nil {
		return nil
	}
	if !ss.now().Before(s.expires) {
		delete(ss.m, s.id)
		return nil
	}
	return s
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
}

// sameToken compares two secrets in constant time; an empty one never matches.
func sameToken(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// setCookie sets an HttpOnly, SameSite=Strict cookie on the console's
// paths, Secure when the request came over TLS.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: int(maxAge / time.Second)}
	if maxAge < 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// limiter counts sign-in attempts per client address in fixed windows.
type limiter struct {
	mu  sync.Mutex
	m   map[string]*window
	now func() time.Time
}

type window struct {
	start time.Time
	n     int
}

// allow counts an attempt from r's address and reports whether it is within
// DefaultSignInAttempts per DefaultSignInWindow.
func (l *limiter) allow(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.m[host]
	if w == nil || now.Sub(w.start) >= DefaultSignInWindow {
		if w == nil && len(l.m) >= DefaultMaxSignInClients {
			for k, o := range l.m {
				if now.Sub(o.start) >= DefaultSignInWindow {
					delete(l.m, k)
				}
			}
			if len(l.m) >= DefaultMaxSignInClients {
				return false
			}
		}
		w = &window{start: now}
		l.m[host] = w
	}
	w.n++
	return w.n <= DefaultSignInAttempts
}

// BotID is the signed-in bot's id, "" for the operator (templates read it).
func (s *session) BotID() string { return s.botID }
