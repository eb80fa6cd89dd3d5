package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"
	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/sqlite"
)

// logPasteSums reads every paste's bytes back out of a LogPaste file the
// way no text conversion can alter them (CAST AS BLOB) and returns their
// SHA-256 by ID.
func logPasteSums(t *testing.T, path string) map[string]string {
	t.Helper()
	db := rawDB(t, path, "mode=ro")
	rows, err := db.Query(`SELECT id, typeof(contents), CAST(contents AS BLOB) FROM entries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	sums := map[string]string{}
	for rows.Next() {
		var id, typ string
		var b []byte
		if err := rows.Scan(&id, &typ, &b); err != nil {
			t.Fatal(err)
		}
		if typ != "text" {
			t.Fatalf("LogPaste paste %s is stored as %s, want text as LogPaste stores it", id, typ)
		}
		sums[id] = testkit.SHA256(b)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	return sums
}

// checkUpgradedLogPaste checks that every entry is served by s with its ID,
// bytes and creation time (in UTC), never expires and has no delete token,
// and that LogPaste's table is gone.
func checkUpgradedLogPaste(t *testing.T, s *sqlite.Store, path string, entries []testkit.LogPasteEntry, sums map[string]string) {
	t.Helper()
	ctx := context.Background()
	farFuture := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, e := range entries {
		p, err := get(ctx, s, paste.ID(e.ID), farFuture)
		if err != nil {
			t.Errorf("paste %s after the upgrade: %v", e.ID, err)
			continue
		}
		if got := testkit.SHA256(p.Body); got != sums[e.ID] || got != testkit.SHA256(e.Contents) {
			t.Errorf("paste %s: SHA-256 %s after the upgrade, %s before (%d bytes, want %d)", e.ID, got, sums[e.ID], len(p.Body), len(e.Contents))
		}
		if !p.Created.Equal(e.Created) || p.Created.Location() != time.UTC {
			t.Errorf("paste %s: created %v, want %v in UTC", e.ID, p.Created, e.Created.UTC())
		}
		if !p.Expires.IsZero() {
			t.Errorf("paste %s: expires %v, want never", e.ID, p.Expires)
		}
		if err := s.DeleteWithToken(ctx, paste.ID(e.ID), "", t0); !errors.Is(err, paste.ErrForbidden) {
			t.Errorf("paste %s: delete without a token: got %v, want ErrForbidden (it has no token)", e.ID, err)
		}
	}
	db := rawDB(t, path, "mode=ro")
	if n := queryInt(t, db, `SELECT count(*) FROM pastes WHERE legacy_id IS NOT NULL AND expires_at IS NULL AND delete_token_hash IS NULL`); n != int64(len(entries)) {
		t.Errorf("pastes kept under their LogPaste ids, never expiring, without a token: %d, want %d", n, len(entries))
	}
	if n := queryInt(t, db, `SELECT count(*) FROM sqlite_schema WHERE name = 'entries'`); n != 0 {
		t.Errorf("LogPaste's table is still there after the upgrade")
	}
	if got, want := queryInt(t, db, "PRAGMA user_version"), int64(sqlite.SchemaVersion()); got != want {
		t.Errorf("user_version: got %d, want %d", got, want)
	}
	if got := queryString(t, db, "PRAGMA integrity_check"); got != "ok" {
		t.Errorf("integrity_check: %s", got)
	}
}

func TestLogPasteDatabaseUpgradesInPlace(t *testing.T) {
	for _, tt := range []struct {
		desc        string
		journalMode string
		userVersion int
	}{
		{"current LogPaste: WAL, user_version 1", "WAL", 1},
		{"early LogPaste: rollback journal, no user_version", "DELETE", 0},
	} {
		t.Run(tt.desc, func(t *testing.T) {
			path := tempDB(t)
			entries := testkit.LogPasteEntries(sqlite.ChunkSize)
			testkit.WriteLogPasteDB(t, path, tt.journalMode, tt.userVersion, entries)
			sums := logPasteSums(t, path)

			s, _ := mustOpen(t, path)
			if got, want := s.Upgraded(), (sqlite.Upgrade{From: "LogPaste", Imported: len(entries)}); got != want {
				t.Errorf("Upgraded: got %+v, want %+v", got, want)
			}
			checkUpgradedLogPaste(t, s, path, entries, sums)
			db := rawDB(t, path, "mode=ro")
			if got := queryString(t, db, "PRAGMA journal_mode"); got != "wal" {
				t.Errorf("journal_mode after the upgrade: %s, want wal", got)
			}
			// Large bodies are chunked like every paste's: 2 MiB is a head and one chunk.
			if got := queryInt(t, db, `SELECT count(*) FROM paste_chunks JOIN pastes ON number = paste_number WHERE legacy_id = 'twoMiB00'`); got != 1 {
				t.Errorf("chunks of the 2 MiB paste: %d, want 1", got)
			}
			if got := queryString(t, db, `SELECT created_at FROM pastes WHERE legacy_id = 'abcdEFGH'`); got != "2023-04-05T14:07:08.000Z" {
				t.Errorf("created_at of a paste created at 06:07:08-08:00: %q, want it in UTC", got)
			}

			var fresh []paste.ID
			for range 50 {
				fresh = append(fresh, mustInsert(t, s, newPaste(t, []byte("after the switch"), paste.Never, "tok")).ID)
			}
			for _, id := range fresh {
				for _, e := range entries {
					if string(id) == e.ID {
						t.Fatalf("a new paste got %s, a LogPaste paste's id", id)
					}
				}
				if got := mustGetBody(t, s, id, t0); string(got) != "after the switch" {
					t.Errorf("new paste %s: got %q", id, got)
				}
			}
		})
	}
}

func TestUpgradeWithMigrateOnlyKeepsUpgradingNothingTwice(t *testing.T) {
	path := tempDB(t)
	entries := testkit.LogPasteEntries(sqlite.ChunkSize)[:3]
	testkit.WriteLogPasteDB(t, path, "WAL", 1, entries)
	s, closeStore := mustOpen(t, path)
	closeStore()
	if got := s.Upgraded().Imported; got != 3 {
		t.Fatalf("first open imported %d pastes, want 3", got)
	}
	before := testkit.FileSHA256(t, path)
	s, _ = mustOpen(t, path)
	if got := s.Upgraded(); got != (sqlite.Upgrade{}) {
		t.Errorf("second open: Upgraded %+v, want nothing done", got)
	}
	if after := testkit.FileSHA256(t, path); after != before {
		t.Errorf("opening an upgraded database changed it")
	}
}

// A LogPaste that was stopped without closing its database leaves pastes
// in its WAL only; they are part of the database, with or without the WAL's
// shared-memory index beside it.
func TestLogPasteFileWithALiveWAL(t *testing.T) {
	src := tempDB(t)
	entries := testkit.LogPasteEntries(sqlite.ChunkSize)
	db := testkit.OpenLogPasteDB(t, src, "WAL", 1)
	if _, err := db.Exec("PRAGMA wal_autocheckpoint = 0"); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		testkit.InsertLogPasteEntry(t, db, e)
	}
	// While the connection is open nothing is checkpointed: the copies are
	// what a killed LogPaste leaves.
	for _, tt := range []struct {
		desc     string
		suffixes []string
	}{
		{"WAL and its index", []string{"", "-wal", "-shm"}},
		{"WAL without its index", []string{"", "-wal"}},
	} {
		t.Run(tt.desc, func(t *testing.T) {
			path := tempDB(t)
			for _, suffix := range tt.suffixes {
				testkit.CopyFile(t, src+suffix, path+suffix)
			}
			if st, err := os.Stat(path + "-wal"); err != nil || st.Size() == 0 {
				t.Fatalf("the copy has no live WAL: %v", err)
			}
			sums := map[string]string{}
			for _, e := range entries {
				sums[e.ID] = testkit.SHA256(e.Contents)
			}
			s, _ := mustOpen(t, path)
			if got := s.Upgraded().Imported; got != len(entries) {
				t.Errorf("imported %d pastes, want %d", got, len(entries))
			}
			checkUpgradedLogPaste(t, s, path, entries, sums)
		})
	}
}

// New pastes are never given a LogPaste paste's ID, not even one whose
// paste was deleted since. The permutation's key is set to a known one so
// the test knows which IDs the next numbers name.
func TestNewIDsSkipLogPasteIDs(t *testing.T) {
	key := []byte("0123456789abcdef")
	codec, err := paste.NewIDCodec(key)
	if err != nil {
		t.Fatal(err)
	}
	// After the upgrade the store's last number is the count of imported
	// pastes; the first paste created at t0 gets the clock's floor.
	first := paste.NextNumber(3, t0)
	taken := func(n uint64) testkit.LogPasteEntry {
		return testkit.LogPasteEntry{ID: string(codec.Encode(n)), Created: t0, Contents: []byte(fmt.Sprintf("old paste %d", n))}
	}
	entries := []testkit.LogPasteEntry{taken(first), taken(first + 2), taken(first + 3)}
	path := tempDB(t)
	testkit.WriteLogPasteDB(t, path, "WAL", 1, entries)
	_, closeStore := mustOpen(t, path)
	closeStore()

	db := rawDB(t, path, "")
	if _, err := db.Exec(`UPDATE paste_numbers SET id_key = ?`, key); err != nil {
		t.Fatal(err)
	}
	// The third old paste is taken down before any new paste is stored.
	if _, err := db.Exec(`DELETE FROM pastes WHERE legacy_id = ?`, entries[2].ID); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, _ := mustOpen(t, path)
	var got []paste.ID
	for range 3 {
		got = append(got, mustInsert(t, s, newPaste(t, []byte("new"), paste.Never, "")).ID)
	}
	want := []paste.ID{codec.Encode(first + 1), codec.Encode(first + 4), codec.Encode(first + 5)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("new ids: got %v, want %v (numbers %d, %d and %d name old pastes' ids)", got, want, first, first+2, first+3)
	}
	for _, e := range entries[:2] {
		if body := mustGetBody(t, s, paste.ID(e.ID), t0); string(body) != string(e.Contents) {
			t.Errorf("old paste %s: got %q, want %q", e.ID, body, e.Contents)
		}
	}
	if _, err := get(context.Background(), s, paste.ID(entries[2].ID), t0); !errors.Is(err, paste.ErrNotFound) {
		t.Errorf("the deleted old paste: got %v, want ErrNotFound", err)
	}
}

// A LogPaste paste litepaste could not serve under its ID stops the upgrade
// (and leaves the file as it was) rather than being dropped.
func TestLogPastePastesThatCannotKeepTheirLinkStopTheUpgrade(t *testing.T) {
	for _, tt := range []struct {
		desc  string
		entry testkit.LogPasteEntry
		sql   string
		want  string
	}{
		{desc: "short id", entry: testkit.LogPasteEntry{ID: "abc", Created: t0, Contents: []byte("x")}, want: `"abc"`},
		{desc: "id with a dash", entry: testkit.LogPasteEntry{ID: "abcd-fgh", Created: t0, Contents: []byte("x")}, want: `"abcd-fgh"`},
		{desc: "creation time not RFC 3339", sql: `INSERT INTO entries VALUES ('abcdefgh', '2023-04-05 06:07:08', 'x')`, want: "creation_time"},
	} {
		t.Run(tt.desc, func(t *testing.T) {
			path := tempDB(t)
			db := testkit.OpenLogPasteDB(t, path, "WAL", 1)
			testkit.InsertLogPasteEntry(t, db, testkit.LogPasteEntry{ID: "fineFINE", Created: t0, Contents: []byte("fine")})
			if tt.sql != "" {
				if _, err := db.Exec(tt.sql); err != nil {
					t.Fatal(err)
				}
			} else {
				testkit.InsertLogPasteEntry(t, db, tt.entry)
			}
			db.Close()
			before := testkit.FilesState(t, path)
			s, err := sqlite.Open(context.Background(), path)
			if err == nil {
				s.Close()
				t.Fatal("Open: got no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
			if after := testkit.FilesState(t, path); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("files after a failed upgrade: %v, before: %v", after, before)
			}
		})
	}
}

// An upgrade that fails at its last step leaves every byte of the file, its
// journal mode included, as it was.
func TestAFailedUpgradeLeavesTheFileExactlyAsItWas(t *testing.T) {
	boom := errors.New("injected fault")
	for _, tt := range []struct {
		desc string
		make func(t *testing.T, path string)
	}{
		{"LogPaste, WAL", func(t *testing.T, path string) {
			testkit.WriteLogPasteDB(t, path, "WAL", 1, testkit.LogPasteEntries(sqlite.ChunkSize))
		}},
		{"LogPaste, rollback journal", func(t *testing.T, path string) {
			testkit.WriteLogPasteDB(t, path, "DELETE", 0, testkit.LogPasteEntries(sqlite.ChunkSize))
		}},
		{"litepaste schema 2", func(t *testing.T, path string) {
			db := rawDB(t, path, "_journal_mode=WAL")
			for _, m := range sqlite.Migrations()[:2] {
				if _, err := db.Exec(m); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Exec("PRAGMA user_version = 2"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO pastes (id, size, etag, head, created_at) VALUES ('OldSmall', 3, '"e"', X'000102', '2026-11-01T00:00:00.000Z')`); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}},
	} {
		t.Run(tt.desc, func(t *testing.T) {
			path := tempDB(t)
			tt.make(t, path)
			before := testkit.FilesState(t, path)
			s, err := sqlite.Open(context.Background(), path, sqlite.FailBeforeCommit(boom))
			if err == nil {
				s.Close()
				t.Fatal("Open with a fault before the commit: got no error")
			}
			if !errors.Is(err, boom) {
				t.Errorf("error: got %v, want the injected fault", err)
			}
			if after := testkit.FilesState(t, path); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("files after the failed upgrade:\n%v\nbefore:\n%v", after, before)
			}
			// Without the fault the same file upgrades.
			s2, _ := mustOpen(t, path)
			if s2.Upgraded().From == "" {
				t.Error("the upgrade after the failed one did nothing")
			}
		})
	}
}

