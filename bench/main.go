// Command bench measures litepaste on this machine: throughput against two ceilings in the
// same run, a bare net/http server (GET, PUT) and one that commits every PUT to SQLite first
// (PUT), alone and then with litestream replicating, memory under a flood of maximum-size
// uploads, a 100 MiB paste, uploads over slow links, and a normal client's uploads while
// trickling connections attack. It prints each figure beside its target and
// exits non-zero only when something broke, never because a target was missed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type config struct {
	litepaste, litestream, versitygw, wrk, putScript string
	rev                                              string
	rounds, threads, conns                           int
	duration, warmup                                 time.Duration
	floodClients, floodRounds                        int
	floodMiB, bigMiB                                 int
	attackFor                                        time.Duration
	phases                                           string
	syncInterval                                     time.Duration
	keep                                             bool
}

func main() {
	subcommands := map[string]func([]string) error{"ceiling": runCeiling, "durable": runDurable}
	if len(os.Args) > 1 && subcommands[os.Args[1]] != nil {
		if err := subcommands[os.Args[1]](os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
			os.Exit(1)
		}
		return
	}
	var c config
	// The programs under test come from the environment, like the other test targets get
	// them, which also keeps their names off this process's command line.
	c.litepaste = envOr("LITEPASTE_BIN", "bin/litepaste")
	c.litestream = envOr("LITESTREAM_BIN", "bin/litestream")
	c.versitygw = envOr("VERSITYGW_BIN", "bin/versitygw")
	flag.StringVar(&c.wrk, "wrk", "wrk", "wrk binary")
	flag.StringVar(&c.putScript, "putscript", "bench/put.lua", "wrk Lua script that PUTs $BENCH_BODY")
	flag.StringVar(&c.rev, "rev", "", "revision of litepaste being measured, printed in the header")
	flag.IntVar(&c.rounds, "rounds", 5, "wrk rounds per load (GET, then PUT) and pass; a round runs wrk on both servers")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "length of one wrk run (whole seconds)")
	flag.DurationVar(&c.warmup, "warmup", 2*time.Second, "unrecorded wrk run per server and kind before the rounds")
	flag.IntVar(&c.threads, "threads", 2, "wrk threads")
	flag.IntVar(&c.conns, "conns", 32, "wrk connections")
	flag.IntVar(&c.floodClients, "flood-clients", 64, "concurrent uploads in the memory flood")
	flag.IntVar(&c.floodRounds, "flood-rounds", 3, "rounds of the memory flood")
	flag.IntVar(&c.floodMiB, "flood-mib", 2, "size of each flood upload and the server's -maxsize, MiB")
	flag.IntVar(&c.bigMiB, "big-mib", 100, "size of the big paste and the server's -maxsize, MiB")
	flag.DurationVar(&c.syncInterval, "sync-interval", time.Second, "litestream's monitor-interval and sync-interval in the replicating pass, as DB_SYNC_INTERVAL sets both in the image")
	flag.DurationVar(&c.attackFor, "attack-for", 30*time.Second, "how long the normal client uploads under each attack")
	flag.StringVar(&c.phases, "phases", "alone,replicated,flood,big,compress,slow,attack", "comma-separated phases to run")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory (logs, databases, replica)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: bench [flags]\n\nThe binaries measured are $LITEPASTE_BIN, $LITESTREAM_BIN and $VERSITYGW_BIN.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if c.rounds < 1 || c.rounds > 50 || c.duration < time.Second || c.duration > time.Minute ||
		c.floodRounds < 1 || c.floodRounds > 20 || c.floodClients < 1 || c.floodClients > 1024 || c.attackFor < time.Second || c.attackFor > 5*time.Minute {
		fmt.Fprintln(os.Stderr, "bench: rounds 1..50, duration 1s..1m, flood-rounds 1..20, flood-clients 1..1024, attack-for 1s..5m")
		os.Exit(2)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "bench: %v received, stopping\n", s)
		cancel()
	}()
	os.Exit(run(ctx, c))
}

// bench holds one run's state: its work directory, the processes to clean up, and the
// targets met or missed so far.
type bench struct {
	cfg    config
	dir    string
	body   []byte // the 1 KiB paste, also at bodyPath
	procs  []*proc
	checks []check
	broke  []string
}

type check struct {
	what, figure, target string
	ok                   bool
}

