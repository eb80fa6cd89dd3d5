package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Targets: median ratio in the same run to the plain ceiling (GET) and to the durable
// ceiling (PUT), and the server's peak RSS under that load.
const (
	targetGET        = 0.75
	targetPUTDurable = 0.95
	targetRSSMiB     = 30
)

// kind is one of the two loads: GET of the 1 KiB paste, PUT of a 1 KiB body. GET is held
// to the plain ceiling; PUT to the durable one, and its share of the plain one is reported.
type kind struct {
	name    string
	path    string
	load    wrkLoad
	durable bool // also load the durable ceiling, and hold litepaste to it

	ceil, dur, srv []wrkResult
	ratios, dRatio []float64 // litepaste's share of the plain and the durable ceiling
	peak           int64     // litepaste's VmHWM during its runs of this kind
	// Server CPU (user + system) per request of the ceiling litepaste is held to and of
	// litepaste: the load generator shares the machine, so this shows what the ratio is made of.
	refCPU, srvCPU []float64 // microseconds
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
	dur, err := b.startDurable(ctx, "durable-"+name, b.path(name+"/durable.db"))
	if err != nil {
		return err
	}
	defer b.stopServer(dur)
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
		if rep, err = b.startReplication(ctx, dbPath, b.path(name+"/durable.db")); err != nil {
			return err
		}
		defer rep.stop(b)
	}

	get := wrkLoad{bin: c.wrk, threads: c.threads, conns: c.conns, duration: c.duration}
	put := get
	put.script, put.env = c.putScript, []string{"BENCH_BODY=" + b.bodyPath()}
	kinds := []*kind{
		{name: "GET", path: "/" + id, load: get},
		{name: "PUT", path: "/", load: put, durable: true},
	}

	// All GET rounds come before all PUT rounds, so that the peak RSS of each load is its
	// own and not what the other left behind; within a round the servers take turns.
	fmt.Printf("  %-5s %-4s %12s %9s  %12s %9s  %12s %9s  %6s %7s %10s %13s\n",
		"round", "kind", "ceiling/s", "p99", "durable/s", "p99", "litepaste/s", "p99", "ratio", "durable", "peak RSS", "ceil/lp us")
	for _, k := range kinds {
		if c.warmup >= time.Second {
			warm := k.load
			warm.duration = c.warmup
			for _, s := range k.servers(ceil, dur, srv) {
				if _, err := warm.run(ctx, s.url(k.path)); err != nil {
					return fmt.Errorf("warm-up: %w", err)
				}
			}
		}
		for round := 1; round <= c.rounds; round++ {
			if err := k.round(ctx, round, ceil, dur, srv); err != nil {
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
		why := ""
		for _, r := range k.srv {
			if why = r.bad(); why != "" {
				why = "; " + why
				break
			}
		}
		plain := ratioFigure(k.ratios, k.srv, k.ceil) + why
		if k.durable {
			ratio := median(k.dRatio)
			b.check(fmt.Sprintf("%s ratio to durable, %s", k.name, name), ratioFigure(k.dRatio, k.srv, k.dur)+why,
				fmt.Sprintf(">= %.2f", targetPUTDurable), ratio >= targetPUTDurable && why == "")
			b.check(fmt.Sprintf("%s ratio to plain, %s", k.name, name), plain, "", true)
		} else {
			b.check(fmt.Sprintf("%s ratio, %s", k.name, name), plain,
				fmt.Sprintf(">= %.2f", targetGET), median(k.ratios) >= targetGET && why == "")
		}
		ref := "plain"
		if k.durable {
			ref = "durable"
		}
		refCPU, srvCPU := median(k.refCPU), median(k.srvCPU)
		b.check(fmt.Sprintf("%s CPU per request, %s", k.name, name),
			fmt.Sprintf("%.1f us vs %.1f us on the %s ceiling (ceiling / litepaste %.2f)", srvCPU, refCPU, ref, refCPU/srvCPU),
			"", true)
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

// ratioFigure is a median ratio with the medians of the two sides' req/s and p99.
func ratioFigure(ratios []float64, srv, ref []wrkResult) string {
	rps := func(r wrkResult) float64 { return r.RPS }
	p99 := func(r wrkResult) float64 { return float64(r.P99) }
	return fmt.Sprintf("%.2f (%.0f vs %.0f req/s, p99 %s vs %s)", median(ratios),
		median(field(srv, rps)), median(field(ref, rps)),
		fmtDur(time.Duration(median(field(srv, p99)))), fmtDur(time.Duration(median(field(ref, p99)))))
}

// servers lists the servers this load runs against, litepaste last.
func (k *kind) servers(ceil, dur, srv *server) []*server {
	if k.durable {
		return []*server{ceil, dur, srv}
	}
	return []*server{ceil, srv}
}

// round loads the ceilings and litepaste in turn, starting one server later each round, and
// records them all and litepaste's peak RSS during its run.
func (k *kind) round(ctx context.Context, round int, ceil, dur, srv *server) error {
	all := k.servers(ceil, dur, srv)
	shift := (round - 1) % len(all)
	order := append(slices.Clone(all[shift:]), all[:shift]...)
	got := map[*server]wrkResult{}
	cpu := map[*server]float64{}
	var peak int64
	for _, s := range order {
		if s == srv {
			if err := resetPeak(srv.pid()); err != nil {
				return fmt.Errorf("reset peak RSS: %w", err)
			}
		}
		var r wrkResult
		spent, err := cpuDuring(s.pid(), func() (err error) {
			r, err = k.load.run(ctx, s.url(k.path))
			return err
		})
		if err != nil {
			return err
		}
		got[s] = r
		if r.Requests > 0 {
			cpu[s] = float64(spent) / float64(time.Microsecond) / float64(r.Requests)
		}
		if s == srv {
			if peak, _, err = memStatus(srv.pid()); err != nil {
				return err
			}
		}
	}
	rc, rs := got[ceil], got[srv]
	k.ceil, k.srv = append(k.ceil, rc), append(k.srv, rs)
	k.ratios = append(k.ratios, rs.RPS/rc.RPS)
	ref := ceil
	if k.durable {
		ref = dur
	}
	k.refCPU, k.srvCPU = append(k.refCPU, cpu[ref]), append(k.srvCPU, cpu[srv])
	k.peak = max(k.peak, peak)
	note := ""
	if why := rc.bad(); why != "" {
		note += "  ceiling: " + why
	}
	durRPS, durP99, durRatio := "-", "-", "-"
	if k.durable {
		rd := got[dur]
		k.dur = append(k.dur, rd)
		k.dRatio = append(k.dRatio, rs.RPS/rd.RPS)
		durRPS, durP99, durRatio = fmt.Sprintf("%.0f", rd.RPS), fmtDur(rd.P99), fmt.Sprintf("%.2f", rs.RPS/rd.RPS)
		if why := rd.bad(); why != "" {
			note += "  durable: " + why
		}
	}
	if why := rs.bad(); why != "" {
		note += "  litepaste: " + why
	}
	fmt.Printf("  %-5d %-4s %12.0f %9s  %12s %9s  %12.0f %9s  %6.2f %7s %10s %13s%s\n",
		round, k.name, rc.RPS, fmtDur(rc.P99), durRPS, durP99, rs.RPS, fmtDur(rs.P99), rs.RPS/rc.RPS, durRatio, mib(peak),
		fmt.Sprintf("%.1f / %.1f", cpu[ref], cpu[srv]), note)
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
