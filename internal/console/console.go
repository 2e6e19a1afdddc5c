// Package console is qun's web console, served on the admin listener at /:
// the operator (signed in with the admin secret) sees and changes
// everything, a bot developer (signed in with the bot's appId and
// appSecret) only that bot and its groups. Pages are server-rendered
// html/template with a little JavaScript, every file embedded. It is a
// client of the domain's operations, like the Admin API: it imports the
// domain only, and holds no group rule.
package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qun-chat/qun/internal/access"
	"github.com/qun-chat/qun/internal/group"
)

// Paging of the console's lists.
const (
	// DefaultPage is how many bots, groups or members a page lists.
	DefaultPage = 50
	// DefaultTimelinePage is how many timeline messages a page shows.
	DefaultTimelinePage = 50
	// DefaultBotGroups bounds the groups listed on a bot's page.
	DefaultBotGroups = 100
	// DefaultMaxForm bounds a form's body.
	DefaultMaxForm = 64 << 10
)

// contentSecurityPolicy allows the console's own files only: no inline
// script or style, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

//go:embed assets
var assets embed.FS

// Stat is one number of the overview, read from the same counters as /metrics.
type Stat struct {
	Key   string // a text key: requests, gateway_conns, …
	Value float64
	// Rate marks a counter the overview shows per second: the rate between
	// two of its samples, kept in memory (see DefaultRateWindow).
	Rate  bool
	known bool // a Rate's value is computed
}

// Options configure the console.
type Options struct {
	// AdminSecret signs the operator in.
	AdminSecret string
	Version     string
	StoreKind   string // sqlite or postgres
	// Ready reports whether the store answers; nil: always.
	Ready func(context.Context) error
	// Stats returns the overview's numbers; nil: none.
	Stats  func() []Stat
	Logger *slog.Logger
	// Observer receives every request, as the door "console" (the request
	// metrics of /metrics); nil counts nothing.
	Observer access.Observer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// BotEvents reads a bot's event log after seq after, at most limit
	// events, as the JSON the bot was sent, and returns the bot's last event
	// seq (ENotExist for no bot); nil: the playground shows no events.
	BotEvents func(ctx context.Context, botID string, after int64, limit int) ([]RawEvent, int64, error)
	// StreamPoll is how often a live timeline polls for new messages; 0:
	// DefaultStreamPoll.
	StreamPoll time.Duration
	// Deliveries shows and changes bots' webhooks and deliveries; nil: the
	// bot page has no such sections.
	Deliveries Deliveries
	// Sessions lists bots' gateway sessions; nil: the bot page lists none.
	Sessions Sessions
}

// Console serves the console.
type Console struct {
	svc      *group.Service
	opt      Options
	log      *slog.Logger
	sessions sessions
	signIns  limiter
	revealed revealed // new secrets, until the page that shows them
	// sparing holds the ids of the sessions whose own appSecret reset is
	// under way: botChanged leaves them signed in.
	sparing sync.Map
	rates   rates
	pages   map[string]*template.Template
	handler http.Handler // the routes, each request recorded (package access)
	done    chan struct{}
}

// New returns the console over svc.
func New(svc *group.Service, opt Options) (*Console, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.StreamPoll <= 0 {
		opt.StreamPoll = DefaultStreamPoll
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	c := &Console{svc: svc, opt: opt, log: opt.Logger, done: make(chan struct{}),
		sessions: sessions{m: map[string]*session{}, now: opt.Now},
		signIns:  limiter{m: map[string]*window{}, now: opt.Now},
		pages:    map[string]*template.Template{}}
	if opt.Stats != nil {
		c.rates.observe(opt.Now(), opt.Stats()) // the first sample of each rate
	}
	names, err := fs.Glob(assets, "assets/templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || strings.HasPrefix(base, "part_") { // the layout and the parts pages share
			continue
		}
		t, err := template.New("layout.html").ParseFS(assets, "assets/templates/layout.html", "assets/templates/part_*.html", n)
		if err != nil {
			return nil, err
		}
		c.pages[strings.TrimSuffix(base, ".html")] = t
	}
	c.routes()
	svc.WatchBots(c.botChanged)
	return c, nil
}

