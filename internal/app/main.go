// Package app is qun serve's wiring: it opens the store, builds the domain
// service, the doors, the console and the outbound delivery over it, and
// binds the listeners; Main's Run serves until its context ends. It is the
// only package that knows them all, and may import every one of them; it is
// a package, not package main, so that qun's command (cmd/qun), its
// end-to-end tests and its load generator (cmd/qunbench) run the same
// wiring, on port 0 and a temporary directory where they like.
package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/qun-chat/qun/internal/access"
	"github.com/qun-chat/qun/internal/console"
	"github.com/qun-chat/qun/internal/delivery"
	"github.com/qun-chat/qun/internal/group"
	"github.com/qun-chat/qun/internal/metrics"
	"github.com/qun-chat/qun/internal/qqbot"
	"github.com/qun-chat/qun/internal/server"
	"github.com/qun-chat/qun/internal/store"
	"github.com/qun-chat/qun/internal/store/postgres"
	"github.com/qun-chat/qun/internal/store/sqlite"
	"github.com/qun-chat/qun/internal/wildfire"
)

// The metrics adapter is what every door and store reports to.
var (
	_ access.Observer = (*metrics.Metrics)(nil)
	_ qqbot.Observer  = (*metrics.Metrics)(nil)
	_ store.Observer  = (*metrics.Metrics)(nil)
)

// The QQ door lists the bots' gateway sessions for the Admin API and the console.
var (
	_ wildfire.Sessions = (*qqbot.Server)(nil)
	_ console.Sessions  = (*qqbot.Server)(nil)
)

// Serve is qun serve: it reads the flags in args and the variables from
// getenv, runs qun until ctx is done and returns the exit code: 2 for a
// configuration refused, 1 for a failure to start or to stop cleanly.
func Serve(ctx context.Context, args []string, getenv func(string) string, version BuildVersion, stdout, stderr io.Writer) int {
	// The flag package prints -h and a flag's error alike: -h goes to
	// stdout, as every other command's does, and a mistake to stderr.
	var parsed bytes.Buffer
	cfg, err := ParseConfig(args, getenv, &parsed)
	if errors.Is(err, ErrHelp) {
		_, _ = stdout.Write(parsed.Bytes())
		return 0
	}
	_, _ = stderr.Write(parsed.Bytes())
	if err != nil {
		fmt.Fprintln(stderr, "qun serve:", err)
		return 2
	}
	m := NewMain(cfg, stdout, stderr)
	m.Version = version
	if err := m.Open(ctx); err != nil {
		fmt.Fprintln(stderr, "qun serve:", err)
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintln(stderr, "qun serve: another program listens there; give free addresses with --addr and --admin-addr (QUN_ADDR, QUN_ADMIN_ADDR)")
		}
		return 1
	}
	err = m.Run(ctx)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stderr, "qun serve:", err)
		return 1
	}
	return 0
}

// Store is the one store qun runs on: the domain's group.Store, the QQ
// door's qqbot.Store, the outbound engine's delivery.Store and the Wildfire
// doors' wildfire.NonceStore. Doors and stores do not import each other, so
// the check that both stores are all four is here, where they are wired.
type Store interface {
	group.Store
	qqbot.Store
	delivery.Store
	wildfire.NonceStore
}

var (
	_ Store = (*sqlite.Store)(nil)
	_ Store = (*postgres.Store)(nil)
	// PostgreSQL reads a gateway session's bursts in one round trip.
	_ qqbot.BurstReader = (*postgres.Store)(nil)
)

// Main is a running qun: the store, the domain service, the doors and the
// listeners. Tests run the real wiring with port 0 and a temporary directory.
type Main struct {
	Config Config
	Logger *slog.Logger
	stdout io.Writer

	Store    Store
	Service  *group.Service
	QQ       *qqbot.Server
	Delivery *delivery.Engine
	Server   *server.Server
	// Metrics is served at GET /metrics on the admin listener.
	Metrics *metrics.Metrics
	// Console is the web console, at / on the admin listener.
	Console *console.Console
	// AdminSecret is the Admin API's secret, set by Open: the configured
	// one, else the kept or generated one.
	AdminSecret string

	// Version is the build the console and the start line name; NewMain
	// reads it from the binary's build info.
	Version BuildVersion
	// Nonces, if set before Open, keeps the Wildfire doors' nonces instead
	// of the store: the benchmark's baseline of nonces in memory only.
	Nonces wildfire.NonceCache
}

