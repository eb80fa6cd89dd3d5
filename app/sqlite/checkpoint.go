package sqlite

import (
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// defaultCheckpointEvery is how often the WAL is copied back into the
// database after writes; a PASSIVE checkpoint never blocks the writer or
// readers, and never disturbs Litestream (which forbids only FULL, RESTART
// and TRUNCATE).
const defaultCheckpointEvery = 250 * time.Millisecond

// A WAL starts over from its beginning only when a write begins after a
// checkpoint has copied every frame in it, which a checkpoint running beside
// a busy writer never does: under sustained uploads the WAL (and the shared
// memory index mapped into this process) grew without end. So once it holds
// defaultRestartFrames, the checkpointer follows its
// pass with a second one while it holds the writer back (gate): only the
// frames written meanwhile are left to copy, and the next write starts the
// WAL over. It does not bother while a reader (Litestream, say) keeps frames
// from being copied. The pause is the price; larger thresholds made it
// longer, smaller ones no shorter (figures in docs/performance.md).
const defaultRestartFrames = 8192 // 32 MiB of 4 KiB pages

type checkpointer struct {
	db      *sql.DB
	gate    sync.Locker
	every   time.Duration
	restart int // WAL frames, see defaultRestartFrames
	commits atomic.Int64
	lastErr atomic.Pointer[error]
	stop    chan struct{}
	done    chan struct{}
}

// newCheckpointer checkpoints through db every interval (see
// defaultCheckpointEvery) and lets the WAL start over once it holds restart
// frames; gate is held by the writer while it writes.
func newCheckpointer(db *sql.DB, gate sync.Locker, every time.Duration, restart int) *checkpointer {
	c := &checkpointer{db: db, gate: gate, every: every, restart: restart, stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// committed tells the checkpointer there is WAL to copy.
func (c *checkpointer) committed() { c.commits.Add(1) }

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTicker(c.every)
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
		err := c.checkpoint()
		c.lastErr.Store(&err)
	}
}

func (c *checkpointer) checkpoint() error {
	frames, copied, err := c.passive()
	if err != nil || frames < c.restart || copied < frames {
		return err
	}
	c.gate.Lock()
	defer c.gate.Unlock()
	_, _, err = c.passive()
	return err
}

// passive runs a PASSIVE checkpoint: how many frames the WAL holds, how many
// of them are now in the database file. Another checkpoint running (one of
// Litestream's) is no failure.
func (c *checkpointer) passive() (frames, copied int, err error) {
	var busy int
	err = c.db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	if isBusy(err) {
		return 0, 0, nil
	}
	return frames, copied, err
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
