-- Every ID a paste from before numbering (or from LogPaste) was stored
-- under, kept after the paste is gone: a new paste is never given one of
-- them, so an old link never shows another paste, even after a takedown.
CREATE TABLE legacy_ids (
    id TEXT PRIMARY KEY NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO legacy_ids (id) SELECT legacy_id FROM pastes WHERE legacy_id IS NOT NULL;
