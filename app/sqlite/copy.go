package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/litepaste/litepaste/app/paste"
)

// Copy is a read replica's store: the database file that Litestream's
// follower (`litestream restore -f`) restores and keeps current, writing
// pages into it under SQLite's file lock. The copy is only ever read: no
// migration, pragma or statement that writes, no sweep, heartbeat or
// checkpoint. It may not exist yet when the server starts; the copy is
// looked at again until it can be read.
type Copy struct {
	path  string
	db    *sql.DB
	cache *cache
	state atomic.Pointer[copyState]
	now   func() time.Time
	// unseenFor: see Unseen.
	unseenFor time.Duration
	// The schema this server reads, built once: its migrations and the
	// tables they make (or why they cannot be read).
	ms        []migration
	shapes    string
	schemaErr error
	stop      chan struct{}
	done      chan struct{}
}

// copyState is what was read of the copy at one txid; err is why it cannot
// be served (then nothing else is set).
type copyState struct {
	reads
	err     error
	txid    string
	highest uint64 // the highest paste number handed out that the copy holds
	changed time.Time
}

// copyPoll is how often the follower's DB_PATH-txid file is read. The
// follower rewrites it after every change it applies, so a change reaches
// the cache within this much of being applied.
const copyPoll = 200 * time.Millisecond

// OpenCopy serves the follower's copy at path, read-only; it never fails
// for a copy that is missing or unreadable: Ready says why until it can be
// read. followInterval is how often the follower looks for changes; now is
// the clock.
func OpenCopy(path string, followInterval time.Duration, now func() time.Time) *Copy {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_query_only", "true")
	q.Set("_busy_timeout", strconv.Itoa(busyTimeoutMillis))
	q.Set("_cache_size", strconv.Itoa(-pageCacheKiB))
	db := openDB(fileURI(path, q))
	db.SetMaxOpenConns(8)
	// No connection outlives its query. The first restore leaves the copy
	// with a WAL header, and a connection open on it holds a shared lock
	// that blocks the follower's every update; and a page cache kept
	// between queries would outlive a change that leaves page 1 (and so the
	// change counter SQLite checks) as it was.
	db.SetMaxIdleConns(0)
	c := &Copy{path: path, db: db, cache: newCache(cacheBytes, cacheMaxEntry), now: now,
		unseenFor: unseenFor(followInterval), stop: make(chan struct{}), done: make(chan struct{})}
	if c.ms, c.schemaErr = loadMigrations(); c.schemaErr == nil {
		c.shapes, c.schemaErr = shapesAt(context.Background(), c.ms)
	}
	c.state.Store(&copyState{err: notReady("no copy of the database yet", nil)})
	c.refresh(context.Background())
	go c.watch()
	return c
}

// Close stops watching the copy and closes its connections.
func (c *Copy) Close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}

func (c *Copy) watch() {
	defer close(c.done)
	t := time.NewTicker(copyPoll)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-c.stop; cancel() }()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		c.refresh(ctx)
	}
}

// refresh rereads the copy when the follower's txid file changed, or while
// the copy cannot be served. The cache is invalidated by the txid file, not
// by SQLite's change counter or PRAGMA data_version: the follower rewrites
// page 1, which holds the counter, only when a change includes it, and a
// paste deleted on the writer often leaves page 1 alone.
func (c *Copy) refresh(ctx context.Context) {
	txid, err := os.ReadFile(c.path + "-txid")
	old := c.state.Load()
	if err == nil && old.err == nil && string(txid) == old.txid {
		return
	}
	next := c.load(ctx, txid, err)
	if next.err != nil && old.err != nil && next.err.Error() == old.err.Error() {
		return
	}
	c.cache.clear()
	c.state.Store(next)
}

// load reads what serving the copy needs: its schema, the IDs' key and the
// highest paste number.
func (c *Copy) load(ctx context.Context, txid []byte, txidErr error) *copyState {
	if _, err := os.Stat(c.path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return &copyState{err: notReady("no copy of the database yet", nil)}
		}
		return &copyState{err: notReady("the copy cannot be read", err)}
	}
	if txidErr != nil {
		if errors.Is(txidErr, os.ErrNotExist) {
			return &copyState{err: notReady("the follower has not finished restoring the copy (no "+filepath.Base(c.path)+"-txid yet)", nil)}
		}
		return &copyState{err: notReady("the follower's txid file cannot be read", txidErr)}
	}
	if c.schemaErr != nil {
		return &copyState{err: c.schemaErr}
	}
	f, err := readSchema(ctx, c.db)
	if err != nil {
		return &copyState{err: notReady("the copy cannot be read", translate(err))}
	}
	if f.version != len(c.ms) || f.tables != c.shapes {
		// classify says what the copy holds instead.
		if _, err = classify(ctx, f, c.ms); err == nil {
			err = fmt.Errorf("schema version %d, this server reads %d", f.version, len(c.ms))
		}
		return &copyState{err: notReady("the copy holds no litepaste schema this server reads", err)}
	}
	var key []byte
	var last, highest int64
	err = c.db.QueryRowContext(ctx, `SELECT id_key, last_number, (SELECT coalesce(max(number), 0) FROM pastes)
		FROM paste_numbers`).Scan(&key, &last, &highest)
	if err != nil {
		return &copyState{err: notReady("the copy cannot be read", translate(err))}
	}
	ids, err := paste.NewIDCodec(key)
	if err != nil {
		return &copyState{err: notReady("the copy holds no litepaste schema this server reads", err)}
	}
	return &copyState{
		reads:   reads{r: c.db, ids: ids, cache: c.cache},
		txid:    string(txid),
		highest: uint64(max(last, highest, 0)),
		changed: c.now(),
	}
}

