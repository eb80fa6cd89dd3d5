package system_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/litepaste/litepaste/test/kit"
)

// testFollowInterval is FOLLOW_INTERVAL in these tests (the shipped default
// is far longer: docs/replicas.md, "What a replica costs").
const testFollowInterval = time.Second

// cluster is one writer and its read replicas on one bucket, each a
// container of the tree on loopback.
type cluster struct {
	t      *testing.T
	ts     *toolset
	s3     *s3Server
	bucket string
	url    string
	port   int    // the writer's, kept across its restarts
	data   string // the writer's volume
	writer *container
	runs   int
}

// newCluster starts a bucket and a writer on it, and waits until it is ready.
func newCluster(t *testing.T, ts *toolset, bucket string) *cluster {
	t.Helper()
	s3 := startS3(t, ts)
	cl := &cluster{t: t, ts: ts, s3: s3, bucket: bucket, url: s3.bucket(bucket), port: kit.FreePort(t), data: dataDir(t)}
	cl.startWriter().waitReady()
	// A new writer is ready before its first snapshot is uploaded; a replica
	// started earlier would find the bucket empty and retry a second later.
	waitFor(t, 30*time.Second, "the writer's first snapshot in the bucket", func() bool {
		m, _ := filepath.Glob(filepath.Join(s3.root, bucket, "litepaste", "0009", "*.ltx"))
		return len(m) > 0
	})
	return cl
}

// startWriter runs the writer (again) on its port and volume, without
// waiting. It trusts the replicas (loopback) as proxies.
func (cl *cluster) startWriter() *container {
	cl.t.Helper()
	cl.runs++
	cl.writer = runContainerOn(cl.t, cl.ts, fmt.Sprintf("writer%d", cl.runs), cl.data, cl.port, nil, nil,
		append(replicaEnv(cl.s3, cl.url), "TRUSTED_PROXIES=127.0.0.1/32")...)
	return cl.writer
}

func (cl *cluster) primaryURL() string { return fmt.Sprintf("http://127.0.0.1:%d", cl.port) }

// replica runs a read replica of the writer over data with the tests'
// FOLLOW_INTERVAL, without waiting.
func (cl *cluster) replica(name, data string) *container {
	cl.t.Helper()
	return cl.replicaWith(name, data, "FOLLOW_INTERVAL="+testFollowInterval.String())
}

// replicaWith is replica with only the given settings besides the bucket's
// and PRIMARY_URL.
func (cl *cluster) replicaWith(name, data string, env ...string) *container {
	cl.t.Helper()
	return runContainer(cl.t, cl.ts, name, data, append(append(replicaEnv(cl.s3, cl.url), "PRIMARY_URL="+cl.primaryURL()), env...)...)
}

