package metrics

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// CopyStatus is what the collector needs of a replica's copy (declared here
// so that metrics imports no other adapter; main converts).
type CopyStatus struct {
	Ready   bool
	TXID    uint64
	Changed time.Time
}

// Copy registers a replica's figures of its copy, read at scrape time.
func Copy(reg prometheus.Registerer, status func() CopyStatus) {
	reg.MustRegister(scraped[CopyStatus]{always(status), []figure[CopyStatus]{
		gauge("litepaste_copy_txid", func(st CopyStatus) float64 { return float64(st.TXID) },
			"A replica's copy of the database: the Litestream transaction ID it is at (0 while it cannot be read)."),
		gauge("litepaste_copy_changed_timestamp_seconds", func(st CopyStatus) float64 { return unixSeconds(st.Changed) },
			"A replica's copy of the database: when this server first saw it at its current transaction, Unix time.").
			when(func(st CopyStatus) bool { return st.Ready }),
	}})
}

// CountForwarding registers, on a replica, the requests passed to the
// writer by kind (write, read) and outcome, each counted from zero.
func (m *Metrics) CountForwarding(reg prometheus.Registerer, outcomes []string) {
	m.forwarded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "litepaste_forwarded_requests_total",
		Help: "Requests a replica passed to the writer, by kind (write, read) and outcome (" + strings.Join(outcomes, ", ") + ").",
	}, []string{"kind", "outcome"})
	for _, kind := range []string{"write", "read"} {
		for _, o := range outcomes {
			m.forwarded.WithLabelValues(kind, o)
		}
	}
	reg.MustRegister(m.forwarded)
}

// Forward counts one request passed to the writer.
func (m *Metrics) Forward(kind, outcome string) {
	if m.forwarded != nil {
		m.forwarded.WithLabelValues(kind, outcome).Inc()
	}
}
