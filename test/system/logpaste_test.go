package system_test

import (
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/litepaste/litepaste/test/kit"
	_ "github.com/mattn/go-sqlite3"
)

// logpasteEntry is one row of LogPaste's table.
type logpasteEntry struct {
	id, created string
	contents    []byte
}

// logpasteEntries makes n rows as LogPaste stored them: 8-character IDs,
// RFC 3339 times in the server's zone (offsets), text and binary contents
// (NUL, invalid UTF-8) and, with big, one of 2 MiB.
func logpasteEntries(n int, big bool) []logpasteEntry {
	r := rand.New(rand.NewPCG(13, uint64(n)))
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	zones := []*time.Location{time.UTC, time.FixedZone("", 2*3600), time.FixedZone("", -7*3600), time.FixedZone("", 5*3600+1800)}
	seen := map[string]bool{}
	var out []logpasteEntry
	for i := 0; i < n; i++ {
		id := make([]byte, 8)
		for j := range id {
			id[j] = alnum[r.IntN(len(alnum))]
		}
		if seen[string(id)] {
			i--
			continue
		}
		seen[string(id)] = true
		at := time.Date(2021+i%4, time.Month(1+i%12), 1+i%28, i%24, i%60, i%60, 0, zones[i%len(zones)])
		var c []byte
		switch {
		case big && i == n/2:
			c = make([]byte, 2<<20)
			for j := range c {
				c[j] = byte(r.Uint32())
			}
		case i%4 == 1:
			c = []byte(fmt.Sprintf("bin %d \x00\xff\xfe\xc3\x28 \xf0\x28\x8c\xbc\x00", i))
			for j := 0; j < 100+r.IntN(4000); j++ {
				c = append(c, byte(r.Uint32()))
			}
		default:
			var b strings.Builder
			for j := 0; j < 1+r.IntN(200); j++ {
				fmt.Fprintf(&b, "%s INFO worker %d: step %d ünïcödé ✓\n", at.Format(time.RFC3339), i, j)
			}
			c = []byte(b.String())
		}
		out = append(out, logpasteEntry{id: string(id), created: at.Format(time.RFC3339), contents: c})
	}
	return out
}

// openLogPasteDB creates LogPaste's database: its one table, WAL, user_version 1.
func openLogPasteDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		"PRAGMA journal_mode=WAL",
		"CREATE TABLE IF NOT EXISTS entries (id TEXT PRIMARY KEY, creation_time TEXT, contents TEXT)",
		"PRAGMA user_version=1",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db
}

// insertEntries stores rows as LogPaste did: contents bound as TEXT, bytes as they came.
func insertEntries(t *testing.T, db *sql.DB, rows []logpasteEntry) {
	t.Helper()
	for _, e := range rows {
		if _, err := db.Exec("INSERT INTO entries (id, creation_time, contents) VALUES (?, ?, ?)", e.id, e.created, string(e.contents)); err != nil {
			t.Fatalf("insert %s: %v", e.id, err)
		}
	}
}

// v3Bucket is what Litestream v0.3 left in a bucket.
type v3Bucket struct {
	snapshots, walSegments int
	bytes                  int64
	took                   time.Duration
}

