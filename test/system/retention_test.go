package system_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Test-scale values of the shipped retention settings: each line of the
// shipped litestream.yml on the left is replaced by the one on the right.
var scaledRetention = []struct{ shipped, scaled string }{
	{"  - interval: 30s\n  - interval: 5m\n  - interval: 1h\n", "  - interval: 1s\n  - interval: 2s\n  - interval: 3s\n"},
	{"l0-retention: 5m\nl0-retention-check-interval: 5m\n", "l0-retention: 1s\nl0-retention-check-interval: 1s\n"},
	{"snapshot:\n  interval: 12h\n  retention: 12h\n", "snapshot:\n  interval: 6s\n  retention: 6s\n"},
}

// The scaled window: two snapshot intervals, one L3 interval, and slack for
// a loaded machine. At full scale: 2 x 12h + 1h.
const (
	scaledSnapshot = 6 * time.Second
	scaledWindow   = 2*scaledSnapshot + 3*time.Second + 15*time.Second
)

// scaledConfigLayer returns a layer whose /etc/litestream.yml is the shipped
// one with the retention settings scaled down.
func scaledConfigLayer(t *testing.T, ts *toolset) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ts.repo, "litestream.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	for _, r := range scaledRetention {
		if !strings.Contains(cfg, r.shipped) {
			t.Fatalf("litestream.yml no longer contains %q: update scaledRetention", r.shipped)
		}
		cfg = strings.Replace(cfg, r.shipped, r.scaled, 1)
	}
	return litestreamConfigLayer(t, cfg)
}

// litestreamConfigLayer returns a layer whose /etc/litestream.yml is cfg.
func litestreamConfigLayer(t *testing.T, cfg string) string {
	t.Helper()
	layer := t.TempDir()
	if err := os.MkdirAll(filepath.Join(layer, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(layer, "etc", "litestream.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return layer
}

// uploadWith PUTs body with extra headers and returns the paste and its
// delete token.
func uploadWith(t *testing.T, base string, b []byte, header http.Header) (paste, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, base+"/", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	p, token, err := doUpload(req, b)
	if err != nil {
		t.Fatal(err)
	}
	return p, token
}

// A deleted paste and an expired one leave every object of the bucket within
// the retention window (scaled down here), while the server keeps receiving
// writes, as a live service does (or the heartbeat write of an idle one).
func TestDeletedAndExpiredPastesLeaveTheBucket(t *testing.T) {
	ts := needTools(t)
	s3 := startS3(t, ts)
	url := s3.bucket("retention")
	data := dataDir(t)
	c := runContainerLayers(t, ts, "retention", data, []string{scaledConfigLayer(t, ts)},
		append(replicaEnv(s3, url), "SWEEP_INTERVAL=1s")...)
	c.waitReady()

	deleted, token := uploadWith(t, c.base, body("retention-deleted", 3000), http.Header{})
	expired, _ := uploadWith(t, c.base, body("retention-expired", 3000), http.Header{"X-Expires": {"3s"}})
	gone := func(p paste) bool { return !s3.hasMarker("retention", markerOf(p.body)) }
	waitFor(t, 30*time.Second, "both pastes in the bucket", func() bool { return !gone(deleted) && !gone(expired) })

	// writes keep coming while we wait
	stop := make(chan struct{})
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				_, _ = upload(c.base, body("retention-filler", 200))
			}
		}
	}()
	defer func() { close(stop); <-writing }()

	req, _ := http.NewRequest(http.MethodDelete, c.base+"/"+deleted.id, nil)
	req.Header.Set("X-Delete-Token", token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %s", resp.Status)
	}
	deletedAt := time.Now()
	deletedGone := waitFor(t, scaledWindow, "the deleted paste to leave the bucket", func() bool { return gone(deleted) })
	waitFor(t, scaledWindow, "the expired paste to leave the bucket", func() bool { return gone(expired) })
	expiredGone := time.Since(deletedAt)

	// The restored database holds neither (secure_delete zeroes freed pages).
	db, _ := restoreElsewhere(t, ts, s3, url)
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []paste{deleted, expired} {
		m := markerOf(p.body)
		if bytes.Contains(raw, m[bytes.LastIndexByte(m, ':')+1:]) {
			t.Errorf("the restored database still holds the bytes of %s", m)
		}
	}
	t.Logf("FIGURES retention (scaled: snapshots every %s, kept %s, levels 1s/2s/3s): the deleted paste left the bucket %d ms after DELETE, the expired one %d ms after that DELETE (it expired 3 s after upload); neither is in a restored copy",
		scaledSnapshot, scaledSnapshot, deletedGone.Milliseconds(), expiredGone.Milliseconds())
}
