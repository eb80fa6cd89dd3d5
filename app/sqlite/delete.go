package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/litepaste/litepaste/app/paste"
)

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
	tx, err := beginWrite(ctx, s.w, s.onBusy)
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
		res, err := execWrite(ctx, s.w, s.onBusy,
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
				if _, err := execWrite(ctx, s.w, s.onBusy, noteDeletion, formatTime(now)); err != nil {
					return total, translate(err)
				}
			}
			return total, nil
		}
	}
}

// After a deletion, the replica still holds the paste's bytes until
// Litestream has taken a snapshot after it and then seen one more change
// before the next snapshot (litestream.yml: a snapshot every 12 h, so within
// 24 h). So for heartbeatFor after each deletion, Heartbeat writes a tiny
// change every heartbeatEvery; a service with no deletions pays nothing.
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
	res, err := execWrite(ctx, s.w, s.onBusy,
		`UPDATE replica_heartbeat SET touched_at = ? WHERE last_delete_at > ? AND touched_at <= ?`,
		formatTime(now), formatTime(now.Add(-heartbeatFor)), formatTime(now.Add(-heartbeatEvery)))
	if err != nil {
		return false, translate(err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
