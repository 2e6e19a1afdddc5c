// Package server runs qun's two HTTP listeners — the public doors and the
// Admin API — and their lifecycle: bind, serve, and shut down without losing
// a write. Both answer GET /healthz (liveness) and GET /readyz (readiness:
// the store answers); the admin listener also serves GET /metrics. It knows
// handlers and funcs only; it imports no door and no store.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Limits of the listeners.
const (
	// DefaultReadHeaderTimeout bounds how long a client may take to send headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds how long a client may take to send a whole
	// request, body included, so a trickled body cannot hold a goroutine
	// forever. net/http clears it when a WebSocket hijacks the connection.
	DefaultReadTimeout = 30 * time.Second
	// DefaultIdleTimeout closes keep-alive connections idle for longer.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultShutdownTimeout bounds how long shutdown waits for requests in flight.
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultMaxHeaderBytes bounds request headers.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultReadyTimeout bounds a readiness check: a store that takes
	// longer to answer is not ready.
	DefaultReadyTimeout = 2 * time.Second
)

// Server serves the public and the admin handler on their own addresses.
type Server struct {
	PublicAddr string
	AdminAddr  string
	Public     http.Handler
	Admin      http.Handler
	Logger     *slog.Logger
	// OnShutdown runs after both listeners stopped taking requests and every
	// request in flight finished: close hijacked connections (WebSockets) here.
	OnShutdown func()
	// TLSCert and TLSKey, PEM files, make the public listener serve HTTPS
	// (and WSS); both or neither. A renewed pair is picked up without a
	// restart. The admin listener stays plain HTTP: keep it private.
	TLSCert, TLSKey string
	// Ready checks that the node can serve (its store answers) for GET
	// /readyz on both listeners: nil is 200, an error 503 with a JSON body
	// (the error itself is logged, not sent). Nil means always ready.
	Ready func(context.Context) error
	// Metrics serves GET /metrics on the admin listener only; nil: none.
	Metrics http.Handler

	publicLn, adminLn net.Listener
	publicTLS         *tls.Config
	servers           []*http.Server
}

// Open binds both listeners, so that an address with port 0 is resolved
// before Serve and tests can read it from Addrs.
func (s *Server) Open() error {
	if s.TLSCert != "" || s.TLSKey != "" {
		certs, err := loadCertFiles(s.TLSCert, s.TLSKey, s.logger())
		if err != nil {
			return err
		}
		s.publicTLS = certs.tlsConfig()
	}
	var err error
	if s.publicLn, err = net.Listen("tcp", s.PublicAddr); err != nil {
		return fmt.Errorf("listen public %s: %w", s.PublicAddr, err)
	}
	if s.adminLn, err = net.Listen("tcp", s.AdminAddr); err != nil {
		s.publicLn.Close()
		return fmt.Errorf("listen admin %s: %w", s.AdminAddr, err)
	}
	return nil
}

// Addrs returns the bound public and admin addresses.
func (s *Server) Addrs() (public, admin string) {
	return s.publicLn.Addr().String(), s.adminLn.Addr().String()
}

// Serve serves until ctx is done, then shuts down gracefully: both listeners
// stop accepting, requests in flight (and so their writes) complete, then
// OnShutdown runs.
func (s *Server) Serve(ctx context.Context) error {
	logger := s.logger()
	errc := make(chan error, 2)
	for _, l := range []struct {
		ln  net.Listener
		h   http.Handler
		tls *tls.Config
	}{{s.publicLn, s.probes(s.Public, nil, logger), s.publicTLS}, {s.adminLn, s.probes(s.Admin, s.Metrics, logger), nil}} {
		hs := &http.Server{
			Handler:           l.h,
			ReadHeaderTimeout: DefaultReadHeaderTimeout,
			ReadTimeout:       DefaultReadTimeout,
			IdleTimeout:       DefaultIdleTimeout,
			MaxHeaderBytes:    DefaultMaxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
			TLSConfig:         l.tls,
		}
		s.servers = append(s.servers, hs)
		go func(ln net.Listener) {
			var err error
			if hs.TLSConfig != nil {
				err = hs.ServeTLS(ln, "", "") // the certificate comes from TLSConfig
			} else {
				err = hs.Serve(ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}(l.ln)
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), DefaultShutdownTimeout)
	defer cancel()
	for _, hs := range s.servers {
		if err := hs.Shutdown(sctx); err != nil {
			logger.Error("shutdown", "err", err)
		}
	}
	if s.OnShutdown != nil {
		s.OnShutdown()
	}
	return serveErr
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// The probes' bodies, and the path of the metrics.
const (
	healthBody   = `{"status":"ok"}` + "\n"
	unreadyBody  = `{"status":"unavailable","reason":"the store does not answer"}` + "\n"
	metricsRoute = "/metrics"
)

// probes answers GET /healthz, GET /readyz and, when metrics is not nil, GET
// /metrics, and passes everything else to h unchanged. It is no ServeMux: a
// ServeMux redirects an unclean path ("//healthz", "/a/../b") with an HTML
// body, and every path that is not a probe belongs to the door behind it,
// which answers an unknown path with its own JSON 404.
func (s *Server) probes(h, metrics http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		get := r.Method == http.MethodGet || r.Method == http.MethodHead
		switch {
		case get && r.URL.Path == "/healthz":
			writeProbe(w, http.StatusOK, healthBody)
		case get && r.URL.Path == "/readyz":
			if err := s.ready(r.Context()); err != nil {
				logger.Warn("not ready", "err", err)
				writeProbe(w, http.StatusServiceUnavailable, unreadyBody)
				return
			}
			writeProbe(w, http.StatusOK, healthBody)
		case get && r.URL.Path == metricsRoute && metrics != nil:
			metrics.ServeHTTP(w, r)
		case h != nil:
			h.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// ready runs the readiness check within DefaultReadyTimeout.
func (s *Server) ready(ctx context.Context) error {
	if s.Ready == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultReadyTimeout)
	defer cancel()
	return s.Ready(ctx)
}

// writeProbe writes a probe's JSON body with its Content-Length.
func writeProbe(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write([]byte(body))
}
