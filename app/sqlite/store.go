// Package sqlite stores pastes in one SQLite file with github.com/mattn/go-sqlite3.
//
// The file is shared with `litestream replicate`, which dictates three rules:
// WAL mode, a long busy timeout, and never a FULL/RESTART/TRUNCATE checkpoint
// (only PASSIVE checkpoints run, from the checkpointer).
//
// Every write goes through the one writer connection, by one of two paths:
//   - Inserts go to the batching writer (writeLoop in write.go): a single
//     goroutine gathers the uploads that arrive together and commits them in
//     one transaction, since every upload waits for its commit and a commit
//     costs far more than one more row in it.
//   - Deletions (by token, and the expiry sweep) and the replica heartbeat
//     run directly on the writer connection (delete.go), each waiting for the
//     write lock with retryBusy: they are rare, and batching would only make
//     them wait behind uploads.
//
// The checkpointer copies the WAL back on a connection of its own and holds
// the batching writer back (Store.writing) only for the pass that lets the
// WAL start over. open.go opens the connections with their pragmas;
// migrate.go and schema.go bring a file to this server's schema first.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/litepaste/litepaste/app/paste"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// ChunkSize bounds how much of a body one row holds, so reading or writing a
// large paste never asks SQLite for one huge allocation.
const ChunkSize = 1 << 20

const timeLayout = "2006-01-02T15:04:05.000Z"

// Store is a paste store on one SQLite file: one writer connection (SQLite
// allows one writer at a time anyway), a small pool of readers, and a cache
// of small recent pastes.
type Store struct {
	reads
	w       *sql.DB
	ckpt    *checkpointer
	inserts chan insertRequest
	stopped chan struct{}
	// legacy is set when pastes from before numbering (random IDs, or
	// LogPaste's) were ever stored, so new IDs must be checked against theirs.
	legacy bool
	// last is the last paste number handed out; only writeLoop uses it.
	last uint64
	// writing is held by writeLoop while it writes a batch (see
	// checkpointer.gate).
	writing sync.Mutex
	// upgrade is what Open did to the schema.
	upgrade Upgrade
	// onBusy is called whenever a write finds the lock held; nil but in
	// tests.
	onBusy func(context.Context)
	// Prepared once on the writer connection, used by every batch.
	insertPaste, insertChunk, setLast, legacyTaken *sql.Stmt
}

// reads is what finding and reading pastes needs, shared by the writer's
// Store and a replica's Copy: a pool of readers, the IDs' permutation, and
// the cache of small pastes.
type reads struct {
	r     *sql.DB
	ids   *paste.IDCodec
	cache *cache
}

// Cache sizes: small pastes only, a few MiB in all.
const (
	cacheBytes    = 4 << 20
	cacheMaxEntry = 64 << 10
)

// Upgraded says what Open did to the database's schema.
func (s *Store) Upgraded() Upgrade { return s.upgrade }

// Close finishes queued writes, then closes both pools. No Insert may be
// running or start once Close is called.
func (s *Store) Close() error {
	close(s.inserts)
	<-s.stopped
	return errors.Join(s.ckpt.close(), s.closeStmts(), s.r.Close(), s.w.Close())
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }

// Stats describes what the store holds.
type Stats struct {
	Pastes int64
	Bytes  int64
}

// Stats counts pastes and body bytes.
func (s *reads) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.r.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM pastes`).Scan(&st.Pastes, &st.Bytes)
	return st, translate(err)
}

// Ready checks that the database can be read and that the write lock can be
// taken, without writing anything (a probe must not cost a replica upload).
func (s *Store) Ready(ctx context.Context) error {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM pastes LIMIT 1)`).Scan(&n); err != nil {
		return fmt.Errorf("read: %w", translate(err))
	}
	tx, err := beginWrite(ctx, s.w, s.onBusy)
	if err != nil {
		return fmt.Errorf("write: %w", translate(err))
	}
	// A write statement that matches nothing still needs a writable file.
	if _, err := tx.ExecContext(ctx, `DELETE FROM pastes WHERE number = -1`); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("write: %w", translate(err))
	}
	if err := tx.Rollback(); err != nil {
		return err
	}
	if err := s.ckpt.err(); err != nil {
		return fmt.Errorf("checkpoint: %w", translate(err))
	}
	return nil
}

// translate maps SQLite's resource errors onto the domain's.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrFull:
			return fmt.Errorf("%w: %v", paste.ErrStorageFull, err)
		case sqlite3.ErrReadonly, sqlite3.ErrCantOpen, sqlite3.ErrPerm:
			return fmt.Errorf("%w: %v", paste.ErrStoreReadOnly, err)
		}
	}
	return err
}
