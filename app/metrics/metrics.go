// Package metrics exposes litepaste's Prometheus metrics.
package metrics

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// StatsFunc reports how many pastes and body bytes the store holds.
type StatsFunc func(ctx context.Context) (pastes, bytes int64, err error)

// Metrics records what the server does (the web server's Observer).
type Metrics struct {
	uploads       *prometheus.CounterVec
	uploadedBytes prometheus.Counter
	served        prometheus.Counter
	notFound      prometheus.Counter
	swept         prometheus.Counter
	duration      *prometheus.HistogramVec
	forwarded     *prometheus.CounterVec // on a replica only
}

// New registers every collector on reg; outcomes are the upload outcomes,
// each counted from zero.
func New(reg prometheus.Registerer, stats StatsFunc, outcomes []string) *Metrics {
	m := &Metrics{
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "litepaste_uploads_total",
			Help: "Upload attempts by outcome (" + strings.Join(outcomes, ", ") + ").",
		}, []string{"outcome"}),
		uploadedBytes: counter("litepaste_uploaded_bytes_total", "Bytes of paste bodies stored."),
		served:        counter("litepaste_pastes_served_total", "Paste reads answered with the paste."),
		notFound:      counter("litepaste_pastes_not_found_total", "Paste reads for unknown, malformed, deleted or expired ids."),
		swept:         counter("litepaste_expired_swept_total", "Expired pastes deleted by the background sweeper."),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "litepaste_http_request_duration_seconds",
			Help:    "HTTP request latency by method, route and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"method", "route", "code"}),
	}
	for _, o := range outcomes {
		m.uploads.WithLabelValues(o)
	}
	reg.MustRegister(m.uploads, m.uploadedBytes, m.served, m.notFound, m.swept, m.duration,
		storeFigures(stats),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// counter is a counter without labels.
func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

// Upload counts one upload attempt.
func (m *Metrics) Upload(outcome string, size int) {
	m.uploads.WithLabelValues(outcome).Inc()
	if size > 0 {
		m.uploadedBytes.Add(float64(size))
	}
}

// Lookup counts one paste read.
func (m *Metrics) Lookup(found bool) {
	if found {
		m.served.Inc()
		return
	}
	m.notFound.Inc()
}

// Request observes one request's latency.
func (m *Metrics) Request(method, route string, status int, elapsed time.Duration) {
	m.duration.WithLabelValues(method, route, strconv.Itoa(status)).Observe(elapsed.Seconds())
}

// Swept counts pastes removed by the expiry sweeper.
func (m *Metrics) Swept(n int64) { m.swept.Add(float64(n)) }

type storeStats struct{ pastes, bytes int64 }

// storeFigures asks the store at scrape time, so the figures are never stale.
func storeFigures(stats StatsFunc) scraped[storeStats] {
	read := func() (storeStats, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		pastes, bytes, err := stats(ctx)
		return storeStats{pastes, bytes}, err
	}
	return scraped[storeStats]{read, []figure[storeStats]{
		gauge("litepaste_pastes", func(s storeStats) float64 { return float64(s.pastes) },
			"Pastes in the database."),
		gauge("litepaste_stored_bytes", func(s storeStats) float64 { return float64(s.bytes) },
			"Bytes of paste bodies in the database."),
	}}
}
