package system_test

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/litepaste/litepaste/test/kit"
)

// scrape reads the metrics listener's samples: "name{labels}" -> value.
func scrape(url string) (map[string]float64, error) {
	res, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, res.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// sum adds every sample whose series starts with prefix.
func sum(m map[string]float64, prefix string) float64 {
	s := 0.0
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			s += v
		}
	}
	return s
}

// The bucket goes away under load: the server keeps accepting pastes, the
// lag metric grows, the stall is logged; when the bucket is back, the lag
// falls, the recovery is logged and every paste reaches the bucket.
func TestRevokedBucketShowsInMetricsAndLog(t *testing.T) {
	ts := needTools(t)
	s3 := startS3(t, ts)
	url := s3.bucket("revoked")
	metricsPort := kit.FreePort(t)
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	// The container shares the host's network: its litestream gets a port of its own, so that
	// another container running beside this test cannot answer in its place.
	layer, litestreamAddr := litestreamAddrLayer(t, ts)
	c := runContainerLayers(t, ts, "revoked", dataDir(t), []string{layer}, append(replicaEnv(s3, url),
		fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", metricsPort), "REPLICATION_STALL_AFTER=10s",
		"LITESTREAM_METRICS_URL=http://"+litestreamAddr+"/metrics")...)
	c.waitReady()

	metric := func(name string) float64 {
		m, err := scrape(metricsURL)
		if err != nil {
			t.Fatalf("scrape: %v", err)
		}
		v, ok := m[name]
		if !ok {
			t.Fatalf("no %s in the metrics", name)
		}
		return v
	}
	healthyLag := 0.0
	waitFor(t, 60*time.Second, "replication to report a fresh sync", func() bool {
		healthyLag = metric("litepaste_replication_lag_seconds")
		return healthyLag < 3
	})
	// Litestream sets its database gauges on its own schedule, and a scrape forwards them
	// only when Litestream answers in time: wait for them rather than read one scrape.
	var before map[string]float64
	waitFor(t, 60*time.Second, "litestream's own metrics (litestream_db_size) to be forwarded", func() bool {
		m, err := scrape(metricsURL)
		if err != nil {
			t.Fatalf("scrape: %v", err)
		}
		before = m
		_, ok := m["litestream_db_size{db=\"/data/litepaste.db\"}"]
		return ok
	})

	// Load: a steady stream of uploads for the whole test.
	var mu sync.Mutex
	var uploaded []paste
	var failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			p, err := upload(c.base, body(fmt.Sprintf("revoked%d", i), 800))
			if err != nil {
				failed.Add(1)
				continue
			}
			mu.Lock()
			uploaded = append(uploaded, p)
			mu.Unlock()
		}
	})
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopLoad()

	s3.stop()
	down := time.Now()
	var stalledLag float64
	waitFor(t, 90*time.Second, "the lag to pass 20 s and the stall to be logged", func() bool {
		stalledLag = metric("litepaste_replication_lag_seconds")
		return stalledLag >= 20 && c.countLines(`"msg":"replication stalled`) >= 1
	})
	during, err := scrape(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	if during["litepaste_replication_stalled"] != 1 || during["litepaste_replication_stalls_total"] != 1 {
		t.Errorf("while stalled: litepaste_replication_stalled %v, _stalls_total %v; want 1 and 1",
			during["litepaste_replication_stalled"], during["litepaste_replication_stalls_total"])
	}
	if lag := during["litepaste_replication_lag_seconds"]; lag < stalledLag || lag > time.Since(down).Seconds()+5 {
		t.Errorf("lag %v s: want it growing from %v s and no more than the %v s the bucket has been away plus a sync",
			lag, stalledLag, time.Since(down).Seconds())
	}
	if n := failed.Load(); n > 0 {
		t.Errorf("%d uploads failed while the bucket was away: the server must keep accepting", n)
	}

	s3.start()
	back := time.Now()
	recovered := waitFor(t, 120*time.Second, "the lag to fall back and the recovery to be logged", func() bool {
		return metric("litepaste_replication_lag_seconds") < 5 && c.countLines(`"msg":"replication recovered"`) >= 1
	})
	after, err := scrape(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	if after["litepaste_replication_stalled"] != 0 {
		t.Errorf("after recovery: litepaste_replication_stalled %v, want 0", after["litepaste_replication_stalled"])
	}
	stopLoad()
	mu.Lock()
	all := append([]paste{}, uploaded...)
	mu.Unlock()
	waitFor(t, 60*time.Second, "every paste in the bucket", func() bool {
		for _, p := range all {
			if !s3.hasMarker("revoked", markerOf(p.body)) {
				return false
			}
		}
		return true
	})
	checkMonitoringReferences(t, ts, before, during, after)
	stallLines := c.countLines(`"msg":"replication stalled`)
	for _, l := range strings.Split(c.console(), "\n") {
		if strings.Contains(l, `"msg":"replication stalled`) || strings.Contains(l, `"msg":"replication recovered"`) {
			t.Logf("log: %s", l)
		}
	}
	t.Logf("FIGURES revoked bucket: lag %.1f s healthy; bucket away %.0f s; lag %.1f s when first read past 20 s, %.1f s at the last read, litepaste_replication_stalled %v, stalls_total %v, status_errors_total %v; %d stall log lines; after the bucket came back the lag fell below 5 s in %.1f s (stalled %v); litestream_sync_error_count %v -> %v, litestream_replica_operation_total{PUT} %v -> %v -> %v, litestream_replica_operation_errors_total %v -> %v; %d uploads acknowledged, all in the bucket",
		healthyLag, back.Sub(down).Seconds(), stalledLag, during["litepaste_replication_lag_seconds"],
		during["litepaste_replication_stalled"], during["litepaste_replication_stalls_total"], during["litepaste_replication_status_errors_total"],
		stallLines, recovered.Seconds(), after["litepaste_replication_stalled"],
		sum(before, "litestream_sync_error_count"), sum(after, "litestream_sync_error_count"),
		sum(before, `litestream_replica_operation_total{operation="PUT"`), sum(during, `litestream_replica_operation_total{operation="PUT"`), sum(after, `litestream_replica_operation_total{operation="PUT"`),
		sum(before, "litestream_replica_operation_errors_total"), sum(after, "litestream_replica_operation_errors_total"),
		len(all))
}

// metricName finds the metric names in PromQL: every family litepaste and
// Litestream export starts with one of these prefixes.
var metricName = regexp.MustCompile(`\b(?:litepaste|litestream|process|go)_[a-zA-Z0-9_]+\b`)

// checkMonitoringReferences fails for every metric that deploy/monitoring's
// alert rules or dashboard use and that none of the scrapes had: a typo or
// a renamed metric would leave a panel empty or an alert silent. Prometheus'
// own "up" is the one other name they may use.
func checkMonitoringReferences(t *testing.T, ts *toolset, scrapes ...map[string]float64) {
	t.Helper()
	exported := map[string]bool{}
	for _, m := range scrapes {
		for series := range m {
			name, _, _ := strings.Cut(series, "{")
			exported[name] = true
		}
	}
	for _, file := range []string{"alerts.yml", "dashboard.json"} {
		b, err := os.ReadFile(filepath.Join(ts.repo, "deploy", "monitoring", file))
		if err != nil {
			t.Fatal(err)
		}
		names := metricName.FindAllString(string(b), -1)
		slices.Sort(names)
		names = slices.Compact(names)
		if len(names) < 5 {
			t.Errorf("%s: only %d metric names found, %v", file, len(names), names)
		}
		for _, n := range names {
			if !exported[n] {
				t.Errorf("%s uses %s, which neither the server nor Litestream exports", file, n)
			}
		}
	}
}

// litestreamAddrLayer is a layer whose /etc/litestream.yml is the shipped one with its
// metrics listener on a free loopback port, returned with it.
func litestreamAddrLayer(t *testing.T, ts *toolset) (layer, addr string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ts.repo, "litestream.yml"))
	if err != nil {
		t.Fatal(err)
	}
	const shipped = "\naddr: 127.0.0.1:9090\n"
	if !strings.Contains(string(b), shipped) {
		t.Fatalf("litestream.yml no longer has %q (the server's run script assumes it)", strings.TrimSpace(shipped))
	}
	addr = fmt.Sprintf("127.0.0.1:%d", kit.FreePort(t))
	return litestreamConfigLayer(t, strings.Replace(string(b), shipped, "\naddr: "+addr+"\n", 1)), addr
}