// Stop ends the live streams, so that a graceful shutdown does not wait for them.
func (c *Console) Stop() {
	select {
	case <-c.done:
	default:
		close(c.done)
	}
}

func (c *Console) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets/static")
	m.Handle("GET /static/", http.StripPrefix("/static/", c.static(static)))
	m.HandleFunc("GET /signin", c.signInPage)
	m.HandleFunc("POST /signin", c.signIn)
	m.HandleFunc("GET /lang/{lang}", c.switchLanguage)
	m.HandleFunc("POST /signout", c.auth(c.signOut))
	m.HandleFunc("GET /{$}", c.auth(c.overview))
	m.HandleFunc("GET /bots", c.auth(c.botList))
	m.HandleFunc("POST /bots", c.auth(c.createBot))
	m.HandleFunc("GET /bots/{id}", c.auth(c.botPage))
	m.HandleFunc("POST /bots/{id}/ice-breaker", c.auth(c.setIceBreaker))
	m.HandleFunc("POST /bots/{id}/reset", c.auth(c.resetSecret))
	m.HandleFunc("POST /bots/{id}/intents", c.auth(c.setIntents))
	m.HandleFunc("POST /bots/{id}/webhook", c.auth(c.setWebhook))
	m.HandleFunc("POST /bots/{id}/redeliver", c.auth(c.redeliver))
	m.HandleFunc("GET /groups", c.auth(c.groupList))
	m.HandleFunc("POST /groups", c.auth(c.createGroup))
	m.HandleFunc("GET /groups/{id}", c.auth(c.groupPage))
	m.HandleFunc("GET /groups/{id}/stream", c.auth(c.stream))
	m.HandleFunc("POST /groups/{id}/members/role", c.auth(c.setMemberRole))
	m.HandleFunc("GET /playground", c.auth(c.playground))
	m.HandleFunc("GET /playground/events", c.auth(c.botEvents))
	m.HandleFunc("POST /playground/send", c.auth(c.playSend))
	m.HandleFunc("POST /playground/robot", c.auth(c.playRobot))
	m.HandleFunc("POST /playground/proactive", c.auth(c.playProactive))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, http.StatusNotFound, text(language(r), "not_found"))
	})
	// Every answer is recorded like the other doors': a debug line per
	// request, an info line per refused one with its message, an error line
	// per server error, and the request metrics, as the door "console".
	door := access.Door{Name: "console", Log: c.log, Observer: c.opt.Observer}
	c.handler = door.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			// The pattern the mux matched, never the raw path; "/" is the
			// catch-all of unknown paths.
			if r.Pattern != "" && r.Pattern != "/" {
				access.From(w).SetRoute(r.Pattern)
			}
		}()
		m.ServeHTTP(w, r)
	}))
}

// ServeHTTP serves a console page with the security headers every answer carries.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.handler.ServeHTTP(w, r)
}

// static serves the embedded files with their Content-Length.
func (c *Console) static(files fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(files, r.URL.Path)
		if err != nil || strings.Contains(r.URL.Path, "/") {
			c.fail(w, r, nil, http.StatusNotFound, text(language(r), "not_found"))
			return
		}
		ct := "text/plain; charset=utf-8"
		switch path.Ext(r.URL.Path) {
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	})
}

// handler is a page that needs a session.
type handler func(w http.ResponseWriter, r *http.Request, s *session)

// auth lets r through with its session: without one a GET is sent to the
// sign-in page and anything else refused; a POST must carry the session's
// CSRF token.
func (c *Console) auth(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := c.sessions.get(r)
		if s != nil && s.operator() {
			access.From(w).SetCaller("admin")
		} else if s != nil {
			access.From(w).SetCaller(s.botID)
		}
		if s == nil {
			if r.Method == http.MethodGet {
				redirect(w, "/signin")
				return
			}
			c.fail(w, r, nil, http.StatusUnauthorized, text(language(r), "bad_csrf"))
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, DefaultMaxForm)
			if err := r.ParseForm(); err != nil || !sameToken(r.PostForm.Get("csrf"), s.csrf) {
				c.fail(w, r, s, http.StatusForbidden, text(language(r), "bad_csrf"))
				return
			}
		}
		h(w, r, s)
	}
}

