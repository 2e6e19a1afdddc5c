package console_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/qun-chat/qun/internal/console"
	"github.com/qun-chat/qun/internal/metrics"
)

// lockedBuffer is a log sink the server's goroutines write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The console's requests are counted in the request metrics and written to
// the access log like the other doors', as the door "console": by route
// pattern, never the raw path, refusals with their reason.
func TestRequestsObserved(t *testing.T) {
	m := metrics.New()
	var logs lockedBuffer
	e := newEnv(t, func(o *console.Options) {
		o.Observer = m
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	b := e.browser()
	b.signInOperator()
	wantStatus(t, "groups", b.do("GET", "/groups", nil), http.StatusOK)
	wantStatus(t, "an unknown group", b.do("GET", "/groups/nope-42", nil), http.StatusNotFound)
	wantStatus(t, "no CSRF token", b.do("POST", "/groups", url.Values{"owner": {"alice"}}), http.StatusForbidden)
	wantStatus(t, "an unknown path", b.do("GET", "/no/such/page", nil), http.StatusNotFound)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	scraped, _ := io.ReadAll(rec.Body)
	for _, series := range []string{
		`qun_requests_total{code="0",door="console",route="GET /groups"} 1`,
		`qun_requests_total{code="404",door="console",route="GET /groups/{id}"} 1`,
		`qun_requests_total{code="403",door="console",route="POST /groups"} 1`,
		`qun_requests_total{code="404",door="console",route="unmatched"} 1`,
		`qun_requests_total{code="0",door="console",route="POST /signin"} 1`,
	} {
		if !strings.Contains(string(scraped), series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	if strings.Contains(string(scraped), "nope-42") || strings.Contains(string(scraped), "/no/such/page") {
		t.Error("/metrics shows a raw path")
	}
	log := logs.String()
	for _, line := range []string{
		`msg=request door=console method=GET route="GET /groups" status=200 code=0`,
		`msg="request refused" door=console method=GET route="GET /groups/{id}" status=404 code=404`,
		`msg="request refused" door=console method=POST route="POST /groups" status=403 code=403`,
		`reason="The form expired: reload the page and try again."`,
		`caller=admin`,
	} {
		if !strings.Contains(log, line) {
			t.Errorf("the access log lacks %s:\n%s", line, log)
		}
	}
	if strings.Contains(log, adminSecret) {
		t.Error("the access log shows the admin secret")
	}
}

// A server error is a readable page, "Server error.", and the access log's
// error line with the error; the page shows nothing of it.
func TestServerErrorObserved(t *testing.T) {
	var logs lockedBuffer
	e := newEnv(t, func(o *console.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	b := e.browser()
	b.signInOperator()
	if err := e.st.Close(); err != nil { // every read fails from now on
		t.Fatal(err)
	}
	a := b.do("GET", "/groups?q=Te&by=name", nil)
	wantStatus(t, "groups of a closed store", a, http.StatusInternalServerError, `<p class="error" id="error">Server error.</p>`)
	if strings.Contains(a.body, "closed") || strings.Contains(a.body, "sqlite") || strings.Contains(a.body, ".go:") {
		t.Errorf("the page shows the error: %s", a.body)
	}
	if log := logs.String(); !strings.Contains(log, `level=ERROR msg="request failed" door=console method=GET route="GET /groups" status=500 code=500`) ||
		!strings.Contains(log, "err=") {
		t.Errorf("no error line for the server error:\n%s", log)
	}
}
