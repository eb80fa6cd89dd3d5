// Command litepaste is the paste server: flags and environment, the store,
// the HTTP server, and a graceful stop on SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/litepaste/litepaste/app/litestream"
	"github.com/litepaste/litepaste/app/metrics"
	"github.com/litepaste/litepaste/app/sqlite"
	"github.com/litepaste/litepaste/app/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// shutdownGrace is how long requests in flight may take to finish. In the
// container the server's stop and the replica sync after it share the 4 s
// s6 gives services (S6_SERVICES_GRACETIME); the sync may take 2 s.
const shutdownGrace = 2 * time.Second

// replicationPoll is how often Litestream's control socket is asked how
// replication goes: an unanswered stall shows within seconds.
const replicationPoll = 5 * time.Second

// memoryHeadroom is what the process needs besides upload bodies: the paste
// cache, request buffers, SQLite's page caches, the runtime.
const memoryHeadroom = 48 << 20

// gcPercent is the collector's GOGC unless the environment sets one. The
// live heap is small beside what net/http allocates per request, so at Go's
// default of 100 the collector ran very often under load; at 150 it runs
// about half as often for a little more RSS (measured in
// docs/performance.md).
const gcPercent = 150

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == "delete" {
		err = runDelete(ctx, os.Args[2:], os.Getenv, os.Stdout, os.Stderr)
	} else {
		var cfg config
		cfg, err = parseConfig(os.Args[1:], os.Getenv, os.Stderr)
		if err == nil && cfg.describe {
			err = describe(os.Stdout, cfg)
		} else if err == nil {
			// Process-wide settings, so here and not in run, which tests call.
			tuneCollector(os.Getenv, cfg.uploadMemMiB<<20)
			err = run(ctx, cfg, os.Stderr, nil)
		}
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "litepaste:", err)
		os.Exit(1)
	}
}

