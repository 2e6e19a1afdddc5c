// Command botgo-bot is a QQ group bot written with botgo v0.1.7, the
// official Go SDK, that runs against qun with only the SDK's base URL
// changed. It answers every message that mentions it
// (GROUP_AT_MESSAGE_CREATE) with a passive reply: "pong" to "ping", else
// the text it got.
//
//	go run ./examples/botgo-bot -app-id 102000001 -app-secret ...
//
// The appId and appSecret come from `qun robot create`; -url (QUN_URL) is
// qun's public address. docs/quickstart.md walks through it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tencent-connect/botgo"
	"github.com/tencent-connect/botgo/constant"
	"github.com/tencent-connect/botgo/dto"
	"github.com/tencent-connect/botgo/event"
	"github.com/tencent-connect/botgo/openapi"
	"github.com/tencent-connect/botgo/token"
)

// DefaultURL is qun's public listener as `qun serve` starts it.
const DefaultURL = "http://127.0.0.1:8080"

// DefaultTimeout bounds each REST call botgo makes.
const DefaultTimeout = 10 * time.Second

// config is what the bot needs: where qun is and who the bot is.
type config struct {
	URL       string
	AppID     string
	AppSecret string
	Verbose   bool
}

func main() {
	log.SetFlags(log.LstdFlags)
	log.SetPrefix("botgo-bot: ")
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
	cfg := config{URL: DefaultURL}
	if v := getenv("QUN_URL"); v != "" {
		cfg.URL = v
	}
	cfg.AppID, cfg.AppSecret = getenv("BOT_APP_ID"), getenv("BOT_APP_SECRET")
	fs := flag.NewFlagSet("botgo-bot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", cfg.URL, "qun's public `URL`: the API base URL, token URL and gateway (env QUN_URL)")
	fs.StringVar(&cfg.AppID, "app-id", cfg.AppID, "the bot's appId, from qun robot create (env BOT_APP_ID)")
	fs.StringVar(&cfg.AppSecret, "app-secret", cfg.AppSecret, "the bot's appSecret, from qun robot create (env BOT_APP_SECRET)")
	fs.BoolVar(&cfg.Verbose, "v", false, "print botgo's own debug and info log (it shows the appSecret and access tokens)")
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

// run connects the bot and serves until ctx is done.
func run(ctx context.Context, cfg config) error {
	botgo.SetLogger(sdkLogger{verbose: cfg.Verbose})
	// The only change an SDK needs for qun: every botgo request goes to
	// these domains (token, REST, and /gateway/bot, which names the
	// WebSocket gateway).
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

	intent := event.RegisterHandlers(
		event.ReadyHandler(func(_ *dto.WSPayload, d *dto.WSReadyData) {
			log.Printf("ready as %s (app %s), session %s", d.User.Username, d.User.ID, d.SessionID)
		}),
		event.GroupATMessageEventHandler(func(_ *dto.WSPayload, d *dto.WSGroupATMessageData) error {
			return answer(ctx, api, d)
		}),
	)
	ap, err := api.WS(ctx, nil, "")
	if err != nil {
		return fmt.Errorf("gateway from %s: %w", cfg.URL, err)
	}
	log.Printf("connecting to %s", ap.URL)
	// Start runs the sessions (and reconnects them) for the life of the
	// process; botgo cannot stop it, so the bot exits when ctx is done.
	go func() {
		if err := botgo.NewSessionManager().Start(ap, ts, &intent); err != nil {
			log.Fatalf("gateway: %v", err)
		}
	}()
	<-ctx.Done()
	log.Print("stopping")
	return nil
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
	if err != nil {
		log.Printf("reply in group %s: %v", d.GroupID, err)
	}
	return err
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
// debug and info lines (every frame and request, the identify frame with
// the access token, the token request with the appSecret) only with -v.
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
