// Package sqlite stores pastes in one SQLite file with github.com/mattn/go-sqlite3.
//
// The file is shared with `litestream replicate`, which dictates three rules:
// WAL mode, a long busy timeout, and never a FULL/RESTART/TRUNCATE checkpoint
// (only PASSIVE checkpoints run, from checkpointLoop).
package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
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
	w       *sql.DB
	r       *sql.DB
	ckpt    *checkpointer
	cache   *cache
	inserts chan insertRequest
	stopped chan struct{}
	ids     *paste.IDCodec
	// legacy is set when pastes from before numbering (random IDs, or
	// LogPaste's) were ever stored, so new IDs must be checked against theirs.
	legacy bool
	// last is the last paste number handed out; only writeLoop uses it.
	last uint64
	// writing is held by writeLoop while it writes a batch (see
	// restartFrames).
	writing sync.Mutex
	// upgrade is what Open did to the schema.
	upgrade Upgrade
	// Prepared once on the writer connection, used by every batch.
	insertPaste, insertChunk, setLast, legacyTaken *sql.Stmt
}

// Cache sizes: small pastes only, a few MiB in all.
const (
	cacheBytes    = 4 << 20
	cacheMaxEntry = 64 << 10
)

// Open opens (creating if needed) the database at path, upgrading it to
// this server's schema first: an older litepaste schema or a LogPaste
// database is upgraded in place, in one transaction; anything else is
// refused (ErrUnknownDatabase) and left untouched.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	up, err := upgrade(ctx, path, o)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w, err := sql.Open(driverName, dsn(path, false, 0))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open(driverName, dsn(path, true, busyTimeoutMillis))
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	ck, err := sql.Open(driverName, dsn(path, false, busyTimeoutMillis))
	if err != nil {
		return nil, errors.Join(err, r.Close(), w.Close())
	}
	ck.SetMaxOpenConns(1)
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s := &Store{
		w:       w,
		r:       r,
		cache:   newCache(cacheBytes, cacheMaxEntry),
		inserts: make(chan insertRequest, maxBatch),
		stopped: make(chan struct{}),
		upgrade: up,
	}
	if err := s.prepare(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), s.closeStmts(), ck.Close(), r.Close(), w.Close())
	}
	s.ckpt = newCheckpointer(ck, &s.writing)
	go s.writeLoop()
	return s, nil
}

