package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/litepaste/litepaste/app/metrics"
	"github.com/litepaste/litepaste/app/sqlite"
	"github.com/litepaste/litepaste/app/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// metered is a server whose observer is the real metrics on a fresh registry,
// with the store's own figures behind the gauges.
func metered(t *testing.T, opts ...option) (*testServer, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	var st *sqlite.Store
	m := metrics.New(reg, func(ctx context.Context) (int64, int64, error) {
		s, err := st.Stats(ctx)
		return s.Pastes, s.Bytes, err
	}, web.Outcomes())
	ts := mustServer(t, append(opts, withObserver(m))...)
	st = ts.store
	return ts, reg
}

func TestMetricsCountUploadsByOutcome(t *testing.T) {
	ts, reg := metered(t, withConfig(func(c *web.Config) {
		c.MaxSize = 1024
		c.PerMinuteLimit = 3
	}))
	ts.mustPut(t, "/", []byte("12345"))                                           // stored, 5 bytes
	ts.do(req(http.MethodPost, "/", strings.NewReader("1234567")))                // stored, 7 bytes
	ts.do(req(http.MethodPut, "/", strings.NewReader(strings.Repeat("x", 1025)))) // too large
	upload := req(http.MethodPut, "/", strings.NewReader("  \n"))                 // empty
	upload.RemoteAddr = "198.51.100.1:1"                                          // (another client)
	ts.do(upload)                                                                 //
	ts.do(req(http.MethodPut, "/", strings.NewReader("x")))                       // rate limited
	bad := req(http.MethodPut, "/?expires=soon", strings.NewReader("x"))          // invalid
	bad.RemoteAddr = "198.51.100.2:1"                                             //
	ts.do(bad)                                                                    //
	want := `
# HELP litepaste_uploads_total Upload attempts by outcome (stored, too_large, empty, rate_limited, busy, invalid, failed).
# TYPE litepaste_uploads_total counter
litepaste_uploads_total{outcome="busy"} 0
litepaste_uploads_total{outcome="empty"} 1
litepaste_uploads_total{outcome="failed"} 0
litepaste_uploads_total{outcome="invalid"} 1
litepaste_uploads_total{outcome="rate_limited"} 1
litepaste_uploads_total{outcome="stored"} 2
litepaste_uploads_total{outcome="too_large"} 1
# HELP litepaste_uploaded_bytes_total Bytes of paste bodies stored.
# TYPE litepaste_uploaded_bytes_total counter
litepaste_uploaded_bytes_total 12
# HELP litepaste_pastes Pastes in the database.
# TYPE litepaste_pastes gauge
litepaste_pastes 2
# HELP litepaste_stored_bytes Bytes of paste bodies in the database.
# TYPE litepaste_stored_bytes gauge
litepaste_stored_bytes 12
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"litepaste_uploads_total", "litepaste_uploaded_bytes_total", "litepaste_pastes", "litepaste_stored_bytes"); err != nil {
		t.Error(err)
	}
}

func TestMetricsCountReads(t *testing.T) {
	ts, reg := metered(t)
	a := ts.mustPut(t, "/", []byte("read me"))
	ts.mustGet(t, a.ID)
	ts.mustGet(t, a.ID)
	ts.do(req(http.MethodGet, "/ZZZZZZZZ", nil)) // unknown
	ts.do(req(http.MethodGet, "/bad-id!", nil))  // malformed
	ts.do(req(http.MethodDelete, "/"+a.ID, nil, "X-Delete-Token", a.DeleteToken))
	ts.do(req(http.MethodGet, "/"+a.ID, nil)) // deleted
	want := `
# HELP litepaste_pastes_not_found_total Paste reads for unknown, malformed, deleted or expired ids.
# TYPE litepaste_pastes_not_found_total counter
litepaste_pastes_not_found_total 3
# HELP litepaste_pastes_served_total Paste reads answered with the paste.
# TYPE litepaste_pastes_served_total counter
litepaste_pastes_served_total 2
# HELP litepaste_pastes Pastes in the database.
# TYPE litepaste_pastes gauge
litepaste_pastes 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"litepaste_pastes_served_total", "litepaste_pastes_not_found_total", "litepaste_pastes"); err != nil {
		t.Error(err)
	}
}

func TestMetricsObserveRequestsByRoute(t *testing.T) {
	ts, reg := metered(t)
	a := ts.mustPut(t, "/some/file.log", []byte("x"))
	// Many distinct paths must not make many series: labels are routes.
	for i := range 50 {
		ts.do(req(http.MethodGet, fmt.Sprintf("/Zz%06d", i), nil))
		ts.do(req(http.MethodGet, fmt.Sprintf("/static/nothing-%d.js", i), nil))
		ts.do(req(http.MethodPut, fmt.Sprintf("/path-%d", i), strings.NewReader("x")))
	}
	ts.mustGet(t, a.ID)
	ts.do(req(http.MethodGet, "/healthz", nil))

	counts := requestCounts(t, reg)
	checks := []struct {
		key  string
		want uint64
	}{
		{key: "GET /:id 404", want: 50},
		{key: "GET /:id 200", want: 1},
		{key: "GET /static/* 404", want: 50},
		{key: "PUT /* 200", want: 51},
		{key: "GET /healthz 200", want: 1},
	}
	for _, c := range checks {
		if got := counts[c.key]; got != c.want {
			t.Errorf("requests %q: got %d, want %d (all: %v)", c.key, got, c.want, counts)
		}
	}
	if len(counts) > 10 {
		t.Errorf("request series: got %d, want a handful (labels must be routes, not paths): %v", len(counts), counts)
	}
}

// requestCounts reads the latency histogram's observation counts by
// "method route code".
func requestCounts(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != "litepaste_http_request_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			out[l["method"]+" "+l["route"]+" "+l["code"]] += m.GetHistogram().GetSampleCount()
		}
	}
	return out
}

func TestMetricsSwept(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, func(context.Context) (int64, int64, error) { return 0, 0, nil }, web.Outcomes())
	m.Swept(3)
	m.Swept(0)
	m.Swept(2)
	want := `
# HELP litepaste_expired_swept_total Expired pastes deleted by the background sweeper.
# TYPE litepaste_expired_swept_total counter
litepaste_expired_swept_total 5
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "litepaste_expired_swept_total"); err != nil {
		t.Error(err)
	}
}

func TestMetricsLintClean(t *testing.T) {
	_, reg := metered(t)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "litepaste_") {
			t.Errorf("metric %s: %s", p.Metric, p.Text)
		}
	}
	// A store that cannot answer makes the scrape fail loudly, not report 0.
	broken := prometheus.NewRegistry()
	metrics.New(broken, func(context.Context) (int64, int64, error) { return 0, 0, context.DeadlineExceeded }, web.Outcomes())
	if _, err := broken.Gather(); err == nil {
		t.Error("gather with a failing store: got no error, want one")
	}
}
