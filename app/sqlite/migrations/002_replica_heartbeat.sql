-- One row that keeps the replica moving after a deletion: Litestream only
-- drops the old files that still hold a deleted paste once the database has
-- changed after its next snapshot, so for a while after each deletion the
-- store touches this row (see Store.Heartbeat).
CREATE TABLE replica_heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_delete_at TEXT NOT NULL,
    touched_at TEXT NOT NULL
) STRICT;

INSERT INTO replica_heartbeat (id, last_delete_at, touched_at) VALUES (1, '', '');
