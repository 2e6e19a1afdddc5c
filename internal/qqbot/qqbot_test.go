package qqbot

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/store/postgres"
	"github.com/qun-chat/qun/internal/store/sqlite"
)

// wait bounds every wait of the tests; nothing is timed, this only stops a hung test.
const wait = 20 * time.Second

// clock is real time plus an offset the test may advance, or a frozen time.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
	frozen time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen.IsZero() {
		return c.frozen.Add(c.offset)
	}
	return time.Now().Add(c.offset)
}

// freeze stops the clock at the current time; advance still moves it.
func (c *clock) freeze() {
	c.mu.Lock()
	c.frozen = time.Now().Truncate(time.Second)
	c.mu.Unlock()
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// env is a real qun door on a port-0 server over a SQLite file in a temp dir,
// or over a PostgreSQL schema of its own (onStore).
type env struct {
	t      *testing.T
	path   string
	dsn    string // PostgreSQL when not ""
	schema string
	clock  *clock
	cfg    group.Config
	opts   Options

	store *writeCounter // the store, counting its writes
	svc   *group.Service
	srv   *Server
	hs    *httptest.Server
	stop  context.CancelFunc
}

// testStore is what internal/app passes the door: one store, the domain's and the door's.
type testStore interface {
	group.Store
	Store
}

// writeCounter is a testStore that counts the writes requests make through
// it: the domain's Updates and the door's write methods. Prune, the
// maintenance pass Run starts on its own, is not counted.
type writeCounter struct {
	testStore
	writes atomic.Int64
	views  atomic.Int64 // read transactions (View)
}

func (w *writeCounter) View(ctx context.Context, fn func(group.Reader) error) error {
	w.views.Add(1)
	return w.testStore.View(ctx, fn)
}

func (w *writeCounter) Update(ctx context.Context, fn func(group.Tx) error) error {
	w.writes.Add(1)
	return w.testStore.Update(ctx, fn)
}

func (w *writeCounter) IssueAccessToken(ctx context.Context, t group.AccessToken, reuseAfter time.Time) (group.AccessToken, error) {
	w.writes.Add(1)
	return w.testStore.IssueAccessToken(ctx, t, reuseAfter)
}

func (w *writeCounter) UpdateSession(ctx context.Context, id string,
	fn func(group.Reader, group.Session, bool) (group.Session, bool, error)) error {
	w.writes.Add(1)
	return w.testStore.UpdateSession(ctx, id, fn)
}

func (w *writeCounter) PutOpenIDs(ctx context.Context, ms []group.OpenID) error {
	w.writes.Add(1)
	return w.testStore.PutOpenIDs(ctx, ms)
}

func (w *writeCounter) CreateSetting(ctx context.Context, key, value string) (string, error) {
	w.writes.Add(1)
	return w.testStore.CreateSetting(ctx, key, value)
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newEnv starts a server on SQLite; cfg and opts may be changed by the callers' mutators.
func newEnv(t *testing.T, mutate ...func(*group.Config, *Options)) *env {
	t.Helper()
	return newEnvOn(t, "sqlite", mutate...)
}

// newEnvOn is newEnv on the store kind (see storeKinds).
func newEnvOn(t *testing.T, kind string, mutate ...func(*group.Config, *Options)) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "qun.db"), clock: &clock{}}
	if kind == "postgres" {
		e.dsn = os.Getenv(postgresDSNVar)
		e.schema = testSchema(t, e.dsn)
	}
	e.cfg = group.Config{Now: e.clock.Now}
	e.opts = Options{Now: e.clock.Now, Logger: quietLogger()}
	for _, m := range mutate {
		m(&e.cfg, &e.opts)
	}
	e.start()
	t.Cleanup(e.shutdown)
	return e
}

// postgresDSNVar names the PostgreSQL database the tests that run on both
// stores also use; without it they run on SQLite only, saying so.
const postgresDSNVar = "QUN_TEST_POSTGRES_DSN"

// testPostgresConns keeps a test's store well under the server's max_connections.
const testPostgresConns = 4

// storeKinds are the stores a test runs on: "sqlite", and "postgres" when
// postgresDSNVar is set.
func storeKinds(t *testing.T) []string {
	if os.Getenv(postgresDSNVar) == "" {
		t.Logf("%s is not set: running on SQLite only", postgresDSNVar)
		return []string{"sqlite"}
	}
	return []string{"sqlite", "postgres"}
}

// testSchema returns the name of a fresh PostgreSQL schema, dropped when t ends.
func testSchema(t *testing.T, dsn string) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema := "qun_qqbot_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

