package system_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// replicaEnv is the environment that turns replication on for url.
func replicaEnv(s3 *s3Server, url string) []string {
	return append(s3.credentials(), "DB_REPLICA_URL="+url)
}

// replicating is where most scenarios begin: the tools, an S3 server with
// one empty bucket, and the environment that streams a container's database
// to s3.replicaURL(bucket, "litepaste").
func replicating(t *testing.T, bucket string) (*toolset, *s3Server, []string) {
	t.Helper()
	ts := needTools(t)
	s3 := startS3(t, ts)
	return ts, s3, replicaEnv(s3, s3.bucket(bucket))
}

// markerOf is the random marker at the start of a body made by body().
func markerOf(b []byte) []byte {
	i := strings.IndexByte(string(b), '\r')
	return b[:i]
}

// Scenario 1: empty bucket, first start: the server serves and an upload
// reaches the bucket within a few seconds.
func TestFirstStartOnEmptyBucket(t *testing.T) {
	ts, s3, env := replicating(t, "first")
	c := runContainer(t, ts, "first", dataDir(t), env...)
	ready := c.waitReady()
	if c.countLines("restore: the replica is empty") != 1 {
		t.Errorf("the restore step did not report an empty replica")
	}

	// Replication lag: from an upload's 200 to its bytes in the bucket.
	var pastes []paste
	var lags []time.Duration
	for i := 0; i < 8; i++ {
		// a random phase against litestream's 1 s cycle, for a fair sample
		time.Sleep(time.Duration(rand.Int64N(int64(time.Second))))
		p := mustUpload(t, c.base, body(fmt.Sprintf("first%d", i), 4000))
		lags = append(lags, waitFor(t, 30*time.Second, "the paste in the bucket", func() bool {
			return s3.hasMarker("first", markerOf(p.body))
		}))
		pastes = append(pastes, p)
	}
	checkServed(t, c.base, pastes)
	slices.Sort(lags)
	t.Logf("FIGURES scenario 1: ready %d ms after pid 1 started; replication lag (upload's 200 to its bytes in the bucket) over %d uploads: min %d ms, median %d ms, max %d ms",
		ready.Milliseconds(), len(lags), lags[0].Milliseconds(), lags[len(lags)/2].Milliseconds(), lags[len(lags)-1].Milliseconds())
}

// Scenario 2: stop, delete the whole data directory, start a new container
// on the same bucket: every paste is served, byte for byte.
func TestTeardownAndRedeploy(t *testing.T) {
	ts, _, env := replicating(t, "redeploy")
	a := startContainer(t, ts, "a", dataDir(t), env...)
	sizes := []int{10, 200, 4096, 70000, 1 << 20}
	var pastes []paste
	total := 0
	for i := 0; i < 40; i++ {
		p := mustUpload(t, a.base, body(fmt.Sprintf("redeploy%d", i), sizes[i%len(sizes)]))
		pastes = append(pastes, p)
		total += len(p.body)
	}
	took := a.teardown()

	b := runContainer(t, ts, "b", dataDir(t), env...)
	ready, restoreMS := b.waitRestored()
	if b.countLines("restore: restored /data/litepaste.db") != 1 {
		t.Errorf("the restore step did not report a restore")
	}
	ok := checkServed(t, b.base, pastes)
	t.Logf("FIGURES scenario 2: %d pastes (%.1f MiB) uploaded; stop took %d ms; new container: restore step %d ms, ready %d ms after pid 1 started; %d/%d served byte for byte",
		len(pastes), float64(total)/(1<<20), took.Milliseconds(), restoreMS, ready.Milliseconds(), ok, len(pastes))
}

// Scenario 8: no replica configured: the server runs on its local file and
// the litestream service stays down instead of restarting in a loop.
func TestReplicationOff(t *testing.T) {
	ts := needTools(t)
	data := dataDir(t)
	c := startContainer(t, ts, "off", data)
	waitFor(t, 30*time.Second, "the litestream service down and not wanted up", func() bool {
		f := c.svstat("litestream", "up", "wantedup")
		return f[0] == "false" && f[1] == "false"
	})
	app := c.pid("litepaste")
	p := mustUpload(t, c.base, body("off", 1000))
	checkServed(t, c.base, []paste{p})
	if _, err := os.Stat(filepath.Join(data, "litepaste.db")); err != nil {
		t.Errorf("no local database: %v", err)
	}
	if n := c.countLines("litestream: DB_REPLICA_URL is not set"); n != 1 {
		t.Errorf("litestream service ran %d times, want once", n)
	}
	if got := c.pid("litepaste"); got != app {
		t.Errorf("the server restarted: pid %d, then %d", app, got)
	}
	if code, _, _ := c.stop(); code != "0" {
		t.Errorf("exit code %s, want 0", code)
	}

	again := startContainer(t, ts, "off-again", data)
	checkServed(t, again.base, []paste{p})
	t.Logf("FIGURES scenario 8: litestream service ran once and stays down; the paste survives a restart on the same volume")
}

