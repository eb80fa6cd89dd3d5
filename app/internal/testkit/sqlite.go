package testkit

import (
	"database/sql"
	"testing"
)

// RawDB is a connection of its own to the SQLite file at path, for writing
// or checking a file outside litepaste's code; query holds DSN parameters
// ("mode=ro"), and the connection is closed at cleanup.
func RawDB(t testing.TB, path, query string) *sql.DB {
	t.Helper()
	dsn := "file:" + path
	if query != "" {
		dsn += "?" + query
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