// writeLogPasteBucket runs LogPaste's replication for real: its database at
// /app/data/store.db's name, Litestream v0.3 replicating it with LogPaste's
// config (plus the endpoint of the test S3 server) while rows arrive, then
// a stop (v0.3 syncs on SIGTERM). The local files are then gone, as after a
// teardown: only the bucket at path "litepaste" remains.
func writeLogPasteBucket(t *testing.T, ts *toolset, s3 *s3Server, bucket string, rows []logpasteEntry) v3Bucket {
	t.Helper()
	t0 := time.Now()
	if err := os.Mkdir(filepath.Join(s3.root, bucket), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "store.db")
	db := openLogPasteDB(t, dbPath)
	half := len(rows) / 2
	insertEntries(t, db, rows[:half])

	cfg := filepath.Join(dir, "litestream.yml")
	// LogPaste's litestream.yml, with the S3 server's endpoint added.
	yml := `access-key-id: ${LITESTREAM_ACCESS_KEY_ID}
secret-access-key: ${LITESTREAM_SECRET_ACCESS_KEY}
region: ${LITESTREAM_REGION}
dbs:
  - path: ${DB_PATH}
    replicas:
      - url: ${DB_REPLICA_URL}
        endpoint: http://` + s3.addr + `
        sync-interval: ${DB_SYNC_INTERVAL}
`
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	cmd := exec.Command(ts.litestreamV03, "replicate", "-config", cfg)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + dir, "DB_PATH=" + dbPath,
		"DB_REPLICA_URL=s3://" + bucket + "/litepaste", "LITESTREAM_REGION=us-east-1", "DB_SYNC_INTERVAL=1s"},
		s3.credentials()...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if t.Failed() {
			t.Logf("litestream v0.3:\n%s", logs.String())
		}
	}()
	gen := filepath.Join(s3.root, bucket, "litepaste", "generations", "*")
	count := func(pattern string) int {
		m, _ := filepath.Glob(filepath.Join(gen, pattern))
		return len(m)
	}
	waitFor(t, 60*time.Second, "Litestream v0.3's first snapshot", func() bool { return count("snapshots/*.snapshot.lz4") > 0 })
	insertEntries(t, db, rows[half:])
	waitFor(t, 60*time.Second, "Litestream v0.3's WAL segments", func() bool { return count("wal/*.wal.lz4") > 0 })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("litestream v0.3 exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("litestream v0.3 did not stop within 30 s of SIGTERM")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b := v3Bucket{snapshots: count("snapshots/*.snapshot.lz4"), walSegments: count("wal/*.wal.lz4"), took: time.Since(t0)}
	_ = filepath.Walk(filepath.Join(s3.root, bucket), func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b.bytes += fi.Size()
		}
		return nil
	})
	if n := ltxFiles(s3, bucket); n > 0 {
		t.Fatalf("the LogPaste bucket already holds %d LTX files", n)
	}
	return b
}

// ltxFiles counts the LTX files (litestream v0.5's backup) at the bucket's path "litepaste".
func ltxFiles(s3 *s3Server, bucket string) int {
	m, _ := filepath.Glob(filepath.Join(s3.root, bucket, "litepaste", "[0-9][0-9][0-9][0-9]", "*.ltx"))
	return len(m)
}

// checkLogPasteServed fetches every old paste and compares SHA-256s; it
// returns how many matched and a digest of what was served (see pasteDigest).
func checkLogPasteServed(t *testing.T, base string, rows []logpasteEntry) (int, string) {
	t.Helper()
	ok := 0
	served := make([]logpasteEntry, len(rows))
	for i, e := range rows {
		got, found, err := fetch(base, e.id)
		served[i] = logpasteEntry{id: e.id, contents: got}
		switch {
		case err != nil:
			t.Errorf("LogPaste paste %s: %v", e.id, err)
		case !found:
			t.Errorf("LogPaste paste %s: not found", e.id)
		case sha256.Sum256(got) != sha256.Sum256(e.contents):
			t.Errorf("LogPaste paste %s: %d bytes, SHA-256 %x, want %d bytes, %x", e.id, len(got), sha256.Sum256(got), len(e.contents), sha256.Sum256(e.contents))
		default:
			ok++
		}
	}
	return ok, pasteDigest(served)
}

// pasteDigest is the SHA-256 of the lines "ID SHA-256-of-contents", one per
// paste in order: one value to compare for a whole set of pastes.
func pasteDigest(rows []logpasteEntry) string {
	h := sha256.New()
	for _, e := range rows {
		fmt.Fprintf(h, "%s %x\n", e.id, sha256.Sum256(e.contents))
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:16]
}

// TestFromALogPasteBucket: a bucket that holds only LogPaste's Litestream
// v0.3 backup is restored and upgraded by the restore step; from then on
// litestream streams the upgraded database to the same path, and a second
// teardown and redeploy serves every old paste and every new one.
func TestFromALogPasteBucket(t *testing.T) {
	ts := needTools(t)
	s3 := startS3(t, ts)
	rows := logpasteEntries(100, true)
	v3 := writeLogPasteBucket(t, ts, s3, "logpaste", rows)
	env := replicaEnv(s3, s3.replicaURL("logpaste", "litepaste"))

	a := runContainer(t, ts, "a", dataDir(t), env...)
	readyA, restoreA := a.waitRestored()
	for _, want := range []string{"restore: restored /data/litepaste.db", `"msg":"database upgraded"`} {
		if a.countLines(want) != 1 {
			t.Errorf("first container: the console does not say %q once", want)
		}
	}
	oldA, digestA := checkLogPasteServed(t, a.base, rows)
	var fresh []paste
	for i := 0; i < 10; i++ {
		fresh = append(fresh, mustUpload(t, a.base, body(fmt.Sprintf("after-switch%d", i), 3000+i*7000)))
	}
	waitFor(t, 30*time.Second, "litestream's LTX files beside the v0.3 backup, with the new pastes", func() bool {
		return ltxFiles(s3, "logpaste") > 0 && s3.hasMarker("logpaste", markerOf(fresh[len(fresh)-1].body))
	})
	a.teardown()

	b := runContainer(t, ts, "b", dataDir(t), env...)
	readyB, restoreB := b.waitRestored()
	if b.countLines(`"msg":"database upgraded"`) != 0 {
		t.Error("second container: the database was upgraded again; it should come back from litestream's own backup")
	}
	oldB, digestB := checkLogPasteServed(t, b.base, rows)
	newB := checkServed(t, b.base, fresh)
	t.Logf("FIGURES LogPaste bucket: %d LogPaste pastes (one of 2 MiB, %d binary) written by Litestream v0.3 in %d snapshot(s) and %d WAL segment(s), %.1f MiB in the bucket, in %d ms; "+
		"first container: restore step (v0.3 restore + upgrade) %d ms, ready %d ms after pid 1, %d/%d old pastes with equal SHA-256; "+
		"second container after teardown: restore step %d ms, ready %d ms, %d/%d old and %d/%d new pastes served",
		len(rows), binaryCount(rows), v3.snapshots, v3.walSegments, float64(v3.bytes)/(1<<20), v3.took.Milliseconds(),
		restoreA, readyA.Milliseconds(), oldA, len(rows), restoreB, readyB.Milliseconds(), oldB, len(rows), newB, len(fresh))
	big := rows[len(rows)/2]
	t.Logf("FIGURES LogPaste bucket SHA-256s: digest of (ID, SHA-256) over the %d pastes inserted %s, served by the first container %s, by the second %s; the 2 MiB paste %s: %x",
		len(rows), pasteDigest(rows), digestA, digestB, big.id, sha256.Sum256(big.contents))
}

func binaryCount(rows []logpasteEntry) int {
	n := 0
	for _, e := range rows {
		if strings.ContainsRune(string(e.contents), 0) {
			n++
		}
	}
	return n
}

// badLogPasteBucket is a LogPaste bucket that must stop the start: rows
// written by Litestream v0.3, then spoil applied, and the line the restore
// step must print.
type badLogPasteBucket struct {
	bucket string
	rows   []logpasteEntry
	spoil  func(t *testing.T, bucket string)
	want   string
}

// badLogPasteBuckets: a v0.3 backup that cannot be read (its snapshot cut
// short), and a LogPaste database the upgrade refuses (an ID that is not 8
// letters and digits).
func badLogPasteBuckets(s3 *s3Server) []badLogPasteBucket {
	return []badLogPasteBucket{
		{"unreadable", logpasteEntries(6, false), func(t *testing.T, bucket string) {
			snaps, _ := filepath.Glob(filepath.Join(s3.root, bucket, "litepaste", "generations", "*", "snapshots", "*.snapshot.lz4"))
			for _, p := range snaps {
				if err := os.Truncate(p, 20); err != nil {
					t.Fatal(err)
				}
			}
		}, "restore: cannot read the replica"},
		{"notupgradable", append(logpasteEntries(5, false), logpasteEntry{id: "not-an-id", created: "2022-01-01T00:00:00Z", contents: []byte("x")}),
			func(*testing.T, string) {}, "restore: cannot create or upgrade"},
	}
}

// TestLogPasteBucketFailuresStopTheContainer: a v0.3 backup that cannot be
// read, or a LogPaste database that cannot be upgraded, stops the container
// before any service starts, and nothing is written to the bucket.
func TestLogPasteBucketFailuresStopTheContainer(t *testing.T) {
	ts := needTools(t)
	s3 := startS3(t, ts)
	for _, tc := range badLogPasteBuckets(s3) {
		t.Run(tc.bucket, func(t *testing.T) {
			writeLogPasteBucket(t, ts, s3, tc.bucket, tc.rows)
			tc.spoil(t, tc.bucket)
			before := s3.objects(tc.bucket)
			c := runContainer(t, ts, tc.bucket, dataDir(t), replicaEnv(s3, s3.replicaURL(tc.bucket, "litepaste"))...)
			code := c.wait(60 * time.Second)
			if code == "0" {
				t.Errorf("exit code 0, want the container to fail")
			}
			if c.countLines(tc.want) != 1 {
				t.Errorf("the console does not say %q", tc.want)
			}
			if n := c.countLines(`"msg":"listening"`); n != 0 {
				t.Errorf("the server started %d times", n)
			}
			if after := s3.objects(tc.bucket); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("the bucket changed:\nbefore %v\nafter  %v", before, after)
			}
			t.Logf("FIGURES LogPaste bucket %s: container stopped with exit code %s, %d objects in the bucket unchanged", tc.bucket, code, len(before))
		})
	}
}

// platformEntry is deploy/platform's image: the launcher as its command, no
// entrypoint; platformLayer puts the launcher where that Dockerfile copies it.
var platformEntry = []string{"/usr/local/bin/litepaste-start"}

func platformLayer(t *testing.T, ts *toolset) string {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(ts.repo, "deploy/platform/start"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "usr/local/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, platformEntry[0]), src, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestLauncherFromALogPasteBucket: the launcher of deploy/platform (Heroku,
// fly.io), run as the platform image's command under the harness, restores
// and upgrades a LogPaste bucket and serves it; on an unreadable v0.3 backup
// or a row the upgrade refuses it stops before the server starts, with the
// bucket unchanged. (Under the harness the launcher runs as root; the
// platforms run it as their user.)
func TestLauncherFromALogPasteBucket(t *testing.T) {
	ts := needTools(t)
	s3 := startS3(t, ts)
	layer := platformLayer(t, ts)
	rows := logpasteEntries(30, true)
	writeLogPasteBucket(t, ts, s3, "platform", rows)
	env := replicaEnv(s3, s3.replicaURL("platform", "litepaste"))

	state := filepath.Join(t.TempDir(), "state")
	port := kit.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	var out strings.Builder
	cmd := exec.Command(ts.harness, harnessArgsEntry(ts, platformEntry, state, dataDir(t), port, []string{layer}, nil, env...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_, _ = exec.Command(ts.harness, "kill", state).CombinedOutput()
		if t.Failed() {
			t.Logf("launcher under the harness:\n%s", out.String())
		}
	})
	ready := waitFor(t, 60*time.Second, "the launcher's server", func() bool {
		select {
		case err := <-exited:
			t.Fatalf("the launcher exited before it served: %v", err)
		default:
		}
		return httpStatus(base+"/readyz") == 200
	})
	served, _ := checkLogPasteServed(t, base, rows)
	p := mustUpload(t, base, body("launcher", 5000))
	waitFor(t, 30*time.Second, "the new paste in LTX files beside the v0.3 backup", func() bool {
		return ltxFiles(s3, "platform") > 0 && s3.hasMarker("platform", markerOf(p.body))
	})
	code, err := exec.Command(ts.harness, "stop", state, "30").Output()
	if err != nil || strings.TrimSpace(string(code)) != "0" {
		t.Errorf("stop: exit code %s (%v), want 0", code, err)
	}
	<-exited

	var badCodes []int
	for _, tc := range badLogPasteBuckets(s3) {
		tc.bucket = "platform" + tc.bucket
		writeLogPasteBucket(t, ts, s3, tc.bucket, tc.rows)
		tc.spoil(t, tc.bucket)
		before := s3.objects(tc.bucket)
		failed, err := exec.Command(ts.harness, harnessArgsEntry(ts, platformEntry, filepath.Join(t.TempDir(), "state"), dataDir(t), kit.FreePort(t),
			[]string{layer}, nil, replicaEnv(s3, s3.replicaURL(tc.bucket, "litepaste"))...)...).CombinedOutput()
		var exit *exec.ExitError
		badCode := 0
		if errors.As(err, &exit) {
			badCode = exit.ExitCode()
		}
		badCodes = append(badCodes, badCode)
		if badCode == 0 {
			t.Errorf("launcher on bucket %s: %v, want a non-zero exit\n%s", tc.bucket, err, failed)
		}
		if !strings.Contains(string(failed), tc.want) || strings.Contains(string(failed), `"msg":"listening"`) {
			t.Errorf("launcher on bucket %s: want %q and no server:\n%s", tc.bucket, tc.want, failed)
		}
		if after := s3.objects(tc.bucket); strings.Join(after, "\n") != strings.Join(before, "\n") {
			t.Errorf("bucket %s changed:\nbefore %v\nafter  %v", tc.bucket, before, after)
		}
	}
	t.Logf("FIGURES launcher: %d LogPaste pastes restored, upgraded and served (%d/%d SHA-256 equal) %d ms after start; stop exit code %s; unreadable v0.3 backup, then a row the upgrade refuses: exit codes %v, buckets unchanged",
		len(rows), served, len(rows), ready.Milliseconds(), strings.TrimSpace(string(code)), badCodes)
}
