package system_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The restore step's guard: an empty database left beside a -wal, a -shm and
// a litestream metadata directory from another life must not be replayed
// onto the restored file (SQLite would apply the foreign WAL to it).
func TestRestoreClearsStaleSidecars(t *testing.T) {
	ts, _, env := replicating(t, "stale")
	a := startContainer(t, ts, "a", dataDir(t), env...)
	var pastes []paste
	for i := 0; i < 30; i++ {
		pastes = append(pastes, mustUpload(t, a.base, body(fmt.Sprintf("stale-good%d", i), 3000)))
	}
	if code, _, _ := a.stop(); code != "0" {
		t.Fatalf("first container: exit code %s", code)
	}

	// A WAL with frames of another database: a server that crashed before
	// any checkpoint.
	other := filepath.Join(t.TempDir(), "other.db")
	base, kill := hostServer(t, ts, other)
	stale := mustUpload(t, base, body("stale-foreign", 3000))
	kill()
	if fi, err := os.Stat(other + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("no stale WAL to plant: %v", err)
	}

	data := dataDir(t)
	db := filepath.Join(data, "litepaste.db")
	for _, s := range [][]string{
		{"cp", other + "-wal", db + "-wal"},
		{"cp", other + "-shm", db + "-shm"},
		{"touch", db},
		{"mkdir", "-p", filepath.Join(data, ".litepaste.db-litestream", "ltx", "0")},
		{"touch", filepath.Join(data, ".litepaste.db-litestream", "ltx", "0", "0000000000000042-0000000000000042.ltx")},
		{"chown", "-R", imageUser, data},
	} {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", s, err, out)
		}
	}

	b := startContainer(t, ts, "b", data, env...)
	ok := checkServed(t, b.base, pastes)
	if _, found, err := fetch(b.base, stale.id); err != nil || found {
		t.Errorf("the paste of the foreign WAL is served (found %v, err %v)", found, err)
	}
	t.Logf("FIGURES guard: 0-byte database with a foreign -wal/-shm and a stale metadata directory: %d/%d pastes restored, foreign paste absent", ok, len(pastes))
}

// docker stop while the bucket is unreachable: the final uploads give up in
// time, the stop fits in docker stop's 10 s without SIGKILL, and the paste
// reaches the bucket when the same volume starts again with the bucket back.
func TestStopWithBucketUnreachable(t *testing.T) {
	ts, s3, env := replicating(t, "stopdown")
	data := dataDir(t)
	c := startContainer(t, ts, "stopdown", data, env...)
	s3.stop()
	p := mustUpload(t, c.base, body("stopdown", 1000))
	code, took, killed := c.stop()
	if killed {
		t.Errorf("the stop needed SIGKILL after %d ms", took.Milliseconds())
	}

	s3.start()
	again := startContainer(t, ts, "stopdown-again", data, env...)
	caughtUp := waitFor(t, 60*time.Second, "the paste in the bucket", func() bool {
		return s3.hasMarker("stopdown", markerOf(p.body))
	})
	checkServed(t, again.base, []paste{p})
	t.Logf("FIGURES stop with the bucket unreachable: took %d ms (exit code %s, SIGKILL needed: %v); on the next start with the bucket back the paste was in the bucket %d ms after ready",
		took.Milliseconds(), code, killed, caughtUp.Milliseconds())
}

// litestream ignores unknown keys and typos: check that the shipped
// litestream.yml and the environment take effect, as litestream reports them.
func TestLitestreamSettingsFromEnvironment(t *testing.T) {
	ts := needTools(t)
	s3 := startS3(t, ts)
	s3.bucket("settings")
	c := startContainer(t, ts, "settings", dataDir(t), append(s3.credentials(),
		"DB_REPLICA_URL=s3://settings/litepaste",
		"LITESTREAM_ENDPOINT=http://"+s3.addr,
		"LITESTREAM_REGION=us-east-1",
		"DB_SYNC_INTERVAL=2s")...)
	timer := func(path string) string { return shippedTimer(t, ts, path).String() }
	b := body("settings", 500)
	mustUpload(t, c.base, b)
	waitFor(t, 30*time.Second, "the paste in the bucket", func() bool {
		return s3.hasMarker("settings", markerOf(b))
	})
	reports := []string{
		`msg="replicating to" type=s3 sync-interval=2s bucket=settings path=litepaste region=us-east-1 endpoint=http://` + s3.addr,
		`msg="serving metrics on" url=http://127.0.0.1:9090/metrics`,
		`msg="control socket listening" system=server path=/run/litestream.sock`,
		// the timers of litestream.yml, each as litestream read it
		`msg="starting compaction monitor" system=store level=1 interval=` + timer("levels[0].interval"),
		`msg="starting compaction monitor" system=store level=9 interval=` + timer("snapshot.interval"),
		`msg="starting L0 retention monitor" system=store interval=` + timer("l0-retention-check-interval") + ` retention=` + timer("l0-retention"),
	}
	for _, want := range reports {
		if c.countLines(want) != 1 {
			t.Errorf("litestream did not report %q", want)
		}
	}
	// reported only when the retention is the shorter, by the restore step too
	if shippedTimer(t, ts, "snapshot.retention") < shippedTimer(t, ts, "snapshot.interval") {
		want := `msg="snapshot retention is shorter than snapshot interval" field=snapshot.retention retention=` + timer("snapshot.retention") + ` interval=` + timer("snapshot.interval")
		if c.countLines(want) == 0 {
			t.Errorf("litestream did not report %q", want)
		}
	}
	_, _, timers := scaledLitestream(t, ts, 1, 0)
	want := 1 // the snapshots
	for p := range timers {
		if strings.HasPrefix(p, "levels[") {
			want++
		}
	}
	if n := c.countLines(`msg="starting compaction monitor"`); n != want {
		t.Errorf("litestream started %d compaction monitors, want %d (one a level and the snapshots)", n, want)
	}
}
