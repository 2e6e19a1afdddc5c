// Command robot-callback is a Wildfire IM robot that hears its groups
// through its callback URL: it serves an HTTP endpoint, points the robot's
// callback at it (/robot/set_callback), checks the Standard Webhooks
// signature qun puts on every callback, and answers each message that
// mentions it through the Robot API: "pong" to "ping", else the text it got.
//
//	go run ./examples/robot-callback -robot greeter -listen 127.0.0.1:9001
//
// The robot's id and secret come from `qun robot create`; -url (QUN_URL)
// is qun's public address. docs/quickstart.md walks through it.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/qun-chat/qun/client"
)

// DefaultURL is qun's public listener as `qun serve` starts it.
const DefaultURL = "http://127.0.0.1:8080"

// DefaultListen is where the robot listens for qun's callbacks; port 0
// picks a free one.
const DefaultListen = "127.0.0.1:9001"

// CallbackPath is the path the robot serves its callback on.
const CallbackPath = "/robot/recvmsg"

// DefaultTimeout bounds each Robot API call.
const DefaultTimeout = 10 * time.Second

// DefaultTolerance is how far a callback's webhook-timestamp may be from
// now, either way, as Standard Webhooks suggests: an older request is a replay.
const DefaultTolerance = 5 * time.Minute

// DefaultMaxBody bounds a callback body the robot reads.
const DefaultMaxBody = 1 << 20

// DefaultAnswered is how many answered message ids the robot remembers, so
// that a message qun sends again (a retry, a redelivery) is answered once.
const DefaultAnswered = 1000

// DefaultShutdownTimeout bounds how long a callback under way may finish
// after SIGTERM.
const DefaultShutdownTimeout = 5 * time.Second

// Wildfire values this robot reads.
const (
	convGroup   = 1 // conv.type of a group
	textMessage = 1 // payload.type of a text message
	mentionSome = 1 // payload.mentionedType: the users in mentionedTarget
	mentionAll  = 2 // payload.mentionedType: everyone
)

// outputMessage is Wildfire's OutputMessageData, what qun POSTs.
type outputMessage struct {
	MessageID int64  `json:"messageId"`
	Sender    string `json:"sender"`
	Conv      struct {
		Type   int    `json:"type"`
		Target string `json:"target"`
		Line   int    `json:"line"`
	} `json:"conv"`
	Payload   client.Payload `json:"payload"`
	Timestamp int64          `json:"timestamp"`
}

// config is who the robot is, where qun is and where the robot listens.
type config struct {
	URL         string
	RobotID     string
	Secret      string
	Listen      string
	CallbackURL string
}

func main() {
	log.SetFlags(log.LstdFlags)
	log.SetPrefix("robot-callback: ")
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		log.Print(err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		log.Fatal(err)
	}
}

// parseConfig reads the flags; each falls back to an environment variable.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	cfg := config{URL: DefaultURL, Listen: DefaultListen, RobotID: getenv("QUN_ROBOT_ID"), Secret: getenv("QUN_ROBOT_SECRET")}
	if v := getenv("QUN_URL"); v != "" {
		cfg.URL = v
	}
	if v := getenv("ROBOT_LISTEN"); v != "" {
		cfg.Listen = v
	}
	fs := flag.NewFlagSet("robot-callback", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", cfg.URL, "qun's public `URL`, where the Robot API is (env QUN_URL)")
	fs.StringVar(&cfg.RobotID, "robot", cfg.RobotID, "the robot's `id` (env QUN_ROBOT_ID)")
	fs.StringVar(&cfg.Secret, "secret", cfg.Secret, "the robot's secret, from qun robot create (env QUN_ROBOT_SECRET; prefer it, ps shows flags)")
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "the `address` to serve the callback on; port 0 picks one (env ROBOT_LISTEN)")
	fs.StringVar(&cfg.CallbackURL, "callback-url", "", "the callback `URL` to give qun, when qun reaches the robot at another address (default: http://LISTEN"+CallbackPath+")")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.RobotID == "" || cfg.Secret == "" {
		return cfg, errors.New("give the robot's id and secret: -robot and -secret, or QUN_ROBOT_ID and QUN_ROBOT_SECRET (qun robot create prints them)")
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	return cfg, nil
}

// robot answers the callbacks of one Wildfire robot.
type robot struct {
	api    *client.Client
	me     client.User
	secret []byte
	now    func() time.Time

	mu       sync.Mutex
	answered []int64 // the newest DefaultAnswered message ids answered
}

