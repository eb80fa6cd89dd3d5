package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/litepaste/litepaste/app/paste"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// Open opens (creating if needed) the database at path, upgrading it to
// this server's schema first: an older litepaste schema or a LogPaste
// database is upgraded in place, in one transaction; anything else is
// refused (ErrUnknownDatabase) and left untouched.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{checkpointEvery: defaultCheckpointEvery, restartFrames: defaultRestartFrames}
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
	w := openDB(dsn(path, false, 0))
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r := openDB(dsn(path, true, busyTimeoutMillis))
	ck := openDB(dsn(path, false, busyTimeoutMillis))
	ck.SetMaxOpenConns(1)
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s := &Store{
		reads:   reads{r: r, cache: newCache(cacheBytes, cacheMaxEntry)},
		w:       w,
		inserts: make(chan insertRequest, maxBatch),
		stopped: make(chan struct{}),
		upgrade: up,
		onBusy:  o.onBusy,
	}
	if err := s.prepare(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), s.closeStmts(), ck.Close(), r.Close(), w.Close())
	}
	s.ckpt = newCheckpointer(ck, &s.writing, o.checkpointEvery, o.restartFrames)
	go s.writeLoop()
	return s, nil
}

// Option changes how Open works; only tests have a use for one.
type Option func(*options)

type options struct {
	// beforeCommit runs inside the upgrade's transaction after its last step.
	beforeCommit func(context.Context, *sql.Tx) error
	// The checkpointer's settings: see defaultCheckpointEvery and
	// defaultRestartFrames.
	checkpointEvery time.Duration
	restartFrames   int
	// onBusy is called whenever a write finds the lock held (see retryBusy).
	onBusy func(context.Context)
}

// prepare loads the numbering state and prepares the writer's statements.
func (s *Store) prepare(ctx context.Context) error {
	var key []byte
	var last, highest int64
	err := retryBusy(ctx, s.onBusy, func() error {
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
		if err := retryBusy(ctx, s.onBusy, func() (err error) {
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

// connector opens connections to one DSN with go-sqlite3, through sql.OpenDB,
// so the store needs no driver registered under a name.
type connector string

// openDB is a pool of connections to dsn; it connects on first use.
func openDB(dsn string) *sql.DB { return sql.OpenDB(connector(dsn)) }

func (c connector) Connect(context.Context) (driver.Conn, error) {
	return c.Driver().Open(string(c))
}

// Driver is go-sqlite3 with SQLite's automatic checkpoints turned off on
// every connection: a commit that crosses the WAL threshold would otherwise
// run the checkpoint itself, fsyncs included, while every upload waits on
// it. The checkpointer does that work on a connection of its own instead.
func (c connector) Driver() driver.Driver {
	return &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec("PRAGMA wal_autocheckpoint = 0", nil)
			return err
		},
	}
}