// Lookup finds a paste in the copy unless it is missing or expired at now.
func (c *Copy) Lookup(ctx context.Context, id paste.ID, now time.Time) (paste.Paste, io.ReadSeeker, error) {
	st := c.state.Load()
	if st.err != nil {
		return paste.Paste{}, nil, st.err
	}
	return st.Lookup(ctx, id, now)
}

// A paste the copy has not seen yet was stored lately: its number is above
// the copy's highest, and, since numbers follow the clock (paste.NumberAt),
// within the numbers of the last unseenFor, give or take clockSkew between
// this host and the writer's, plus burstNumbers that a burst of uploads may
// run ahead of the clock. A made-up ID names a number uniformly random to
// whoever lacks the key, so it lands in that window with a chance of its
// width in 62^8: with the default follow interval (1m) the window is 13
// minutes of numbers wide, and the chance about one in 4.4 million.
const (
	clockSkew    = time.Minute
	burstNumbers = 1 << 16
)

// unseenFor is how long a paste may stay missing from a copy that keeps
// up: ten follow intervals and a minute.
func unseenFor(followInterval time.Duration) time.Duration {
	return 10*followInterval + time.Minute
}

// Unseen says whether id may name a paste the writer stored lately that
// the copy has not received yet (see unseenFor); an ID from before
// numbering never does (those are all in the copy).
func (c *Copy) Unseen(ctx context.Context, id paste.ID) (bool, error) {
	st := c.state.Load()
	if st.err != nil {
		return false, st.err
	}
	now := c.now()
	lo := max(st.highest+1, paste.NumberAt(now.Add(-c.unseenFor-clockSkew)))
	hi := paste.NumberAt(now.Add(clockSkew)) + burstNumbers
	if n := st.ids.Decode(id); n < lo || n > hi {
		return false, nil
	}
	var legacy bool
	err := c.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM legacy_ids WHERE id = ?)`, string(id)).Scan(&legacy)
	return !legacy, translate(err)
}

// Ready says whether the copy can be served, and if not, why.
func (c *Copy) Ready(ctx context.Context) error {
	st := c.state.Load()
	if st.err != nil {
		return st.err
	}
	var n int
	if err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM pastes LIMIT 1)`).Scan(&n); err != nil {
		return notReady("the copy cannot be read", translate(err))
	}
	return nil
}

// Stats counts the copy's pastes and body bytes.
func (c *Copy) Stats(ctx context.Context) (Stats, error) {
	st := c.state.Load()
	if st.err != nil {
		return Stats{}, st.err
	}
	return st.Stats(ctx)
}

// CopyStatus is what a replica's metrics show of its copy.
type CopyStatus struct {
	Ready bool
	// TXID is Litestream's transaction ID the copy is at; Changed, when this
	// server first saw the copy at it.
	TXID    uint64
	Changed time.Time
}

// Status describes the copy as last read.
func (c *Copy) Status() CopyStatus {
	st := c.state.Load()
	if st.err != nil {
		return CopyStatus{}
	}
	txid, _ := strconv.ParseUint(strings.TrimSpace(st.txid), 16, 64)
	return CopyStatus{Ready: true, TXID: txid, Changed: st.changed}
}

// notReadyError is why a copy cannot be served: a fixed one-line reason
// fit for /readyz, and the detail for the log.
type notReadyError struct {
	reason string
	err    error
}

func notReady(reason string, err error) error { return &notReadyError{reason: reason, err: err} }

func (e *notReadyError) Error() string {
	if e.err == nil {
		return e.reason
	}
	return e.reason + ": " + e.err.Error()
}

// Reason is the one line /readyz answers with.
func (e *notReadyError) Reason() string { return e.reason }

func (e *notReadyError) Unwrap() []error {
	if e.err == nil {
		return []error{paste.ErrStoreNotReady}
	}
	return []error{paste.ErrStoreNotReady, e.err}
}
