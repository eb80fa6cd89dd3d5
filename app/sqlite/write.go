package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/litepaste/litepaste/app/paste"
)

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

// Batch bounds: how many pastes and how many body bytes one transaction takes.
const (
	maxBatch      = 128
	maxBatchBytes = 8 << 20
)

type insertRequest struct {
	p    paste.Paste
	done chan insertResult
}

type insertResult struct {
	p   paste.Paste
	err error
}

// resultChans recycles the channels on which inserts get their verdicts
// (one buffered result each, always drained before reuse).
var resultChans = sync.Pool{New: func() any { return make(chan insertResult, 1) }}

// lingerFor is how long the writer waits for more pastes before it commits:
// a transaction costs far more than one more row in it, so under load a
// short wait makes the batches and the throughput larger (measured in
// docs/performance.md). A lone upload pays it once.
const lingerFor = 100 * time.Microsecond

// writeLoop is the single goroutine that inserts pastes. It gathers what
// arrives within lingerFor of the first paste (up to the batch bounds),
// numbers the pastes and writes them in one transaction.
func (s *Store) writeLoop() {
	defer close(s.stopped)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	var batch []insertRequest
	var results []insertResult
	for first := range s.inserts {
		batch = append(batch[:0], first)
		size := len(first.p.Body)
		linger.Reset(lingerFor)
	gather:
		for len(batch) < maxBatch && size < maxBatchBytes {
			select {
			case req, ok := <-s.inserts:
				if !ok {
					break gather
				}
				batch = append(batch, req)
				size += len(req.p.Body)
			case <-linger.C:
				break gather
			}
		}
		linger.Stop()
		s.writing.Lock()
		results = s.insertBatch(batch, results)
		s.writing.Unlock()
		for i, req := range batch {
			req.done <- results[i]
		}
		clear(batch)
		clear(results)
	}
}

// insertBatch writes batch in one transaction and returns the verdicts in
// results (reused from the previous batch).
func (s *Store) insertBatch(batch []insertRequest, results []insertResult) []insertResult {
	results = slices.Grow(results[:0], len(batch))[:len(batch)]
	clear(results)
	fail := func(err error) []insertResult {
		for i := range results {
			results[i] = insertResult{err: translate(err)}
		}
		return results
	}
	// Writes outlive any one request: the requester waits for the verdict.
	ctx := context.Background()
	tx, err := beginWrite(ctx, s.w, s.onBusy)
	if err != nil {
		return fail(err)
	}
	insertPaste, insertChunk := tx.StmtContext(ctx, s.insertPaste), tx.StmtContext(ctx, s.insertChunk)
	for i, req := range batch {
		number, id, err := s.nextID(ctx, tx, req.p.Created)
		if err == nil {
			results[i].p = req.p.Named(id)
			err = insertOne(ctx, insertPaste, insertChunk, number, nil, results[i].p)
		}
		if err != nil {
			_ = tx.Rollback()
			return fail(err)
		}
	}
	if _, err := tx.StmtContext(ctx, s.setLast).ExecContext(ctx, int64(s.last)); err != nil {
		_ = tx.Rollback()
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	s.ckpt.committed()
	return results
}

// nextID hands out the next paste number and the ID it names, skipping any
// ID that a paste from before numbering holds or held (legacy_ids). A number handed out is never
// handed out again by this store, even if its transaction fails.
func (s *Store) nextID(ctx context.Context, tx *sql.Tx, created time.Time) (int64, paste.ID, error) {
	for {
		s.last = paste.NextNumber(s.last, created)
		if s.last >= paste.IDSpace {
			return 0, "", paste.ErrIDsExhausted
		}
		id := s.ids.Encode(s.last)
		if !s.legacy {
			return int64(s.last), id, nil
		}
		var taken bool
		if err := tx.StmtContext(ctx, s.legacyTaken).QueryRowContext(ctx, string(id)).Scan(&taken); err != nil {
			return 0, "", err
		}
		if !taken {
			return int64(s.last), id, nil
		}
	}
}

// The statements insertOne runs.
const (
	insertPasteSQL = `INSERT INTO pastes (number, legacy_id, size, etag, head, created_at, expires_at, delete_token_hash)
	  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	insertChunkSQL = `INSERT INTO paste_chunks (paste_number, seq, data) VALUES (?, ?, ?)`
)

// insertOne adds p as paste number n, found by legacyID instead when it is
// a string (a paste from before numbering); its body's first ChunkSize
// bytes go in the row, the rest in paste_chunks. An error dooms the whole
// transaction.
func insertOne(ctx context.Context, insertPaste, insertChunk *sql.Stmt, n int64, legacyID any, p paste.Paste) error {
	var expires any
	if !p.Expires.IsZero() {
		expires = formatTime(p.Expires)
	}
	head := p.Body[:min(len(p.Body), ChunkSize)]
	if _, err := insertPaste.ExecContext(ctx,
		n, legacyID, int64(len(p.Body)), p.ETag, head, formatTime(p.Created), expires, p.DeleteTokenHash); err != nil {
		return err
	}
	for seq, off := 1, ChunkSize; off < len(p.Body); seq, off = seq+1, off+ChunkSize {
		chunk := p.Body[off:min(len(p.Body), off+ChunkSize)]
		if _, err := insertChunk.ExecContext(ctx, n, int64(seq), chunk); err != nil {
			return fmt.Errorf("paste %s chunk %d: %w", p.ID, seq, err)
		}
	}
	return nil
}
