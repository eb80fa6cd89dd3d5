package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"
	"github.com/litepaste/litepaste/test/kit"
)

// toolBin is the path of a pinned tool: $env, or bin/name of the
// repository (make tools builds it).
func toolBin(t *testing.T, env, name string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		var err error
		if p, err = filepath.Abs(filepath.Join("..", "bin", name)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(p); err != nil {
		testkit.SkipOrFail(t, "%s not found at %s (make tools, or set %s)", name, p, env)
	}
	return p
}

// bucket is a real S3 server (versitygw) on loopback with one bucket, and
// what litestream needs to reach it.
type bucket struct {
	addr, key, secret, root string
}

func startBucket(t *testing.T) bucket {
	t.Helper()
	bin := toolBin(t, "VERSITYGW_BIN", "versitygw")
	b := bucket{key: "replicakey", secret: "replicasecret", root: t.TempDir()}
	if err := os.Mkdir(filepath.Join(b.root, "pastes"), 0o755); err != nil {
		t.Fatal(err)
	}
	var err error
	if b.addr, err = kit.FreeAddr(); err != nil {
		t.Fatal(err)
	}
	var log testkit.SyncBuffer
	gw, err := kit.StartVersityGW(bin, b.addr, b.root, b.key, b.secret, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Cleanup(gw.Stop)
	return b
}

// url is the replica URL litestream restore takes.
func (b bucket) url() string {
	return "s3://pastes/db?endpoint=http://" + b.addr + "&region=us-east-1&force-path-style=true"
}

// litestream runs bin/litestream with args until the test ends (SIGTERM,
// then the wait); its output goes to the returned buffer. AWS_CA_BUNDLE is
// left out: every S3 client of Litestream v0.5 fails with it.
func (b bucket) litestream(t *testing.T, args ...string) *testkit.SyncBuffer {
	t.Helper()
	out := &testkit.SyncBuffer{}
	cmd := exec.Command(toolBin(t, "LITESTREAM_BIN", "litestream"), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"AWS_ACCESS_KEY_ID=" + b.key, "AWS_SECRET_ACCESS_KEY=" + b.secret}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return out
}

// replicate streams db to the bucket as the writer's container does, but
// every 100 ms.
func (b bucket) replicate(t *testing.T, db string) *testkit.SyncBuffer {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "litestream.yml")
	yml := fmt.Sprintf(`dbs:
  - path: %s
    monitor-interval: 100ms
    checkpoint-interval: 0s
    replica:
      type: s3
      bucket: pastes
      path: db
      endpoint: http://%s
      region: us-east-1
      force-path-style: true
      sync-interval: 100ms
`, db, b.addr)
	if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return b.litestream(t, "replicate", "-config", cfg)
}

// hasBackup says whether Litestream has put a file in the bucket yet.
func (b bucket) hasBackup() bool {
	files, _ := filepath.Glob(filepath.Join(b.root, "pastes", "db", "*", "*.ltx"))
	return len(files) > 0
}

// metric is the value of the sample named (with its labels) in the text
// exposition at addr, -1 if there is none.
func metric(t *testing.T, addr, sample string) float64 {
	t.Helper()
	_, body := httpDo(t, http.MethodGet, "http://"+addr+"/metrics", nil)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The replica of the issue, with the real follower: the writer streams to
// a real S3 server with litestream replicate, and litestream restore -f
// keeps the replica's copy. The replica starts before its copy exists and
// is ready once the follower restored it; it serves what the copy holds,
// passes reads of pastes the copy has not seen to the writer, stops
// serving a paste deleted on the writer once the copy has the deletion
// (cache included), and an expired paste at once.
func TestReplicaServesTheFollowersCopy(t *testing.T) {
	const follow = time.Second
	b := startBucket(t)
	writer := startProgram(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1", "ADMIN_SOCKET": "off", "SWEEP_INTERVAL": "1h"})
	copyPath := filepath.Join(t.TempDir(), "copy", "litepaste.db")
	replica := startProgram(t, map[string]string{"PRIMARY_URL": writer.base, "DB_PATH": copyPath, "ADMIN_SOCKET": "off",
		"FOLLOW_INTERVAL": follow.String(), "METRICS_ADDR": "127.0.0.1:0"})
	metrics := replica.metricsAddr(t)

	kept := []byte("a paste every replica serves\n")
	keptID, _, _ := putPaste(t, writer.base, kept)
	doomedID, _, doomedToken := putPaste(t, writer.base, []byte("a paste soon deleted\n"))
	b.replicate(t, writer.dbPath)
	testkit.WaitFor(t, "a backup in the bucket", b.hasBackup)

	if res, body := httpDo(t, http.MethodGet, replica.base+"/readyz", nil); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz before the follower: got %d %q, want 503", res.StatusCode, body)
	}
	started := time.Now()
	follower := b.litestream(t, "restore", "-f", "-follow-interval", follow.String(), "-o", copyPath, b.url())
	testkit.WaitFor(t, "the replica ready", func() bool {
		res, _ := httpDo(t, http.MethodGet, replica.base+"/readyz", nil)
		return res.StatusCode == http.StatusOK
	})
	t.Logf("FIGURES replica ready %.2f s after the follower started", time.Since(started).Seconds())

	forwarded := func() float64 {
		return metric(t, metrics, `litepaste_forwarded_requests_total{kind="read",outcome="answered"}`)
	}
	for range 2 { // the second read comes from the cache
		if res, got := httpDo(t, http.MethodGet, replica.base+"/"+keptID, nil); res.StatusCode != http.StatusOK || !bytes.Equal(got, kept) {
			t.Fatalf("GET of a paste in the copy: got %d %q", res.StatusCode, got)
		}
		httpDo(t, http.MethodGet, replica.base+"/"+doomedID, nil)
	}
	if n := forwarded(); n != 0 {
		t.Errorf("reads of pastes in the copy went to the writer: %v", n)
	}

	// A paste just stored: the replica's copy lacks it, the writer has it.
	fresh := []byte("read your writes\n")
	freshID, _, _ := putPaste(t, writer.base, fresh)
	stored := time.Now()
	if res, got := httpDo(t, http.MethodGet, replica.base+"/"+freshID, nil); res.StatusCode != http.StatusOK || !bytes.Equal(got, fresh) {
		t.Errorf("GET of a paste the copy may lack: got %d %q", res.StatusCode, got)
	}
	testkit.WaitFor(t, "the new paste in the replica's copy", func() bool {
		before := forwarded()
		res, _ := httpDo(t, http.MethodGet, replica.base+"/"+freshID, nil)
		return res.StatusCode == http.StatusOK && forwarded() == before
	})
	t.Logf("FIGURES replica lag from the writer's 200 to its own copy: %.2f s (follow interval %s)", time.Since(stored).Seconds(), follow)

	// A deletion on the writer: the copy gets it within a follow interval
	// or two, and from the moment it has it, the replica answers 404 (its
	// cache does not outlive the change).
	if res, _ := httpDo(t, http.MethodDelete, writer.base+"/"+doomedID, nil, "X-Delete-Token", doomedToken); res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE on the writer: %d", res.StatusCode)
	}
	deleted := time.Now()
	testkit.WaitFor(t, "the deleted paste to answer 404 on the replica", func() bool {
		res, _ := httpDo(t, http.MethodGet, replica.base+"/"+doomedID, nil)
		return res.StatusCode == http.StatusNotFound
	})
	gone := time.Since(deleted)
	t.Logf("FIGURES deleted paste 404 on the replica %.2f s after the writer's 204 (follow interval %s)", gone.Seconds(), follow)
	// The follow interval plus a second, and a second for the writer's
	// upload to the bucket (100 ms here) on a loaded machine.
	if limit := follow + 2*time.Second; gone > limit {
		t.Errorf("the deleted paste was served for %s, want within %s", gone, limit)
	}
	if res, got := httpDo(t, http.MethodGet, replica.base+"/"+keptID, nil); res.StatusCode != http.StatusOK || !bytes.Equal(got, kept) {
		t.Errorf("GET of the kept paste after the deletion: got %d %q", res.StatusCode, got)
	}

	// Expiry: the writer never sweeps here (SWEEP_INTERVAL 1h), so only the
	// replica's reads hide an expired paste.
	brief, _, _ := putPaste(t, writer.base, []byte("expires soon\n"), "X-Expires", "3s")
	testkit.WaitFor(t, "the expiring paste in the replica's copy", func() bool {
		before := forwarded()
		res, _ := httpDo(t, http.MethodGet, replica.base+"/"+brief, nil)
		return res.StatusCode == http.StatusOK && forwarded() == before
	})
	res, _ := httpDo(t, http.MethodGet, replica.base+"/"+brief, nil)
	expires, err := time.Parse(time.RFC3339, res.Header.Get("X-Paste-Expires"))
	if err != nil {
		t.Fatalf("X-Paste-Expires %q: %v", res.Header.Get("X-Paste-Expires"), err)
	}
	// The header has whole seconds, cut down.
	testkit.WaitFor(t, "the paste's expiry", func() bool { return time.Now().After(expires.Add(time.Second)) })
	if res, _ := httpDo(t, http.MethodGet, replica.base+"/"+brief, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET of an expired paste on the replica: got %d, want 404 at once", res.StatusCode)
	}

	// Made-up IDs: how many of them the replica passes to the writer.
	const n = 2000
	before := metric(t, metrics, `litepaste_forwarded_requests_total{kind="read",outcome="answered"}`)
	for range n {
		if res, _ := httpDo(t, http.MethodGet, replica.base+"/"+randomID(), nil); res.StatusCode != http.StatusNotFound {
			t.Fatalf("GET of a made-up ID: %d", res.StatusCode)
		}
	}
	reached := forwarded() - before
	t.Logf("FIGURES %d of %d made-up IDs reached the writer", int(reached), n)
	if reached > 0 {
		t.Errorf("%v of %d made-up IDs went to the writer", reached, n)
	}
	if txid := metric(t, metrics, "litepaste_copy_txid"); txid < 2 {
		t.Errorf("litepaste_copy_txid: got %v, want the follower's txid", txid)
	}
	if strings.Contains(follower.String(), "level=ERROR") {
		t.Errorf("the follower logged errors:\n%s", follower)
	}
}

// randomID is an ID anyone could make up: 8 random letters and digits.
func randomID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}
