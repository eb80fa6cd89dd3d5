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
	reg.MustRegister(scraped[ReplicationStatus]{always(status), []figure[ReplicationStatus]{
		gauge("litepaste_replication_lag_seconds", func(st ReplicationStatus) float64 { return st.Lag.Seconds() },
			"Seconds since Litestream last synced the database to the bucket (every change before that is there)."),
		gauge("litepaste_replication_last_sync_timestamp_seconds", func(st ReplicationStatus) float64 { return unixSeconds(st.LastSync) },
			"When Litestream last synced the database to the bucket, Unix time."),
		gauge("litepaste_replication_stalled", func(st ReplicationStatus) float64 { return one(st.Stalled) },
			"1 while no sync to the bucket has succeeded for the stall threshold, else 0."),
		total("litepaste_replication_stalls_total", func(st ReplicationStatus) float64 { return float64(st.Stalls) },
			"Replication stalls begun."),
		total("litepaste_replication_status_errors_total", func(st ReplicationStatus) float64 { return float64(st.StatusErrors) },
			"Polls of Litestream's control socket that got no answer."),
	}})
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
