// Command webhook-bot is a QQ group bot in webhook mode, written with
// botgo v0.1.7, the official Go SDK: qun POSTs the bot's events to it, and
// botgo's own webhook.HTTPHandler checks their Ed25519 signatures, answers
// qun's op 13 validation and calls the bot's handlers. It answers every
// message that mentions it (GROUP_AT_MESSAGE_CREATE) with a passive reply
// through botgo's REST client, whose base URL is qun's: "pong" to "ping",
// else the text it got.
//
//	go run ./examples/webhook-bot -app-id 102000001 -app-secret ... -listen 127.0.0.1:9000
//	qun robot webhook echo http://127.0.0.1:9000/qqbot
//
// The appId and appSecret come from `qun robot create`; -url (QUN_URL) is
// qun's public address. docs/quickstart.md walks through it.
package main

import (
	"context"
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
	"strings"
	"syscall"
	"time"

	"github.com/tencent-connect/botgo"
	"github.com/tencent-connect/botgo/constant"
	"github.com/tencent-connect/botgo/dto"
	"github.com/tencent-connect/botgo/errs"
	"github.com/tencent-connect/botgo/event"
	"github.com/tencent-connect/botgo/interaction/webhook"
	"github.com/tencent-connect/botgo/openapi"
	"github.com/tencent-connect/botgo/token"
)

// DefaultURL is qun's public listener as `qun serve` starts it.
const DefaultURL = "http://127.0.0.1:8080"

// DefaultListen is where the bot listens for qun's POSTs; port 0 picks a
// free one (the bot prints the URL to register).
const DefaultListen = "127.0.0.1:9000"

// WebhookPath is the path the bot serves its webhook on.
const WebhookPath = "/qqbot"

// DefaultTimeout bounds each REST call botgo makes.
const DefaultTimeout = 10 * time.Second

// DefaultShutdownTimeout bounds how long a POST under way may finish after
// SIGTERM.
const DefaultShutdownTimeout = 5 * time.Second

// config is what the bot needs: where qun is, who the bot is, where it listens.
type config struct {
	URL       string
	AppID     string
	AppSecret string
	Listen    string
	Verbose   bool
}

func main() {
	log.SetFlags(log.LstdFlags)
	log.SetPrefix("webhook-bot: ")
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
	cfg := config{URL: DefaultURL, Listen: DefaultListen}
	if v := getenv("QUN_URL"); v != "" {
		cfg.URL = v
	}
	if v := getenv("BOT_LISTEN"); v != "" {
		cfg.Listen = v
	}
	cfg.AppID, cfg.AppSecret = getenv("BOT_APP_ID"), getenv("BOT_APP_SECRET")
	fs := flag.NewFlagSet("webhook-bot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", cfg.URL, "qun's public `URL`: the API base URL and token URL (env QUN_URL)")
	fs.StringVar(&cfg.AppID, "app-id", cfg.AppID, "the bot's appId, from qun robot create (env BOT_APP_ID)")
	fs.StringVar(&cfg.AppSecret, "app-secret", cfg.AppSecret, "the bot's appSecret, from qun robot create (env BOT_APP_SECRET)")
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "the `address` to serve the webhook on; port 0 picks one (env BOT_LISTEN)")
	fs.BoolVar(&cfg.Verbose, "v", false, "print botgo's own debug and info log (every body and header qun sends)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.AppID == "" || cfg.AppSecret == "" {
		return cfg, errors.New("give the bot's appId and appSecret: -app-id and -app-secret, or BOT_APP_ID and BOT_APP_SECRET (qun robot create prints them)")
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	return cfg, nil
}

