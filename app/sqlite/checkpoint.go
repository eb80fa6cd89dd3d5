package sqlite

import (
	"database/sql"
	"errors"
	"sync/atomic"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// driverName is go-sqlite3 with SQLite's automatic checkpoints turned off on
// every connection: a commit that crosses the WAL threshold would otherwise
// run the checkpoint itself, fsyncs included, while every upload waits on it.
// checkpointLoop does that work on a connection of its own instead.
const driverName = "sqlite3_litepaste"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec("PRAGMA wal_autocheckpoint = 0", nil)
			return err
		},
	})
}

// checkpointEvery is how often the WAL is copied back into the database
// after writes; a PASSIVE checkpoint never blocks the writer or readers, and
// never disturbs Litestream (which forbids only FULL, RESTART and TRUNCATE).
const checkpointEvery = 250 * time.Millisecond

type checkpointer struct {
	db      *sql.DB
	commits atomic.Int64
	lastErr atomic.Pointer[error]
	stop    chan struct{}
	done    chan struct{}
}

func newCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// committed tells the checkpointer there is WAL to copy.
func (c *checkpointer) committed() { c.commits.Add(1) }

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	var seen int64
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		n := c.commits.Load()
		if n == seen && c.err() == nil {
			continue
		}
		seen = n
		var err error
		if _, err = c.db.Exec("PRAGMA wal_checkpoint(PASSIVE)"); isBusy(err) {
			err = nil
		}
		c.lastErr.Store(&err)
	}
}

// err is the last checkpoint's failure, if it failed (a full disk, say);
// a failed checkpoint is retried on every tick until one succeeds.
func (c *checkpointer) err() error {
	if p := c.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}

func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}
