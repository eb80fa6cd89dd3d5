package system_test

import (
	"cmp"
	"fmt"
	"math"
	"os"
	osexec "os/exec"
	"regexp"
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
// comes back from a bounded number of objects. A read replica follows the
// same bucket through a versitygw of its own (so its requests are counted
// apart), at the shipped FOLLOW_INTERVAL scaled the same way; its cost is
// priced per pass of its follower, and must stay within replicaBudget.
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
		t.Logf("FIGURES cost table (requests of one day, unscaled DB_SYNC_INTERVAL %s; the writer, then one read replica):\n| load | requests a day | $/month | budget | replica's requests a day | replica $/month | replica budget |\n|---|---|---|---|---|---|---|\n%s",
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
	// One read replica follows the bucket through a versitygw of its own over
	// the same directory, so that its requests are counted apart.
	mirror := s3.mirror()
	follow := scaleDuration(shippedFollowInterval(t, ts), factor)
	r := runContainerLayers(t, ts, "cost-replica", dataDir(t), []string{layer},
		append(replicaEnv(mirror, mirror.replicaURL(bucket, "litepaste")), "PRIMARY_URL="+c.base, "FOLLOW_INTERVAL="+follow.String())...)
	r.waitReady()

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
	_, rline := mirror.requests(bucket, 0)
	time.Sleep(time.Until(from.Add(time.Duration(l.days) * scaledDay)))
	counts, _ := s3.requests(bucket, line)
	rcounts, _ := mirror.requests(bucket, rline)
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

	// The scaled follower cannot always keep its scaled interval (a pass of
	// many LISTs takes longer), so its cost is priced per pass: each pass
	// starts with a LIST of level 0, its other LISTs look for a gap in the
	// levels above, and each GET reads a new file (one per upload, whatever
	// the interval).
	passes := mirror.levelLists(bucket, "litepaste", 0, rline)
	lists, gets := 0, 0
	for op, n := range rcounts {
		switch {
		case strings.HasPrefix(op, "List"):
			lists += n
		case strings.HasPrefix(op, "Get"):
			gets += n
		default:
			t.Errorf("a read replica's follower sent %d %s requests", n, op)
		}
	}
	if passes == 0 {
		t.Fatalf("the read replica's follower listed nothing in a scaled day")
	}
	shipped := shippedFollowInterval(t, ts)
	perPass := float64(lists) / float64(passes)
	passesPerDay := float64(day / shipped)
	rdollars := 30 * (passesPerDay*perPass*priceWritePer1000 + float64(gets)*perDay*priceReadPer1000) / 1000
	rverdict := fmt.Sprintf("$%.2f PASS", replicaBudget)
	if rdollars > replicaBudget {
		rverdict = fmt.Sprintf("$%.2f MISS", replicaBudget)
		t.Errorf("a read replica's follower costs $%.4f a month in S3 requests under %s, over its budget of $%.2f", rdollars, l.name, replicaBudget)
	}
	rrow := fmt.Sprintf("%.2f LIST a pass, %.0f passes and %.0f GET a day", perPass, passesPerDay, float64(gets)*perDay)
	t.Logf("FIGURES cost of one read replica under %s (FOLLOW_INTERVAL %s; scaled to %s, %d passes in the scaled day): %s (%s); $%.4f a month at AWS S3 Standard request prices; budget %s",
		l.name, shipped, follow, passes, rrow, describeCounts(rcounts, perDay), rdollars, rverdict)

	if l.perDay > 0 && l.perDay <= 500 {
		checkRestore(t, ts, s3, bucket, url, c, l, pastes, factor)
		// The replica has every paste in its own copy.
		last := pastes[len(pastes)-1]
		waitFor(t, 60*time.Second, "the last paste in the replica's copy", func() bool { return r.copyHolds(last) })
		if !r.copyHolds(pastes...) {
			t.Errorf("the read replica's copy lacks pastes the writer acknowledged")
		}
	}
	return fmt.Sprintf("| %s | %s | $%.4f | %s | %s | $%.4f | %s |", l.name, describeCounts(counts, perDay), dollars, verdict,
		rrow, rdollars, rverdict)
}

// replicaBudget is the most one read replica's follower may cost a month in
// S3 requests at the shipped FOLLOW_INTERVAL.
const replicaBudget = 2.00

// shippedFollowInterval is the server's default FOLLOW_INTERVAL, which the
// container's follower uses unless it is set, from its usage text.
func shippedFollowInterval(t *testing.T, ts *toolset) time.Duration {
	t.Helper()
	out, _ := osexec.Command(ts.litepaste, "-h").CombinedOutput()
	m := regexp.MustCompile(`\(env FOLLOW_INTERVAL, default "([^"]+)"\)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("litepaste -h names no FOLLOW_INTERVAL default:\n%s", out)
	}
	d, err := time.ParseDuration(string(m[1]))
	if err != nil {
		t.Fatalf("litepaste's FOLLOW_INTERVAL default %q: %v", m[1], err)
	}
	return d
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