// run serves the webhook until ctx is done.
func run(ctx context.Context, cfg config) error {
	botgo.SetLogger(sdkLogger{verbose: cfg.Verbose})
	// The only change an SDK needs for qun: botgo's token and REST requests
	// go to these domains. Events come in through the webhook.
	constant.TokenDomain = cfg.URL
	constant.APIDomain = cfg.URL
	constant.SandBoxAPIDomain = cfg.URL

	creds := &token.QQBotCredentials{AppID: cfg.AppID, AppSecret: cfg.AppSecret}
	ts := token.NewQQBotTokenSource(creds)
	// The refresher lives as long as the process: cancelled, it only logs a
	// warning, which would greet every Ctrl-C.
	if err := token.StartRefreshAccessToken(context.WithoutCancel(ctx), ts); err != nil {
		return fmt.Errorf("access token from %s: %w", cfg.URL, err)
	}
	api := botgo.NewOpenAPI(cfg.AppID, ts).WithTimeout(DefaultTimeout)

	// The handlers webhook.HTTPHandler calls; its answer to qun says whether
	// they succeeded (op 12, d 0), or asks qun to send the event again (d 1).
	event.RegisterHandlers(
		event.GroupATMessageEventHandler(func(_ *dto.WSPayload, d *dto.WSGroupATMessageData) error {
			return answer(ctx, api, d)
		}),
	)
	// botgo v0.1.7 has no typed handler for GROUP_ADD_ROBOT; its raw one.
	botgo.RegisterDispatchEventHandler("GROUP_ADD_ROBOT", func(_ *dto.WSPayload, raw []byte) error {
		var d struct {
			GroupOpenID string `json:"group_openid"`
		}
		if err := event.ParseData(raw, &d); err != nil {
			return err
		}
		log.Printf("added to group %s", d.GroupOpenID)
		return nil
	})

	mux := http.NewServeMux()
	mux.HandleFunc("POST "+WebhookPath, func(w http.ResponseWriter, r *http.Request) {
		webhook.HTTPHandler(w, r, creds)
	})
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: DefaultTimeout}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	log.Printf("listening on http://%s%s (register it: qun robot webhook ROBOT http://%s%s)", l.Addr(), WebhookPath, l.Addr(), WebhookPath)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Print("stopping")
	sctx, cancel := context.WithTimeout(context.Background(), DefaultShutdownTimeout)
	defer cancel()
	return srv.Shutdown(sctx)
}

// answer replies to a message that mentioned the bot. The reply is passive:
// it names the message (msg_id), so it needs no proactive quota.
func answer(ctx context.Context, api openapi.OpenAPI, d *dto.WSGroupATMessageData) error {
	text := strings.TrimSpace(d.Content)
	author := ""
	if d.Author != nil {
		author = d.Author.ID
	}
	log.Printf("group %s: %s said %q", d.GroupID, author, text)
	_, err := api.PostGroupMessage(ctx, d.GroupID, &dto.MessageToCreate{
		MsgType: dto.TextMsg,
		Content: reply(text),
		MsgID:   d.ID,
		MsgSeq:  1,
	})
	if alreadyAnswered(err) {
		// qun sent the message again (a redelivery, or a retry after an
		// answer it did not get): the reply was posted the first time.
		log.Printf("group %s: already answered %s", d.GroupID, d.ID)
		return nil
	}
	if err != nil {
		log.Printf("reply in group %s: %v", d.GroupID, err)
	}
	return err
}

// codeDuplicateReply is the platform's code for a passive reply posted
// before: the same msg_id and msg_seq.
const codeDuplicateReply = 40054005

// alreadyAnswered reports whether err says the reply was posted before.
// botgo's error carries the HTTP status as its code and the body as its text.
func alreadyAnswered(err error) bool {
	var e *errs.Err
	if !errors.As(err, &e) {
		return false
	}
	var body struct {
		Code int `json:"code"`
	}
	return json.Unmarshal([]byte(e.Text()), &body) == nil && body.Code == codeDuplicateReply
}

// reply is the bot's answer to text.
func reply(text string) string {
	if strings.EqualFold(text, "ping") {
		return "pong"
	}
	if text == "" {
		return "Mention me with some text and I say it back."
	}
	return "you said: " + text
}

// sdkLogger passes botgo's warnings and errors to the standard logger. Its
// debug and info lines (every body and header qun sends, the token request
// with the appSecret) only with -v.
type sdkLogger struct{ verbose bool }

func (l sdkLogger) Debug(v ...any) { l.quiet("botgo debug: ", v) }
func (l sdkLogger) Info(v ...any)  { l.quiet("botgo: ", v) }
func (sdkLogger) Warn(v ...any)    { log.Print(append([]any{"botgo warning: "}, v...)...) }
func (sdkLogger) Error(v ...any)   { log.Print(append([]any{"botgo error: "}, v...)...) }

func (l sdkLogger) Debugf(format string, v ...any) {
	l.quiet("botgo debug: ", []any{fmt.Sprintf(format, v...)})
}
func (l sdkLogger) Infof(format string, v ...any) {
	l.quiet("botgo: ", []any{fmt.Sprintf(format, v...)})
}
func (sdkLogger) Warnf(format string, v ...any)  { log.Printf("botgo warning: "+format, v...) }
func (sdkLogger) Errorf(format string, v ...any) { log.Printf("botgo error: "+format, v...) }
func (sdkLogger) Sync() error                    { return nil }

// quiet logs v after prefix with -v only.
func (l sdkLogger) quiet(prefix string, v []any) {
	if l.verbose {
		log.Print(append([]any{prefix}, v...)...)
	}
}
