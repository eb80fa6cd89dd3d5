package testkit

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // LogPaste's own driver, registered as "sqlite3"
)

// LogPasteEntry is one paste as LogPaste stores it.
type LogPasteEntry struct {
	ID       string
	Created  time.Time // stored as LogPaste does: Format(time.RFC3339) in Created's zone
	Contents []byte
}

// CreationTime is the creation_time column's text.
func (e LogPasteEntry) CreationTime() string { return e.Created.Format(time.RFC3339) }

// LogPasteEntries is a varied set of LogPaste pastes: text, NUL bytes,
// invalid UTF-8, every byte value, an empty one, sizes around litepaste's
// chunk size and a 2 MiB one, created in zones east and west of UTC.
func LogPasteEntries(chunkSize int) []LogPasteEntry {
	east := time.FixedZone("", 5*3600+30*60)
	west := time.FixedZone("", -8*3600)
	at := time.Date(2023, 4, 5, 6, 7, 8, 0, west)
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	big := func(n int, seed byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*31+i/977) ^ seed
		}
		return b
	}
	return []LogPasteEntry{
		{"abcdEFGH", at, []byte("2023-04-05 job 17 failed\nexit status 1\n")},
		{"Zz09Zz09", at.In(east).Add(time.Minute), []byte("nul \x00 in the middle\x00\x00")},
		{"invalid8", at.In(time.UTC).Add(2 * time.Minute), []byte("bad utf-8: \xff\xfe \xc3\x28 \xa0\xa1 \xed\xa0\x80 end")},
		{"allBytes", at.Add(3 * time.Minute), every},
		{"Empty000", at.Add(4 * time.Minute), []byte{}},
		{"oneChunk", at.In(east).Add(5 * time.Minute), big(chunkSize, 1)},
		{"chunkPl1", at.Add(6 * time.Minute), big(chunkSize+1, 2)},
		{"twoMiB00", at.Add(7 * time.Minute), big(2<<20, 3)},
		{"unicode1", at.In(east).Add(8 * time.Minute), []byte("héllo wörld ✓ 日本語\r\n")},
	}
}

// WriteLogPasteDB makes a database as LogPaste does: its CREATE TABLE, the
// given journal mode ("WAL" in current releases, "DELETE" in early ones) and
// user_version (1; 0 in early releases), the contents bound as TEXT.
func WriteLogPasteDB(t testing.TB, path, journalMode string, userVersion int, entries []LogPasteEntry) {
	t.Helper()
	db := OpenLogPasteDB(t, path, journalMode, userVersion)
	for _, e := range entries {
		InsertLogPasteEntry(t, db, e)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// OpenLogPasteDB creates LogPaste's table in the file at path and returns
// the connection (one: pragmas set on it hold for every statement).
func OpenLogPasteDB(t testing.TB, path, journalMode string, userVersion int) *sql.DB {
	t.Helper()
	db := RawDB(t, path, "_journal_mode="+journalMode)
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    creation_time TEXT,
    contents TEXT
)`,
		fmt.Sprintf("PRAGMA user_version = %d", userVersion),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db
}

// InsertLogPasteEntry stores e with LogPaste's statement; like LogPaste it
// passes the contents as a Go string, which the driver binds as TEXT.
func InsertLogPasteEntry(t testing.TB, db *sql.DB, e LogPasteEntry) {
	t.Helper()
	if _, err := db.Exec(`INSERT INTO entries(id, creation_time, contents) values(?,?,?)`,
		e.ID, e.CreationTime(), string(e.Contents)); err != nil {
		t.Fatalf("insert %s: %v", e.ID, err)
	}
}

// SHA256 is the hex SHA-256 of b.
func SHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// FileSHA256 is the hex SHA-256 of the file at path, "absent" if there is none.
func FileSHA256(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return "absent"
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// FilesState is the SHA-256 of a database file and of each journal SQLite
// may keep beside it, by suffix ("absent" for those not there), and whether
// the WAL's shared-memory index is there (a reader may write into it).
func FilesState(t testing.TB, path string) map[string]string {
	t.Helper()
	st := map[string]string{}
	for _, suffix := range []string{"", "-wal", "-journal"} {
		st[suffix] = FileSHA256(t, path+suffix)
	}
	st["-shm"] = "absent"
	if _, err := os.Stat(path + "-shm"); err == nil {
		st["-shm"] = "present"
	}
	return st
}

// CopyFile copies the file at from to to.
func CopyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