// A file Open does not know is refused in one line that says what it
// found, and left exactly as it was: same bytes, same journal mode, no
// -wal or -shm created beside it.
func TestOpenRefusesUnknownDatabasesUntouched(t *testing.T) {
	sqliteFile := func(journalMode string, stmts ...string) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode="+journalMode)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, q := range stmts {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
		}
	}
	// liveWAL leaves what a killed process leaves: a WAL with the last
	// writes in it, with or without its index.
	liveWAL := func(keepIndex bool, stmts ...string) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			src := filepath.Join(t.TempDir(), "src.db")
			db, err := sql.Open("sqlite3", "file:"+src+"?_journal_mode=WAL")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			for _, q := range append([]string{"PRAGMA wal_autocheckpoint = 0"}, stmts...) {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			testkit.CopyFile(t, src, path)
			testkit.CopyFile(t, src+"-wal", path+"-wal")
			if keepIndex {
				testkit.CopyFile(t, src+"-shm", path+"-shm")
			}
		}
	}
	newer := func(t *testing.T, path string) {
		_, closeStore := mustOpen(t, path)
		closeStore()
		db := rawDB(t, path, "")
		if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", sqlite.SchemaVersion()+1)); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	for _, tt := range []struct {
		desc string
		make func(t *testing.T, path string)
		want string
	}{
		{"another application's database", sqliteFile("WAL", "CREATE TABLE users (name TEXT)", "INSERT INTO users VALUES ('ann')"),
			"neither litepaste's nor LogPaste's: tables users, user_version 0"},
		{"another application's, rollback journal", sqliteFile("DELETE", "CREATE TABLE users (name TEXT)", "PRAGMA user_version = 3"),
			"tables users, user_version 3"},
		{"a table named entries that is not LogPaste's", sqliteFile("WAL", "CREATE TABLE entries (id TEXT, body BLOB)", "PRAGMA user_version = 1"),
			"tables entries, user_version 1"},
		{"litepaste's tables under a wrong version", sqliteFile("WAL", "CREATE TABLE pastes (id TEXT)", "PRAGMA user_version = 2"),
			"tables pastes, user_version 2"},
		{"a newer litepaste schema", newer, fmt.Sprintf("a litepaste database of schema version %d, newer than this server knows (%d)", sqlite.SchemaVersion()+1, sqlite.SchemaVersion())},
		{"not a SQLite file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 500)), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "not a SQLite database"},
		{"another application's, live WAL with its index", liveWAL(true, "CREATE TABLE users (name TEXT)", "INSERT INTO users VALUES ('ann')"),
			"tables users"},
		{"another application's, live WAL without its index", liveWAL(false, "CREATE TABLE users (name TEXT)", "INSERT INTO users VALUES ('ann')"),
			"tables users"},
	} {
		t.Run(tt.desc, func(t *testing.T) {
			path := tempDB(t)
			tt.make(t, path)
			before, beside := testkit.FilesState(t, path), fmt.Sprint(dirNames(t, filepath.Dir(path)))
			s, err := sqlite.Open(context.Background(), path)
			if err == nil {
				s.Close()
				t.Fatal("Open: got no error")
			}
			if got := fmt.Sprint(dirNames(t, filepath.Dir(path))); got != beside {
				t.Errorf("the directory holds %s after the refusal, %s before", got, beside)
			}
			if !errors.Is(err, sqlite.ErrUnknownDatabase) {
				t.Errorf("error %v: want ErrUnknownDatabase", err)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, tt.want) {
				t.Errorf("error: got %q, want one line with %q", msg, tt.want)
			}
			if after := testkit.FilesState(t, path); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("files after the refusal:\n%v\nbefore:\n%v", after, before)
			}
		})
	}
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
