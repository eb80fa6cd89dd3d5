package sqlite_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"
	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/sqlite"
)

// openCopy opens the copy at path as a replica does, closed at cleanup.
func openCopy(t *testing.T, path string, follow time.Duration) *sqlite.Copy {
	t.Helper()
	c := sqlite.OpenCopy(path, follow, time.Now)
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// reason is the one line /readyz shows for err, "" if it has none.
func reason(err error) string {
	var r interface{ Reason() string }
	if errors.As(err, &r) {
		return r.Reason()
	}
	return ""
}

func waitReason(t *testing.T, c *sqlite.Copy, want string) {
	t.Helper()
	testkit.WaitFor(t, "the copy's state: "+want, func() bool {
		err := c.Ready(context.Background())
		return (want == "" && err == nil) || (err != nil && reason(err) == want)
	})
}

func writeTXID(t *testing.T, path, txid string) {
	t.Helper()
	if err := os.WriteFile(path+"-txid", []byte(txid+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A replica's copy is only ever read: it is looked for until it exists
// and is restored, its bytes never change, and nothing appears beside a
// copy in the rollback-journal mode the follower's updates leave it in.
func TestCopyIsOnlyReadAndSaysWhyItIsNotReady(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := tempDB(t)
	c := openCopy(t, path, time.Second)
	if err := c.Ready(ctx); reason(err) != "no copy of the database yet" || !errors.Is(err, paste.ErrStoreNotReady) {
		t.Errorf("Ready without a file: %v", err)
	}
	if _, _, err := c.Lookup(ctx, "AAAAAAAA", time.Now()); !errors.Is(err, paste.ErrStoreNotReady) {
		t.Errorf("Lookup without a file: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the copy created %s (%v)", path, err)
	}

	s, closeStore := mustOpen(t, path)
	small, _ := s.Insert(ctx, paste.New([]byte("small paste"), time.Now(), paste.Never, nil))
	bigBody := make([]byte, sqlite.ChunkSize+100)
	big, _ := s.Insert(ctx, paste.New(bigBody, time.Now(), paste.Never, nil))
	closeStore()
	if _, err := rawDB(t, path, "").Exec("PRAGMA journal_mode = DELETE"); err != nil {
		t.Fatal(err)
	}
	waitReason(t, c, "the follower has not finished restoring the copy (no litepaste.db-txid yet)")

	before := testkit.FileSHA256(t, path)
	writeTXID(t, path, "0000000000000007")
	waitReason(t, c, "")
	for _, want := range []struct {
		id   paste.ID
		size int
	}{{small.ID, len("small paste")}, {big.ID, len(bigBody)}, {small.ID, len("small paste")}} {
		_, r, err := c.Lookup(ctx, want.id, time.Now())
		if err != nil {
			t.Fatalf("Lookup(%s): %v", want.id, err)
		}
		if b, err := io.ReadAll(r); err != nil || len(b) != want.size {
			t.Errorf("Lookup(%s): %d bytes, %v; want %d", want.id, len(b), err, want.size)
		}
	}
	if _, _, err := c.Lookup(ctx, "AAAAAAAA", time.Now()); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("Lookup of a paste not in the copy: %v", err)
	}
	if st := c.Status(); !st.Ready || st.TXID != 7 {
		t.Errorf("Status: %+v, want ready at txid 7", st)
	}
	if testkit.FileSHA256(t, path) != before {
		t.Error("reading the copy changed its bytes")
	}
	for _, side := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat(path + side); !os.IsNotExist(err) {
			t.Errorf("reading the copy made %s (%v)", path+side, err)
		}
	}

	// Another database under the same name: not one this server reads.
	other := tempDB(t)
	testkit.WriteLogPasteDB(t, other, "DELETE", 1, []testkit.LogPasteEntry{{ID: "OldPaste", Created: time.Now(), Contents: []byte("x")}})
	writeTXID(t, other, "0000000000000001")
	waitReason(t, openCopy(t, other, time.Second), "the copy holds no litepaste schema this server reads")
}

// Which IDs a replica passes to the writer when its copy lacks them: those
// of pastes stored since the copy's last change, never a number the copy
// holds or one from before numbering, and of made-up IDs about as many as
// the window's width in 62^8 makes likely.
func TestCopyCountsAsUnseenOnlyRecentNumbers(t *testing.T) {
	ctx := context.Background()
	path := tempDB(t)
	s, closeStore := mustOpen(t, path)
	inCopy, _ := s.Insert(ctx, paste.New([]byte("in the copy"), time.Now(), paste.Never, nil))
	closeStore()
	writeTXID(t, path, "0000000000000001")
	c := openCopy(t, path, time.Minute)
	waitReason(t, c, "")

	// Stored after the copy was read (its txid file stays the same, as if
	// the follower had not listed the bucket since).
	s, closeStore = mustOpen(t, path)
	fresh, _ := s.Insert(ctx, paste.New([]byte("not yet in the copy"), time.Now(), paste.Never, nil))
	legacy, _ := s.Insert(ctx, paste.New([]byte("stand-in for an ID from before numbering"), time.Now(), paste.Never, nil))
	closeStore()
	if _, err := rawDB(t, path, "").Exec(`INSERT INTO legacy_ids (id) VALUES (?)`, string(legacy.ID)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		desc string
		id   paste.ID
		want bool
	}{
		{"a paste in the copy", inCopy.ID, false},
		{"a paste stored since", fresh.ID, true},
		{"an ID from before numbering", legacy.ID, false},
	} {
		if got, err := c.Unseen(ctx, tt.id); err != nil || got != tt.want {
			t.Errorf("%s: Unseen = %v, %v; want %v", tt.desc, got, err, tt.want)
		}
	}

	const n = madeUpIDs
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	unseen := 0
	b := make([]byte, paste.IDLength)
	for range n {
		for i := range b {
			b[i] = alphabet[rand.IntN(len(alphabet))]
		}
		if ok, err := c.Unseen(ctx, paste.ID(b)); err != nil {
			t.Fatal(err)
		} else if ok {
			unseen++
		}
	}
	t.Logf("FIGURES %d of %d made-up IDs would go to the writer (follow interval 1m)", unseen, n)
	// The window is 13 minutes of numbers, 5.0e7 of 62^8 = 2.2e14: a
	// million made-up IDs should find it 0.23 times on average, and more
	// than 5 times in about one run of five million.
	if unseen > 5 {
		t.Errorf("%d of %d made-up IDs count as unseen", unseen, n)
	}
}

// A read the paste cache cannot answer (a paste over its 64 KiB entry
// limit), on the writer's pooled readers and on a replica's copy, whose
// every query opens a connection of its own.
func BenchmarkLookupFromTheFile(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "litepaste.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	p, err := s.Insert(ctx, paste.New(make([]byte, 100<<10), time.Now(), paste.Never, nil))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path+"-txid", []byte("0000000000000001\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	c := sqlite.OpenCopy(path, time.Minute, time.Now)
	defer c.Close()
	defer s.Close()
	for _, r := range []struct {
		name  string
		store interface {
			Lookup(context.Context, paste.ID, time.Time) (paste.Paste, io.ReadSeeker, error)
		}
	}{{"writer", s}, {"replica", c}} {
		b.Run(r.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := r.store.Lookup(ctx, p.ID, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
