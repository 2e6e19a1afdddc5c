package console_test

import (
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/qun-chat/qun/internal/console"
)

// The overview shows a counter marked Rate per second, between two samples
// at least DefaultRateWindow apart, and the other numbers as they are.
func TestOverviewRates(t *testing.T) {
	var mu sync.Mutex
	now, events := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 0.0
	set := func(after time.Duration, n float64) {
		mu.Lock()
		defer mu.Unlock()
		now, events = now.Add(after), n
	}
	e := newEnv(t, func(o *console.Options) {
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		o.Stats = func() []console.Stat {
			mu.Lock()
			defer mu.Unlock()
			return []console.Stat{{Key: "events_rate", Value: events, Rate: true}, {Key: "backlog", Value: 7}}
		}
	})
	b := e.browser()
	b.signInOperator() // sessions live on the same clock: it moves by seconds here
	shown := func(key string) string {
		t.Helper()
		a := b.do("GET", "/", nil)
		m := regexp.MustCompile(`<dd id="stat-` + key + `">([^<]*)</dd>`).FindStringSubmatch(a.body)
		if a.status != http.StatusOK || m == nil {
			t.Fatalf("overview: HTTP %d, no %s: %s", a.status, key, a.body)
		}
		return m[1]
	}
	for _, step := range []struct {
		after time.Duration
		value float64
		want  string
	}{
		{console.DefaultRateWindow / 2, 4, "…"}, // one sample only: not yet a rate
		{2 * time.Second, 10, "4.0"},            // 10 events in 2.5 s since New
		{time.Second / 4, 1000, "4.0"},          // too soon: the rate before
		{2 * time.Second, 30, "8.9"},            // 20 events in 2.25 s
		{time.Second, 30, "0.0"},
	} {
		set(step.after, step.value)
		if got := shown("events_rate"); got != step.want {
			t.Errorf("after %v at %v: events/s %q, want %q", step.after, step.value, got, step.want)
		}
	}
	if got := shown("backlog"); got != "7" {
		t.Errorf("backlog %q, want 7", got)
	}
	wantStatus(t, "the labels", b.do("GET", "/", nil), http.StatusOK, "Events per second", "Deliveries pending")
}