// NewMain returns a Main for cfg that logs to stderr.
func NewMain(cfg Config, stdout, stderr io.Writer) *Main {
	return &Main{Config: cfg, Logger: newLogger(cfg, stderr), stdout: stdout, Version: ReadVersion("")}
}

// Open opens the store, builds the doors and binds the listeners.
func (m *Main) Open(ctx context.Context) error {
	cfg := m.Config
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	var st Store
	m.Metrics = metrics.New()
	dbPath := filepath.Join(cfg.Data, "qun.db")
	if cfg.DB == "" {
		sst, err := sqlite.Open(ctx, dbPath, sqlite.WithLogger(m.Logger), sqlite.WithObserver(m.Metrics))
		if err != nil {
			return fmt.Errorf("open store: %w", err)
		}
		if err := m.Metrics.WatchQueue(sst.QueueDepth); err != nil {
			sst.Close()
			return err
		}
		st = sst
	} else {
		pst, err := postgres.Open(ctx, cfg.DB, postgres.WithLogger(m.Logger), postgres.WithMaxConns(int32(cfg.DBMaxConns)),
			postgres.WithObserver(m.Metrics))
		// WithMaxConns(0) leaves the pool size to the URL, else postgres.DefaultMaxConns.
		if err != nil {
			return fmt.Errorf("open store: %w", err)
		}
		st = pst
	}
	m.Store = st
	// Nonces are kept in the store, so that a request replayed after a
	// restart (or, on PostgreSQL, to another node) is refused.
	nonces := m.Nonces
	if nonces == nil {
		nonces = wildfire.NewStoreNonces(st, nil)
	}
	secret, err := m.adminSecret(ctx)
	if err != nil {
		st.Close()
		return err
	}
	m.AdminSecret = secret
	m.Service = group.NewService(st, group.Config{
		MaxGroupMembers:   cfg.MaxGroupMembers,
		MaxMembersPerCall: cfg.MaxMembersPerCall,
		PassiveWindow:     cfg.PassiveWindow,
		PassiveReplies:    cfg.PassiveReplies,
		ProactiveQuota:    cfg.ProactiveQuota,
		ProactivePeriod:   cfg.ProactivePeriod,
		GroupChanges:      cfg.GroupInfoCallback != "" || cfg.GroupMemberCallback != "",
	})
	node, err := nodeName(cfg.Data) // the delivery engine's too: one name per node
	if err != nil {
		st.Close()
		return err
	}
	m.QQ, err = qqbot.New(m.Service, st, qqbot.Options{
		Node:              node,
		PublicURL:         cfg.PublicURL,
		Logger:            m.Logger,
		HeartbeatInterval: cfg.HeartbeatInterval,
		HeartbeatTimeout:  cfg.HeartbeatTimeout,
		IdentifyTimeout:   cfg.IdentifyTimeout,
		MaxGatewayConns:   cfg.MaxGatewayConns,
		EventRetention:    cfg.EventRetention,
		SessionRetention:  cfg.SessionRetention,
		TokenTTL:          cfg.TokenTTL,
		MaxFrame:          int64(cfg.MaxFrame),
		MaxBody:           int64(cfg.MaxRESTBody),
		IdentifyRate:      cfg.IdentifyRate,
		RESTRate:          cfg.BotRESTRate,
		TokenFailRate:     cfg.TokenFailRate,
		MaxShards:         cfg.MaxShards,
		PruneInterval:     cfg.PruneInterval,
		WriteTimeout:      cfg.WriteTimeout,
		Observer:          m.Metrics,
	})
	if err != nil {
		st.Close()
		return fmt.Errorf("bot open platform: %w", err)
	}
	deliveries, err := m.openDelivery(ctx, secret)
	if err != nil {
		st.Close()
		return err
	}
	robot := wildfire.NewRobotAPI(m.Service, wildfire.RobotOptions{
		Logger:     m.Logger,
		RobotRate:  cfg.RobotRate,
		SignWindow: cfg.SignWindow,
		Nonces:     nonces,
		Observer:   m.Metrics,
		Callbacks:  deliveries,
	})
	admin := wildfire.NewAdminAPI(m.Service, secret, wildfire.AdminOptions{
		Logger:     m.Logger,
		SignWindow: cfg.SignWindow,
		Nonces:     nonces,
		Observer:   m.Metrics,
		Deliveries: deliveries,
		Callbacks:  deliveries,
		Sessions:   m.QQ,
	})
	storeKind := "sqlite"
	if cfg.DB != "" {
		storeKind = "postgres"
	}
	m.Console, err = console.New(m.Service, console.Options{
		AdminSecret: secret,
		Version:     m.Version.Version,
		StoreKind:   storeKind,
		Ready:       m.ready,
		Stats:       m.consoleStats,
		BotEvents:   m.consoleBotEvents,
		Logger:      m.Logger,
		Observer:    m.Metrics,
		Deliveries:  deliveries,
		Sessions:    m.QQ,
	})
	if err != nil {
		st.Close()
		return fmt.Errorf("console: %w", err)
	}
	m.Server = &server.Server{
		PublicAddr: cfg.Addr,
		AdminAddr:  cfg.AdminAddr,
		Public:     publicHandler(robot, m.QQ.Handler()),
		Admin:      adminHandler(admin, m.Console),
		Logger:     m.Logger,
		OnShutdown: m.QQ.Close,
		Ready:      m.ready,
		Metrics:    m.Metrics.Handler(),
		TLSCert:    cfg.TLSCert,
		TLSKey:     cfg.TLSKey,
	}
	if err := m.Server.Open(); err != nil {
		st.Close()
		return err
	}
	pub, adm := m.Server.Addrs()
	// "qun listening" public=… admin=… first: scripts and tests read the addresses from it.
	bv := m.Version
	m.Logger.Info("qun listening", append([]any{"public", pub, "admin", adm, "tls", cfg.TLSCert != "",
		"version", bv.Version, "revision", bv.revision(), "data", cfg.Data}, storeAttrs(cfg, dbPath)...)...)
	return nil
}