// page is what every template gets.
type page struct {
	Lang     string
	Title    string
	Session  *session
	CSRF     string
	Operator bool
	Flash    string
	Error    string
	Data     any
}

// T translates key into the page's language.
func (p page) T(key string) string { return text(p.Lang, key) }

// show renders the template name with status, Content-Length set.
func (c *Console) show(w http.ResponseWriter, r *http.Request, s *session, status int, name, title string, data any) {
	p := page{Lang: language(r), Session: s, Data: data, Flash: r.URL.Query().Get("flash")}
	p.Title = text(p.Lang, title)
	if s != nil {
		p.CSRF, p.Operator = s.csrf, s.operator()
	}
	if msg, ok := data.(errorPage); ok {
		p.Error = msg.Message
	}
	if _, known := texts[p.Flash]; known {
		p.Flash = text(p.Lang, p.Flash)
	} else {
		p.Flash = "" // a flash names a message of ours: a link cannot put its own text on the page
	}
	var buf bytes.Buffer
	if err := c.pages[name].Execute(&buf, p); err != nil {
		c.log.Error("console: render", "page", name, "err", err)
		body := text(p.Lang, "server_error") + "\n"
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(body))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage is the data of the error page.
type errorPage struct {
	Message string
	Back    string
}

// fail shows the error page with a readable message, which the access log's
// refusal line gives as the reason.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	access.From(w).Refuse(strconv.Itoa(status), msg)
	c.showError(w, r, s, status, msg)
}

// showError shows the error page with msg.
func (c *Console) showError(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	back := "/"
	if s == nil {
		back = "/signin"
	}
	c.show(w, r, s, status, "error", "error", errorPage{Message: msg, Back: back})
}

// statusOf maps a domain error to the HTTP status of its error page.
var statusOf = map[group.Code]int{
	group.ENotExist:      http.StatusNotFound,
	group.ENotRight:      http.StatusForbidden,
	group.ENotInGroup:    http.StatusForbidden,
	group.EAlreadyMember: http.StatusConflict,
	group.EGroupExists:   http.StatusConflict,
	group.EExceedMax:     http.StatusBadRequest,
	group.EInvalidParam:  http.StatusBadRequest,
	group.EInvalidData:   http.StatusBadRequest,
	group.EGroupMuted:    http.StatusForbidden,
	group.EConflict:      http.StatusConflict,
	group.EDuplicate:     http.StatusConflict,
	group.EExpired:       http.StatusBadRequest,
	group.ERejected:      http.StatusForbidden,
	group.EOverQuota:     http.StatusTooManyRequests,
	group.ENotImplement:  http.StatusNotImplemented,
}

// domainError shows a domain error: the text of its code (refusalTexts), then
// its own message, which names only what the request gave; an internal
// error is logged and shown as "server error".
func (c *Console) domainError(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var ge *group.Error
	if errors.As(err, &ge) {
		st, ok := statusOf[ge.Code]
		if key, known := refusalTexts[ge.Code]; ok && known {
			lang := language(r)
			c.fail(w, r, s, st, joinText(lang, text(lang, key), ge.Message))
			return
		}
	}
	access.From(w).Fail(strconv.Itoa(http.StatusInternalServerError), err) // logged as the request's error line
	c.showError(w, r, s, http.StatusInternalServerError, text(language(r), "server_error"))
}

// redirect answers 303 See Other with an empty body (Content-Length 0).
func redirect(w http.ResponseWriter, to string) {
	w.Header().Set("Location", to)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusSeeOther)
}

// localPath reports whether p is a path of this site (not //host or a URL).
func localPath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.Contains(p, `\`)
}
