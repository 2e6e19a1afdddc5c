// Package metrics is qun's one Prometheus adapter. A Metrics implements the
// observers the other packages report to — access.Observer (requests of
// every door), qqbot.Observer (gateway connections, sessions, events,
// pruning) and store.Observer (commits, queue wait, retries) — on a registry
// of its own, with the Go and process collectors, and serves them in the
// Prometheus text format (Handler, on the admin listener). It is the only
// package that imports Prometheus: the doors and stores know their observer
// interfaces only, and internal/app passes them a Metrics.
//
// To add the metrics of another part (webhook deliveries, say): give the
// part an observer interface of its own, like qqbot.Observer; add its
// collectors to Metrics, created and registered in New; implement the
// interface's methods on *Metrics in a file of this package named after the
// part (delivery.go); and pass the Metrics where internal/app builds the part.
// Keep every label's values bounded (codes from a table, route patterns,
// never raw paths or ids). A value read when scraped (a backlog, the age of
// the oldest pending delivery) needs no interface: the wiring passes a func
// to WatchGauge.
//
// It imports the standard library and github.com/prometheus/client_golang.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds qun's collectors on a private registry. Its methods are
// safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	gatewayConns    prometheus.Gauge
	gatewayCloses   *prometheus.CounterVec
	sessions        *prometheus.CounterVec
	invalidSessions prometheus.Counter
	delivered       prometheus.Counter
	replayed        prometheus.Counter
	pruned          prometheus.Counter

	commits        prometheus.Counter
	updates        prometheus.Counter
	perCommit      prometheus.Histogram
	eventsAppended prometheus.Counter
	queueWait      prometheus.Histogram
	retries        prometheus.Counter
}

// New returns a Metrics with every collector registered, the Go and process
// collectors included.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qun_requests_total",
			Help: "HTTP requests answered, by door (robot, admin, qq, console), route pattern and the door's code (0: success).",
		}, []string{"door", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "qun_request_duration_seconds",
			Help:    "How long answering an HTTP request took, by door and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"door", "route"}),
		gatewayConns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "qun_gateway_connections",
			Help: "Gateway WebSocket connections open on this node, identified or not.",
		}),
		gatewayCloses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qun_gateway_closes_total",
			Help: "Gateway connections ended, by close code (the server's or the client's; 1006: dropped; other: a code qun does not know).",
		}, []string{"code"}),
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qun_gateway_sessions_total",
			Help: "Gateway sessions started, by how: identify (a new session) or resume.",
		}, []string{"how"}),
		invalidSessions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qun_gateway_invalid_sessions_total",
			Help: "Resumes answered with op 9 (invalid session).",
		}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qun_gateway_events_delivered_total",
			Help: "Event frames sent to gateway sessions, replays included.",
		}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qun_gateway_events_replayed_total",
			Help: "Event frames a resume replayed.",
		}),
		pruned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qun_prune_deleted_rows_total",
			Help: "Rows pruning deleted: expired events, sessions, bot messages, access tokens and nonces.",
		}),
		commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qun_store_commits_total",
			Help: "Store transactions committed (SQLite: a batch of Updates; PostgreSQL: one Update).",
		}),
		updates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qun_store_updates_total",
			Help: "Store Updates committed, the failed ones of a batch included.",
		}),
		perCommit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "qun_store_updates_per_commit",
			Help:    "Updates per committed transaction (SQLite's group commit; always 1 on PostgreSQL).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 9), // 1 to 256, SQLite's DefaultMaxBatch
		}),
		eventsAppended: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qun_events_appended_total",
			Help: "Bot events appended by committed Updates.",
		}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "qun_store_queue_wait_seconds",
			Help:    "How long an Update waited for SQLite's writer.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 8), // 100 µs to 1.6 s
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qun_store_retries_total",
			Help: "Updates run again after PostgreSQL aborted them for a deadlock or a serialization failure.",
		}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration,
		m.gatewayConns, m.gatewayCloses, m.sessions, m.invalidSessions, m.delivered, m.replayed, m.pruned,
		m.commits, m.updates, m.perCommit, m.eventsAppended, m.queueWait, m.retries,
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// WatchGauge exports f, read at every scrape, as the gauge name: for a value
// a part can tell when asked (a queue's depth, a backlog, the age of the
// oldest pending item) rather than report as it changes. It fails on a name
// taken already.
func (m *Metrics) WatchGauge(name, help string, f func() float64) error {
	return m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// WatchQueue exports depth as qun_store_queue_depth, the Updates waiting for
// SQLite's writer.
func (m *Metrics) WatchQueue(depth func() int) error {
	return m.WatchGauge("qun_store_queue_depth", "Updates waiting for SQLite's writer.",
		func() float64 { return float64(depth()) })
}

// Request implements access.Observer.
func (m *Metrics) Request(door, route, code string, d time.Duration) {
	m.requests.WithLabelValues(door, route, code).Inc()
	m.duration.WithLabelValues(door, route).Observe(d.Seconds())
}

// knownCloseCodes are the close codes counted by their number; any other a
// client sends is counted as "other", so that the label stays bounded.
var knownCloseCodes = map[int]bool{
	1000: true, 1001: true, 1005: true, 1006: true, 1009: true, 1011: true,
	4001: true, 4002: true, 4003: true, 4004: true, 4005: true, 4006: true, 4007: true,
	4008: true, 4009: true, 4010: true, 4011: true, 4012: true, 4013: true, 4014: true,
}

// GatewayOpened implements qqbot.Observer.
func (m *Metrics) GatewayOpened() { m.gatewayConns.Inc() }

// GatewayClosed implements qqbot.Observer.
func (m *Metrics) GatewayClosed(code int) {
	m.gatewayConns.Dec()
	label := "other"
	if knownCloseCodes[code] {
		label = strconv.Itoa(code)
	}
	m.gatewayCloses.WithLabelValues(label).Inc()
}

// SessionStarted implements qqbot.Observer.
func (m *Metrics) SessionStarted(resumed bool) {
	if resumed {
		m.sessions.WithLabelValues("resume").Inc()
	} else {
		m.sessions.WithLabelValues("identify").Inc()
	}
}

// InvalidSession implements qqbot.Observer.
func (m *Metrics) InvalidSession() { m.invalidSessions.Inc() }

// EventDelivered implements qqbot.Observer.
func (m *Metrics) EventDelivered(replayed bool) {
	m.delivered.Inc()
	if replayed {
		m.replayed.Inc()
	}
}

// Pruned implements qqbot.Observer.
func (m *Metrics) Pruned(rows int) { m.pruned.Add(float64(rows)) }

// Committed implements store.Observer.
func (m *Metrics) Committed(updates, events int) {
	m.commits.Inc()
	m.updates.Add(float64(updates))
	m.perCommit.Observe(float64(updates))
	m.eventsAppended.Add(float64(events))
}

// Waited implements store.Observer.
func (m *Metrics) Waited(d time.Duration) { m.queueWait.Observe(d.Seconds()) }

// Retried implements store.Observer.
func (m *Metrics) Retried() { m.retries.Inc() }

// Total returns the sum over every label of the counter or gauge name, the
// number /metrics shows summed; 0 for a name it does not have.
func (m *Metrics) Total(name string) float64 {
	families, err := m.reg.Gather()
	if err != nil {
		return 0
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			switch {
			case mt.Counter != nil:
				sum += mt.Counter.GetValue()
			case mt.Gauge != nil:
				sum += mt.Gauge.GetValue()
			}
		}
	}
	return sum
}
