package system_test

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// AWS S3 Standard request prices (us-east-1), dollars per 1000 requests.
const (
	priceWritePer1000 = 0.005  // PUT, COPY, POST, LIST
	priceReadPer1000  = 0.0004 // GET and the rest (DELETE is free)
)

const day = 24 * time.Hour

// A load of the cost measurement: uploads a day, spread evenly, and the most
// its requests may cost a month (0: no budget).
type load struct {
	name   string
	perDay int
	budget float64
	days   int // simulated days to run (1 unless a longer run is asked)
}

var (
	loadIdle    = load{name: "idle", perDay: 0, budget: 0.01, days: 1}
	load50      = load{name: "50 pastes a day", perDay: 50, budget: 0.015, days: 1}
	load500     = load{name: "500 pastes a day", perDay: 500, budget: 0.10, days: 1}
	loadSecond  = load{name: "one upload a second", perDay: 86400, days: 1}
	load50Week  = load{name: "50 pastes a day for a week", perDay: 50, budget: 0.015, days: 7}
	costLoadSet = map[string][]load{
		"short": {loadIdle, load50},
		"all":   {loadIdle, load50, load500, loadSecond, load50Week},
	}
)

// TestRequestCost runs a scaled day of the shipped litestream.yml for each
// load against its own versitygw, all at once: every Litestream timer and
// DB_SYNC_INTERVAL divided by a factor and the uploads multiplied by it, so
// that 24 h / factor of wall time is one day. It counts the requests of one
// such day by type in the access log (after half a merge interval of warm-up
// past the first merge), prices them at AWS S3 Standard, fails a load over
// its budget, and restores the bucket elsewhere to check that every paste
// comes back from a bounded number of objects.
//
// By default (make test) the factor is 1440 and the loads idle and 50 a day:
// about 80 s. make cost runs every load at factor 60 (the week at
// LITEPASTE_COST_WEEK_FACTOR, default 720), about half an hour:
//
//	cd test/system && LITEPASTE_COST_LOADS=all LITEPASTE_COST_FACTOR=60 go test -parallel 8 -run TestRequestCost -timeout 2h -v .
//
// LITEPASTE_COST_SYNC_INTERVAL sets the unscaled DB_SYNC_INTERVAL of the run.
func TestRequestCost(t *testing.T) {
	ts := needTools(t)
	set := os.Getenv("LITEPASTE_COST_LOADS")
	if set == "" {
		set = "short"
	}
	loads, ok := costLoadSet[set]
	if !ok {
		t.Fatalf("LITEPASTE_COST_LOADS=%q: want short or all", set)
	}
	factor := envFloat(t, "LITEPASTE_COST_FACTOR", 1440)
	weekFactor := envFloat(t, "LITEPASTE_COST_WEEK_FACTOR", 720)
	var syncInterval time.Duration
	if v := os.Getenv("LITEPASTE_COST_SYNC_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("LITEPASTE_COST_SYNC_INTERVAL: %v", err)
		}
		syncInterval = d
	}

	var mu sync.Mutex
	rows := make([]string, len(loads))
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		t.Logf("FIGURES cost table (requests of one day, unscaled DB_SYNC_INTERVAL %s):\n| load | requests a day | $/month | budget |\n|---|---|---|---|\n%s",
			cmp.Or(syncInterval, shippedSyncInterval), strings.Join(rows, "\n"))
	})
	for i, l := range loads {
		f := factor
		if l.days > 1 {
			f = weekFactor
		}
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			row := runCostLoad(t, ts, l, f, syncInterval)
			mu.Lock()
			rows[i] = row
			mu.Unlock()
		})
	}
}

func envFloat(t *testing.T, name string, def float64) float64 {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 1 {
		t.Fatalf("%s=%q: want a number of at least 1", name, v)
	}
	return f
}

