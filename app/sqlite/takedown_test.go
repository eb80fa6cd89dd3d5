package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"
	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/sqlite"
)

// An operator's takedown deletes any paste, with a token, without one (a
// LogPaste paste), large or small, cached or not, the way every deletion
// does: evicted from the cache, noted for the replica's heartbeat, its bytes
// zeroed in the file.
func TestDeleteTakesAnyPasteDown(t *testing.T) {
	path := tempDB(t)
	marker := []byte("takedown-marker-7f3a9c")
	testkit.WriteLogPasteDB(t, path, "WAL", 1, []testkit.LogPasteEntry{
		{ID: "OldPaste", Created: t0, Contents: append([]byte("old "), marker...)},
	})
	s, closeStore := mustOpen(t, path)
	ctx := context.Background()
	withToken := mustInsert(t, s, newPaste(t, append([]byte("new "), marker...), paste.Never, "tok"))
	large := mustInsert(t, s, newPaste(t, append(pattern(2*sqlite.ChunkSize+5), marker...), paste.Never, ""))
	expiring := mustInsert(t, s, newPaste(t, []byte("brief"), time.Minute, ""))
	for _, id := range []paste.ID{"OldPaste", withToken.ID, large.ID} {
		mustGetBody(t, s, id, t0) // the small ones are now cached
		mustGetBody(t, s, id, t0)
	}
	if beat, err := s.Heartbeat(ctx, t0); err != nil || beat {
		t.Fatalf("heartbeat before any deletion: %v, %v", beat, err)
	}
	for _, id := range []paste.ID{"OldPaste", withToken.ID, large.ID} {
		if err := s.Delete(ctx, id, t0); err != nil {
			t.Fatalf("Delete %s: %v", id, err)
		}
		if _, err := get(ctx, s, id, t0); !errors.Is(err, paste.ErrNotFound) {
			t.Errorf("Get %s after the takedown: %v, want ErrNotFound", id, err)
		}
		if err := s.Delete(ctx, id, t0); !errors.Is(err, paste.ErrNotFound) {
			t.Errorf("Delete %s twice: %v, want ErrNotFound", id, err)
		}
	}
	if err := s.Delete(ctx, expiring.ID, t0.Add(time.Hour)); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("Delete of an expired paste: %v, want ErrNotFound", err)
	}
	if beat, err := s.Heartbeat(ctx, t0.Add(time.Minute)); err != nil || !beat {
		t.Errorf("heartbeat after a takedown: wrote %v (%v), want a write", beat, err)
	}
	closeStore()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, marker) {
		t.Error("the file still holds the bytes of a paste taken down")
	}
	if got := queryInt(t, rawDB(t, path, "mode=ro"), "SELECT count(*) FROM paste_chunks"); got != 0 {
		t.Errorf("chunks left after the takedown: %d", got)
	}
}