// run points the robot's callback at its listener and serves until ctx is done.
func run(ctx context.Context, cfg config) error {
	r := &robot{api: client.NewRobot(cfg.URL, cfg.RobotID, cfg.Secret), secret: []byte(cfg.Secret), now: time.Now}
	cctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	if _, err := r.api.Call(cctx, "/robot/profile", nil, &r.me); err != nil {
		return fmt.Errorf("profile: %w", err)
	}

	mux := http.NewServeMux()
	mux.Handle("POST "+CallbackPath, r)
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: DefaultTimeout}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	// The listener is up before qun is told of it: qun delivers at once.
	callback := cfg.CallbackURL
	if callback == "" {
		callback = "http://" + l.Addr().String() + CallbackPath
	}
	if _, err := r.api.Call(cctx, "/robot/set_callback", map[string]string{"url": callback}, nil); err != nil {
		srv.Close()
		return fmt.Errorf("set_callback %s: %w", callback, err)
	}
	log.Printf("signed in as %s (%s); callback set to %s", r.me.UserID, displayName(r.me), callback)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// The callback stays set: qun keeps what is posted meanwhile and
	// delivers it when the robot is back.
	log.Print("stopping")
	sctx, scancel := context.WithTimeout(context.Background(), DefaultShutdownTimeout)
	defer scancel()
	return srv.Shutdown(sctx)
}

// ServeHTTP handles one callback: 401 when its signature does not verify,
// 500 when the answer could not be sent (qun tries again), else 200.
func (r *robot) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, DefaultMaxBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if err := verify(r.secret, req.Header, body, r.now(), DefaultTolerance); err != nil {
		log.Printf("refused a callback: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var m outputMessage
	if err := json.Unmarshal(body, &m); err != nil {
		log.Printf("refused a callback: not OutputMessageData: %v", err)
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if err := r.handle(req.Context(), m); err != nil {
		log.Printf("message %d: %v", m.MessageID, err)
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// handle answers m if it is a group text message that mentions the robot.
func (r *robot) handle(ctx context.Context, m outputMessage) error {
	if m.Conv.Type != convGroup || m.Payload.Type != textMessage {
		log.Printf("group %s: %s posted a message of type %d", m.Conv.Target, m.Sender, m.Payload.Type)
		return nil
	}
	text := m.Payload.SearchableContent
	log.Printf("group %s: %s said %q", m.Conv.Target, m.Sender, text)
	mentioned := m.Payload.MentionedType == mentionAll ||
		(m.Payload.MentionedType == mentionSome && slices.Contains(m.Payload.MentionedTarget, r.me.UserID))
	if !mentioned {
		return nil
	}
	if r.wasAnswered(m.MessageID) {
		log.Printf("group %s: already answered %d", m.Conv.Target, m.MessageID)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	if _, err := r.api.SendMessage(ctx, "", m.Conv.Target, client.Text(reply(r.strip(text)))); err != nil {
		return fmt.Errorf("answer in %s: %w", m.Conv.Target, err)
	}
	r.remember(m.MessageID)
	log.Printf("group %s: answered %d", m.Conv.Target, m.MessageID)
	return nil
}

// strip removes a leading "@<display name>" (or "@<name>") from text.
func (r *robot) strip(text string) string {
	for _, name := range []string{displayName(r.me), r.me.Name} {
		if rest, ok := strings.CutPrefix(text, "@"+name); ok {
			return strings.TrimSpace(rest)
		}
	}
	return strings.TrimSpace(text)
}

func (r *robot) wasAnswered(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.answered, id)
}

func (r *robot) remember(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.answered) == DefaultAnswered {
		r.answered = r.answered[1:]
	}
	r.answered = append(r.answered, id)
}

// verify checks a callback's Standard Webhooks headers: webhook-timestamp
// within tolerance of now, and one of webhook-signature's "v1,<base64>"
// entries the HMAC-SHA256 of "webhook-id.webhook-timestamp.body" keyed
// with the robot secret as it is.
func verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, ts, sigs := h.Get("Webhook-Id"), h.Get("Webhook-Timestamp"), h.Get("Webhook-Signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("no webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not unix seconds", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook-timestamp is %v from now", d.Round(time.Second))
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	// Several signatures may be given, space-separated (a key being rotated).
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no webhook-signature matches")
}

// reply is the robot's answer to text.
func reply(text string) string {
	if strings.EqualFold(text, "ping") {
		return "pong"
	}
	if text == "" {
		return "Mention me with some text and I say it back."
	}
	return "you said: " + text
}

// displayName is the name a group shows for u.
func displayName(u client.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Name
}
