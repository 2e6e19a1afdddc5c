package console

import (
	"fmt"
	"sync"
	"time"
)

// DefaultRateWindow is the least time between the two samples a rate of the
// overview is computed from; a view sooner than that shows the rate of the
// two samples before.
const DefaultRateWindow = time.Second

// sample is a counter's value when it was read.
type sample struct {
	at    time.Time
	value float64
}

// rates turns the overview's counters marked Rate into rates per second,
// between the sample kept from an earlier view (or from New) and now. The
// samples live in memory, one per counter.
type rates struct {
	mu   sync.Mutex
	last map[string]sample
	rate map[string]float64 // the latest rate computed, per counter
}

// observe replaces the Value of each Rate stat by its rate per second;
// Known is false until two samples DefaultRateWindow apart exist.
func (rs *rates) observe(now time.Time, stats []Stat) []Stat {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.last == nil {
		rs.last, rs.rate = map[string]sample{}, map[string]float64{}
	}
	out := make([]Stat, len(stats))
	for i, st := range stats {
		out[i] = st
		if !st.Rate {
			continue
		}
		prev, seen := rs.last[st.Key]
		if !seen {
			rs.last[st.Key] = sample{now, st.Value}
		} else if dt := now.Sub(prev.at); dt >= DefaultRateWindow {
			rs.rate[st.Key] = max(0, st.Value-prev.value) / dt.Seconds()
			rs.last[st.Key] = sample{now, st.Value}
		}
		out[i].Value, out[i].known = rs.rate[st.Key]
	}
	return out
}

// Shown is the stat as the overview prints it: a count, or a rate per second.
func (st Stat) Shown() string {
	switch {
	case !st.Rate:
		return fmt.Sprintf("%.0f", st.Value)
	case !st.known:
		return "…"
	}
	return fmt.Sprintf("%.1f", st.Value)
}