func (e *env) start() {
	t := e.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var st testStore
	var err error
	if e.dsn == "" {
		st, err = sqlite.Open(ctx, e.path)
	} else {
		st, err = postgres.Open(ctx, e.dsn, postgres.WithSchema(e.schema), postgres.WithChannel(e.schema),
			postgres.WithMaxConns(testPostgresConns), postgres.WithLogger(quietLogger()))
	}
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	e.store = &writeCounter{testStore: st}
	e.svc = group.NewService(e.store, e.cfg)
	e.srv, err = New(e.svc, e.store, e.opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.hs = httptest.NewServer(e.srv.Handler())
	runCtx, stop := context.WithCancel(context.Background())
	e.stop = stop
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.srv.Run(runCtx)
	}()
	prev := e.stop
	e.stop = func() { prev(); <-done }
}

func (e *env) shutdown() {
	if e.srv == nil {
		return
	}
	e.stop()
	e.srv.Close()
	e.hs.Close()
	if err := e.store.Close(); err != nil {
		e.t.Errorf("close store: %v", err)
	}
	e.srv = nil
}

// node starts another door on the env's store and service, as a second node
// of a cluster would run, and returns its base URL.
func (e *env) node() string {
	e.t.Helper()
	srv, err := New(e.svc, e.store, e.opts)
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	e.t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return hs.URL
}

// restart closes the server and the store and opens both again on the same file.
func (e *env) restart() {
	e.shutdown()
	e.start()
}

func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	e.t.Cleanup(cancel)
	return ctx
}

// robot creates a bot with display name display.
func (e *env) robot(id, display string) group.Bot {
	e.t.Helper()
	_, b, err := e.svc.CreateRobot(e.ctx(), group.RobotInput{User: group.User{ID: id, Name: id, DisplayName: display}})
	if err != nil {
		e.t.Fatalf("create robot %s: %v", id, err)
	}
	return b
}

func (e *env) users(ids ...string) {
	e.t.Helper()
	for _, id := range ids {
		if _, err := e.svc.PutUser(e.ctx(), group.User{ID: id, Name: id, DisplayName: id}); err != nil {
			e.t.Fatalf("put user %s: %v", id, err)
		}
	}
}

// createGroup has owner create group id with members.
func (e *env) createGroup(owner, id string, members ...string) {
	e.t.Helper()
	in := group.CreateGroupInput{Group: group.Group{ID: id, Name: id}}
	for _, m := range members {
		in.Members = append(in.Members, group.Member{UserID: m})
	}
	if _, err := e.svc.CreateGroup(e.ctx(), group.AsUser(owner), in); err != nil {
		e.t.Fatalf("create group %s: %v", id, err)
	}
}

// mention has sender post text mentioning the bots in groupID.
func (e *env) mention(sender, groupID, text string, bots ...string) group.Message {
	e.t.Helper()
	m, err := e.svc.SendMessage(e.ctx(), group.SendInput{Sender: sender, ConvType: group.ConvGroup, Target: groupID,
		Payload: group.Payload{Type: group.ContentText, SearchableContent: text, MentionedType: group.MentionSome, MentionedTarget: bots}})
	if err != nil {
		e.t.Fatalf("send message: %v", err)
	}
	return m
}

// openID is what bot sees for an internal id.
func (e *env) openID(bot group.Bot, kind, id string) string {
	return e.srv.openID(bot.UserID, kind, id)
}

// response is a REST answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// qqErr decodes an error body.
func (r response) qqErr(t *testing.T) errorBody {
	t.Helper()
	var b errorBody
	r.json(t, &b)
	return b
}

// do sends a REST request; auth is the Authorization header ("" for none).
func (e *env) do(method, path, auth string, body any) response {
	e.t.Helper()
	return e.doWith(method, path, auth, nil, body)
}

// doWith is do with extra request headers (empty values are not sent).
func (e *env) doWith(method, path, auth string, headers map[string]string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(e.ctx(), method, e.hs.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.hs.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	checkContentLength(e.t, resp, data)
	return response{resp.StatusCode, resp.Header, data}
}

// checkContentLength fails the test unless the answer carried a
// Content-Length equal to its body's length: clients such as Wildfire's Java
// admin SDK read a body only when Content-Length is positive, so no answer
// may go out chunked.
func checkContentLength(t testing.TB, resp *http.Response, body []byte) {
	t.Helper()
	if got, want := resp.Header.Get("Content-Length"), strconv.Itoa(len(body)); got != want || resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Errorf("%s %s: Content-Length %q (transfer encoding %v), want %s", resp.Request.Method, resp.Request.URL.Path, got, resp.TransferEncoding, want)
	}
}

