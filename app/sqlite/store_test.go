package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/litepaste/litepaste/app/internal/testkit"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/sqlite"
)

func migrationCount(t *testing.T) int64 {
	t.Helper()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	return int64(len(files))
}

func TestOpenCreatesTheDirectoryAndMigrates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "not", "yet", "there", "litepaste.db")
	mustOpen(t, path)
	db := rawDB(t, path, "mode=ro")
	if got, want := queryInt(t, db, "PRAGMA user_version"), migrationCount(t); got != want {
		t.Errorf("user_version: got %d, want %d (one per migration)", got, want)
	}
	for _, table := range []string{"pastes", "paste_chunks"} {
		if got := queryInt(t, db, "SELECT strict FROM pragma_table_list WHERE name = ?", table); got != 1 {
			t.Errorf("table %s: strict = %d, want a STRICT table", table, got)
		}
	}
	if got := queryString(t, db, "PRAGMA journal_mode"); got != "wal" {
		t.Errorf("journal_mode of the file: got %q, want wal", got)
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := tempDB(t)
	s, closeStore := mustOpen(t, path)
	p := newPaste(t, []byte("kept across restarts"), paste.Never, "tok")
	mustInsert(t, s, p)
	closeStore()

	s2, _ := mustOpen(t, path)
	if got := mustGetBody(t, s2, p.ID, t0); string(got) != "kept across restarts" {
		t.Errorf("after reopen: got %q", got)
	}
	db := rawDB(t, path, "mode=ro")
	if got, want := queryInt(t, db, "PRAGMA user_version"), migrationCount(t); got != want {
		t.Errorf("user_version after reopen: got %d, want %d", got, want)
	}
}

func TestOpenRefusesANewerSchema(t *testing.T) {
	path := tempDB(t)
	_, closeStore := mustOpen(t, path)
	closeStore()
	db := rawDB(t, path, "")
	if _, err := db.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := sqlite.Open(context.Background(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a database from a newer server: got no error")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("error: got %q, want it to say the schema is newer", err)
	}
}

func TestAFailedMigrationLeavesNothingBehind(t *testing.T) {
	path := tempDB(t)
	db := rawDB(t, path, "")
	// The migration's first table would be created, its second clash.
	if _, err := db.Exec("CREATE TABLE paste_chunks (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(context.Background(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open: got no error, want the clash reported")
	}
	if got := queryInt(t, db, "SELECT count(*) FROM sqlite_schema WHERE name = 'pastes'"); got != 0 {
		t.Errorf("table pastes exists after a failed migration: the migration was not one transaction")
	}
	if got := queryInt(t, db, "PRAGMA user_version"); got != 0 {
		t.Errorf("user_version after a failed migration: got %d, want 0", got)
	}
}

func TestRoundTrip(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	tests := []struct {
		desc       string
		body       []byte
		wantChunks int64 // rows in paste_chunks beyond the head
	}{
		{desc: "text", body: []byte("hello\n")},
		{desc: "every byte value", body: all},
		{desc: "invalid UTF-8", body: []byte("\xc3\x28\xa0\xa1\xf0\x28\x8c\xbc")},
		{desc: "NUL bytes only", body: []byte{0, 0, 0}},
		{desc: "exactly one chunk", body: pattern(sqlite.ChunkSize)},
		{desc: "one byte over a chunk", body: pattern(sqlite.ChunkSize + 1), wantChunks: 1},
		{desc: "two and a half chunks", body: pattern(5 * sqlite.ChunkSize / 2), wantChunks: 2},
	}
	path := tempDB(t)
	s, closeStore := mustOpen(t, path)
	created := time.Date(2026, 11, 3, 10, 11, 12, 345_000_000, time.UTC)
	var stored []paste.Paste
	for _, tt := range tests {
		id, err := paste.NewID()
		if err != nil {
			t.Fatal(err)
		}
		p := paste.New(id, tt.body, created, 36*time.Hour, paste.HashToken("t"))
		mustInsert(t, s, p)
		stored = append(stored, p)
	}
	check := func(t *testing.T, s *sqlite.Store, label string) {
		for i, tt := range tests {
			t.Run(label+" "+tt.desc, func(t *testing.T) {
				want := stored[i]
				got, err := s.Get(context.Background(), want.ID, created)
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				if !equalBytes(got.Body, tt.body) {
					t.Errorf("body: got %d bytes, want %d, not the same", len(got.Body), len(tt.body))
				}
				if got.ID != want.ID || got.ETag != want.ETag || !got.Created.Equal(want.Created) || !got.Expires.Equal(want.Expires) {
					t.Errorf("got %s %s %v %v, want %s %s %v %v",
						got.ID, got.ETag, got.Created, got.Expires, want.ID, want.ETag, want.Created, want.Expires)
				}
			})
		}
	}
	check(t, s, "same store")
	closeStore()
	// A fresh store has nothing in memory: this reads the file.
	s2, _ := mustOpen(t, path)
	check(t, s2, "reopened")

	db := rawDB(t, path, "mode=ro")
	for i, tt := range tests {
		if got := queryInt(t, db, "SELECT count(*) FROM paste_chunks WHERE paste_id = ?", string(stored[i].ID)); got != tt.wantChunks {
			t.Errorf("%s: chunk rows: got %d, want %d", tt.desc, got, tt.wantChunks)
		}
	}
	// Times are stored as UTC text, to the millisecond.
	if got := queryString(t, db, "SELECT created_at FROM pastes WHERE id = ?", string(stored[0].ID)); got != "2026-11-03T10:11:12.345Z" {
		t.Errorf("created_at: got %q, want 2026-11-03T10:11:12.345Z", got)
	}
}

