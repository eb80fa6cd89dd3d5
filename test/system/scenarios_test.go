package system_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// replicaEnv is the environment that turns replication on for url.
func replicaEnv(s3 *s3Server, url string) []string {
	return append(s3.credentials(), "DB_REPLICA_URL="+url)
}

// markerOf is the random marker at the start of a body made by body().
func markerOf(b []byte) []byte {
	i := strings.IndexByte(string(b), '\r')
	return b[:i]
}

// Scenario 1: empty bucket, first start: the server serves and an upload
// reaches the bucket within a few seconds.
func TestFirstStartOnEmptyBucket(t *testing.T) {
	ts := needTools(t)
	s3 := startS3(t, ts)
	url := s3.bucket("first")
	c := runContainer(t, ts, "first", dataDir(t), replicaEnv(s3, url)...)
	ready := c.waitReady()
	if c.countLines("restore: the replica is empty") != 1 {
		t.Errorf("the restore step did not report an empty replica")
	}

	b := body("first", 4000)
	p := mustUpload(t, c.base, b)
	lag := waitFor(t, 30*time.Second, "the paste in the bucket", func() bool {
		return s3.contains("first", markerOf(b))
	})
	checkServed(t, c.base, []paste{p})
	t.Logf("FIGURES scenario 1: ready %d ms after pid 1 started; upload in the bucket %d ms after its 200",
		ready.Milliseconds(), lag.Milliseconds())
}

// Scenario 2: stop, delete the whole data directory, start a new container
// on the same bucket: every paste is served, byte for byte.
func TestTeardownAndRedeploy(t *testing.T) {
	ts := needTools(t)
	s3 := startS3(t, ts)
	url := s3.bucket("redeploy")
	env := replicaEnv(s3, url)

	dataA := dataDir(t)
	a := startContainer(t, ts, "a", dataA, env...)
	sizes := []int{10, 200, 4096, 70000, 1 << 20}
	var pastes []paste
	total := 0
	for i := 0; i < 40; i++ {
		p := mustUpload(t, a.base, body(fmt.Sprintf("redeploy%d", i), sizes[i%len(sizes)]))
		pastes = append(pastes, p)
		total += len(p.body)
	}
	code, took, killed := a.stop()
	if code != "0" || killed {
		t.Errorf("stop of the first container: exit code %s, SIGKILL needed: %v", code, killed)
	}
	if err := os.RemoveAll(dataA); err != nil {
		t.Fatal(err)
	}

	b := runContainer(t, ts, "b", dataDir(t), env...)
	ready := b.waitReady()
	restoreMS, err := b.contInitMillis("10-restore")
	if err != nil {
		t.Error(err)
	}
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
