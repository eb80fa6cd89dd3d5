package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/litepaste/litepaste/app/paste"
)

// Where a paste is found by ID: numbered pastes by the number their ID
// names, older ones by the random ID they were stored under; never one that
// has expired.
const findPaste = `((number = ? AND legacy_id IS NULL) OR legacy_id = ?) AND (expires_at IS NULL OR expires_at > ?)`

func (s *Store) findArgs(id paste.ID, now time.Time) []any {
	return []any{int64(s.ids.Decode(id)), string(id), formatTime(now)}
}

// Lookup finds a paste of any size unless it is missing or expired at now:
// p.Body holds the whole body of a paste up to ChunkSize; for a larger one it
// holds the first chunk, and rest writes the others to w one chunk at a time,
// so serving a paste never holds all of it. rest is nil when p.Body is whole;
// size is the full length.
func (s *Store) Lookup(ctx context.Context, id paste.ID, now time.Time) (paste.Paste, int, func(w io.Writer) error, error) {
	if p, ok := s.cache.get(id); ok {
		if p.Expired(now) {
			return paste.Paste{}, 0, nil, paste.ErrNotFound
		}
		return p, len(p.Body), nil, nil
	}
	return s.lookupFromFile(ctx, id, now)
}

// lookupFromFile is Lookup on a cache miss. It is its own function because
// the row is scanned through pointers, which moves what they point at to the
// heap: in Lookup that would cost every cache hit an allocation.
func (s *Store) lookupFromFile(ctx context.Context, id paste.ID, now time.Time) (p paste.Paste, size int, rest func(w io.Writer) error, err error) {
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