func TestCollision(t *testing.T) {
	path := tempDB(t)
	s, closeStore := mustOpen(t, path)
	first := newPaste(t, []byte("first"), paste.Never, "one")
	mustInsert(t, s, first)
	second := paste.New(first.ID, pattern(2*sqlite.ChunkSize+10), t0, paste.Never, paste.HashToken("two"))
	if err := s.Insert(context.Background(), second); !errors.Is(err, paste.ErrIDCollision) {
		t.Fatalf("Insert of a taken id: got %v, want ErrIDCollision", err)
	}
	closeStore()
	s2, _ := mustOpen(t, path)
	if got := mustGetBody(t, s2, first.ID, t0); string(got) != "first" {
		t.Errorf("after a collision: got %d bytes, want the first paste", len(got))
	}
	db := rawDB(t, path, "mode=ro")
	if got := queryInt(t, db, "SELECT count(*) FROM paste_chunks"); got != 0 {
		t.Errorf("chunk rows after a refused large insert: got %d, want 0", got)
	}
	if err := s2.DeleteWithToken(context.Background(), first.ID, "two", t0); !errors.Is(err, paste.ErrForbidden) {
		t.Errorf("the refused paste's token: got %v, want ErrForbidden", err)
	}
}

func TestConcurrentInserts(t *testing.T) {
	path := tempDB(t)
	s, closeStore := mustOpen(t, path)
	ctx := context.Background()

	// Many at once, with one id wanted by several: exactly one gets it.
	contested := newPaste(t, []byte("contested"), paste.Never, "")
	const n = 200
	pastes := make([]paste.Paste, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		if i%20 == 0 {
			pastes[i] = paste.New(contested.ID, []byte("contested "+string(rune('a'+i/20))), t0, paste.Never, nil)
		} else {
			pastes[i] = newPaste(t, pattern(100+i), paste.Never, "")
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Insert(ctx, pastes[i])
		}()
	}
	wg.Wait()
	winners := 0
	var winner paste.Paste
	for i, err := range errs {
		switch {
		case i%20 == 0 && err == nil:
			winners++
			winner = pastes[i]
		case i%20 == 0 && errors.Is(err, paste.ErrIDCollision):
		case err != nil:
			t.Errorf("insert %d: %v", i, err)
		}
	}
	if winners != 1 {
		t.Fatalf("inserts of one id: %d succeeded, want exactly 1", winners)
	}
	closeStore()
	s2, _ := mustOpen(t, path)
	for i, p := range pastes {
		if i%20 == 0 {
			continue
		}
		if got := mustGetBody(t, s2, p.ID, t0); !equalBytes(got, p.Body) {
			t.Errorf("paste %d: body differs after concurrent inserts", i)
		}
	}
	if got := mustGetBody(t, s2, contested.ID, t0); !equalBytes(got, winner.Body) {
		t.Errorf("contested id: got %q, want the winner's %q", got, winner.Body)
	}
	st, err := s2.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pastes != n-n/20+1 {
		t.Errorf("pastes: got %d, want %d", st.Pastes, n-n/20+1)
	}
}

