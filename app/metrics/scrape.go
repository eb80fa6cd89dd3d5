package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// figure is one unlabelled metric whose value is read from a snapshot S at
// scrape time, so it is never stale.
type figure[S any] struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(S) float64
	shown func(S) bool // nil: always
}

// gauge is a figure that can go up and down: its name, how it is read from
// the snapshot, its help text.
func gauge[S any](name string, value func(S) float64, help string) figure[S] {
	return figure[S]{desc: prometheus.NewDesc(name, help, nil, nil), kind: prometheus.GaugeValue, value: value}
}

// total is a figure that only grows (a count the snapshot keeps).
func total[S any](name string, value func(S) float64, help string) figure[S] {
	return figure[S]{desc: prometheus.NewDesc(name, help, nil, nil), kind: prometheus.CounterValue, value: value}
}

// when leaves the figure out of the scrapes where shown is false.
func (f figure[S]) when(shown func(S) bool) figure[S] {
	f.shown = shown
	return f
}

// scraped is a collector that reads one snapshot a scrape and sends each of
// its figures; when the read fails, the scrape fails with its error.
type scraped[S any] struct {
	read    func() (S, error)
	figures []figure[S]
}

// always is a read that cannot fail.
func always[S any](read func() S) func() (S, error) {
	return func() (S, error) { return read(), nil }
}

func (c scraped[S]) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range c.figures {
		ch <- f.desc
	}
}

func (c scraped[S]) Collect(ch chan<- prometheus.Metric) {
	s, err := c.read()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.figures[0].desc, err)
		return
	}
	for _, f := range c.figures {
		if f.shown == nil || f.shown(s) {
			ch <- prometheus.MustNewConstMetric(f.desc, f.kind, f.value(s))
		}
	}
}

// unixSeconds is t as a Prometheus timestamp value.
func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// one is 1 for true, 0 for false.
func one(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
