package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/litepaste/litepaste/app/paste"
)

// Batch bounds: how many pastes and how many body bytes one transaction takes.
const (
	maxBatch      = 128
	maxBatchBytes = 8 << 20
)

type insertRequest struct {
	p    paste.Paste
	done chan error
}

// writeLoop is the single goroutine that inserts pastes. It takes whatever
// is queued (up to the batch bounds) and writes it in one transaction; a
// taken ID fails only its own paste.
func (s *Store) writeLoop() {
	defer close(s.stopped)
	for first := range s.inserts {
		batch := []insertRequest{first}
		size := len(first.p.Body)
	fill:
		for len(batch) < maxBatch && size < maxBatchBytes {
			select {
			case req, ok := <-s.inserts:
				if !ok {
					break fill
				}
				batch = append(batch, req)
				size += len(req.p.Body)
			default:
				break fill
			}
		}
		errs := s.insertBatch(batch)
		for i, req := range batch {
			req.done <- errs[i]
		}
	}
}

func (s *Store) insertBatch(batch []insertRequest) []error {
	errs := make([]error, len(batch))
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = translate(err)
		}
		return errs
	}
	// Writes outlive any one request: the requester waits for the verdict.
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	for i, req := range batch {
		taken, err := s.insertOne(ctx, tx, req.p)
		if err != nil {
			_ = tx.Rollback()
			return fail(err)
		}
		if taken {
			errs[i] = paste.ErrIDCollision
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	s.ckpt.committed()
	return errs
}

// insertOne adds p within tx, or reports that its ID is taken (p's own
// failure); an error dooms the whole transaction.
func (s *Store) insertOne(ctx context.Context, tx *sql.Tx, p paste.Paste) (taken bool, err error) {
	var expires any
	if !p.Expires.IsZero() {
		expires = formatTime(p.Expires)
	}
	head := p.Body[:min(len(p.Body), ChunkSize)]
	res, err := tx.StmtContext(ctx, s.insertPaste).ExecContext(ctx,
		string(p.ID), len(p.Body), p.ETag, head, formatTime(p.Created), expires, p.DeleteTokenHash)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err == nil, err
	}
	for seq, off := 1, ChunkSize; off < len(p.Body); seq, off = seq+1, off+ChunkSize {
		chunk := p.Body[off:min(len(p.Body), off+ChunkSize)]
		if _, err := tx.StmtContext(ctx, s.insertChunk).ExecContext(ctx, string(p.ID), seq, chunk); err != nil {
			return false, fmt.Errorf("paste %s chunk %d: %w", p.ID, seq, err)
		}
	}
	return false, nil
}
