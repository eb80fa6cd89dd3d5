// Package litestream watches the Litestream process that replicates the
// database, through its control socket: when the last upload to the bucket
// succeeded, whether replication has stalled (logged once a minute while it
// lasts). Standard library only; metrics are the metrics package's business.
package litestream

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"
)

// stallLogEvery is how often a stall that lasts is written to the log again.
const stallLogEvery = time.Minute

// Status is what the monitor knows at one moment.
type Status struct {
	// LastSync is when Litestream last reported a successful sync to the
	// bucket (every change before it is there); before the first report,
	// when the monitor started.
	LastSync time.Time
	// Lag is how long ago LastSync was: 0 to a sync interval when healthy.
	Lag time.Duration
	// Stalled is Lag at or past the stall threshold.
	Stalled bool
	// Stalls counts stalls begun; StatusErrors, polls Litestream did not
	// answer (it is down, restarting, or its socket is missing).
	Stalls, StatusErrors int64
}

// Monitor polls Litestream's control socket.
type Monitor struct {
	db         string
	poll       time.Duration
	stallAfter time.Duration
	now        func() time.Time
	log        *slog.Logger
	hc         *http.Client

	mu           sync.Mutex
	lastSync     time.Time
	stalled      bool
	stalledSince time.Time
	loggedAt     time.Time
	lastErr      string
	stalls       int64
	statusErrors int64
}

// NewMonitor watches the replication of the database at db by the
// Litestream whose control socket is at socket. Replication counts as
// stalled once no sync has succeeded for stallAfter.
func NewMonitor(socket, db string, poll, stallAfter time.Duration, now func() time.Time, log *slog.Logger) *Monitor {
	dialer := &net.Dialer{}
	return &Monitor{
		db:         db,
		poll:       poll,
		stallAfter: stallAfter,
		now:        now,
		log:        log,
		lastSync:   now(),
		hc: &http.Client{
			Timeout: 5 * time.Second,
			Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, "unix", socket)
			}},
		},
	}
}

// Run polls until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	t := time.NewTicker(m.poll)
	defer t.Stop()
	for {
		m.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check asks Litestream once and logs a stall's start, its continuation
// once a minute, and its end.
func (m *Monitor) Check(ctx context.Context) {
	last, err := m.lastSyncAt(ctx)
	if ctx.Err() != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.statusErrors++
		m.lastErr = err.Error()
	} else {
		m.lastErr = ""
		if last.After(m.lastSync) {
			m.lastSync = last
		}
	}
	now := m.now()
	lag := now.Sub(m.lastSync)
	switch {
	case lag >= m.stallAfter && !m.stalled:
		m.stalled, m.stalledSince, m.loggedAt = true, now, now
		m.stalls++
		m.logStall(lag)
	case lag >= m.stallAfter && now.Sub(m.loggedAt) >= stallLogEvery:
		m.loggedAt = now
		m.logStall(lag)
	case lag < m.stallAfter && m.stalled:
		m.stalled = false
		m.log.Info("replication recovered", "stalled_for", now.Sub(m.stalledSince).Round(time.Second).String(),
			"last_sync", m.lastSync.UTC().Format(time.RFC3339))
	}
}

func (m *Monitor) logStall(lag time.Duration) {
	args := []any{"lag", lag.Round(time.Second).String(), "last_sync", m.lastSync.UTC().Format(time.RFC3339)}
	if m.lastErr != "" {
		args = append(args, "litestream", m.lastErr)
	}
	m.log.Warn("replication stalled: changes are not reaching the bucket", args...)
}

// Status reports the replication as of now.
func (m *Monitor) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	lag := max(0, m.now().Sub(m.lastSync))
	return Status{LastSync: m.lastSync, Lag: lag, Stalled: lag >= m.stallAfter, Stalls: m.stalls, StatusErrors: m.statusErrors}
}

// list is the answer of the socket's GET /list.
type list struct {
	Databases []struct {
		Path       string     `json:"path"`
		Status     string     `json:"status"`
		LastSyncAt *time.Time `json:"last_sync_at"`
	} `json:"databases"`
}

// lastSyncAt is Litestream's last successful sync of the database to its
// replica (zero if none yet since it started).
func (m *Monitor) lastSyncAt(ctx context.Context) (time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://litestream/list", nil)
	if err != nil {
		return time.Time{}, err
	}
	res, err := m.hc.Do(req)
	if err != nil {
		return time.Time{}, fmt.Errorf("control socket: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("control socket: GET /list answered %s", res.Status)
	}
	var l list
	if err := json.NewDecoder(res.Body).Decode(&l); err != nil {
		return time.Time{}, fmt.Errorf("control socket: GET /list: %w", err)
	}
	for _, d := range l.Databases {
		if samePath(d.Path, m.db) {
			if d.LastSyncAt == nil {
				return time.Time{}, nil
			}
			return *d.LastSyncAt, nil
		}
	}
	return time.Time{}, fmt.Errorf("control socket: Litestream does not replicate %s", m.db)
}

func samePath(a, b string) bool {
	if a == b {
		return true
	}
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}