// Scenario 3: kill -9 of the server: s6 restarts it, litestream keeps its
// pid, uploads work again.
func TestServerKilled(t *testing.T) {
	ts, s3, env := replicating(t, "killserver")
	c := startContainer(t, ts, "killserver", dataDir(t), env...)
	before := mustUpload(t, c.base, body("killserver-before", 500))

	// s6 waits a second before restarting a service that was not ready for
	// at least a second: the measure is of the normal case.
	c.upFor("litepaste", 1100*time.Millisecond, true)
	app, ls := c.pid("litepaste"), c.pid("litestream")
	t0 := time.Now()
	out := c.mustExec("sh", "-c", `t0=$(date +%s%N)
s6-svlisten1 -R -t 10000 /run/service/litepaste kill -9 `+itoa(app)+` || exit 1
echo $(( ($(date +%s%N) - t0) / 1000 ))`)
	waitFor(t, 30*time.Second, "the server answering again", func() bool {
		return httpStatus(c.base+"/healthz") == 200
	})
	httpBack := time.Since(t0)
	restartUS, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("restart time %q: %v", out, err)
	}

	if got := c.pid("litepaste"); got == app {
		t.Errorf("server pid %d unchanged after kill -9", got)
	}
	if got := c.pid("litestream"); got != ls {
		t.Errorf("litestream pid changed from %d to %d", ls, got)
	}
	b := body("killserver-after", 500)
	after := mustUpload(t, c.base, b)
	waitFor(t, 30*time.Second, "the new paste in the bucket", func() bool {
		return s3.hasMarker("killserver", markerOf(b))
	})
	checkServed(t, c.base, []paste{before, after})
	t.Logf("FIGURES scenario 3: server restarted and ready %.1f ms after kill -9 (s6); answering HTTP %d ms after the kill (seen from outside); litestream pid %d unchanged",
		float64(restartUS)/1000, httpBack.Milliseconds(), ls)
}

// Scenario 4: kill -9 of litestream: s6 restarts it, the server keeps its
// pid, and pastes written while it was down reach the bucket.
func TestLitestreamKilled(t *testing.T) {
	ts, s3, env := replicating(t, "killls")
	c := startContainer(t, ts, "killls", dataDir(t), env...)
	c.upFor("litestream", 1100*time.Millisecond, false)
	app, ls := c.pid("litepaste"), c.pid("litestream")

	type result struct {
		out string
		err error
	}
	restarted := make(chan result, 1)
	t0 := time.Now()
	go func() {
		out, err := c.exec("sh", "-c", `t0=$(date +%s%N)
s6-svlisten1 -r -t 20000 /run/service/litestream kill -9 `+itoa(ls)+` || exit 1
echo $(( ($(date +%s%N) - t0) / 1000000 ))`)
		restarted <- result{out, err}
	}()
	waitFor(t, 10*time.Second, "litestream down", func() bool {
		return c.svstat("litestream", "up")[0] == "false"
	})
	var pastes []paste
	for i := 0; i < 5; i++ {
		pastes = append(pastes, mustUpload(t, c.base, body(fmt.Sprintf("killls%d", i), 800)))
	}
	wrote := time.Since(t0)
	stillDown := c.svstat("litestream", "up")[0] == "false"
	r := <-restarted
	if r.err != nil {
		t.Fatalf("kill -9 litestream: %v: %s", r.err, r.out)
	}
	waitFor(t, 60*time.Second, "the pastes written meanwhile in the bucket", func() bool {
		for _, p := range pastes {
			if !s3.hasMarker("killls", markerOf(p.body)) {
				return false
			}
		}
		return true
	})
	inBucket := time.Since(t0)
	if got := c.pid("litestream"); got == ls {
		t.Errorf("litestream pid %d unchanged after kill -9", got)
	}
	if got := c.pid("litepaste"); got != app {
		t.Errorf("server pid changed from %d to %d", app, got)
	}
	checkServed(t, c.base, pastes)
	t.Logf("FIGURES scenario 4: litestream restarted %s ms after kill -9 (s6); %d pastes written within %d ms of the kill (litestream still down after them: %v); all in the bucket %d ms after the kill; server pid %d unchanged",
		r.out, len(pastes), wrote.Milliseconds(), stillDown, inBucket.Milliseconds(), app)
}