func TestExpiredPastesAreHiddenThenSwept(t *testing.T) {
	path := tempDB(t)
	s, _ := mustOpen(t, path)
	ctx := context.Background()
	short := newPaste(t, pattern(2*sqlite.ChunkSize+1), time.Hour, "tok")
	long := newPaste(t, []byte("a week"), 7*24*time.Hour, "tok")
	forever := newPaste(t, []byte("forever"), paste.Never, "tok")
	for _, p := range []paste.Paste{short, long, forever} {
		mustInsert(t, s, p)
	}
	tests := []struct {
		desc string
		id   paste.ID
		at   time.Time
		want bool
	}{
		{desc: "before expiry", id: short.ID, at: t0.Add(time.Hour - time.Millisecond), want: true},
		{desc: "at expiry", id: short.ID, at: t0.Add(time.Hour), want: false},
		{desc: "after expiry", id: short.ID, at: t0.Add(2 * time.Hour), want: false},
		{desc: "other paste still there", id: long.ID, at: t0.Add(2 * time.Hour), want: true},
		{desc: "never expires", id: forever.ID, at: t0.Add(100 * 365 * 24 * time.Hour), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			_, err := s.Get(ctx, tt.id, tt.at)
			if tt.want && err != nil {
				t.Errorf("Get: got %v, want the paste", err)
			}
			if !tt.want && !errors.Is(err, paste.ErrNotFound) {
				t.Errorf("Get: got %v, want ErrNotFound", err)
			}
		})
	}

	if n, err := s.DeleteExpired(ctx, t0.Add(time.Hour-time.Millisecond)); err != nil || n != 0 {
		t.Errorf("DeleteExpired before anything expired: got %d, %v, want 0", n, err)
	}
	if n, err := s.DeleteExpired(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("DeleteExpired at the first expiry: got %d, %v, want 1", n, err)
	}
	db := rawDB(t, path, "mode=ro")
	if got := queryInt(t, db, "SELECT count(*) FROM paste_chunks"); got != 0 {
		t.Errorf("chunk rows of a swept paste: got %d, want 0 (deleted with it)", got)
	}
	if got := queryInt(t, db, "SELECT count(*) FROM pastes WHERE id = ?", string(short.ID)); got != 0 {
		t.Errorf("swept paste still has its row")
	}
	if n, err := s.DeleteExpired(ctx, t0.Add(1000*24*time.Hour)); err != nil || n != 1 {
		t.Errorf("DeleteExpired far ahead: got %d, %v, want 1 (the week-long paste only)", n, err)
	}
	mustGetBody(t, s, forever.ID, t0.Add(1000*24*time.Hour))
}

