package system_test

import (
	"bytes"
	"net/http"
	"os"
	"testing"
	"time"
)

// retentionFactor scales the shipped timers down for the retention test: a
// 12 h snapshot interval becomes 6 s.
const retentionFactor = 7200

// deletionWindow is how long after a deletion its bytes may stay in the
// bucket: two snapshot intervals (the first snapshot after the deletion
// deletes the older ones; the one after it lets the merged files older than
// that first one go), plus slack for a loaded machine.
func deletionWindow(snapshot time.Duration) time.Duration {
	return 2*snapshot + 15*time.Second
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
	layer, env, timers := scaledLitestream(t, ts, retentionFactor, 0)
	window := deletionWindow(timers["snapshot.interval"])
	c := runContainerLayers(t, ts, "retention", data, []string{layer},
		append(append(replicaEnv(s3, url), env...), "SWEEP_INTERVAL=1s")...)
	c.waitReady()

	deleted, token := uploadWith(t, c.base, body("retention-deleted", 3000), http.Header{})
	expired, _ := uploadWith(t, c.base, body("retention-expired", 3000), http.Header{"X-Expires": {"15s"}})
	gone := func(p paste) bool { return !s3.hasMarker("retention", markerOf(p.body)) }
	// The longest way out: the pastes are in a snapshot and a merged file
	// before they go (the replica keeps level N under PATH/%04x).
	for _, level := range []string{"0009", "0001"} {
		waitFor(t, 30*time.Second, "both pastes in level "+level, func() bool {
			return s3.hasMarkerUnder("retention", "litepaste/"+level, markerOf(deleted.body)) &&
				s3.hasMarkerUnder("retention", "litepaste/"+level, markerOf(expired.body))
		})
	}

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

	deletePaste(t, c.base, deleted.id, token)
	deletedAt := time.Now()
	deletedGone := waitFor(t, window, "the deleted paste to leave the bucket", func() bool { return gone(deleted) })
	waitFor(t, window, "the expired paste to leave the bucket", func() bool { return gone(expired) })
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
	t.Logf("FIGURES retention (litestream.yml scaled down %d times: %s): the deleted paste left the bucket %d ms after DELETE, the expired one %d ms after that DELETE (it expired 15 s after upload), within the scaled window of %s; neither is in a restored copy",
		retentionFactor, describeTimers(timers), deletedGone.Milliseconds(), expiredGone.Milliseconds(), window)
}