// Scenario 5: graceful stop (docker stop) during continuous uploads: every
// upload that got a 200 is in the replica afterwards.
func TestGracefulStopKeepsEveryAcknowledgedPaste(t *testing.T) {
	ts, s3, env := replicating(t, "graceful")
	c := startContainer(t, ts, "graceful", dataDir(t), env...)

	var (
		mu     sync.Mutex
		acked  []paste
		failed int
		done   = make(chan struct{})
		wg     sync.WaitGroup
	)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				p, err := upload(c.base, body(fmt.Sprintf("graceful%d-%d", g, i), 300+i%7*500))
				mu.Lock()
				if err == nil {
					acked = append(acked, p)
				} else {
					failed++
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(5 * time.Millisecond) // the server is going away: do not spin
				}
			}
		}()
	}
	waitFor(t, 60*time.Second, "200 acknowledged uploads", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 200
	})
	code, took, killed := c.stop()
	close(done)
	wg.Wait()
	if code != "0" || killed {
		t.Errorf("stop: exit code %s, SIGKILL needed: %v", code, killed)
	}

	db, restoreTook := restoreElsewhere(t, ts, s3, s3.replicaURL("graceful", "litepaste"))
	found := checkServed(t, serveFile(t, ts, db), acked)
	t.Logf("FIGURES scenario 5: %d uploads acknowledged (%d refused or cut during the stop); docker stop took %d ms (exit code %s); restored elsewhere in %d ms; %d of %d acknowledged pastes found",
		len(acked), failed, took.Milliseconds(), code, restoreTook.Milliseconds(), found, len(acked))
}

// Scenario 6: bucket unreachable at boot with a replica configured and no
// local database: the container exits non-zero before any service starts,
// and the bucket is left as it was.
func TestUnreachableBucketAtBoot(t *testing.T) {
	ts, s3, env := replicating(t, "unreachable")
	first := startContainer(t, ts, "before", dataDir(t), env...)
	p := mustUpload(t, first.base, body("unreachable", 1000))
	if code, _, _ := first.stop(); code != "0" {
		t.Fatalf("first container: exit code %s", code)
	}
	before := s3.objects("unreachable")
	s3.stop()

	data := dataDir(t)
	c := runContainer(t, ts, "unreachable", data, env...)
	code := c.wait(120 * time.Second)
	took := time.Since(c.started)
	if code == "0" {
		t.Errorf("exit code 0, want non-zero")
	}
	for _, started := range []string{"starting s6-rc longrun", "starting legacy longrun", `"msg":"listening"`} {
		if c.countLines(started) != 0 {
			t.Errorf("a service started (%q in the console)", started)
		}
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Errorf("the data directory is not empty: %v", entries)
	}
	s3.start()
	if after := s3.objects("unreachable"); !slices.Equal(before, after) {
		t.Errorf("the bucket changed:\nbefore %v\nafter  %v", before, after)
	}

	// Once the bucket is back, the same volume starts and has the paste.
	again := startContainer(t, ts, "reachable-again", data, env...)
	checkServed(t, again.base, []paste{p})
	t.Logf("FIGURES scenario 6: container exited with %s %d ms after start (litestream's S3 retries), no service started, bucket unchanged (%d objects); with the bucket back the same volume restores and serves the paste",
		code, took.Milliseconds(), len(before))
}

// Scenario 7: bucket unreachable for a while during operation: uploads keep
// succeeding, and once the bucket is back the replica catches up.
func TestBucketOutageDuringOperation(t *testing.T) {
	ts, s3, env := replicating(t, "outage")
	c := startContainer(t, ts, "outage", dataDir(t), env...)
	first := mustUpload(t, c.base, body("outage-before", 1000))
	waitFor(t, 30*time.Second, "the first paste in the bucket", func() bool {
		return s3.hasMarker("outage", markerOf(first.body))
	})

	s3.stop()
	down := time.Now()
	var during []paste
	for i := 0; i < 20; i++ {
		during = append(during, mustUpload(t, c.base, body(fmt.Sprintf("outage%d", i), 1500)))
	}
	// The bucket stays away until litestream has given up an upload (after
	// its S3 client's own retries) and backs off.
	waitFor(t, 60*time.Second, "litestream to report a failed upload", func() bool {
		return c.countLines(`msg="monitor error"`) >= 1
	})
	s3.start()
	outage := time.Since(down)
	caughtUp := waitFor(t, 120*time.Second, "the replica to catch up", func() bool {
		for _, p := range during {
			if !s3.hasMarker("outage", markerOf(p.body)) {
				return false
			}
		}
		return true
	})
	if code, _, _ := c.stop(); code != "0" {
		t.Errorf("stop: exit code %s", code)
	}
	db, _ := restoreElsewhere(t, ts, s3, s3.replicaURL("outage", "litepaste"))
	all := append([]paste{first}, during...)
	found := checkServed(t, serveFile(t, ts, db), all)
	t.Logf("FIGURES scenario 7: bucket down for %d ms; %d uploads acknowledged during the outage; replica caught up %d ms after the bucket came back; %d of %d pastes restored elsewhere",
		outage.Milliseconds(), len(during), caughtUp.Milliseconds(), found, len(all))
}