func TestDeleteExpiredTakesEveryBatch(t *testing.T) {
	s, _ := mustOpen(t, tempDB(t))
	ctx := context.Background()
	const n = 450
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Insert(ctx, newPaste(t, []byte("x"), time.Minute, "")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := s.DeleteExpired(ctx, t0.Add(time.Minute))
	if err != nil || got != n {
		t.Errorf("DeleteExpired: got %d, %v, want %d", got, err, n)
	}
	if st, _ := s.Stats(ctx); st.Pastes != 0 {
		t.Errorf("pastes left: got %d, want 0", st.Pastes)
	}
}

// A swept paste's id may be drawn again; the new paste must be the one served.
func TestReusedIDAfterSweepServesTheNewPaste(t *testing.T) {
	s, _ := mustOpen(t, tempDB(t))
	ctx := context.Background()
	old := newPaste(t, []byte("old"), time.Hour, "")
	mustInsert(t, s, old)
	mustGetBody(t, s, old.ID, t0)
	if n, err := s.DeleteExpired(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("DeleteExpired: got %d, %v, want 1", n, err)
	}
	fresh := paste.New(old.ID, []byte("new"), t0.Add(2*time.Hour), paste.Never, nil)
	mustInsert(t, s, fresh)
	if got := mustGetBody(t, s, old.ID, t0.Add(3*time.Hour)); string(got) != "new" {
		t.Errorf("got %q, want the new paste", got)
	}
}

func TestDeleteWithToken(t *testing.T) {
	path := tempDB(t)
	s, closeStore := mustOpen(t, path)
	ctx := context.Background()
	p := newPaste(t, pattern(sqlite.ChunkSize+100), paste.Never, "right")
	noToken := newPaste(t, []byte("no token stored"), paste.Never, "")
	expiring := newPaste(t, []byte("expiring"), time.Hour, "right")
	for _, x := range []paste.Paste{p, noToken, expiring} {
		mustInsert(t, s, x)
	}
	tests := []struct {
		desc  string
		id    paste.ID
		token string
		at    time.Time
		want  error
	}{
		{desc: "wrong token", id: p.ID, token: "wrong", at: t0, want: paste.ErrForbidden},
		{desc: "empty token", id: p.ID, token: "", at: t0, want: paste.ErrForbidden},
		{desc: "paste without a token", id: noToken.ID, token: "", at: t0, want: paste.ErrForbidden},
		{desc: "paste without a token, any token", id: noToken.ID, token: "right", at: t0, want: paste.ErrForbidden},
		{desc: "unknown id", id: "ZZZZZZZZ", token: "right", at: t0, want: paste.ErrNotFound},
		{desc: "expired", id: expiring.ID, token: "right", at: t0.Add(time.Hour), want: paste.ErrNotFound},
		{desc: "right token", id: p.ID, token: "right", at: t0, want: nil},
		{desc: "again", id: p.ID, token: "right", at: t0, want: paste.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			err := s.DeleteWithToken(ctx, tt.id, tt.token, tt.at)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("DeleteWithToken: got %v, want %v", err, tt.want)
			}
			if tt.want == paste.ErrForbidden {
				mustGetBody(t, s, tt.id, tt.at)
			}
		})
	}
	if _, err := s.Get(ctx, p.ID, t0); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("Get after delete: got %v, want ErrNotFound", err)
	}
	closeStore()
	db := rawDB(t, path, "mode=ro")
	if got := queryInt(t, db, "SELECT count(*) FROM paste_chunks"); got != 0 {
		t.Errorf("chunk rows of a deleted paste: got %d, want 0", got)
	}
	if got := queryInt(t, db, "SELECT count(*) FROM pastes"); got != 2 {
		t.Errorf("rows: got %d, want 2 (only the deleted paste gone)", got)
	}
	// Only the token's hash is kept.
	var hash []byte
	if err := db.QueryRow("SELECT delete_token_hash FROM pastes WHERE id = ?", string(expiring.ID)).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if string(hash) != string(paste.HashToken("right")) {
		t.Errorf("stored token: got %q, want the token's hash", hash)
	}
}

// A paste read while it is being deleted must not come back afterwards.
func TestNoReadServesADeletedPaste(t *testing.T) {
	path := tempDB(t)
	s, closeStore := mustOpen(t, path)
	const n = 2000
	pastes := make([]paste.Paste, n)
	for i := range pastes {
		pastes[i] = newPaste(t, []byte("small paste"), paste.Never, "tok")
		mustInsert(t, s, pastes[i])
	}
	closeStore()
	s, _ = mustOpen(t, path) // nothing in memory: reads go to the file
	ctx := context.Background()
	for _, p := range pastes {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, _ = s.Get(ctx, p.ID, t0)
				}
			}()
		}
		if err := s.DeleteWithToken(ctx, p.ID, "tok", t0); err != nil {
			t.Fatal(err)
		}
		close(stop)
		wg.Wait()
		if _, err := s.Get(ctx, p.ID, t0); !errors.Is(err, paste.ErrNotFound) {
			t.Fatalf("Get after delete, with reads racing it: got %v, want ErrNotFound", err)
		}
	}
}

func TestStats(t *testing.T) {
	s, _ := mustOpen(t, tempDB(t))
	ctx := context.Background()
	if st, err := s.Stats(ctx); err != nil || st.Pastes != 0 || st.Bytes != 0 {
		t.Errorf("empty store: got %+v, %v", st, err)
	}
	mustInsert(t, s, newPaste(t, []byte("12345"), paste.Never, ""))
	mustInsert(t, s, newPaste(t, pattern(sqlite.ChunkSize+5), paste.Never, ""))
	if st, err := s.Stats(ctx); err != nil || st.Pastes != 2 || st.Bytes != 5+sqlite.ChunkSize+5 {
		t.Errorf("got %+v, %v, want 2 pastes, %d bytes", st, err, 5+sqlite.ChunkSize+5)
	}
}

