package litestream_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"
	"github.com/litepaste/litepaste/app/litestream"
)

// socket answers GET /list on a Unix socket in the shape Litestream's
// control server gives it (litestream.ListResponse), with a last sync time
// the test moves; down makes it refuse.
type socket struct {
	mu       sync.Mutex
	lastSync time.Time
	db       string
	path     string
	srv      *http.Server
}

func startSocket(t *testing.T, db string) *socket {
	t.Helper()
	s := &socket{db: db, path: filepath.Join(t.TempDir(), "litestream.sock")}
	s.up(t)
	return s
}

func (s *socket) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("unix", s.path)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /list", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		db := map[string]any{"path": s.db, "status": "replicating"}
		if !s.lastSync.IsZero() {
			db["last_sync_at"] = s.lastSync
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"databases": []any{db}})
	})
	s.srv = &http.Server{Handler: mux}
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(func() { _ = s.srv.Close() })
}

func (s *socket) down() { _ = s.srv.Close() }

func (s *socket) synced(at time.Time) {
	s.mu.Lock()
	s.lastSync = at
	s.mu.Unlock()
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func logLines(logs *testkit.SyncBuffer, msg string) int {
	return strings.Count(logs.String(), `"msg":"`+msg)
}

func TestStallIsLoggedOnceAMinuteWhileItLasts(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	db := "/data/litepaste.db"
	sock := startSocket(t, db)
	logs := &testkit.SyncBuffer{}
	m := litestream.NewMonitor(sock.path, db, time.Second, time.Minute, clk.Now, slog.New(slog.NewJSONHandler(logs, nil)))
	ctx := context.Background()

	// Healthy: Litestream syncs every second or so.
	for range 30 {
		sock.synced(clk.Now())
		clk.Advance(time.Second)
		m.Check(ctx)
	}
	if st := m.Status(); st.Lag != time.Second || st.Stalled || st.Stalls != 0 {
		t.Fatalf("healthy: got %+v, want a lag of 1s and no stall", st)
	}
	lastGood := clk.Now().Add(-time.Second)

	// The bucket stops taking uploads: last_sync_at stays put.
	for range 58 { // the lag reaches 59 s
		clk.Advance(time.Second)
		m.Check(ctx)
	}
	if st := m.Status(); st.Stalled || logLines(logs, "replication stalled") != 0 {
		t.Fatalf("after 59 s of lag: got %+v and %d stall lines, want neither", st, logLines(logs, "replication stalled"))
	}
	for range 150 { // 2.5 minutes more, checked every second
		clk.Advance(time.Second)
		m.Check(ctx)
	}
	st := m.Status()
	if !st.Stalled || st.Stalls != 1 || st.Lag != clk.Now().Sub(lastGood) || !st.LastSync.Equal(lastGood) {
		t.Errorf("stalled: got %+v, want one stall, lag %v since %v", st, clk.Now().Sub(lastGood), lastGood)
	}
	if got := logLines(logs, "replication stalled"); got != 3 {
		t.Errorf("stall lines after 3.5 min of lag: got %d, want 3 (at 1, 2 and 3 min)\n%s", got, logs)
	}

	// Litestream itself goes away: still stalled, and its absence is said.
	sock.down()
	clk.Advance(time.Minute)
	m.Check(ctx)
	if st := m.Status(); st.StatusErrors != 1 || !st.Stalled {
		t.Errorf("socket down: got %+v, want one status error and still stalled", st)
	}
	if !strings.Contains(logs.String(), "control socket") {
		t.Errorf("the stall line does not say Litestream is unreachable:\n%s", logs)
	}

	// Back, and syncing again.
	sock.up(t)
	sock.synced(clk.Now())
	clk.Advance(time.Second)
	m.Check(ctx)
	if st := m.Status(); st.Stalled || st.Lag != time.Second || st.Stalls != 1 {
		t.Errorf("recovered: got %+v, want a lag of 1s, no stall, one stall counted", st)
	}
	if got := logLines(logs, "replication recovered"); got != 1 {
		t.Errorf("recovery lines: got %d, want 1\n%s", got, logs)
	}
}

func TestLagCountsFromStartUntilTheFirstSync(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	db := "/data/litepaste.db"
	sock := startSocket(t, db)
	m := litestream.NewMonitor(sock.path, db, time.Second, time.Minute, clk.Now, slog.New(slog.NewJSONHandler(&testkit.SyncBuffer{}, nil)))
	clk.Advance(90 * time.Second)
	m.Check(context.Background())
	if st := m.Status(); st.Lag != 90*time.Second || !st.Stalled {
		t.Errorf("no sync for 90 s since start: got %+v, want lag 90s, stalled", st)
	}
}

func TestAnotherDatabaseIsAnError(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	sock := startSocket(t, "/data/other.db")
	sock.synced(clk.Now())
	m := litestream.NewMonitor(sock.path, "/data/litepaste.db", time.Second, time.Minute, clk.Now, slog.New(slog.NewJSONHandler(&testkit.SyncBuffer{}, nil)))
	m.Check(context.Background())
	if st := m.Status(); st.StatusErrors != 1 {
		t.Errorf("got %+v, want one status error: Litestream replicates another file", st)
	}
}