// publicHandler sends the Robot API's paths (/robot and below, unclean forms
// included) to robot and every other path to qq. It is no ServeMux, which
// would redirect an unclean path with an HTML body: each door answers its
// unclean and unknown paths with its own JSON 404.
func publicHandler(robot, qq http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := path.Clean(r.URL.Path); p == "/robot" || strings.HasPrefix(p, "/robot/") {
			robot.ServeHTTP(w, r)
			return
		}
		qq.ServeHTTP(w, r)
	})
}

// adminHandler sends the Admin API's paths (/admin and below) and every
// unclean path to admin, which answers what it does not serve with its JSON
// 404, never a redirect; every other (clean) path is the console's.
func adminHandler(admin, console http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/admin" || strings.HasPrefix(p, "/admin/") || path.Clean(p) != p || r.URL.RawPath != "" {
			admin.ServeHTTP(w, r)
			return
		}
		console.ServeHTTP(w, r)
	})
}

// consoleStats are the console overview's numbers, read from the metrics.
func (m *Main) consoleStats() []console.Stat {
	return []console.Stat{
		{Key: "requests", Value: m.Metrics.Total("qun_requests_total")},
		{Key: "gateway_conns", Value: m.Metrics.Total("qun_gateway_connections")},
		{Key: "events_appended", Value: m.Metrics.Total("qun_events_appended_total")},
		{Key: "events_rate", Value: m.Metrics.Total("qun_events_appended_total"), Rate: true},
		{Key: "events_delivered", Value: m.Metrics.Total("qun_gateway_events_delivered_total")},
		{Key: "backlog", Value: m.Metrics.Total("qun_delivery_backlog")},
	}
}

