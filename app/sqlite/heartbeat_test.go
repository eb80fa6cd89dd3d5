package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/paste"
)

// After a deletion the store writes a heartbeat at most hourly for about a
// day, so the replica moves on past the deleted bytes; without deletions it
// never writes.
func TestHeartbeatFollowsDeletions(t *testing.T) {
	s, _ := mustOpen(t, tempDB(t))
	ctx := context.Background()
	beat := func(desc string, at time.Time, want bool) {
		t.Helper()
		got, err := s.Heartbeat(ctx, at)
		if err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
		if got != want {
			t.Errorf("%s: wrote %v, want %v", desc, got, want)
		}
	}
	beat("no deletion yet", t0, false)

	p := mustInsert(t, s, newPaste(t, []byte("to delete"), paste.Never, "tok"))
	if err := s.DeleteWithToken(ctx, p.ID, "tok", t0); err != nil {
		t.Fatal(err)
	}
	beat("a minute after a deletion", t0.Add(time.Minute), true)
	beat("again a minute later", t0.Add(2*time.Minute), false)
	beat("an hour after the last beat", t0.Add(62*time.Minute), true)
	beat("27 hours after the deletion", t0.Add(27*time.Hour), false)

	mustInsert(t, s, newPaste(t, []byte("expiring"), time.Minute, "tok"))
	later := t0.Add(30 * time.Hour)
	if n, err := s.DeleteExpired(ctx, later); err != nil || n != 1 {
		t.Fatalf("DeleteExpired: got %d, %v, want 1", n, err)
	}
	beat("after the sweeper deleted a paste", later.Add(time.Minute), true)
}