// copyHolds reports whether the replica's own copy (the follower's file in
// its volume) holds every one of pastes. It reads the file as a SQLite
// reader would, under a shared lock (so never half-way through the
// follower's update of it), into a private file it then queries.
func (c *container) copyHolds(pastes ...paste) bool {
	c.t.Helper()
	snap, err := snapshotCopy(filepath.Join(c.data, "litepaste.db"), c.t.TempDir())
	if err != nil {
		return false
	}
	defer os.Remove(snap)
	db, err := sql.Open("sqlite3", "file:"+snap+"?mode=ro&immutable=1")
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	for _, p := range pastes {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM pastes WHERE instr(head, ?) = 1`, markerOf(p.body)).Scan(&n)
		if err != nil || n != 1 {
			return false
		}
	}
	return true
}

// SQLite's lock bytes (its os_unix.c): a reader holds a read lock on the
// whole shared range, taken while it holds one on the pending byte.
const (
	sqlitePendingByte  = 0x40000000
	sqliteSharedFirst  = sqlitePendingByte + 2
	sqliteSharedLength = 510
)

// snapshotCopy copies the database file at path into dir under SQLite's
// shared lock and returns the copy ("" and an error if it cannot, such as
// while the follower holds its exclusive lock or before it restored).
func snapshotCopy(path, dir string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	lock := func(typ int16, start, n int64) error {
		return syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &syscall.Flock_t{Type: typ, Whence: io.SeekStart, Start: start, Len: n})
	}
	if err := lock(syscall.F_RDLCK, sqlitePendingByte, 1); err != nil {
		return "", err
	}
	err = lock(syscall.F_RDLCK, sqliteSharedFirst, sqliteSharedLength)
	_ = lock(syscall.F_UNLCK, sqlitePendingByte, 1)
	if err != nil {
		return "", err
	}
	defer func() { _ = lock(syscall.F_UNLCK, sqliteSharedFirst, sqliteSharedLength) }()
	out, err := os.CreateTemp(dir, "copy-*.db")
	if err != nil {
		return "", err
	}
	defer out.Close()
	if _, err := io.Copy(out, f); err != nil {
		return "", err
	}
	return out.Name(), out.Close()
}

// waitAllReady waits until every one of cs answers /readyz with 200 and
// returns, for each, how long after its launch that was, as a FIGURES text.
func waitAllReady(t *testing.T, cs ...*container) []string {
	t.Helper()
	at := make([]time.Time, len(cs))
	waitFor(t, 60*time.Second, "the replicas ready", func() bool {
		all := true
		for i, c := range cs {
			if !at[i].IsZero() {
				continue
			}
			if c.exited() {
				t.Fatalf("container %s exited with %s before it was ready", c.name, c.exitCode())
			}
			if httpStatus(c.base+"/readyz") == http.StatusOK {
				at[i] = time.Now()
			} else {
				all = false
			}
		}
		return all
	})
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%d ms after its launch (%d ms of them the harness setting up the container before its pid 1 ran)",
			at[i].Sub(c.launched).Milliseconds(), c.started.Sub(c.launched).Milliseconds())
	}
	return out
}

func millis(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	return fmt.Sprintf("min %d ms, median %d ms, max %d ms", s[0].Milliseconds(), s[len(s)/2].Milliseconds(), s[len(s)-1].Milliseconds())
}

// Replica scenario 1, and 3: an upload through replica A is readable
// through replica B at once (B passes the number it has not seen to the
// writer) and from B's own copy within the follow interval, byte for byte; a
// paste deleted through the writer answers 404 on both replicas within the
// follow interval plus the writer's one-second sync; with the writer
// stopped, both serve everything from their copies.
func TestReplicasServeUploadsAtOnceAndFromTheirCopies(t *testing.T) {
	ts := needTools(t)
	t.Parallel()
	cl := newCluster(t, ts, "replicas")
	metricsB := fmt.Sprintf("127.0.0.1:%d", kit.FreePort(t))
	a := cl.replica("a", dataDir(t))
	b := cl.replicaWith("b", dataDir(t), "FOLLOW_INTERVAL="+testFollowInterval.String(), "METRICS_ADDR="+metricsB)
	ready := waitAllReady(t, a, b)
	forwardedByB := func() float64 {
		m, err := scrape("http://" + metricsB + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		return sum(m, `litepaste_forwarded_requests_total{kind="read"`)
	}

	var pastes []paste
	var tokens []string
	var lags []time.Duration
	for i := 0; i < 8; i++ {
		// a random phase against the follower's 1 s cycle, for a fair sample
		time.Sleep(time.Duration(rand.Int64N(int64(testFollowInterval))))
		bd := body(fmt.Sprintf("replicas%d", i), 500+i*3000)
		req, _ := http.NewRequest(http.MethodPut, a.base+"/", bytes.NewReader(bd))
		p, token, err := doUpload(req, bd)
		if err != nil {
			t.Fatalf("upload through replica A: %v", err)
		}
		acked := time.Now()
		before := forwardedByB()
		checkServed(t, b.base, []paste{p}) // at once: B has not seen it yet
		if forwardedByB() != before+1 {
			t.Errorf("replica B served a paste its copy lacks without passing the read to the writer")
		}
		waitFor(t, 30*time.Second, "the paste in B's copy", func() bool { return b.copyHolds(p) })
		lags = append(lags, time.Since(acked))
		// and from its copy now, without the writer
		before = forwardedByB()
		checkServed(t, b.base, []paste{p})
		if forwardedByB() != before {
			t.Errorf("replica B passed a read of a paste in its own copy to the writer")
		}
		pastes, tokens = append(pastes, p), append(tokens, token)
	}

	// Deletion: through the writer, then 404 on both replicas.
	bound := testFollowInterval + 2*time.Second // follow interval + the writer's sync interval + 1 s
	deletePaste(t, cl.writer.base, pastes[0].id, tokens[0])
	gone := waitFor(t, 30*time.Second, "404 for the deleted paste on both replicas", func() bool {
		_, foundA, errA := fetch(a.base, pastes[0].id)
		_, foundB, errB := fetch(b.base, pastes[0].id)
		return errA == nil && errB == nil && !foundA && !foundB
	})
	if gone > bound {
		t.Errorf("the deleted paste was served by a replica for %d ms, more than the %d ms bound", gone.Milliseconds(), bound.Milliseconds())
	}

	// Without the writer, each replica serves from its own copy.
	kept := pastes[1:]
	waitFor(t, 30*time.Second, "every paste in A's copy", func() bool { return a.copyHolds(kept...) })
	if code, _, _ := cl.writer.stop(); code != "0" {
		t.Errorf("writer stop: exit code %s", code)
	}
	okA, okB := checkServed(t, a.base, kept), checkServed(t, b.base, kept)
	t.Logf("FIGURES replicas scenario 1: replicas on empty disks ready %s and %s; lag from the writer's 200 (through replica A) to the paste in replica B's own copy over %d uploads (FOLLOW_INTERVAL %s): %s; B served each at once through the number check (one read passed to the writer each) and then from its copy (none passed); with the writer stopped A served %d/%d and B %d/%d from their copies",
		ready[0], ready[1], len(lags), testFollowInterval, millis(lags), okA, len(kept), okB, len(kept))
	t.Logf("FIGURES replicas scenario 3: a paste deleted through the writer answered 404 on both replicas %d ms after the writer's 204 (bound %d ms)",
		gone.Milliseconds(), bound.Milliseconds())
}

// restartLoad is the traffic of scenario 2: readers of existing pastes and
// uploaders through the replicas, each result stamped with its time.
type restartLoad struct {
	mu      sync.Mutex
	gets    []stamped // every GET of an existing paste
	uploads []stamped // every upload attempt
	acked   []paste
	stop    chan struct{}
	wg      sync.WaitGroup
}

type stamped struct {
	start, end time.Time
	status     int // 0: no answer
	detail     string
}

func startRestartLoad(replicas []*container, existing []paste) *restartLoad {
	l := &restartLoad{stop: make(chan struct{})}
	for g := 0; g < 4; g++ {
		l.run(10*time.Millisecond, func(i int) { // a steady reader, not a flood
			p := existing[rand.IntN(len(existing))]
			s := stamped{start: time.Now()}
			got, found, err := fetch(replicas[(g+i)%len(replicas)].base, p.id)
			s.end = time.Now()
			switch {
			case err != nil:
				s.detail = err.Error()
			case !found:
				s.status, s.detail = http.StatusNotFound, p.id
			case !bytes.Equal(got, p.body):
				s.status, s.detail = http.StatusOK, "different bytes for "+p.id
			default:
				s.status = http.StatusOK
			}
			l.mu.Lock()
			l.gets = append(l.gets, s)
			l.mu.Unlock()
		})
		l.run(50*time.Millisecond, func(i int) {
			s := stamped{start: time.Now()}
			p, err := upload(replicas[(g+i)%len(replicas)].base, body(fmt.Sprintf("restart%d-%d", g, i), 200+i%5*900))
			s.end = time.Now()
			s.status = http.StatusOK
			if err != nil {
				s.status, s.detail = 0, err.Error()
			}
			l.mu.Lock()
			l.uploads = append(l.uploads, s)
			if err == nil {
				l.acked = append(l.acked, p)
			}
			l.mu.Unlock()
		})
	}
	return l
}

// run calls fn(0), fn(1), ... with a pause after each, until end.
func (l *restartLoad) run(pause time.Duration, fn func(i int)) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for i := 0; ; i++ {
			select {
			case <-l.stop:
				return
			default:
			}
			fn(i)
			time.Sleep(pause)
		}
	}()
}

func (l *restartLoad) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func (l *restartLoad) end() {
	close(l.stop)
	l.wg.Wait()
}

// during returns the results of requests that overlapped [from, to].
func during(all []stamped, from, to time.Time) (ok int, failed []stamped) {
	for _, s := range all {
		if s.end.Before(from) || s.start.After(to) {
			continue
		}
		if s.status == http.StatusOK && s.detail == "" {
			ok++
		} else {
			failed = append(failed, s)
		}
	}
	return ok, failed
}

// Replica scenario 2: the writer is stopped with SIGTERM and, in a second
// run, killed with kill -9, and started again, while clients keep reading
// existing pastes and uploading through the replicas: every GET answers 200
// throughout, every upload during a restart of up to 2 s is acknowledged,
// and every acknowledged upload is there afterwards.
func TestWriterRestartBehindReplicas(t *testing.T) {
	ts := needTools(t)
	t.Parallel()
	cl := newCluster(t, ts, "restart")
	a, b := cl.replica("a", dataDir(t)), cl.replica("b", dataDir(t))
	a.waitReady()
	b.waitReady()
	var existing []paste
	for i := 0; i < 20; i++ {
		existing = append(existing, mustUpload(t, cl.writer.base, body(fmt.Sprintf("existing%d", i), 300+i*400)))
	}
	waitFor(t, 30*time.Second, "the existing pastes in both copies", func() bool {
		return a.copyHolds(existing...) && b.copyHolds(existing...)
	})

	replicas := []*container{a, b}
	var figures []string
	var allAcked []paste
	for _, mode := range []string{"SIGTERM", "kill -9"} {
		load := startRestartLoad(replicas, existing)
		before := load.ackedCount()
		waitFor(t, 30*time.Second, "uploads acknowledged before the restart", func() bool { return load.ackedCount() >= before+5 })
		down := time.Now()
		if mode == "SIGTERM" {
			if code, _, killed := cl.writer.stop(); code != "0" || killed {
				t.Errorf("writer stop: exit code %s, SIGKILL needed: %v", code, killed)
			}
		} else {
			cl.writer.kill()
		}
		stopped := time.Since(down)
		cl.startWriter().waitReady()
		up := time.Now()
		restart := up.Sub(down)
		mid := load.ackedCount()
		waitFor(t, 30*time.Second, "uploads acknowledged after the restart", func() bool { return load.ackedCount() >= mid+5 })
		load.end()

		getsOK, getsFailed := during(load.gets, down, up)
		upsOK, upsFailed := during(load.uploads, down, up)
		for _, f := range getsFailed {
			t.Errorf("%s: a GET of an existing paste during the restart: status %d %s", mode, f.status, f.detail)
		}
		if restart <= 2*time.Second {
			for _, f := range upsFailed {
				t.Errorf("%s: an upload during a %d ms restart failed: %s", mode, restart.Milliseconds(), f.detail)
			}
		}
		for _, f := range upsFailed {
			if !strings.Contains(f.detail, "503") {
				t.Errorf("%s: an upload failed otherwise than with 503 (the writer unreachable past WRITE_RETRY): %s", mode, f.detail)
			}
		}
		allAcked = append(allAcked, load.acked...)
		figures = append(figures, fmt.Sprintf("%s: writer down %d ms (stop %d ms, then start to ready); GETs of existing pastes during it %d/%d answered 200 (%.1f%%); uploads during it %d acknowledged, %d refused",
			mode, restart.Milliseconds(), stopped.Milliseconds(), getsOK, getsOK+len(getsFailed), 100*float64(getsOK)/float64(max(1, getsOK+len(getsFailed))), upsOK, len(upsFailed)))
	}

	// No upload acknowledged and then missing: on the writer and in both copies.
	found := checkServed(t, cl.writer.base, allAcked)
	waitFor(t, 60*time.Second, "every acknowledged upload in both copies", func() bool {
		return a.copyHolds(allAcked...) && b.copyHolds(allAcked...)
	})
	t.Logf("FIGURES replicas scenario 2: %s; %d/%d acknowledged uploads on the writer afterwards and all in both replicas' copies",
		strings.Join(figures, "; "), found, len(allAcked))
}

// Replica scenario 4: a replica killed and started again on its disk
// resumes its copy (from DB_PATH-txid, not a new restore), catches up with
// what was written meanwhile and serves it; a replica started on an empty
// disk while the writer is down serves what the bucket holds.
func TestReplicaRestartsAndStartsWithoutWriter(t *testing.T) {
	ts := needTools(t)
	t.Parallel()
	cl := newCluster(t, ts, "rejoin")
	dataA := dataDir(t)
	a := cl.replica("a", dataA)
	a.waitReady()
	first := mustUpload(t, cl.writer.base, body("rejoin-first", 2000))
	waitFor(t, 30*time.Second, "the first paste in A's copy", func() bool { return a.copyHolds(first) })

	a.kill()
	var meanwhile []paste
	for i := 0; i < 5; i++ {
		meanwhile = append(meanwhile, mustUpload(t, cl.writer.base, body(fmt.Sprintf("rejoin%d", i), 1500)))
	}
	a2 := cl.replica("a-again", dataA)
	readyAgain := waitAllReady(t, a2)[0]
	caughtUp := waitFor(t, 30*time.Second, "the pastes written meanwhile in A's copy", func() bool { return a2.copyHolds(meanwhile...) })
	if a2.countLines("restore: read replica: keeping the copy") != 1 || a2.countLines("resuming follow mode") < 1 {
		t.Errorf("the restarted replica did not resume its copy from its -txid file")
	}
	all := append([]paste{first}, meanwhile...)
	checkServed(t, a2.base, all)

	// The follower and the server restart independently under s6: kill -9
	// of either leaves the other's pid, and the follower resumes its copy.
	a2.upFor("litestream", 1100*time.Millisecond, false)
	follower, server := a2.pid("litestream"), a2.pid("litepaste")
	a2.mustExec("kill", "-9", itoa(follower))
	waitFor(t, 30*time.Second, "the follower restarted", func() bool {
		f := a2.svstat("litestream", "up", "pid")
		return f[0] == "true" && f[1] != itoa(follower)
	})
	if got := a2.pid("litepaste"); got != server {
		t.Errorf("the server's pid changed from %d to %d when the follower was killed", server, got)
	}
	afterKill := mustUpload(t, cl.writer.base, body("rejoin-after-kill", 1000))
	waitFor(t, 30*time.Second, "a paste in A's copy after its follower was killed", func() bool { return a2.copyHolds(afterKill) })
	if a2.countLines("resuming follow mode") < 2 {
		t.Errorf("the restarted follower did not resume its copy")
	}
	a2.upFor("litepaste", 1100*time.Millisecond, true)
	follower = a2.pid("litestream")
	a2.mustExec("kill", "-9", itoa(server))
	waitFor(t, 30*time.Second, "the server restarted", func() bool {
		f := a2.svstat("litepaste", "up", "pid")
		return f[0] == "true" && f[1] != itoa(server)
	})
	waitAllReady(t, a2)
	if got := a2.pid("litestream"); got != follower {
		t.Errorf("the follower's pid changed from %d to %d when the server was killed", follower, got)
	}
	all = append(all, afterKill)
	checkServed(t, a2.base, all)

	// A copy last changed more than 6 hours ago is restored afresh: the
	// bucket may have dropped the files the follower would need to resume.
	a2.kill()
	old := time.Now().Add(-7 * time.Hour)
	if err := os.Chtimes(filepath.Join(dataA, "litepaste.db-txid"), old, old); err != nil {
		t.Fatal(err)
	}
	a3 := cl.replica("a-stale", dataA)
	waitAllReady(t, a3)
	if a3.countLines("last changed more than 6 hours ago: restoring it afresh") != 1 || a3.countLines("resuming follow mode") != 0 {
		t.Errorf("a replica whose copy last changed 7 hours ago resumed it instead of restoring afresh")
	}
	if !a3.copyHolds(all...) {
		t.Errorf("the copy restored afresh lacks pastes of the bucket")
	}
	a2 = a3

	if code, _, _ := cl.writer.stop(); code != "0" {
		t.Errorf("writer stop: exit code %s", code)
	}
	// C runs with the shipped FOLLOW_INTERVAL, which the image's entrypoint
	// hands to the follower.
	c := cl.replicaWith("c", dataDir(t))
	readyC := waitAllReady(t, c)[0]
	if shipped := shippedFollowInterval(t, ts); c.countLines(`msg="entering follow mode"`) != 1 || c.countLines("interval="+shipped.String()) != 1 {
		t.Errorf("replica C's follower does not follow every %s, the shipped FOLLOW_INTERVAL", shipped)
	}
	if !c.copyHolds(all...) {
		t.Errorf("replica C, started while the writer was down, is ready without every paste of the bucket in its copy")
	}
	okC := checkServed(t, c.base, all)
	okA := checkServed(t, a2.base, all)

	// A new database in the bucket (bucket and writer volume wiped): A's
	// copy is newer than anything there, and its follower would refuse to
	// resume it; the copy goes and the new database is restored.
	a2.kill()
	if err := os.RemoveAll(filepath.Join(cl.s3.root, cl.bucket, "litepaste")); err != nil {
		t.Fatal(err)
	}
	cl.data = dataDir(t)
	cl.startWriter().waitReady()
	fresh := mustUpload(t, cl.writer.base, body("rejoin-new-database", 1000))
	waitFor(t, 30*time.Second, "the new paste in the bucket", func() bool { return cl.s3.hasMarker(cl.bucket, markerOf(fresh.body)) })
	a4 := cl.replica("a-new-database", dataA)
	waitFor(t, 60*time.Second, "the new database in A's copy", func() bool { return a4.copyHolds(fresh) })
	if a4.copyHolds(first) || a4.countLines("which holds another database now: restoring that") != 1 {
		t.Errorf("the replica kept its copy of the old database")
	}
	waitAllReady(t, a4)
	checkServed(t, a4.base, []paste{fresh})
	t.Logf("FIGURES replicas scenario 4: a replica killed (kill -9 of its pid 1) and started again on its disk was ready %s and had the %d pastes written meanwhile %d ms later (resumed from its -txid file); kill -9 of its follower, then of its server: each restarted alone by s6, the other's pid unchanged, the follower resuming; with the writer down, a replica on an empty disk was ready %s and served %d/%d (the other %d/%d)",
		readyAgain, len(meanwhile), caughtUp.Milliseconds(), readyC, okC, len(all), okA, len(all))
}

// A replica started before its bucket holds anything, and while the bucket
// is unreachable, is not ready; its follower fails and s6 runs it again,
// each retry after twice the wait of the one before (up to 30 s), so the
// log grows by a few lines, not one a second; once the bucket is back and a
// writer has filled it, the replica becomes ready and serves.
func TestReplicaWaitsForItsBucket(t *testing.T) {
	ts := needTools(t)
	t.Parallel()
	s3 := startS3(t, ts)
	cl := &cluster{t: t, ts: ts, s3: s3, bucket: "later", url: s3.bucket("later"), port: kit.FreePort(t), data: dataDir(t)}
	r := cl.replica("early", dataDir(t))
	t0 := time.Now()
	waitFor(t, 60*time.Second, "the follower to fail three times on the empty bucket", func() bool {
		return r.countLines("litestream: follower failed 3 time(s) in a row") == 1
	})
	if code := httpStatus(r.base + "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with no copy yet: %d, want 503", code)
	}
	s3.stop()
	waitFor(t, 90*time.Second, "a failure on the unreachable bucket", func() bool {
		return r.countLines("litestream: follower failed 5 time(s) in a row") == 1
	})
	if code := httpStatus(r.base + "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the bucket unreachable: %d, want 503", code)
	}
	if f := r.svstat("litestream", "wantedup"); f[0] != "true" {
		t.Errorf("the follower is not wanted up any more: %v", f)
	}
	s3.start()
	cl.startWriter().waitReady()
	p := mustUpload(t, cl.writer.base, body("later", 1000))
	ready := waitAllReady(t, r)[0]
	waitFor(t, 60*time.Second, "the paste in the late replica's copy", func() bool { return r.copyHolds(p) })
	checkServed(t, r.base, []paste{p})
	elapsed := time.Since(t0)
	attempts := r.countLines("Error: ")
	// 1+2+4+8+16 s, then one attempt every 30 s
	if most := 6 + int(elapsed/(30*time.Second)); attempts > most {
		t.Errorf("the follower failed %d times in %s: more than the %d its backoff allows", attempts, elapsed.Round(time.Second), most)
	}
	t.Logf("FIGURES replica without its bucket: %d failed follower starts in %s (empty, then unreachable, bucket), each logged on one line with its retry; ready %s, once the bucket was back and had a writer",
		attempts, elapsed.Round(time.Second), ready)
}
