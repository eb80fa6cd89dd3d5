package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// The writer connection runs without SQLite's busy timeout and waits for the
// write lock here instead. SQLite's own wait sleeps 1, 2, 5, 10, 15, 20, 25,
// 25, 25, 50, 50 and then 100 ms between tries, so a lock held for a few
// milliseconds (Litestream seals the WAL under the write lock once a second)
// kept uploads waiting up to ten times longer than the lock was held (see
// docs/performance.md). Here the wait starts at 50 µs and never grows past a
// millisecond.
const (
	busyTimeoutMillis = 10000 // readers and the checkpoint connection
	writeWaitFor      = busyTimeoutMillis * time.Millisecond
	writeRetryFirst   = 50 * time.Microsecond
	writeRetryMost    = time.Millisecond
)

// retryBusy runs op until it does not fail with SQLITE_BUSY, for at most
// writeWaitFor (or until ctx ends), and returns its last result. onBusy, if
// not nil, is called with ctx each time op found the lock held (tests wait
// on it).
func retryBusy(ctx context.Context, onBusy func(context.Context), op func() error) error {
	deadline := time.Now().Add(writeWaitFor)
	wait := writeRetryFirst
	var t *time.Timer
	for {
		err := op()
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		if onBusy != nil {
			onBusy(ctx)
		}
		if t == nil {
			t = time.NewTimer(wait)
			defer t.Stop()
		} else {
			t.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return err
		case <-t.C:
		}
		wait = min(2*wait, writeRetryMost)
	}
}

// beginWrite starts a write transaction on the writer connection (BEGIN
// IMMEDIATE: it holds the write lock from the start), waiting for the lock.
func beginWrite(ctx context.Context, db *sql.DB, onBusy func(context.Context)) (tx *sql.Tx, err error) {
	err = retryBusy(ctx, onBusy, func() error {
		tx, err = db.BeginTx(ctx, nil)
		return err
	})
	return tx, err
}

// execWrite runs one write statement on the writer connection outside a
// transaction, waiting for the lock.
func execWrite(ctx context.Context, db *sql.DB, onBusy func(context.Context), query string, args ...any) (res sql.Result, err error) {
	err = retryBusy(ctx, onBusy, func() error {
		res, err = db.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}
