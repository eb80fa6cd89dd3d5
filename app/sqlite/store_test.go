package sqlite_test

import (
	"context"
	"errors"
	"fmt"
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
	p := insertAndClose(t, path, newPaste(t, []byte("kept across restarts"), paste.Never, "tok"))

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

func TestRoundTrip(t *testing.T) {
	all := testkit.AllBytes()
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
		p := mustInsert(t, s, paste.New(tt.body, created, 36*time.Hour, paste.HashToken("t")))
		if _, err := paste.ParseID(p.ID.String()); err != nil || p.ETag == "" {
			t.Fatalf("Insert named the paste %q, etag %q", p.ID, p.ETag)
		}
		stored = append(stored, p)
	}
	check := func(t *testing.T, s *sqlite.Store, label string) {
		for i, tt := range tests {
			t.Run(label+" "+tt.desc, func(t *testing.T) {
				want := stored[i]
				got, err := get(context.Background(), s, want.ID, created)
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
	for _, tt := range tests {
		if got := queryInt(t, db, "SELECT count(*) FROM paste_chunks JOIN pastes ON number = paste_number WHERE size = ?", len(tt.body)); got != tt.wantChunks {
			t.Errorf("%s: chunk rows: got %d, want %d", tt.desc, got, tt.wantChunks)
		}
	}
	// Times are stored as UTC text, to the millisecond.
	if got := queryString(t, db, "SELECT created_at FROM pastes WHERE size = ?", len(tests[0].body)); got != "2026-11-03T10:11:12.345Z" {
		t.Errorf("created_at: got %q, want 2026-11-03T10:11:12.345Z", got)
	}
}

// Pastes are numbered in arrival order: the rows follow one another at the
// end of the table, and the IDs they get look nothing alike.
func TestPastesAreNumberedInArrivalOrder(t *testing.T) {
	path := tempDB(t)
	s, closeStore := mustOpen(t, path)
	var ids []paste.ID
	for i := range 50 {
		ids = append(ids, mustInsert(t, s, newPaste(t, []byte(fmt.Sprint("paste ", i)), paste.Never, "")).ID)
	}
	closeStore()
	db := rawDB(t, path, "mode=ro")
	rows, err := db.Query("SELECT number, head FROM pastes ORDER BY number")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var prev int64
	for i := 0; rows.Next(); i++ {
		var number int64
		var head []byte
		if err := rows.Scan(&number, &head); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint("paste ", i); string(head) != want || number <= prev {
			t.Errorf("row %d: number %d (previous %d) holds %q, want %q", i, number, prev, head, want)
		}
		prev = number
	}
	if last := queryInt(t, db, "SELECT last_number FROM paste_numbers"); last != prev {
		t.Errorf("last_number: got %d, want %d", last, prev)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i][:3] == ids[i-1][:3] {
			t.Errorf("consecutive pastes got ids %s and %s", ids[i-1], ids[i])
		}
	}
	// Reopened, the store goes on after the last number.
	s2, _ := mustOpen(t, path)
	next := mustInsert(t, s2, newPaste(t, []byte("after reopening"), paste.Never, ""))
	for _, id := range ids {
		if id == next.ID {
			t.Fatalf("a reopened store handed out %s again", id)
		}
	}
	if got := mustGetBody(t, s2, ids[0], t0); string(got) != "paste 0" {
		t.Errorf("first paste after reopening: got %q", got)
	}
}

// A database restored from a replica that missed its newest pastes must not
// hand their IDs to new pastes: numbers follow the clock.
func TestLostPastesIDsAreNotHandedOutAgain(t *testing.T) {
	path := tempDB(t)
	kept := insertAndClose(t, path, newPaste(t, []byte("replicated"), paste.Never, ""))
	backup := filepath.Join(t.TempDir(), "replica.db")
	db := rawDB(t, path, "")
	if _, err := db.Exec("VACUUM INTO ?", backup); err != nil {
		t.Fatal(err)
	}
	s, closeStore := mustOpen(t, path)
	var lost []paste.ID
	for range 20 {
		lost = append(lost, mustInsert(t, s, newPaste(t, []byte("lost"), paste.Never, "")).ID)
	}
	closeStore()

	restored, _ := mustOpen(t, backup)
	if got := mustGetBody(t, restored, kept.ID, t0); string(got) != "replicated" {
		t.Fatalf("restored copy: got %q", got)
	}
	// New pastes are created later than the lost ones.
	later := paste.New([]byte("new"), t0.Add(time.Second), paste.Never, nil)
	for range 20 {
		p := mustInsert(t, restored, later)
		for _, id := range lost {
			if p.ID == id {
				t.Fatalf("the restored store handed out %s, the id of a lost paste, again", id)
			}
		}
	}
}

// Pastes stored before numbering keep their random IDs, chunks included, and
// no new paste is ever given one of them.
func TestMigrationKeepsRandomIDs(t *testing.T) {
	path := tempDB(t)
	db := rawDB(t, path, "")
	ms := sqlite.Migrations()
	for _, m := range ms[:2] {
		if _, err := db.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("PRAGMA user_version = 2"); err != nil {
		t.Fatal(err)
	}
	big := pattern(2*sqlite.ChunkSize + 7)
	insert := func(id string, body []byte, expires any) {
		t.Helper()
		head := body[:min(len(body), sqlite.ChunkSize)]
		if _, err := db.Exec(`INSERT INTO pastes (id, size, etag, head, created_at, expires_at, delete_token_hash)
			VALUES (?, ?, ?, ?, '2026-11-01T00:00:00.000Z', ?, ?)`, id, len(body), paste.ETag(body), head, expires, paste.HashToken("tok")); err != nil {
			t.Fatal(err)
		}
		for seq, off := 1, sqlite.ChunkSize; off < len(body); seq, off = seq+1, off+sqlite.ChunkSize {
			if _, err := db.Exec(`INSERT INTO paste_chunks (paste_id, seq, data) VALUES (?, ?, ?)`,
				id, seq, body[off:min(len(body), off+sqlite.ChunkSize)]); err != nil {
				t.Fatal(err)
			}
		}
	}
	insert("OldSmall", []byte("from before"), nil)
	insert("OldLarge", big, nil)
	insert("OldGone1", []byte("expired"), "2026-11-02T00:00:00.000Z")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, closeStore := mustOpen(t, path)
	if got := mustGetBody(t, s, "OldSmall", t0); string(got) != "from before" {
		t.Errorf("OldSmall: got %q", got)
	}
	if got := mustGetBody(t, s, "OldLarge", t0); !equalBytes(got, big) {
		t.Errorf("OldLarge: got %d bytes, not the %d stored", len(got), len(big))
	}
	if _, err := get(context.Background(), s, "OldGone1", t0); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("an expired paste from before: got %v, want ErrNotFound", err)
	}
	fresh := mustInsert(t, s, newPaste(t, []byte("new"), paste.Never, "tok"))
	if got := mustGetBody(t, s, fresh.ID, t0); string(got) != "new" {
		t.Errorf("new paste beside old ones: got %q", got)
	}
	if err := s.DeleteWithToken(context.Background(), "OldLarge", "tok", t0); err != nil {
		t.Fatalf("delete a paste from before: %v", err)
	}
	if n, err := s.DeleteExpired(context.Background(), t0); err != nil || n != 1 {
		t.Errorf("DeleteExpired: got %d, %v, want the one expired paste from before", n, err)
	}
	closeStore()
	ro := rawDB(t, path, "mode=ro")
	if got := queryInt(t, ro, "SELECT count(*) FROM paste_chunks"); got != 0 {
		t.Errorf("chunks left after deleting the large paste: %d", got)
	}
	if got := queryString(t, ro, "PRAGMA integrity_check"); got != "ok" {
		t.Errorf("integrity_check: %s", got)
	}
	if got := queryInt(t, ro, "SELECT count(*) FROM pastes WHERE legacy_id = 'OldSmall'"); got != 1 {
		t.Errorf("OldSmall keeps its id: %d rows", got)
	}
}

func TestConcurrentInserts(t *testing.T) {
	path := tempDB(t)
	s, closeStore := mustOpen(t, path)
	ctx := context.Background()
	const n = 200
	pastes := make([]paste.Paste, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pastes[i], errs[i] = s.Insert(ctx, newPaste(t, pattern(100+i), paste.Never, ""))
		}()
	}
	wg.Wait()
	seen := map[paste.ID]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
		if seen[pastes[i].ID] {
			t.Fatalf("two concurrent inserts got id %s", pastes[i].ID)
		}
		seen[pastes[i].ID] = true
	}
	closeStore()
	s2, _ := mustOpen(t, path)
	for i, p := range pastes {
		if got := mustGetBody(t, s2, p.ID, t0); !equalBytes(got, pattern(100+i)) {
			t.Errorf("paste %d: body differs after concurrent inserts", i)
		}
	}
}

func TestExpiredPastesAreHiddenThenSwept(t *testing.T) {
	path := tempDB(t)
	s, _ := mustOpen(t, path)
	ctx := context.Background()
	short := newPaste(t, pattern(2*sqlite.ChunkSize+1), time.Hour, "tok")
	long := newPaste(t, []byte("a week"), 7*24*time.Hour, "tok")
	forever := newPaste(t, []byte("forever"), paste.Never, "tok")
	short, long, forever = mustInsert(t, s, short), mustInsert(t, s, long), mustInsert(t, s, forever)
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
			_, err := get(ctx, s, tt.id, tt.at)
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
	if got := queryInt(t, db, "SELECT count(*) FROM pastes WHERE created_at = ? AND size = ?", "2026-11-03T10:00:00.000Z", len(short.Body)); got != 0 {
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
			if _, err := s.Insert(ctx, newPaste(t, []byte("x"), time.Minute, "")); err != nil {
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

// A swept paste's id is never handed out again.
func TestSweptIDsAreNotReused(t *testing.T) {
	s, _ := mustOpen(t, tempDB(t))
	ctx := context.Background()
	old := mustInsert(t, s, newPaste(t, []byte("old"), time.Hour, ""))
	mustGetBody(t, s, old.ID, t0)
	if n, err := s.DeleteExpired(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("DeleteExpired: got %d, %v, want 1", n, err)
	}
	for range 100 {
		if p := mustInsert(t, s, paste.New([]byte("new"), t0, paste.Never, nil)); p.ID == old.ID {
			t.Fatalf("the swept paste's id %s was handed out again", old.ID)
		}
	}
	if _, err := get(ctx, s, old.ID, t0.Add(3*time.Hour)); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("swept paste: got %v, want ErrNotFound", err)
	}
}

func TestDeleteWithToken(t *testing.T) {
	path := tempDB(t)
	s, closeStore := mustOpen(t, path)
	ctx := context.Background()
	p := newPaste(t, pattern(sqlite.ChunkSize+100), paste.Never, "right")
	noToken := newPaste(t, []byte("no token stored"), paste.Never, "")
	expiring := newPaste(t, []byte("expiring"), time.Hour, "right")
	p, noToken, expiring = mustInsert(t, s, p), mustInsert(t, s, noToken), mustInsert(t, s, expiring)
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
	if _, err := get(ctx, s, p.ID, t0); !errors.Is(err, paste.ErrNotFound) {
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
	if err := db.QueryRow("SELECT delete_token_hash FROM pastes WHERE size = ?", len(expiring.Body)).Scan(&hash); err != nil {
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
		pastes[i] = mustInsert(t, s, newPaste(t, []byte("small paste"), paste.Never, "tok"))
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
					_, _ = get(ctx, s, p.ID, t0)
				}
			}()
		}
		if err := s.DeleteWithToken(ctx, p.ID, "tok", t0); err != nil {
			t.Fatal(err)
		}
		close(stop)
		wg.Wait()
		if _, err := get(ctx, s, p.ID, t0); !errors.Is(err, paste.ErrNotFound) {
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
		p := insertAndClose(t, path, newPaste(t, []byte("still readable"), paste.Never, ""))
		testkit.ReadOnlyFile(t, path)

		s, _ := mustOpen(t, path)
		err := s.Ready(context.Background())
		if !errors.Is(err, paste.ErrStoreReadOnly) {
			t.Fatalf("Ready: got %v, want ErrStoreReadOnly", err)
		}
		if got := mustGetBody(t, s, p.ID, t0); string(got) != "still readable" {
			t.Errorf("Get from a read-only file: got %q", got)
		}
		if _, err := s.Insert(context.Background(), newPaste(t, []byte("x"), paste.Never, "")); !errors.Is(err, paste.ErrStoreReadOnly) {
			t.Errorf("Insert into a read-only file: got %v, want ErrStoreReadOnly", err)
		}
	})
}

func TestLookupReadsLargePastesByChunk(t *testing.T) {
	path := tempDB(t)
	s, closeStore := mustOpen(t, path)
	small := newPaste(t, []byte("small"), paste.Never, "tok")
	large := newPaste(t, pattern(5*sqlite.ChunkSize/2), paste.Never, "tok")
	small, large = mustInsert(t, s, small), mustInsert(t, s, large)
	closeStore()
	s, _ = mustOpen(t, path)
	ctx := context.Background()

	p, r, err := s.Lookup(ctx, small.ID, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(r); string(got) != "small" || p.ETag != small.ETag || p.Body != nil {
		t.Errorf("small: got %q, ETag %q, Body %q; want the body from the reader only", got, p.ETag, p.Body)
	}

	_, r, err = s.Lookup(ctx, large.ID, t0)
	if err != nil {
		t.Fatal(err)
	}
	if size, err := r.Seek(0, io.SeekEnd); err != nil || size != int64(len(large.Body)) {
		t.Errorf("large: Seek to end got %d, %v; want %d", size, err, len(large.Body))
	}
	// Reads that start inside one chunk and end in the next, then go back.
	for _, span := range []struct{ off, n int }{
		{sqlite.ChunkSize - 3, 10},
		{2*sqlite.ChunkSize - 1, 2},
		{len(large.Body) - 5, 5},
		{0, 7},
		{sqlite.ChunkSize + 11, 4},
	} {
		if _, err := r.Seek(int64(span.off), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, span.n)
		if _, err := io.ReadFull(r, got); err != nil || !equalBytes(got, large.Body[span.off:span.off+span.n]) {
			t.Errorf("bytes %d-%d: got %v, %v; want %v", span.off, span.off+span.n-1, got, err, large.Body[span.off:span.off+span.n])
		}
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(r); err != nil || !equalBytes(got, large.Body) {
		t.Errorf("whole body: %d bytes, %v; want the %d stored", len(got), err, len(large.Body))
	}

	// Deleted after the head was read: the rest fails rather than ending the
	// body early as if it were whole.
	_, r, err = s.Lookup(ctx, large.ID, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, make([]byte, sqlite.ChunkSize)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWithToken(ctx, large.ID, "tok", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); err == nil {
		t.Error("rest of a paste deleted meanwhile: got no error")
	}
}
