package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// ErrUnknownDatabase is returned by Open for a file it will not touch: not
// a SQLite database, neither litepaste's nor LogPaste's, or a litepaste
// schema newer than this server's.
var ErrUnknownDatabase = errors.New("unknown database")

// kind is what a database file holds, told by its tables and user_version.
type kind int

const (
	kindEmpty     kind = iota // no file, an empty file, or no tables at all
	kindLitepaste             // litepaste's schema at found.version
	kindLogPaste              // LogPaste's one table of entries
)

type found struct {
	kind    kind
	version int    // PRAGMA user_version
	tables  string // the tables and their columns, see tableShapes
}

// logPasteShape is LogPaste's schema, `CREATE TABLE IF NOT EXISTS entries
// (id TEXT PRIMARY KEY, creation_time TEXT, contents TEXT)`, in the form
// tableShapes gives. Its migration counter (user_version) is 1, or 0 from
// releases that created the table without one: LogPaste is told by its
// table, since litepaste's own counter also starts at 1.
const logPasteShape = "entries(id,creation_time,contents)"

// tableShapes lists the tables with their columns, "name(col,col);...", by
// name. SQLite's own tables and the ones Litestream adds beside an
// application's (_litestream_seq, _litestream_lock) are left out.
const tableShapes = `SELECT coalesce(group_concat(shape, ';'), '') FROM (
  SELECT m.name || '(' || group_concat(c.name, ',' ORDER BY c.cid) || ')' AS shape
  FROM sqlite_schema AS m JOIN pragma_table_info(m.name) AS c
  WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND m.name NOT LIKE '\_litestream\_%' ESCAPE '\'
  GROUP BY m.name ORDER BY m.name)`

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func readSchema(ctx context.Context, q queryer) (found, error) {
	var f found
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&f.version); err != nil {
		return f, err
	}
	err := q.QueryRowContext(ctx, tableShapes).Scan(&f.tables)
	return f, err
}

// classify names what f is, or refuses it in one line.
func classify(ctx context.Context, f found, ms []migration) (found, error) {
	known := len(ms)
	switch {
	case f.tables == "" && f.version == 0:
		f.kind = kindEmpty
		return f, nil
	case f.tables == logPasteShape && f.version <= 1:
		f.kind = kindLogPaste
		return f, nil
	case f.version > known && hasTable(f.tables, "pastes"):
		return f, fmt.Errorf("%w: a litepaste database of schema version %d, newer than this server knows (%d): run a newer litepaste",
			ErrUnknownDatabase, f.version, known)
	case f.version >= 1 && f.version <= known:
		want, err := shapesAt(ctx, ms[:f.version])
		if err != nil {
			return f, err
		}
		if f.tables == want {
			f.kind = kindLitepaste
			return f, nil
		}
	}
	return f, fmt.Errorf("%w: neither litepaste's nor LogPaste's: tables %s, user_version %d",
		ErrUnknownDatabase, tableNames(f.tables), f.version)
}

func hasTable(shapes, name string) bool {
	for _, s := range strings.Split(shapes, ";") {
		if n, _, _ := strings.Cut(s, "("); n == name {
			return true
		}
	}
	return false
}

// tableNames is shapes without the columns, at most a few of them.
func tableNames(shapes string) string {
	if shapes == "" {
		return "(none)"
	}
	var names []string
	for _, s := range strings.Split(shapes, ";") {
		n, _, _ := strings.Cut(s, "(")
		names = append(names, n)
	}
	if len(names) > 6 {
		names = append(names[:6], fmt.Sprintf("and %d more", len(names)-6))
	}
	return strings.Join(names, ", ")
}

// shapesAt is the tableShapes of a database that ms made, built in memory.
func shapesAt(ctx context.Context, ms []migration) (string, error) {
	db := openDB(":memory:")
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, m := range ms {
		if _, err := db.ExecContext(ctx, m.sql); err != nil {
			return "", fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	f, err := readSchema(ctx, db)
	return f.tables, err
}

// inspect reads what the file at path holds without changing a byte of it
// or creating anything beside it: a database is refused only once it is
// known, and the store's own connections switch the file to WAL as they
// open. A file without a journal beside it is read as immutable; one with a
// live WAL and its shared-memory index is read through them, read-only; for
// anything else (a WAL without its index, a rollback journal) a copy is
// read, since SQLite would create or replay files beside the original.
func inspect(ctx context.Context, path string) (found, error) {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return found{kind: kindEmpty}, nil
	}
	if err != nil {
		return found{}, err
	}
	if !st.Mode().IsRegular() {
		return found{}, fmt.Errorf("%w: not a regular file", ErrUnknownDatabase)
	}
	if st.Size() == 0 {
		return found{kind: kindEmpty}, nil
	}
	wal, journal, shm := sidecarSize(path+"-wal"), sidecarSize(path+"-journal"), sidecarSize(path+"-shm")
	params := url.Values{"mode": {"ro"}}
	switch {
	case wal <= 0 && journal <= 0:
		params.Set("immutable", "1")
	case journal <= 0 && shm >= 0:
	default:
		// Beside the database: that file system has room for it and is
		// writable, unlike a read-only root or a small /tmp in memory.
		dir, err := os.MkdirTemp(filepath.Dir(path), ".litepaste-inspect-")
		if err != nil {
			return found{}, err
		}
		defer os.RemoveAll(dir)
		copyPath := filepath.Join(dir, "db")
		for _, suffix := range []string{"", "-wal", "-journal"} {
			if err := copyFile(path+suffix, copyPath+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return found{}, err
			}
		}
		// The copy is ours: SQLite may replay its journal.
		path, params = copyPath, url.Values{}
	}
	db := openDB(fileURI(path, params))
	defer db.Close()
	f, err := readSchema(ctx, db)
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrNotADB {
		return f, fmt.Errorf("%w: not a SQLite database", ErrUnknownDatabase)
	}
	if err != nil {
		return f, fmt.Errorf("read the schema: %w", err)
	}
	return f, nil
}

// sidecarSize is the size of a file beside the database, -1 if there is none.
func sidecarSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return st.Size()
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
