package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/wildfire"
)

// benchSetup says where benchmark nodes keep their data.
type benchSetup struct {
	data string // parent of the nodes' data directories
	db   string // PostgreSQL URL, or "" for SQLite
}

// store names the store in the output.
func (b benchSetup) store() string {
	if b.db != "" {
		return "PostgreSQL"
	}
	return "SQLite"
}

// benchDatabase creates a new database on the server dsn points at and
// returns its URL and a function that drops it.
func benchDatabase(ctx context.Context, dsn string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", nil, fmt.Errorf("connect %s: %w", app.Redact(dsn), err)
	}
	name := "qun_bench_" + strings.ToLower(group.RandomString(8))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	}, nil
}

// nodeDB is the database URL of a node: a PostgreSQL URL gets the
// application_name qunbench-node<N> (unless it sets one), so that the
// server's backends of each node can be told apart (pg_stat_activity) when
// their CPU is measured.
func nodeDB(db string, node int) string {
	u, err := url.Parse(db)
	if db == "" || err != nil || u.Query().Has("application_name") {
		return db
	}
	q := u.Query()
	q.Set("application_name", fmt.Sprint("qunbench-node", node))
	u.RawQuery = q.Encode()
	return u.String()
}

// benchServer starts a qun node on loopback ports 0, with no rate limits.
func benchServer(ctx context.Context, b benchSetup, node int) (*app.Main, func(), error) {
	return benchServerWith(ctx, b, node, nil)
}

// benchServerWith is benchServer with the Wildfire doors' nonces kept in
// nonces instead of the store (nil: the store).
func benchServerWith(ctx context.Context, b benchSetup, node int, nonces wildfire.NonceCache) (*app.Main, func(), error) {
	data := filepath.Join(b.data, fmt.Sprint("node", node))
	cfg, err := app.ParseConfig([]string{"--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data", data, "--db", nodeDB(b.db, node),
		"--robot-rate", "0", "--bot-rest-rate", "-1", "--identify-rate", "-1", "--log-level", "warn"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		return nil, nil, err
	}
	m := app.NewMain(cfg, io.Discard, os.Stderr)
	m.Nonces = nonces
	stop, err := m.Start(ctx)
	if err != nil {
		return nil, nil, err
	}
	return m, func() { stop() }, nil
}

// target is a qun under load, as its clients see it: the public and admin
// base URLs, and one HTTP client for every call, which keeps a keep-alive
// connection per concurrent caller, as SDKs keep them (the default client
// keeps 2 idle connections per host and would redial constantly).
type target struct {
	public, admin string // http://host:port
	http          *http.Client
	adminAPI      *client.Client
}

// newTarget returns the clients of the qun listening at the addresses pub
// and adm, signing Admin API calls with secret, for conc callers.
func newTarget(pub, adm, secret string, conc int) *target {
	t := &target{public: "http://" + pub, admin: "http://" + adm,
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}}
	t.adminAPI = client.NewAdmin(t.admin, secret)
	t.adminAPI.HTTP = t.http
	return t
}

// targetOf is newTarget for a node running in this process.
func targetOf(m *app.Main, conc int) *target {
	pub, adm := m.Server.Addrs()
	return newTarget(pub, adm, m.AdminSecret, conc)
}

// benchBot is a robot's credentials: the Robot API's and the Bot Open Platform's.
type benchBot struct {
	UserID    string `json:"userId"`
	Secret    string `json:"secret"`
	AppID     string `json:"appId"`
	AppSecret string `json:"appSecret"`
}

// createBot creates the robot id through the Admin API; display, if set,
// is its display name (the one messages mention).
func (t *target) createBot(ctx context.Context, id, display string) (benchBot, error) {
	body := map[string]any{"userId": id, "name": id}
	if display != "" {
		body["displayName"] = display
	}
	var b benchBot
	err := ok(t.adminAPI.Call(ctx, "/admin/robot/create", body, &b))
	return b, err
}

// robot returns a Robot API client of b.
func (t *target) robot(b benchBot) *client.Client {
	c := client.NewRobot(t.public, b.UserID, b.Secret)
	c.HTTP = t.http
	return c
}

// qq returns a Bot Open Platform client of b with its access token.
func (t *target) qq(ctx context.Context, b benchBot) (*qqClient, error) {
	qq := &qqClient{base: t.public, http: t.http}
	return qq, qq.token(ctx, b.AppID, b.AppSecret)
}

// senders are conc users, each the owner of a group of their own that the
// bot is a member of, created through the Admin API: the load of the event
// benchmarks, each sender writing to their group.
type senders struct {
	t      *target
	bot    string
	users  []string
	groups []string
}

// newSenders creates the groups, named prefix and the sender's number.
func (t *target) newSenders(ctx context.Context, bot benchBot, prefix string, conc int) (*senders, error) {
	s := &senders{t: t, bot: bot.UserID, users: make([]string, conc), groups: make([]string, conc)}
	for w := range conc {
		s.users[w], s.groups[w] = fmt.Sprint("sender", w), fmt.Sprint(prefix, w)
		body := map[string]any{"group": map[string]any{"group_info": map[string]any{"target_id": s.groups[w], "name": "bench", "type": 0, "owner": s.users[w]},
			"members": []any{map[string]any{"member_id": bot.UserID}}}}
		if err := ok(t.adminAPI.Call(ctx, "/admin/group/create", body, nil)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// send posts a text message of sender w to their group, mentioning the bot
// (an event for it) or not.
func (s *senders) send(ctx context.Context, w int, mention bool) error {
	payload := map[string]any{"type": 1, "searchableContent": "@Bench ping"}
	if mention {
		payload["mentionedType"] = 1
		payload["mentionedTarget"] = []string{s.bot}
	}
	return ok(s.t.adminAPI.Call(ctx, "/admin/message/send", map[string]any{"sender": s.users[w], "conv": map[string]any{"type": 1, "target": s.groups[w], "line": 0}, "payload": payload}, nil))
}

// eventLoad is the setup of the event benchmarks: a bot's gateway session
// and the senders whose messages make its events.
type eventLoad struct {
	qq      *qqClient
	gw      *gateway
	senders *senders
}

// newEventLoad connects bot's gateway session to bots and creates, at
// writes, conc senders' groups with the bot in them, named prefix and a
// number; the session has read the groups' GROUP_ADD_ROBOT events when it
// returns. The caller closes the session.
func newEventLoad(ctx context.Context, bots, writes *target, bot benchBot, prefix string, conc int) (*eventLoad, error) {
	qq, err := bots.qq(ctx, bot)
	if err != nil {
		return nil, err
	}
	gw, err := qq.connect(ctx)
	if err != nil {
		return nil, err
	}
	s, err := writes.newSenders(ctx, bot, prefix, conc)
	if err == nil {
		err = drain(ctx, conc, gw.next)
	}
	if err != nil {
		gw.conn.CloseNow()
		return nil, err
	}
	return &eventLoad{qq: qq, gw: gw, senders: s}, nil
}

// drain reads and drops n of what next returns: a gateway's dispatches or a
// receiver's POSTs.
func drain[T any](ctx context.Context, n int, next func(context.Context) (T, error)) error {
	for range n {
		if _, err := next(ctx); err != nil {
			return err
		}
	}
	return nil
}

// ok turns a Wildfire call's (code, err) into one error.
func ok(code int, err error) error {
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("wildfire code %d", code)
	}
	return nil
}
