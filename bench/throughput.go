package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Targets from the issue "Fast and unbreakable": median ratio to the ceiling in the same
// run, and the server's peak RSS under that load.
const (
	targetGET    = 0.8
	targetPUT    = 0.5
	targetRSSMiB = 30
)

// kind is one of the two loads: GET of the 1 KiB paste, PUT of a 1 KiB body.
type kind struct {
	name   string
	path   string
	load   wrkLoad
	target float64

	ceil, srv []wrkResult
	ratios    []float64
	peak      int64 // litepaste's VmHWM during its runs of this kind
}

// throughputPass runs the wrk rounds against litepaste and a fresh ceiling, with or without
// litestream replicating litepaste's database to a local S3 bucket.
func (b *bench) throughputPass(ctx context.Context, replicated bool) error {
	label := "litepaste alone"
	name := "alone"
	if replicated {
		label, name = fmt.Sprintf("litepaste + litestream replicate to versitygw every %v", b.cfg.syncInterval), "replicated"
	}
	c := b.cfg
	section("%s: wrk -t%d -c%d, %d rounds x %v per server, GET then PUT, 1 KiB",
		label, c.threads, c.conns, c.rounds, c.duration)

	ceil, err := b.startCeiling(ctx, "ceiling-"+name)
	if err != nil {
		return err
	}
	defer b.stopServer(ceil)
	dbPath := b.path(name + "/litepaste.db")
	srv, err := b.startLitepaste(ctx, "litepaste-"+name, dbPath, 2)
	if err != nil {
		return err
	}
	defer b.stopServer(srv)
	id, err := b.createPaste(ctx, srv)
	if err != nil {
		return fmt.Errorf("first paste: %w", err)
	}
	var rep *replication
	if replicated {
		if rep, err = b.startReplication(ctx, dbPath); err != nil {
			return err
		}
		defer rep.stop(b)
	}

	get := wrkLoad{bin: c.wrk, threads: c.threads, conns: c.conns, duration: c.duration}
	put := get
	put.script, put.env = c.putScript, []string{"BENCH_BODY=" + b.bodyPath()}
	kinds := []*kind{
		{name: "GET", path: "/" + id, load: get, target: targetGET},
		{name: "PUT", path: "/", load: put, target: targetPUT},
	}

	// All GET rounds come before all PUT rounds, so that the peak RSS of each load is its
	// own and not what the other left behind; within a round the two servers take turns.
	fmt.Printf("  %-5s %-4s %12s %9s  %12s %9s  %6s %10s\n",
		"round", "kind", "ceiling/s", "p99", "litepaste/s", "p99", "ratio", "peak RSS")
	for _, k := range kinds {
		if c.warmup >= time.Second {
			warm := k.load
			warm.duration = c.warmup
			for _, s := range []*server{ceil, srv} {
				if _, err := warm.run(ctx, s.url(k.path)); err != nil {
					return fmt.Errorf("warm-up: %w", err)
				}
			}
		}
		for round := 1; round <= c.rounds; round++ {
			if err := k.round(ctx, round, ceil, srv); err != nil {
				return err
			}
			if rep != nil && rep.ls.exited() {
				return fmt.Errorf("litestream exited during the load: %v\n%s", rep.ls.err, rep.ls.tail(20))
			}
		}
	}

	fmt.Println()
	var peak int64
	for _, k := range kinds {
		ratio := median(k.ratios)
		figure := fmt.Sprintf("%.2f (%.0f vs %.0f req/s, p99 %s vs %s)", ratio,
			median(field(k.srv, func(r wrkResult) float64 { return r.RPS })),
			median(field(k.ceil, func(r wrkResult) float64 { return r.RPS })),
			fmtDur(time.Duration(median(field(k.srv, func(r wrkResult) float64 { return float64(r.P99) })))),
			fmtDur(time.Duration(median(field(k.ceil, func(r wrkResult) float64 { return float64(r.P99) })))))
		ok := ratio >= k.target
		for _, r := range k.srv {
			if why := r.bad(); why != "" {
				figure += "; " + why
				ok = false
				break
			}
		}
		b.check(fmt.Sprintf("%s ratio, %s", k.name, name), figure, fmt.Sprintf(">= %.2f", k.target), ok)
		peak = max(peak, k.peak)
	}
	b.check("peak RSS under wrk, "+name,
		fmt.Sprintf("%s (GET %s, PUT %s)", mib(peak), mib(kinds[0].peak), mib(kinds[1].peak)),
		fmt.Sprintf("<= %d MiB", targetRSSMiB), peak <= targetRSSMiB<<20)
	if rep != nil {
		rep.report()
	}
	return nil
}

// round loads the ceiling and litepaste in turn, the ceiling first in odd rounds, and
// records both and litepaste's peak RSS during its run.
func (k *kind) round(ctx context.Context, round int, ceil, srv *server) error {
	order := []*server{ceil, srv}
	if round%2 == 0 {
		order = []*server{srv, ceil}
	}
	var rc, rs wrkResult
	var peak int64
	for _, s := range order {
		if s == srv {
			if err := resetPeak(srv.pid()); err != nil {
				return fmt.Errorf("reset peak RSS: %w", err)
			}
		}
		r, err := k.load.run(ctx, s.url(k.path))
		if err != nil {
			return err
		}
		if s == ceil {
			rc = r
			continue
		}
		rs = r
		if peak, _, err = memStatus(srv.pid()); err != nil {
			return err
		}
	}
	k.ceil, k.srv = append(k.ceil, rc), append(k.srv, rs)
	k.ratios = append(k.ratios, rs.RPS/rc.RPS)
	k.peak = max(k.peak, peak)
	note := ""
	if why := rc.bad(); why != "" {
		note += "  ceiling: " + why
	}
	if why := rs.bad(); why != "" {
		note += "  litepaste: " + why
	}
	fmt.Printf("  %-5d %-4s %12.0f %9s  %12.0f %9s  %6.2f %10s%s\n",
		round, k.name, rc.RPS, fmtDur(rc.P99), rs.RPS, fmtDur(rs.P99), rs.RPS/rc.RPS, mib(peak), note)
	return nil
}

func field(rs []wrkResult, f func(wrkResult) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0fus", float64(d)/float64(time.Microsecond))
	}
}
