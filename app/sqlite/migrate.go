package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", base)
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", m.name, i+1)
		}
	}
	return ms, nil
}

// Upgrade says what Open did to the database's schema.
type Upgrade struct {
	// From is what the file held before: "" when nothing was applied,
	// "empty", "litepaste schema N" or "LogPaste".
	From string
	// Imported counts the LogPaste pastes carried over.
	Imported int
}

// upgrade brings the file at path to this server's schema: every migration
// it lacks (and, for a LogPaste database, the carrying over of its pastes)
// runs in ONE transaction, so an error or a kill at any point leaves the
// file as it was. It runs on a connection of its own that leaves the file's
// journal mode alone (the store's connections switch it to WAL once the
// upgrade is committed): a rollback-journal file stays one until then.
func upgrade(ctx context.Context, path string, o options) (Upgrade, error) {
	ms, err := loadMigrations()
	if err != nil {
		return Upgrade{}, err
	}
	f, err := inspect(ctx, path)
	if err == nil {
		f, err = classify(ctx, f, ms)
	}
	if err != nil || f.kind == kindLitepaste && f.version == len(ms) {
		return Upgrade{}, err
	}
	// A rollback journal is safe against power loss only with FULL; in WAL
	// mode it costs one more sync for the one commit.
	q := pragmas(false, 0)
	q.Set("_synchronous", "FULL")
	db := openDB(fileURI(path, q))
	defer db.Close()
	db.SetMaxOpenConns(1)
	tx, err := beginWrite(ctx, db, nil)
	if err != nil {
		return Upgrade{}, fmt.Errorf("upgrade the schema: %w", err)
	}
	up, err := upgradeIn(ctx, tx, f, ms, o)
	if err != nil {
		_ = tx.Rollback()
		return Upgrade{}, err
	}
	if err := tx.Commit(); err != nil {
		return Upgrade{}, fmt.Errorf("upgrade the schema: %w", err)
	}
	return up, db.Close()
}

func upgradeIn(ctx context.Context, tx *sql.Tx, inspected found, ms []migration, o options) (Upgrade, error) {
	// Under the write lock the file cannot change any more: what it holds
	// now is what is upgraded.
	f, err := readSchema(ctx, tx)
	if err != nil {
		return Upgrade{}, fmt.Errorf("read the schema: %w", err)
	}
	if f.version != inspected.version || f.tables != inspected.tables {
		return Upgrade{}, fmt.Errorf("the database changed while it was opened (user_version %d, then %d)", inspected.version, f.version)
	}
	from, todo := "empty", ms
	switch inspected.kind {
	case kindLitepaste:
		from, todo = fmt.Sprintf("litepaste schema %d", f.version), ms[f.version:]
	case kindLogPaste:
		from = "LogPaste"
	}
	for _, m := range todo {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return Upgrade{}, fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	up := Upgrade{From: from}
	if inspected.kind == kindLogPaste {
		if up.Imported, err = importLogPaste(ctx, tx); err != nil {
			return Upgrade{}, err
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(ms))); err != nil {
		return Upgrade{}, err
	}
	if o.beforeCommit != nil {
		if err := o.beforeCommit(ctx, tx); err != nil {
			return Upgrade{}, err
		}
	}
	return up, nil
}
