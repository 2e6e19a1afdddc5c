package metrics

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Every label stays bounded: a close code qun does not know is "other", and
// WatchGauge refuses a name taken already.
func TestBoundedLabels(t *testing.T) {
	m := New()
	for _, code := range []int{4005, 4999, 1000, 3123, 4005} {
		m.GatewayOpened()
		m.GatewayClosed(code)
	}
	m.Request("qq", "/users/@me", "0", time.Millisecond)
	if err := m.WatchGauge("qun_store_queue_depth", "x", func() float64 { return 0 }); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchQueue(func() int { return 0 }); err == nil {
		t.Error("a second qun_store_queue_depth was registered")
	}
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, s := range fams["qun_gateway_closes_total"].GetMetric() {
		got[s.GetLabel()[0].GetValue()] = s.GetCounter().GetValue()
	}
	if len(got) != 3 || got["4005"] != 2 || got["1000"] != 1 || got["other"] != 2 {
		t.Errorf("closes by code %v, want 4005:2 1000:1 other:2", got)
	}
	if g := fams["qun_gateway_connections"].GetMetric()[0].GetGauge().GetValue(); g != 0 {
		t.Errorf("connections %v after as many closes as opens", g)
	}
}

// BenchmarkRequest is what counting one request costs: a counter and a
// histogram found by their labels.
func BenchmarkRequest(b *testing.B) {
	m := New()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Request("robot", "/robot/group/member/add", "0", time.Millisecond)
		}
	})
}