func TestReady(t *testing.T) {
	t.Run("writable", func(t *testing.T) {
		path := tempDB(t)
		s, _ := mustOpen(t, path)
		mustInsert(t, s, newPaste(t, []byte("x"), paste.Never, ""))
		walBefore, _ := os.ReadFile(path + "-wal")
		db := rawDB(t, path, "mode=ro")
		versionBefore := queryInt(t, db, "PRAGMA data_version")
		for range 20 {
			if err := s.Ready(context.Background()); err != nil {
				t.Fatalf("Ready: %v", err)
			}
		}
		// A probe writes nothing: nothing for a replica to upload.
		walAfter, _ := os.ReadFile(path + "-wal")
		if !equalBytes(walBefore, walAfter) {
			t.Errorf("Ready changed the WAL (%d bytes before, %d after)", len(walBefore), len(walAfter))
		}
		if got := queryInt(t, db, "PRAGMA data_version"); got != versionBefore {
			t.Errorf("Ready committed a change (data_version %d, then %d)", versionBefore, got)
		}
	})
	t.Run("read-only file", func(t *testing.T) {
		path := tempDB(t)
		s, closeStore := mustOpen(t, path)
		p := newPaste(t, []byte("still readable"), paste.Never, "")
		mustInsert(t, s, p)
		closeStore()
		testkit.ReadOnlyFile(t, path)

		s, _ = mustOpen(t, path)
		err := s.Ready(context.Background())
		if !errors.Is(err, paste.ErrStoreReadOnly) {
			t.Fatalf("Ready: got %v, want ErrStoreReadOnly", err)
		}
		if got := mustGetBody(t, s, p.ID, t0); string(got) != "still readable" {
			t.Errorf("Get from a read-only file: got %q", got)
		}
		if err := s.Insert(context.Background(), newPaste(t, []byte("x"), paste.Never, "")); !errors.Is(err, paste.ErrStoreReadOnly) {
			t.Errorf("Insert into a read-only file: got %v, want ErrStoreReadOnly", err)
		}
	})
}

func TestOpenStreamsLargePastes(t *testing.T) {
	path := tempDB(t)
	s, closeStore := mustOpen(t, path)
	small := newPaste(t, []byte("small"), paste.Never, "tok")
	large := newPaste(t, pattern(5*sqlite.ChunkSize/2), paste.Never, "tok")
	mustInsert(t, s, small)
	mustInsert(t, s, large)
	closeStore()
	s, _ = mustOpen(t, path)
	ctx := context.Background()

	p, size, rest, err := s.Open(ctx, small.ID, t0)
	if err != nil || rest != nil || size != 5 || string(p.Body) != "small" {
		t.Errorf("Open small: got %q, size %d, rest %v, %v; want the whole body and no rest", p.Body, size, rest != nil, err)
	}

	p, size, rest, err = s.Open(ctx, large.ID, t0)
	if err != nil || rest == nil {
		t.Fatalf("Open large: got rest %v, %v; want a rest to stream", rest != nil, err)
	}
	if size != len(large.Body) || len(p.Body) > sqlite.ChunkSize {
		t.Errorf("Open large: size %d with %d bytes in hand, want size %d and at most one chunk in hand", size, len(p.Body), len(large.Body))
	}
	var buf bytes.Buffer
	buf.Write(p.Body)
	if err := rest(&buf); err != nil {
		t.Fatal(err)
	}
	if !equalBytes(buf.Bytes(), large.Body) {
		t.Errorf("streamed body differs from the stored one (%d bytes, want %d)", buf.Len(), len(large.Body))
	}

	// Deleted between the first chunk and the rest: the rest fails rather
	// than ending the body early as if it were whole.
	_, _, rest, err = s.Open(ctx, large.ID, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWithToken(ctx, large.ID, "tok", t0); err != nil {
		t.Fatal(err)
	}
	if err := rest(io.Discard); err == nil {
		t.Error("rest of a paste deleted meanwhile: got no error")
	}
}
