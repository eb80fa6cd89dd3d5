package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

func TestReadyFollowsTheStoreAndDiskIsMeasured(t *testing.T) {
	var fail error
	reg := prometheus.NewRegistry()
	metrics.Health(reg, func(context.Context) error { return fail }, t.TempDir())
	if got := gauge(t, reg, "litepaste_ready"); got != 1 {
		t.Errorf("ready store: litepaste_ready %v, want 1", got)
	}
	fail = errors.New("disk I/O error")
	if got := gauge(t, reg, "litepaste_ready"); got != 0 {
		t.Errorf("failing store: litepaste_ready %v, want 0", got)
	}
	free, size := gauge(t, reg, "litepaste_disk_free_bytes"), gauge(t, reg, "litepaste_disk_size_bytes")
	if free <= 0 || size <= 0 || free > size {
		t.Errorf("disk: free %v of %v bytes, want 0 < free <= size", free, size)
	}
}

func TestReplicationFiguresComeFromTheMonitor(t *testing.T) {
	last := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	reg := prometheus.NewRegistry()
	metrics.Replication(reg, func() metrics.ReplicationStatus {
		return metrics.ReplicationStatus{LastSync: last, Lag: 75 * time.Second, Stalled: true, Stalls: 2, StatusErrors: 3}
	})
	for name, want := range map[string]float64{
		"litepaste_replication_lag_seconds":                 75,
		"litepaste_replication_last_sync_timestamp_seconds": float64(last.Unix()),
		"litepaste_replication_stalled":                     1,
		"litepaste_replication_stalls_total":                2,
		"litepaste_replication_status_errors_total":         3,
	} {
		if got := gauge(t, reg, name); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}

func TestForwardPassesOnlyLitestreamFamilies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte("# TYPE litestream_db_size gauge\nlitestream_db_size{db=\"/data/litepaste.db\"} 4096\n# TYPE go_goroutines gauge\ngo_goroutines 12\n"))
	}))
	defer srv.Close()
	got, err := metrics.Forward(srv.URL).Gather()
	if err != nil || len(got) != 1 || got[0].GetName() != "litestream_db_size" || got[0].Metric[0].GetGauge().GetValue() != 4096 {
		t.Fatalf("got %v, %v; want litestream_db_size 4096 alone", got, err)
	}
	srv.Close()
	if got, err := metrics.Forward(srv.URL).Gather(); err != nil || len(got) != 0 {
		t.Errorf("Litestream away: got %v, %v; want nothing and no error, so the scrape still succeeds", got, err)
	}
}

// gauge is the value of the one sample of name in reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		m := f.Metric[0]
		if g := m.GetGauge(); g != nil {
			return g.GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("no %s among %d families", name, len(families))
	return 0
}
