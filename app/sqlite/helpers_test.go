package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/sqlite"
)

var t0 = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

func tempDB(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "litepaste.db")
}

// mustOpen opens the store at path and closes it at cleanup (unless the
// test closed it already, which it says by calling the returned func).
func mustOpen(t testing.TB, path string, opts ...sqlite.Option) (*sqlite.Store, func()) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	closed := false
	closeStore := func() {
		t.Helper()
		if closed {
			return
		}
		closed = true
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	t.Cleanup(closeStore)
	return s, closeStore
}

// rawDB is a separate connection to the file, for looking at what the store
// wrote; it never goes through the store's code.
func rawDB(t testing.TB, path string, query string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?"+query)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queryOne is the single value of a one-row query.
func queryOne[T any](t testing.TB, db *sql.DB, q string, args ...any) T {
	t.Helper()
	var v T
	if err := db.QueryRow(q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

func queryInt(t testing.TB, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	return queryOne[int64](t, db, q, args...)
}

func queryString(t testing.TB, db *sql.DB, q string, args ...any) string {
	t.Helper()
	return queryOne[string](t, db, q, args...)
}

func newPaste(t testing.TB, body []byte, lifetime time.Duration, token string) paste.Paste {
	t.Helper()
	var hash []byte
	if token != "" {
		hash = paste.HashToken(token)
	}
	return paste.New(body, t0, lifetime, hash)
}

// mustInsert stores p and returns it named.
func mustInsert(t testing.TB, s *sqlite.Store, p paste.Paste) paste.Paste {
	t.Helper()
	named, err := s.Insert(context.Background(), p)
	if err != nil {
		t.Fatalf("Insert: %v", err)
	}
	return named
}

// insertAndClose stores p in the file at path and closes the store, leaving
// the file as a stopped server would; it returns p named.
func insertAndClose(t testing.TB, path string, p paste.Paste) paste.Paste {
	t.Helper()
	s, closeStore := mustOpen(t, path)
	p = mustInsert(t, s, p)
	closeStore()
	return p
}

// get is the whole paste unless it is missing or expired at now.
func get(ctx context.Context, s *sqlite.Store, id paste.ID, now time.Time) (paste.Paste, error) {
	p, r, err := s.Lookup(ctx, id, now)
	if err != nil {
		return p, err
	}
	if p.Body, err = io.ReadAll(r); err != nil {
		return paste.Paste{}, err
	}
	return p, nil
}

func mustGetBody(t testing.TB, s *sqlite.Store, id paste.ID, now time.Time) []byte {
	t.Helper()
	p, err := get(context.Background(), s, id, now)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return p.Body
}

// pattern is a body whose every chunk differs, so chunks read back out of
// order or twice cannot pass for the original.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/sqlite.ChunkSize)
	}
	return b
}

func equalBytes(got, want []byte) bool { return bytes.Equal(got, want) }