// consoleBotEvents are the frames the gateway sends for a bot's events, for
// the console's playground.
func (m *Main) consoleBotEvents(ctx context.Context, botID string, after int64, limit int) ([]console.RawEvent, int64, error) {
	frames, last, err := m.QQ.EventFrames(ctx, botID, after, limit)
	evs := make([]console.RawEvent, len(frames))
	for i, f := range frames {
		evs[i] = console.RawEvent{Seq: f.Seq, JSON: f.Body}
	}
	return evs, last, err
}

// Run serves until ctx is done and then shuts down gracefully.
func (m *Main) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		<-ctx.Done()
		m.Logger.Info("qun shutting down")
		m.Console.Stop() // live streams end, so shutdown need not wait for them
	}()
	defer func() { <-logged }()
	qqErr := make(chan error, 1)
	go func() { qqErr <- m.QQ.Run(ctx) }()
	deliveryDone := make(chan struct{})
	go func() { m.Delivery.Run(ctx); close(deliveryDone) }()
	err := m.Server.Serve(ctx)
	cancel()
	<-deliveryDone // its progress is recorded before the store closes
	if qerr := <-qqErr; err == nil && qerr != nil && !errors.Is(qerr, context.Canceled) {
		err = qerr
	}
	return err
}

// Start opens m and runs it until stop is called or ctx is done; stop
// waits for Run to return, then closes m, and returns the first error of
// the two. It is how tests and the load generator run qun in-process.
func (m *Main) Start(ctx context.Context) (stop func() error, err error) {
	if err := m.Open(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	return func() error {
		cancel()
		err := <-done
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		return err
	}, nil
}

// ready reports whether the store answers, with a cheap read: GET /readyz.
func (m *Main) ready(ctx context.Context) error {
	return m.Store.View(ctx, func(r group.Reader) error {
		_, err := r.LastEventSeq("")
		return err
	})
}

// Close closes the store after the server stopped; queued writes commit first.
func (m *Main) Close() error {
	if m.Store == nil {
		return nil
	}
	if err := m.Store.Close(); err != nil {
		m.Logger.Error("qun stopped", "err", err)
		return err
	}
	m.Logger.Info("qun stopped")
	return nil
}

// AdminSecretFile is where a generated admin secret is kept, in the data
// directory, on SQLite.
const AdminSecretFile = "admin-secret"

// adminSecretSetting is where a generated admin secret is kept on a shared
// store, so that every node started without --admin-secret uses the same one.
const adminSecretSetting = "admin_secret"

// adminSecret returns the configured admin secret, or the kept one, or
// generates, keeps and prints a new one (the only time a secret is printed).
// On SQLite it is kept in the data directory; on PostgreSQL in the store.
func (m *Main) adminSecret(ctx context.Context) (string, error) {
	if m.Config.AdminSecret != "" {
		return m.Config.AdminSecret, nil
	}
	if m.Config.DB != "" {
		return m.sharedAdminSecret(ctx)
	}
	path := filepath.Join(m.Config.Data, AdminSecretFile)
	b, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("admin secret: %w", err)
	}
	secret := group.RandomString(32)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("admin secret: %w", err)
	}
	fmt.Fprintf(m.stdout, "qun: generated the Admin API secret (kept in %s; shown only this once):\n%s\n", path, secret)
	return secret, nil
}

// sharedAdminSecret reads the admin secret from the store, creating it once
// for every node if it is missing.
func (m *Main) sharedAdminSecret(ctx context.Context) (string, error) {
	secret, err := m.Store.Setting(ctx, adminSecretSetting)
	generated := false
	if group.IsNotExist(err) {
		// Another node may create it meanwhile: the first one is kept.
		fresh := group.RandomString(32)
		secret, err = m.Store.CreateSetting(ctx, adminSecretSetting, fresh)
		generated = err == nil && secret == fresh
	}
	if err != nil {
		return "", fmt.Errorf("admin secret: %w", err)
	}
	if generated {
		fmt.Fprintf(m.stdout, "qun: generated the Admin API secret (kept in the database, shared by every node; shown only this once):\n%s\n", secret)
	}
	return secret, nil
}