// token gets an access token for bot.
func (e *env) token(b group.Bot) string {
	e.t.Helper()
	r := e.do("POST", "/app/getAppAccessToken", "", map[string]string{"appId": b.AppID, "clientSecret": b.AppSecret})
	if r.status != 200 {
		e.t.Fatalf("token: %d %s", r.status, r.body)
	}
	var tk struct {
		AccessToken string `json:"access_token"`
	}
	r.json(e.t, &tk)
	return tk.AccessToken
}

// wsFrame is a server frame as a raw client sees it.
type wsFrame struct {
	Op int             `json:"op"`
	S  *int64          `json:"s"`
	T  string          `json:"t"`
	ID string          `json:"id"`
	D  json.RawMessage `json:"d"`
}

// wsClient is a raw gateway client.
type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

// dial connects to the gateway and reads Hello.
func (e *env) dial() *wsClient {
	e.t.Helper()
	return e.dialAt(e.hs.URL)
}

// dialAt connects to the gateway of the server at base and reads Hello.
func (e *env) dialAt(base string) *wsClient {
	e.t.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + "/websocket"
	c, _, err := websocket.Dial(e.ctx(), u, nil)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	e.t.Cleanup(func() { _ = c.CloseNow() })
	w := &wsClient{t: e.t, c: c}
	if f := w.read(); f.Op != opHello || !strings.Contains(string(f.D), `"heartbeat_interval":`) {
		e.t.Fatalf("first frame: %+v %s", f, f.D)
	}
	return w
}

func (w *wsClient) sendRaw(data string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, []byte(data)); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

func (w *wsClient) send(v any) {
	w.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		w.t.Fatal(err)
	}
	w.sendRaw(string(b))
}

// next reads one frame or the error that ended the connection.
func (w *wsClient) next() (wsFrame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, data, err := w.c.Read(ctx)
	if err != nil {
		return wsFrame{}, err
	}
	var f wsFrame
	if err := json.Unmarshal(data, &f); err != nil {
		w.t.Fatalf("frame %s: %v", data, err)
	}
	return f, nil
}

func (w *wsClient) read() wsFrame {
	w.t.Helper()
	f, err := w.next()
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	return f
}

// expectClose reads until the server closes and checks the close code.
func (w *wsClient) expectClose(code websocket.StatusCode) {
	w.t.Helper()
	for {
		f, err := w.next()
		if err != nil {
			if got := websocket.CloseStatus(err); got != code {
				w.t.Fatalf("closed with %d (%v), want %d", got, err, code)
			}
			return
		}
		w.t.Logf("frame before close: %+v %s", f, f.D)
	}
}

// identify sends op 2 and reads READY.
func (w *wsClient) identify(token string, intents int64, shard [2]int) (sessionID string, seq int64) {
	w.t.Helper()
	w.send(map[string]any{"op": opIdentify, "d": map[string]any{"token": "QQBot " + token, "intents": intents, "shard": shard, "properties": map[string]any{}}, "Session": nil})
	f := w.read()
	if f.Op != opDispatch || f.T != "READY" || f.S == nil {
		w.t.Fatalf("want READY, got %+v %s", f, f.D)
	}
	var d readyData
	if err := json.Unmarshal(f.D, &d); err != nil {
		w.t.Fatal(err)
	}
	if d.Shard != shard && !(shard == [2]int{} && d.Shard == [2]int{0, 1}) {
		w.t.Fatalf("READY shard %v, want %v", d.Shard, shard)
	}
	return d.SessionID, *f.S
}

// event reads the next dispatch and checks its type.
func (w *wsClient) event(t string) wsFrame {
	w.t.Helper()
	f := w.read()
	if f.Op != opDispatch || f.T != t || f.S == nil {
		w.t.Fatalf("want %s dispatch, got %+v %s", t, f, f.D)
	}
	return f
}

// closeLater reads in the background until the server closes; the returned
// func waits for that and checks the code. Use it when the server closes while
// the test is busy (a close handshake needs a reading client).
func (w *wsClient) closeLater(code websocket.StatusCode) func() {
	done := make(chan websocket.StatusCode, 1)
	go func() {
		for {
			if _, err := w.next(); err != nil {
				done <- websocket.CloseStatus(err)
				return
			}
		}
	}()
	return func() {
		w.t.Helper()
		select {
		case got := <-done:
			if got != code {
				w.t.Fatalf("closed with %d, want %d", got, code)
			}
		case <-time.After(wait):
			w.t.Fatalf("no close within %v", wait)
		}
	}
}
