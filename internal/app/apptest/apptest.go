// Package apptest runs package app's wiring for tests: the real qun on
// loopback port 0 over a test's temporary directory, stopped when the test
// ends. Only tests import it.
package apptest

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
)

// Config is qun serve's default configuration on loopback port 0 over data,
// without the Robot API's rate limit.
func Config(t testing.TB, data string) app.Config {
	t.Helper()
	cfg, err := app.ParseConfig([]string{"--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data", data, "--robot-rate", "0"}, func(string) string { return "" }, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Main is a running qun and where its clients reach it.
type Main struct {
	*app.Main
	Public string // http://host:port
	Admin  string
	Secret string // the Admin API's

	stop func() error
}

// Start runs the real wiring of cfg until the test ends or Stop is called.
func Start(t testing.TB, cfg app.Config) *Main {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := app.NewMain(cfg, &stdout, &stderr)
	stop, err := m.Start(context.Background())
	if err != nil {
		t.Fatalf("open: %v\n%s", err, stderr.String())
	}
	pub, adm := m.Server.Addrs()
	tm := &Main{Main: m, Public: "http://" + pub, Admin: "http://" + adm, Secret: m.AdminSecret, stop: stop}
	t.Cleanup(tm.Stop)
	return tm
}

// Stop shuts qun down gracefully; calling it twice is fine.
func (tm *Main) Stop() {
	if tm.stop == nil {
		return
	}
	stop := tm.stop
	tm.stop = nil
	if err := stop(); err != nil {
		panic(err)
	}
}

// Call makes a Wildfire call (Robot or Admin API) that must succeed.
func Call(t testing.TB, c *client.Client, path string, body, result any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code, err := c.Call(ctx, path, body, result)
	if err != nil || code != 0 {
		t.Fatalf("%s: code %d, err %v", path, code, err)
	}
}

// Scrape reads GET /metrics of base and parses it as the Prometheus text format.
func Scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: HTTP %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	return fams
}

// Value sums the series of the family name whose labels include labels:
// counters, gauges, and the sample count of histograms.
func Value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	var sum float64
series:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}
