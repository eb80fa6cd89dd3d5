package metrics

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var (
	lagDesc = prometheus.NewDesc("litepaste_replication_lag_seconds",
		"Seconds since Litestream last synced the database to the bucket (every change before that is there).", nil, nil)
	lastSyncDesc = prometheus.NewDesc("litepaste_replication_last_sync_timestamp_seconds",
		"When Litestream last synced the database to the bucket, Unix time.", nil, nil)
	stalledDesc = prometheus.NewDesc("litepaste_replication_stalled",
		"1 while no sync to the bucket has succeeded for the stall threshold, else 0.", nil, nil)
	stallsDesc = prometheus.NewDesc("litepaste_replication_stalls_total",
		"Replication stalls begun.", nil, nil)
	statusErrorsDesc = prometheus.NewDesc("litepaste_replication_status_errors_total",
		"Polls of Litestream's control socket that got no answer.", nil, nil)
)

// ReplicationStatus is what the collector needs of the replication monitor
// (declared here so that metrics imports no other adapter; main converts).
type ReplicationStatus struct {
	LastSync             time.Time
	Lag                  time.Duration
	Stalled              bool
	Stalls, StatusErrors int64
}

// Replication registers the replication figures of status on reg, read at
// scrape time.
func Replication(reg prometheus.Registerer, status func() ReplicationStatus) {
	reg.MustRegister(replicationCollector{status})
}

type replicationCollector struct{ status func() ReplicationStatus }

func (c replicationCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{lagDesc, lastSyncDesc, stalledDesc, stallsDesc, statusErrorsDesc} {
		ch <- d
	}
}

func (c replicationCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.status()
	stalled := 0.0
	if st.Stalled {
		stalled = 1
	}
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, st.Lag.Seconds())
	ch <- prometheus.MustNewConstMetric(lastSyncDesc, prometheus.GaugeValue, float64(st.LastSync.UnixNano())/1e9)
	ch <- prometheus.MustNewConstMetric(stalledDesc, prometheus.GaugeValue, stalled)
	ch <- prometheus.MustNewConstMetric(stallsDesc, prometheus.CounterValue, float64(st.Stalls))
	ch <- prometheus.MustNewConstMetric(statusErrorsDesc, prometheus.CounterValue, float64(st.StatusErrors))
}

// Forward gathers Litestream's own metrics (its loopback listener at url)
// at scrape time, so one scrape of litepaste carries both. Only litestream_*
// families pass: its Go runtime and process figures would clash with ours.
// When Litestream does not answer, its families are left out and the scrape
// still succeeds (litepaste_replication_* tell what matters).
func Forward(url string) prometheus.Gatherer {
	hc := &http.Client{Timeout: 3 * time.Second}
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "text/plain; version=0.0.4")
		res, err := hc.Do(req)
		if err != nil {
			return nil, nil
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return nil, nil
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(res.Body)
		if err != nil {
			return nil, fmt.Errorf("litestream metrics at %s: %w", url, err)
		}
		var out []*dto.MetricFamily
		for name, f := range families {
			if strings.HasPrefix(name, "litestream_") {
				out = append(out, f)
			}
		}
		slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
		return out, nil
	})
}