// prepare loads the numbering state and prepares the writer's statements.
func (s *Store) prepare(ctx context.Context) error {
	var key []byte
	var last, highest int64
	err := retryBusy(ctx, func() error {
		return s.w.QueryRowContext(ctx, `SELECT id_key, last_number,
		  (SELECT coalesce(max(number), 0) FROM pastes),
		  EXISTS (SELECT 1 FROM legacy_ids)
		FROM paste_numbers`).Scan(&key, &last, &highest, &s.legacy)
	})
	if err != nil {
		return fmt.Errorf("read paste numbering: %w", err)
	}
	if s.ids, err = paste.NewIDCodec(key); err != nil {
		return err
	}
	s.last = uint64(max(last, highest, 0))
	for _, st := range s.writerStatements() {
		if err := retryBusy(ctx, func() (err error) {
			*st.to, err = s.w.PrepareContext(ctx, st.sql)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

type writerStatement struct {
	to  **sql.Stmt
	sql string
}

// writerStatements are the statements the writer prepares once, each with
// where it is kept.
func (s *Store) writerStatements() []writerStatement {
	return []writerStatement{
		{&s.insertPaste, insertPasteSQL},
		{&s.insertChunk, insertChunkSQL},
		{&s.setLast, `UPDATE paste_numbers SET last_number = ?`},
		{&s.legacyTaken, `SELECT EXISTS (SELECT 1 FROM legacy_ids WHERE id = ?)`},
	}
}

func (s *Store) closeStmts() error {
	var errs []error
	for _, st := range s.writerStatements() {
		if *st.to != nil {
			errs = append(errs, (*st.to).Close())
		}
	}
	return errors.Join(errs...)
}

// pageCacheKiB bounds each connection's SQLite page cache (SQLite's own
// default is 2000 KiB). Ten connections (a writer, a checkpointer, eight
// readers) hold at most 5 MiB: small pastes are served from the paste cache,
// and what the page caches would hold beyond this the kernel's file cache
// already has. Under sustained uploads the writer's cache filled to its
// default size, 2 MiB of the process's memory, at no gain in speed.
const pageCacheKiB = 512

// dsn puts every pragma in the connection string, so each pooled connection
// gets them (a pragma run with Exec reaches only one connection). The writer
// gets no busy timeout: it waits for the lock with retryBusy.
func dsn(path string, readOnly bool, busyMillis int) string {
	q := pragmas(readOnly, busyMillis)
	q.Set("_journal_mode", "WAL")
	return fileURI(path, q)
}

// pragmas are the store's connection settings but the journal mode, which
// the upgrade leaves as the file has it.
func pragmas(readOnly bool, busyMillis int) url.Values {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.Itoa(busyMillis))
	q.Set("_synchronous", "NORMAL")
	q.Set("_foreign_keys", "on")
	// Freed pages are zeroed, so a deleted paste's bytes do not linger in
	// the file (or in the replica's later snapshots).
	q.Set("_secure_delete", "on")
	q.Set("_cache_size", strconv.Itoa(-pageCacheKiB))
	if readOnly {
		q.Set("_query_only", "true")
	} else {
		q.Set("_txlock", "immediate")
	}
	return q
}

func fileURI(path string, q url.Values) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

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

// Insert stores p under the next paste number and returns it named (its ID
// and ETag set). Concurrent inserts share one transaction (see writeLoop),
// so the cost of a commit is paid once per batch rather than once per paste.
func (s *Store) Insert(ctx context.Context, p paste.Paste) (paste.Paste, error) {
	done := resultChans.Get().(chan insertResult)
	select {
	case s.inserts <- insertRequest{p: p, done: done}:
	case <-ctx.Done():
		resultChans.Put(done)
		return paste.Paste{}, ctx.Err()
	}
	// Once queued the write happens; wait for its verdict whatever ctx says.
	res := <-done
	resultChans.Put(done)
	return res.p, res.err
}

// Where a paste is found by ID: numbered pastes by the number their ID
// names, older ones by the random ID they were stored under; never one that
// has expired.
const findPaste = `((number = ? AND legacy_id IS NULL) OR legacy_id = ?) AND (expires_at IS NULL OR expires_at > ?)`

func (s *Store) findArgs(id paste.ID, now time.Time) []any {
	return []any{int64(s.ids.Decode(id)), string(id), formatTime(now)}
}

// Get returns the whole paste unless it is missing or expired at now.
func (s *Store) Get(ctx context.Context, id paste.ID, now time.Time) (paste.Paste, error) {
	p, size, rest, err := s.Open(ctx, id, now)
	if err != nil || rest == nil {
		return p, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	buf.Write(p.Body)
	if err := rest(buf); err != nil {
		return paste.Paste{}, err
	}
	p.Body = buf.Bytes()
	return p, nil
}

// Open is Get for serving a paste of any size: p.Body holds the whole body
// of a paste up to ChunkSize; for a larger one it holds the first chunk, and
// rest writes the others to w one chunk at a time, so serving a paste never
// holds all of it. rest is nil when p.Body is whole; size is the full length.
func (s *Store) Open(ctx context.Context, id paste.ID, now time.Time) (paste.Paste, int, func(w io.Writer) error, error) {
	if p, ok := s.cache.get(id); ok {
		if p.Expired(now) {
			return paste.Paste{}, 0, nil, paste.ErrNotFound
		}
		return p, len(p.Body), nil, nil
	}
	return s.openFromFile(ctx, id, now)
}

// openFromFile is Open on a cache miss. It is its own function because the
// row is scanned through pointers, which moves what they point at to the
// heap: in Open that would cost every cache hit an allocation.
func (s *Store) openFromFile(ctx context.Context, id paste.ID, now time.Time) (p paste.Paste, size int, rest func(w io.Writer) error, err error) {
	gen := s.cache.generation()
	var (
		number  int64
		created string
		expires sql.NullString
	)
	err = s.r.QueryRowContext(ctx,
		`SELECT number, size, etag, head, created_at, expires_at FROM pastes WHERE `+findPaste,
		s.findArgs(id, now)...).Scan(&number, &size, &p.ETag, &p.Body, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return paste.Paste{}, 0, nil, paste.ErrNotFound
	}
	if err != nil {
		return paste.Paste{}, 0, nil, translate(err)
	}
	p.ID = id
	if p.Created, err = parseTime(created); err != nil {
		return paste.Paste{}, 0, nil, fmt.Errorf("paste %s: created_at: %w", id, err)
	}
	if expires.Valid {
		if p.Expires, err = parseTime(expires.String); err != nil {
			return paste.Paste{}, 0, nil, fmt.Errorf("paste %s: expires_at: %w", id, err)
		}
	}
	if size <= len(p.Body) {
		s.cache.putRead(p, gen)
		return p, size, nil, nil
	}
	// The closure takes copies: capturing p or size would move them to the
	// heap on every call.
	remaining := size - len(p.Body)
	return p, size, func(w io.Writer) error { return s.writeChunks(ctx, id, number, w, remaining) }, nil
}

// writeChunks copies a paste's chunks after the first to w, each straight
// from SQLite's buffer.
func (s *Store) writeChunks(ctx context.Context, id paste.ID, number int64, w io.Writer, want int) error {
	rows, err := s.r.QueryContext(ctx,
		`SELECT data FROM paste_chunks WHERE paste_number = ? ORDER BY seq`, number)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var chunk sql.RawBytes
		if err := rows.Scan(&chunk); err != nil {
			return translate(err)
		}
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		got += len(chunk)
	}
	if err := rows.Err(); err != nil {
		return translate(err)
	}
	if got != want {
		return fmt.Errorf("paste %s: %d bytes in chunks, expected %d", id, got, want)
	}
	return nil
}

// DeleteWithToken deletes the paste if token is its delete token.
func (s *Store) DeleteWithToken(ctx context.Context, id paste.ID, token string, now time.Time) error {
	return s.deletePaste(ctx, id, now, func(hash []byte) error {
		if !paste.TokenMatches(hash, token) {
			return paste.ErrForbidden
		}
		return nil
	})
}

// Delete deletes the paste whatever its token, or whether it has one: an
// operator's takedown.
func (s *Store) Delete(ctx context.Context, id paste.ID, now time.Time) error {
	return s.deletePaste(ctx, id, now, func([]byte) error { return nil })
}

// deletePaste is every deletion of one paste: allowed (given the paste's
// token hash) says whether it may go. Its pages are zeroed (secure_delete),
// the heartbeat notes it so the replica drops it too, and the cache evicts
// it once the deletion is committed.
func (s *Store) deletePaste(ctx context.Context, id paste.ID, now time.Time, allowed func(tokenHash []byte) error) (err error) {
	tx, err := beginWrite(ctx, s.w)
	if err != nil {
		return translate(err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var (
		number int64
		hash   []byte
	)
	err = tx.QueryRowContext(ctx, `SELECT number, delete_token_hash FROM pastes WHERE `+findPaste,
		s.findArgs(id, now)...).Scan(&number, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return paste.ErrNotFound
	}
	if err != nil {
		return translate(err)
	}
	if err = allowed(hash); err != nil {
		return err
	}
	if _, err = tx.ExecContext(ctx, `DELETE FROM pastes WHERE number = ?`, number); err != nil {
		return translate(err)
	}
	if _, err = tx.ExecContext(ctx, noteDeletion, formatTime(now)); err != nil {
		return translate(err)
	}
	if err = tx.Commit(); err != nil {
		return translate(err)
	}
	s.cache.remove(id)
	return nil
}

// DeleteExpired removes pastes expired at now, in small batches so the write
// lock is never held for long, and returns how many it removed.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for {
		res, err := execWrite(ctx, s.w,
			`DELETE FROM pastes WHERE number IN
			   (SELECT number FROM pastes WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT 200)`,
			formatTime(now))
		if err != nil {
			return total, translate(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if n < 200 {
			if total > 0 {
				if _, err := execWrite(ctx, s.w, noteDeletion, formatTime(now)); err != nil {
					return total, translate(err)
				}
			}
			return total, nil
		}
	}
}

// After a deletion, the replica still holds the paste's bytes until
// Litestream has taken a snapshot after it and then seen one more change
// (litestream.yml: a snapshot every 12 h, kept 12 h). So for heartbeatFor
// after each deletion, Heartbeat writes a tiny change every heartbeatEvery;
// a service with no deletions pays nothing.
const (
	heartbeatFor   = 26 * time.Hour
	heartbeatEvery = time.Hour
)

// noteDeletion records when a paste was last deleted (its argument), for
// Heartbeat; it runs in the deletion's transaction or right after it.
const noteDeletion = `UPDATE replica_heartbeat SET last_delete_at = ?`

// Heartbeat touches the heartbeat row if a deletion happened within
// heartbeatFor and the last touch is heartbeatEvery old; it reports whether
// it wrote. Call it periodically (the expiry sweeper does).
func (s *Store) Heartbeat(ctx context.Context, now time.Time) (bool, error) {
	res, err := execWrite(ctx, s.w,
		`UPDATE replica_heartbeat SET touched_at = ? WHERE last_delete_at > ? AND touched_at <= ?`,
		formatTime(now), formatTime(now.Add(-heartbeatFor)), formatTime(now.Add(-heartbeatEvery)))
	if err != nil {
		return false, translate(err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Stats describes what the store holds.
type Stats struct {
	Pastes int64
	Bytes  int64
}

// Stats counts pastes and body bytes.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
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
	tx, err := beginWrite(ctx, s.w)
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
