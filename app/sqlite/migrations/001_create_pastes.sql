-- One row per paste. The body's first chunk lives in the row, so the common
-- small paste is one read; larger bodies continue in paste_chunks.
CREATE TABLE pastes (
    id TEXT PRIMARY KEY NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    head BLOB NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    delete_token_hash BLOB
) STRICT;

CREATE INDEX pastes_expires_at ON pastes (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE paste_chunks (
    paste_id TEXT NOT NULL REFERENCES pastes (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (paste_id, seq)
) STRICT, WITHOUT ROWID;
