package sqlite_test

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"
	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/sqlite"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// holdConns takes n connections from the pool at once, so each is a distinct
// pooled connection, and returns them at cleanup.
func holdConns(t *testing.T, db *sql.DB, n int) []*sql.Conn {
	t.Helper()
	conns := make([]*sql.Conn, n)
	for i := range conns {
		c, err := db.Conn(context.Background())
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		conns[i] = c
	}
	return conns
}

func pragma(t *testing.T, c *sql.Conn, name string) string {
	t.Helper()
	var v string
	if err := c.QueryRowContext(context.Background(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestPragmasOnEveryPooledConnection(t *testing.T) {
	s, _ := mustOpen(t, tempDB(t))
	w, r := s.Pools()
	if got := w.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer pool: got %d connections at most, want 1", got)
	}
	common := map[string]string{
		"journal_mode":  "wal",
		"foreign_keys":  "1",
		"synchronous":   "1", // NORMAL
		"secure_delete": "1",
		"cache_size":    "-512", // KiB
	}
	pools := []struct {
		desc      string
		db        *sql.DB
		n         int
		queryOnly string
	}{
		{desc: "writer", db: w, n: 1, queryOnly: "0"},
		{desc: "reader", db: r, n: 8, queryOnly: "1"},
	}
	for _, p := range pools {
		conns := holdConns(t, p.db, p.n)
		for i, c := range conns {
			for name, want := range common {
				if got := pragma(t, c, name); got != want {
					t.Errorf("%s connection %d: %s = %s, want %s", p.desc, i, name, got, want)
				}
			}
			// Litestream's own checkpoints need readers to wait, not fail;
			// the writer waits for the lock by itself (see below).
			if got, _ := strconv.Atoi(pragma(t, c, "busy_timeout")); p.queryOnly == "1" && got < 5000 || p.queryOnly == "0" && got != 0 {
				t.Errorf("%s connection %d: busy_timeout = %d ms", p.desc, i, got)
			}
			if got := pragma(t, c, "query_only"); got != p.queryOnly {
				t.Errorf("%s connection %d: query_only = %s, want %s", p.desc, i, got, p.queryOnly)
			}
		}
		if p.queryOnly == "1" {
			if _, err := conns[0].ExecContext(context.Background(), "DELETE FROM pastes"); err == nil {
				t.Errorf("a %s connection wrote to the database", p.desc)
			}
		}
	}
}

func TestWriterTakesTheWriteLockAtBegin(t *testing.T) {
	path := tempDB(t)
	s, _ := mustOpen(t, path)
	w, _ := s.Pools()
	tx, err := w.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// With _txlock=immediate the plain BEGIN above already holds the write
	// lock, so another writer is refused at once rather than deadlocking
	// later on a lock upgrade.
	other := rawDB(t, path, "_busy_timeout=0")
	_, err = other.Exec("BEGIN IMMEDIATE")
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrBusy {
		t.Errorf("BEGIN IMMEDIATE elsewhere while the store's transaction is open: got %v, want SQLITE_BUSY", err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// The store copies the WAL back into the database file in the background,
// so a database that runs without litestream does not grow its WAL forever.
// Those checkpoints are PASSIVE (TestCheckpointsArePassiveAndTheWALIsNeverTruncated
// shows they never hold the write lock nor cut the WAL); here: they happen, and no operation waits
// for one.
func TestStoreCheckpointsInTheBackground(t *testing.T) {
	path := tempDB(t)
	s, _ := mustOpen(t, path)
	ctx := context.Background()
	baseline := testkit.FileSHA256(t, path)
	for i := range 20 {
		if _, err := s.Insert(ctx, newPaste(t, []byte("small"), time.Minute, "tok")); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for testkit.FileSHA256(t, path) == baseline {
		if time.Now().After(deadline) {
			t.Fatal("after 30 s the WAL was still not checkpointed into the database file")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pin starts a read transaction on its own connection, holding a snapshot
// the way litestream does; the returned func ends it.
func pin(t *testing.T, path string) (*sql.Conn, func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := rawDB(t, path, "_busy_timeout=10000").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pastes").Scan(&n); err != nil {
		t.Fatal(err)
	}
	done := false
	return conn, func() {
		t.Helper()
		if done {
			return
		}
		done = true
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			t.Fatal(err)
		}
	}
}

// The store's checkpoints while litestream holds a snapshot must be PASSIVE:
// FULL, RESTART and TRUNCATE take the write lock and keep it, waiting up to
// the busy timeout for the reader, so every upload would stall; TRUNCATE
// also cuts the WAL to nothing once it can. So: a checkpoint runs under a
// reader without ever holding the write lock, workloads complete, and the
// WAL file never shrinks, under a reader, after it, nor when the store
// closes while another connection still has the database open.
func TestCheckpointsArePassiveAndTheWALIsNeverTruncated(t *testing.T) {
	path := tempDB(t)
	s, closeStore := mustOpen(t, path)
	ctx := context.Background()
	wal := path + "-wal"
	insert := func(n int) {
		t.Helper()
		for i := range n {
			if _, err := s.Insert(ctx, newPaste(t, pattern(sqlite.ChunkSize/2), paste.Never, "tok")); err != nil {
				t.Fatalf("insert %d: %v", i, err)
			}
		}
	}
	last := int64(0)
	checkWAL := func(when string) {
		t.Helper()
		size := fileSize(t, wal)
		if size < last {
			t.Fatalf("%s: WAL shrank from %d to %d bytes", when, last, size)
		}
		last = size
	}
	probe := rawDB(t, path, "_busy_timeout=0")
	// waitForCheckpoint waits until a checkpoint copies frames into the
	// database file, checking all along that nothing else holds the write
	// lock (the store writes nothing meanwhile).
	waitForCheckpoint := func(when string, baseline string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for testkit.FileSHA256(t, path) == baseline {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no checkpoint within 30 s", when)
			}
			tx, err := probe.Begin()
			if err == nil {
				_, err = tx.Exec("DELETE FROM pastes WHERE number = -1")
				_ = tx.Rollback()
			}
			var se sqlite3.Error
			if errors.As(err, &se) && se.Code == sqlite3.ErrBusy {
				t.Fatalf("%s: the write lock is held while no upload runs: a checkpoint other than PASSIVE", when)
			}
			if err != nil {
				t.Fatal(err)
			}
			checkWAL(when)
			time.Sleep(5 * time.Millisecond)
		}
	}

	// Frames written under a first reader cannot be copied until it ends;
	// a second reader then holds a snapshot that includes them.
	_, endFirst := pin(t, path)
	insert(4)
	second, endSecond := pin(t, path)
	baseline := testkit.FileSHA256(t, path)
	endFirst()
	insert(1)
	waitForCheckpoint("under a reader", baseline)

	insert(10) // well past SQLite's usual 1000-page checkpoint threshold
	checkWAL("more writes under a reader")
	// Taken while the reader still holds back these frames: a checkpoint
	// may copy them as soon as it ends, before insert(4) even returns.
	underReader := testkit.FileSHA256(t, path)
	endSecond()
	insert(4)
	checkWAL("after the reader")
	waitForCheckpoint("after the reader", underReader)
	insert(1) // starts the WAL over, in place
	checkWAL("after the checkpoint")
	if last < 4<<20 {
		t.Errorf("WAL grew to %d bytes only; the test needs it large", last)
	}

	closeStore()
	if got := fileSize(t, wal); got != last {
		t.Errorf("WAL after the store closed while another connection is open: got %d bytes, want %d", got, last)
	}
	var check string
	if err := second.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: got %q, %v", check, err)
	}
}

// The DSN is built from a path: odd characters in it must not turn into
// connection parameters or another file.
func TestPathsWithOddCharacters(t *testing.T) {
	for _, name := range []string{"with space.db", "hash#mark.db", "query?x=1.db", "percent%20.db", "ünïcode.db"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := dir + "/" + name
			insertAndClose(t, path, newPaste(t, []byte("x"), paste.Never, ""))
			if names := dirNames(t, dir); len(names) != 1 || names[0] != name {
				t.Errorf("files in the directory: got %q, want only %q", names, name)
			}
			if b, _ := os.ReadFile(path); !bytes.HasPrefix(b, []byte("SQLite format 3")) || strings.Contains(name, "\x00") {
				t.Errorf("%q is not a SQLite database", name)
			}
		})
	}
}

// Under uploads that never pause, the WAL must still start over from time to
// time: without that it grew by every byte written, for as long as the load
// lasted.
func TestWALStaysBoundedUnderSustainedUploads(t *testing.T) {
	path := tempDB(t)
	s, _ := mustOpen(t, path, sqlite.Checkpointing(10*time.Millisecond, 256)) // 1 MiB
	ctx := context.Background()
	body := pattern(16 << 10)
	// 120 MiB in all, never a pause: long enough that a checkpoint pass held
	// up by one slow fsync, while the writer runs on, is a small share of it.
	const writers, each = 8, 960
	var wg sync.WaitGroup
	var maxWAL, restarts atomic.Int64
	stop := make(chan struct{})
	go func() {
		// A WAL that starts over gets a new header, with its checkpoint
		// sequence number (bytes 12 to 15) one higher.
		var seq uint32
		seen := false
		hdr := make([]byte, 32)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if info, err := os.Stat(path + "-wal"); err == nil && info.Size() > maxWAL.Load() {
				maxWAL.Store(info.Size())
			}
			if f, err := os.Open(path + "-wal"); err == nil {
				if _, err := f.ReadAt(hdr, 0); err == nil {
					if n := binary.BigEndian.Uint32(hdr[12:16]); seen && n != seq {
						restarts.Add(1)
						seq = n
					} else if !seen {
						seq, seen = n, true
					}
				}
				f.Close()
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, err := s.Insert(ctx, newPaste(t, body, paste.Never, "")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	written := int64(writers * each * len(body))
	t.Logf("WAL peaked at %d bytes for %d bytes written; it started over %d times", maxWAL.Load(), written, restarts.Load())
	// A WAL that never starts over holds every byte written; one that does
	// stays well below half of it even when the checkpointer is slowed down
	// by a busy machine, and starts over again and again.
	if maxWAL.Load() > written/2 {
		t.Errorf("WAL grew to %d bytes for %d bytes written: it never started over", maxWAL.Load(), written)
	}
	if restarts.Load() < 4 {
		t.Errorf("the WAL started over %d times while %d bytes were written, want at least 4", restarts.Load(), written)
	}
}

// The writer has no busy timeout of its own: it must still wait for a write
// lock held elsewhere (Litestream takes it once a second), never fail.
func TestWritesWaitForALockHeldElsewhere(t *testing.T) {
	path := tempDB(t)
	// Which writes found the lock held: the deletions by the label in their
	// context, the insert by having none (the writer has its own context).
	type label struct{}
	var mu sync.Mutex
	waited := map[string]bool{}
	s, _ := mustOpen(t, path, sqlite.OnBusy(func(ctx context.Context) {
		name, _ := ctx.Value(label{}).(string)
		mu.Lock()
		waited[cmp.Or(name, "insert")] = true
		mu.Unlock()
	}))
	ctx := context.Background()
	kept := mustInsert(t, s, newPaste(t, []byte("to delete"), paste.Never, "tok"))
	other := rawDB(t, path, "_busy_timeout=0")
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 3)
	go func() { _, err := s.Insert(ctx, newPaste(t, []byte("waits"), paste.Never, "")); errs <- err }()
	go func() { errs <- s.DeleteWithToken(context.WithValue(ctx, label{}, "delete"), kept.ID, "tok", t0) }()
	go func() { _, err := s.DeleteExpired(context.WithValue(ctx, label{}, "sweep"), t0); errs <- err }()
	testkit.WaitFor(t, "each write to find the lock held", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return waited["insert"] && waited["delete"] && waited["sweep"]
	})
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("a write while the lock was held elsewhere: %v", err)
		}
	}
}