// runCostLoad measures one load and returns its row of the cost table.
func runCostLoad(t *testing.T, ts *toolset, l load, factor float64, sync time.Duration) string {
	bucket := "cost"
	s3 := startS3(t, ts)
	url := s3.bucket(bucket)
	layer, env, timers := scaledLitestream(t, ts, factor, sync)
	merge := timers["levels[0].interval"]
	snapshot := timers["snapshot.interval"]
	if merge == 0 || snapshot == 0 {
		t.Fatalf("litestream.yml: no first level or snapshot interval in %v", timers)
	}
	c := runContainerLayers(t, ts, "cost", dataDir(t), []string{layer}, append(replicaEnv(s3, url), env...)...)
	c.waitReady()

	scaledDay := scaleDuration(day, factor)
	stop := make(chan struct{})
	done := make(chan []paste)
	go func() { done <- uploadEvenly(c.base, l.perDay, scaledDay, stop) }()

	// Warm-up: past the first merge after the start, to the middle of a merge
	// interval, so that no pass of a timer straddles the window's edges.
	now := time.Now()
	from := now.Truncate(merge).Add(merge + merge/2)
	time.Sleep(time.Until(from))
	_, line := s3.requests(bucket, 0)
	time.Sleep(time.Until(from.Add(time.Duration(l.days) * scaledDay)))
	counts, _ := s3.requests(bucket, line)
	close(stop)
	pastes := <-done

	write, read := requestCost(counts)
	perDay := 1 / float64(l.days)
	dollars := 30 * perDay * (write*priceWritePer1000 + read*priceReadPer1000) / 1000
	verdict := "none"
	if l.budget > 0 {
		verdict = fmt.Sprintf("$%.3f PASS", l.budget)
		if dollars > l.budget {
			verdict = fmt.Sprintf("$%.3f MISS", l.budget)
			t.Errorf("%s costs $%.4f a month in S3 requests, over its budget of $%.3f", l.name, dollars, l.budget)
		}
	}
	t.Logf("FIGURES cost of %s (factor %g: merge every %s, snapshot every %s, %s; %d uploads in %d scaled day(s)): %s a day; $%.4f a month at AWS S3 Standard request prices; budget %s",
		l.name, factor, merge, snapshot, strings.Join(env, " "), len(pastes), l.days, describeCounts(counts, perDay), dollars, verdict)

	if l.perDay > 0 && l.perDay <= 500 {
		checkRestore(t, ts, s3, bucket, url, c, l, pastes, factor)
	}
	return fmt.Sprintf("| %s | %s | $%.4f | %s |", l.name, describeCounts(counts, perDay), dollars, verdict)
}

// uploadEvenly uploads perDay pastes per scaled day at even intervals until
// stop, and returns those acknowledged.
func uploadEvenly(base string, perDay int, scaledDay time.Duration, stop chan struct{}) []paste {
	var pastes []paste
	if perDay == 0 {
		<-stop
		return nil
	}
	tick := time.NewTicker(scaledDay / time.Duration(perDay))
	defer tick.Stop()
	for i := 0; ; i++ {
		if p, err := upload(base, body(fmt.Sprintf("cost%d", i), 1000)); err == nil {
			pastes = append(pastes, p)
		}
		select {
		case <-stop:
			return pastes
		case <-tick.C:
		}
	}
}

// checkRestore restores the bucket elsewhere, as on a new host, and checks
// that every paste comes back from at most the objects the shipped timers
// allow: the newest snapshot, the merged files since it, and the small
// files since the last merge.
func checkRestore(t *testing.T, ts *toolset, s3 *s3Server, bucket, url string, c *container, l load, pastes []paste, factor float64) {
	t.Helper()
	last := pastes[len(pastes)-1]
	waitFor(t, 30*time.Second, "the last paste in the bucket", func() bool {
		return s3.hasMarker(bucket, markerOf(last.body))
	})
	_, line := s3.requests(bucket, 0)
	db, took := restoreElsewhere(t, ts, s3, url)
	counts, _ := s3.requests(bucket, line)
	// The container keeps running: its own requests meanwhile are few, and
	// none is a GET (it reads its own local files).
	objects := counts["GetObject"]
	merge := shippedTimer(t, ts, "levels[0].interval")
	snapshot := shippedTimer(t, ts, "snapshot.interval")
	bound := 1 + int(snapshot/merge) + 1 + int(math.Ceil(float64(l.perDay)*merge.Hours()/24)) + 1
	if objects > bound {
		t.Errorf("the restore read %d objects, more than the %d the timers allow", objects, bound)
	}
	found := checkServed(t, serveFile(t, ts, db), pastes)
	t.Logf("FIGURES restore after %s (factor %g): %d of %d pastes restored; it read %d objects (bound %d: 1 snapshot, %d merged files, %d small ones) with %s in %d ms",
		l.name, factor, found, len(pastes), objects, bound, int(snapshot/merge)+1, bound-int(snapshot/merge)-2, describeCounts(counts, 1), took.Milliseconds())
}

// requestCost splits counted requests into those priced as writes (PUT,
// COPY, POST, LIST) and as reads (GET, HEAD); DELETE is free.
func requestCost(counts map[string]int) (write, read float64) {
	for op, n := range counts {
		switch {
		case strings.HasPrefix(op, "Put"), strings.HasPrefix(op, "List"), strings.HasPrefix(op, "Copy"),
			strings.HasPrefix(op, "Create"), strings.HasPrefix(op, "Complete"), strings.HasPrefix(op, "Upload"):
			write += float64(n)
		case strings.HasPrefix(op, "Delete"):
		default:
			read += float64(n)
		}
	}
	return write, read
}

// describeCounts lists the requests by type, scaled by per (a day's share).
func describeCounts(counts map[string]int, per float64) string {
	var names []string
	for op := range counts {
		names = append(names, op)
	}
	sort.Strings(names)
	var ops []string
	for _, op := range names {
		ops = append(ops, fmt.Sprintf("%.0f %s", float64(counts[op])*per, op))
	}
	if len(ops) == 0 {
		return "none"
	}
	return strings.Join(ops, ", ")
}