// String prints the check; one with no target is a figure reported for reference only.
func (c check) String() string {
	verdict := "MISS"
	switch {
	case c.target == "":
		verdict = ""
	case c.ok:
		verdict = "PASS"
	}
	return strings.TrimRight(fmt.Sprintf("  %-34s %-58s %-9s %s", c.what, c.figure, c.target, verdict), " ")
}

// check records a figure against its target and prints it at once; the summary repeats it.
func (b *bench) check(what, figure, target string, ok bool) {
	c := check{what, figure, target, ok}
	b.checks = append(b.checks, c)
	fmt.Println(c)
}

func run(ctx context.Context, c config) int {
	b := &bench{cfg: c}
	if err := b.preflight(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	b.dir = dir
	b.body = textBytes(1<<10, 1)
	if err := os.WriteFile(b.bodyPath(), b.body, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	defer func() {
		for _, p := range b.procs {
			p.kill()
		}
		if c.keep || len(b.broke) > 0 {
			fmt.Printf("\nwork directory kept: %s\n", dir)
		} else {
			os.RemoveAll(dir)
		}
	}()

	b.header()
	phases := map[string]func(context.Context) error{
		"alone":      func(ctx context.Context) error { return b.throughputPass(ctx, false) },
		"replicated": func(ctx context.Context) error { return b.throughputPass(ctx, true) },
		"flood":      b.flood,
		"big":        b.bigPaste,
		"compress":   b.compression,
		"slow":       b.slowUploads,
		"attack":     b.underAttack,
	}
	for _, name := range strings.Split(c.phases, ",") {
		phase, ok := phases[name]
		if !ok {
			b.broke = append(b.broke, fmt.Sprintf("unknown phase %q", name))
			continue
		}
		if err := phase(ctx); err != nil {
			fmt.Printf("  BROKE: %v\n", err)
			b.broke = append(b.broke, fmt.Sprintf("%s: %v", name, firstLine(err.Error())))
		}
		if ctx.Err() != nil {
			b.broke = append(b.broke, "interrupted: "+ctx.Err().Error())
			break
		}
	}
	b.summary()
	if len(b.broke) > 0 {
		return 1
	}
	return 0
}

func (b *bench) preflight() error {
	need := []string{b.cfg.litepaste}
	if strings.Contains(b.cfg.phases, "replicated") {
		need = append(need, b.cfg.litestream, b.cfg.versitygw)
	}
	for _, p := range need {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("%s is not an executable file (run `make bench`, which builds it)", p)
		}
	}
	if _, err := exec.LookPath(b.cfg.wrk); err != nil {
		return fmt.Errorf("wrk not found (Debian: apt-get install wrk): %w", err)
	}
	if _, err := os.Stat(b.cfg.putScript); err != nil {
		return fmt.Errorf("wrk PUT script: %w", err)
	}
	return nil
}

func (b *bench) header() {
	wrkVersion := "?"
	if out, _ := exec.Command(b.cfg.wrk, "--version").CombinedOutput(); len(out) > 0 {
		wrkVersion = strings.Fields(string(out))[1]
	}
	rev := b.cfg.rev
	if rev == "" {
		rev = "?"
	}
	fmt.Printf("litepaste bench  %s  rev %s  %d CPUs  %s  wrk %s\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), rev, runtime.NumCPU(), cpuModel(), wrkVersion)
	fmt.Printf("work directory %s; everything on 127.0.0.1\n", b.dir)
}

// section starts a phase's output.
func section(format string, args ...any) {
	fmt.Printf("\n== %s ==  (load average %s)\n", fmt.Sprintf(format, args...), loadAverage())
}

// loadAverage is printed before each phase: other work on the machine skews the figures,
// and the ratios only partly cancel it out.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (b *bench) summary() {
	fmt.Printf("\nsummary\n")
	missed, targets := 0, 0
	for _, c := range b.checks {
		fmt.Println(c)
		if c.target != "" {
			targets++
			if !c.ok {
				missed++
			}
		}
	}
	fmt.Printf("  %d of %d targets met", targets-missed, targets)
	if missed > 0 {
		fmt.Printf(" (a miss is reported, not a failure)")
	}
	fmt.Println()
	for _, s := range b.broke {
		fmt.Printf("  BROKE: %s\n", s)
	}
}

func (b *bench) path(name string) string { return filepath.Join(b.dir, name) }

// bodyPath holds the 1 KiB paste: the ceiling answers it, the wrk PUT script sends it.
func (b *bench) bodyPath() string { return b.path("body-1k.txt") }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
