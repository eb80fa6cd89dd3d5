package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/litepaste/litepaste/app/paste"
)

// LogPaste's pastes, read one at a time in the order they were stored.
// contents is TEXT that holds whatever bytes were uploaded (NULs and invalid
// UTF-8 included), so it is read as a BLOB: its bytes, none converted.
const nextLogPasteEntry = `SELECT rowid, coalesce(id, ''), coalesce(creation_time, ''), CAST(coalesce(contents, '') AS BLOB)
  FROM entries WHERE rowid > ? ORDER BY rowid LIMIT 1`

// importLogPaste moves LogPaste's entries into the pastes table (of the
// newest schema) inside the upgrade's transaction, and returns how many it
// moved. Each keeps its ID (as a legacy ID, which new pastes are never
// given), its bytes (chunked like every paste) and its creation time in UTC;
// none expires or has a delete token. Each entry is deleted once copied, so
// its pages are reused by the next ones instead of doubling the file; the
// freed pages are zeroed (secure_delete) like those of any deleted paste.
func importLogPaste(ctx context.Context, tx *sql.Tx) (int, error) {
	var next, insertPaste, insertChunk, keepID, dropEntry *sql.Stmt
	for _, st := range []struct {
		to    **sql.Stmt
		query string
	}{
		{&next, nextLogPasteEntry},
		{&insertPaste, insertPasteSQL},
		{&insertChunk, insertChunkSQL},
		{&keepID, `INSERT INTO legacy_ids (id) VALUES (?)`},
		{&dropEntry, `DELETE FROM entries WHERE rowid = ?`},
	} {
		var err error
		if *st.to, err = tx.PrepareContext(ctx, st.query); err != nil {
			return 0, err
		}
		// Statements prepared on a transaction close with it.
	}
	var rowid int64
	n := 0
	for {
		var rawID, created string
		var body []byte
		err := next.QueryRowContext(ctx, rowid).Scan(&rowid, &rawID, &created, &body)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return n, fmt.Errorf("read LogPaste's pastes: %w", err)
		}
		id, err := paste.ParseID(rawID)
		if err != nil {
			return n, fmt.Errorf("LogPaste paste %q: its id is not %d letters and digits", rawID, paste.IDLength)
		}
		at, err := time.Parse(time.RFC3339, created)
		if err != nil {
			return n, fmt.Errorf("LogPaste paste %s: creation_time %q is not an RFC 3339 time", id, created)
		}
		if body == nil {
			body = []byte{} // an empty paste's head is an empty BLOB, not NULL
		}
		n++
		p := paste.Paste{Body: body, Created: at.UTC()}.Named(id)
		if err := insertOne(ctx, insertPaste, insertChunk, int64(n), string(id), p); err != nil {
			return n, fmt.Errorf("LogPaste paste %s: %w", id, err)
		}
		if _, err := keepID.ExecContext(ctx, string(id)); err != nil {
			return n, fmt.Errorf("LogPaste paste %s: %w", id, err)
		}
		if _, err := dropEntry.ExecContext(ctx, rowid); err != nil {
			return n, fmt.Errorf("LogPaste paste %s: %w", id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE entries`); err != nil {
		return n, err
	}
	return n, nil
}