// run is the whole program after its configuration; listening receives the
// bound address once the server accepts connections (tests use it with
// PORT=0).
func run(ctx context.Context, cfg config, stderr io.Writer, listening chan<- net.Addr) error {
	if cfg.execPath != "" {
		return execWithSettings(cfg.execPath, cfg.flagEnv)
	}
	logs := newLogBuffer(stderr, 100*time.Millisecond)
	defer logs.Close()
	log := slog.New(slog.NewJSONHandler(logs, nil))

	// A replica reads the follower's copy and never writes it; the writer
	// opens (creating or upgrading) the database.
	var (
		store   *sqlite.Store
		replica *sqlite.Copy
		reads   storeReads
		admin   http.Handler
	)
	if cfg.primary != nil {
		// The copy's directory, for the admin socket beside it; the
		// follower creates it too.
		if err := os.MkdirAll(filepath.Dir(cfg.dbPath), 0o750); err != nil {
			return fmt.Errorf("create database directory: %w", err)
		}
		replica = sqlite.OpenCopy(cfg.dbPath, cfg.followInterval, time.Now)
		reads, admin = replica, web.ReplicaAdminHandler()
		log.Info("read replica", "db", cfg.dbPath, "writer", cfg.primary.Redacted())
	} else {
		var err error
		if store, err = sqlite.Open(ctx, cfg.dbPath); err != nil {
			return err
		}
		switch up := store.Upgraded(); up.From {
		case "":
		case "empty":
			log.Info("database created", "db", cfg.dbPath)
		default:
			log.Info("database upgraded", "db", cfg.dbPath, "from", up.From, "imported", up.Imported)
		}
		if cfg.migrateOnly {
			log.Info("database ready", "db", cfg.dbPath)
			return store.Close()
		}
		reads, admin = store, web.AdminHandler(store, time.Now, log)
	}
	defer func() {
		if err := reads.Close(); err != nil {
			log.Error("close database", "err", err)
		}
	}()

	if cfg.adminSocket != "" {
		stopAdmin, err := serveAdmin(cfg.adminSocket, admin, log)
		if err != nil {
			log.Warn("no admin socket: `litepaste delete` cannot reach this server", "socket", cfg.adminSocket, "err", err)
		} else {
			defer stopAdmin()
		}
	}

	var replication *litestream.Monitor
	if cfg.litestreamSocket != "" && store != nil {
		replication = litestream.NewMonitor(cfg.litestreamSocket, cfg.dbPath, replicationPoll, cfg.replicationStall, time.Now, log)
		monCtx, stopMonitor := context.WithCancel(ctx)
		defer stopMonitor()
		go replication.Run(monCtx)
	}

	var obs web.Observer
	var m *metrics.Metrics
	if cfg.metricsAddr != "" {
		reg := prometheus.NewRegistry()
		m = metrics.New(reg, func(ctx context.Context) (int64, int64, error) {
			st, err := reads.Stats(ctx)
			return st.Pastes, st.Bytes, err
		}, web.Outcomes())
		obs = m
		metrics.Health(reg, reads.Ready, filepath.Dir(cfg.dbPath))
		gather := prometheus.Gatherers{reg}
		if replication != nil {
			metrics.Replication(reg, func() metrics.ReplicationStatus {
				return metrics.ReplicationStatus(replication.Status())
			})
		}
		if replica != nil {
			m.CountForwarding(reg, web.ForwardOutcomes())
			metrics.Copy(reg, func() metrics.CopyStatus { return metrics.CopyStatus(replica.Status()) })
		}
		if cfg.litestreamMetrics != "" && store != nil {
			gather = append(gather, metrics.Forward(cfg.litestreamMetrics))
		}
		stopMetrics, err := serveMetrics(cfg.metricsAddr, gather, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}

	wcfg := web.Config{
		Title:            cfg.title,
		Subtitle:         cfg.subtitle,
		FooterHTML:       cfg.footer,
		ShowDocs:         cfg.showDocs,
		MaxSize:          cfg.maxSizeMiB << 20,
		UploadMemory:     cfg.uploadMemMiB << 20,
		UploadIdle:       cfg.uploadIdle,
		UploadMinRate:    cfg.uploadMinKiB << 10,
		UploadsPerClient: cfg.perClient,
		PerMinuteLimit:   cfg.perMinuteLimit,
		TrustedProxies:   cfg.trustedProxies,
		Expiry:           cfg.expiry,
		Primary:          cfg.primary,
		WriteRetry:       cfg.writeRetry,
	}
	var srv *web.Server
	var err error
	if replica != nil {
		srv, err = web.NewReplica(wcfg, replica, time.Now, logs, obs)
	} else {
		srv, err = web.New(wcfg, store, time.Now, logs, obs)
	}
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", ":"+cfg.port)
	if err != nil {
		return err
	}
	httpSrv := newHTTPServer(srv.Handler(), log)
	log.Info("listening", "addr", ln.Addr().String(), "db", cfg.dbPath)
	logs.flush()
	if err := signalReady(cfg.readyFD); err != nil {
		log.Warn("readiness notification", "err", err)
	}
	if listening != nil {
		listening <- ln.Addr()
	}

	// Expired pastes are the writer's to sweep; a replica's reads hide them.
	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	if store != nil {
		go sweepExpired(sweepCtx, store, cfg.sweepInterval, log, m)
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := httpSrv.Shutdown(shutCtx); err != nil {
		log.Warn("requests cut off at shutdown", "err", err)
	}
	stopSweep()
	log.Info("stopped")
	return nil
}

// storeReads is what the server's wiring needs of either role's store.
type storeReads interface {
	Ready(ctx context.Context) error
	Stats(ctx context.Context) (sqlite.Stats, error)
	Close() error
}

// newHTTPServer bounds what one client can hold: headers must arrive within
// 10 s and fit in 32 KiB (else 431), a request must be read within 2 min
// (except an upload's body, which is paced instead: see -uploadidle and
// -uploadminrate), and idle connections close after 2 min.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// tuneCollector sets the garbage collector's pace and memory limit, each
// unless the environment (GOGC, GOMEMLIMIT) already has.
func tuneCollector(getenv func(string) string, uploadMemory int64) {
	if getenv(envGOGC) == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv(envGOMEMLIMIT) == "" {
		// Upload bodies are bounded by -uploadmemory; a soft limit just
		// above it makes the collector reclaim them rather than let the heap grow
		// by gcPercent past them.
		debug.SetMemoryLimit(uploadMemory + memoryHeadroom)
	}
}

// signalReady tells a supervisor (s6's notification-fd) that we listen.
func signalReady(fd int) error {
	if fd <= 0 {
		return nil
	}
	f := os.NewFile(uintptr(fd), "ready-fd")
	if f == nil {
		return fmt.Errorf("fd %d is not open", fd)
	}
	defer f.Close()
	_, err := f.Write([]byte("\n"))
	return err
}

func serveMetrics(addr string, reg prometheus.Gatherer, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics address: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Info("metrics listening", "addr", ln.Addr().String())
	go func() {
		if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	return func() { _ = s.Close() }, nil
}

// sweepExpired deletes expired pastes in the background (reads already hide
// them, so the sweep only reclaims space), and keeps the replica moving after
// deletions so that they leave the bucket too.
func sweepExpired(ctx context.Context, store *sqlite.Store, every time.Duration, log *slog.Logger, m *metrics.Metrics) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		n, err := store.DeleteExpired(ctx, now)
		if err != nil && ctx.Err() == nil {
			log.Warn("sweep expired pastes", "err", err)
		}
		if _, err := store.Heartbeat(ctx, now); err != nil && ctx.Err() == nil {
			log.Warn("replica heartbeat", "err", err)
		}
		if n > 0 {
			log.Info("swept expired pastes", "count", n)
			if m != nil {
				m.Swept(n)
			}
		}
	}
}

// execWithSettings replaces litepaste by prog (the image's /init) with the
// environment plus settings (NAME=value, which win), so that flags given
// after the image name reach the restore step and every service alike.
func execWithSettings(prog string, settings []string) error {
	path, err := exec.LookPath(prog)
	if err != nil {
		return fmt.Errorf("-exec: %w", err)
	}
	env := os.Environ()
	for _, kv := range settings {
		name, _, _ := strings.Cut(kv, "=")
		env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		env = append(env, kv)
	}
	return fmt.Errorf("-exec %s: %w", path, syscall.Exec(path, []string{path}, env))
}
