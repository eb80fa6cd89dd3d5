package sqlite

import (
	"bytes"
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

func (s *reads) findArgs(id paste.ID, now time.Time) []any {
	return []any{int64(s.ids.Decode(id)), string(id), formatTime(now)}
}

// Lookup finds a paste unless it is missing or expired at now. p carries
// everything but the body, which r reads: a cached small paste from memory,
// a larger one a chunk at a time as r is read or seeked, so serving a paste
// never holds more than one chunk of it. A read that finds a chunk gone (the
// paste was deleted meanwhile) fails rather than ending the body early.
func (s *reads) Lookup(ctx context.Context, id paste.ID, now time.Time) (p paste.Paste, r io.ReadSeeker, err error) {
	if p, ok := s.cache.get(id); ok {
		if p.Expired(now) {
			return paste.Paste{}, nil, paste.ErrNotFound
		}
		body := p.Body
		p.Body = nil
		return p, bytes.NewReader(body), nil
	}
	return s.lookupFromFile(ctx, id, now)
}

// lookupFromFile is Lookup on a cache miss. It is its own function because
// the row is scanned through pointers, which moves what they point at to the
// heap: in Lookup that would cost every cache hit an allocation.
func (s *reads) lookupFromFile(ctx context.Context, id paste.ID, now time.Time) (paste.Paste, io.ReadSeeker, error) {
	gen := s.cache.generation()
	var (
		p       paste.Paste
		number  int64
		size    int64
		created string
		expires sql.NullString
	)
	err := s.r.QueryRowContext(ctx,
		`SELECT number, size, etag, head, created_at, expires_at FROM pastes WHERE `+findPaste,
		s.findArgs(id, now)...).Scan(&number, &size, &p.ETag, &p.Body, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return paste.Paste{}, nil, paste.ErrNotFound
	}
	if err != nil {
		return paste.Paste{}, nil, translate(err)
	}
	p.ID = id
	if p.Created, err = parseTime(created); err != nil {
		return paste.Paste{}, nil, fmt.Errorf("paste %s: created_at: %w", id, err)
	}
	if expires.Valid {
		if p.Expires, err = parseTime(expires.String); err != nil {
			return paste.Paste{}, nil, fmt.Errorf("paste %s: expires_at: %w", id, err)
		}
	}
	head := p.Body
	p.Body = nil
	if size <= int64(len(head)) {
		s.cache.putRead(paste.Paste{ID: p.ID, ETag: p.ETag, Body: head, Created: p.Created, Expires: p.Expires}, gen)
		return p, bytes.NewReader(head), nil
	}
	if len(head) != ChunkSize {
		return paste.Paste{}, nil, fmt.Errorf("paste %s: head holds %d bytes of %d, expected %d", id, len(head), size, ChunkSize)
	}
	return p, &chunkReader{ctx: ctx, s: s, id: id, number: number, size: size, head: head}, nil
}

// chunkReader reads a paste stored in chunks: chunk 0 is the head kept in the
// paste's row, chunk k >= 1 is paste_chunks row seq k, each ChunkSize long
// but the last. It holds one chunk at a time, fetched when a read reaches it.
type chunkReader struct {
	ctx    context.Context
	s      *reads
	id     paste.ID
	number int64
	size   int64
	off    int64
	head   []byte // chunk 0
	buf    []byte // chunk bufSeq, when bufSeq > 0
	bufSeq int64
}

func (r *chunkReader) Read(b []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	seq := r.off / ChunkSize
	chunk := r.head
	if seq > 0 {
		if seq != r.bufSeq {
			if err := r.load(seq); err != nil {
				return 0, err
			}
		}
		chunk = r.buf
	}
	n := copy(b, chunk[r.off-seq*ChunkSize:])
	r.off += int64(n)
	return n, nil
}

// load fetches chunk seq >= 1 into the reader's buffer, reusing its memory.
func (r *chunkReader) load(seq int64) error {
	rows, err := r.s.r.QueryContext(r.ctx,
		`SELECT data FROM paste_chunks WHERE paste_number = ? AND seq = ?`, r.number, seq)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return translate(err)
		}
		return fmt.Errorf("paste %s: chunk %d missing", r.id, seq)
	}
	var data sql.RawBytes
	if err := rows.Scan(&data); err != nil {
		return translate(err)
	}
	if want := min(ChunkSize, r.size-seq*ChunkSize); int64(len(data)) != want {
		return fmt.Errorf("paste %s: chunk %d holds %d bytes, expected %d", r.id, seq, len(data), want)
	}
	r.buf = append(r.buf[:0], data...)
	r.bufSeq = seq
	return rows.Close()
}

func (r *chunkReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("chunkReader.Seek: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("chunkReader.Seek: negative position")
	}
	r.off = offset
	return offset, nil
}
