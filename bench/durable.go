package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// runDurable is the "durable" subcommand: the least a Go HTTP server can do to answer a PUT
// only once its body is committed to SQLite with litepaste's durability (WAL,
// synchronous=NORMAL). One writer goroutine commits whatever has queued in one transaction;
// nothing else (no router, no log line per request, no extra headers). GET answers like the
// plain ceiling. It is the limit for a durable upload on this machine.
func runDurable(args []string) error {
	var dbPath string
	body, err := parseServerArgs("durable", args, func(fs *flag.FlagSet) {
		fs.StringVar(&dbPath, "db", "", "SQLite file to create")
	})
	if err != nil {
		return err
	}
	db, err := openDurable(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	commits := make(chan durablePut, 1024)
	writerDone := make(chan error, 1)
	go func() { writerDone <- durableWriter(db, commits) }()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	err = serveUntilSignal(l, durableHandler(body, commits))
	close(commits)
	if werr := <-writerDone; err == nil {
		err = werr
	}
	return err
}

// startDurable starts the durable ceiling with its database at dbPath.
func (b *bench) startDurable(ctx context.Context, name, dbPath string) (*server, error) {
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
		return nil, err
	}
	return b.startSubcommand(ctx, name, "durable", "-body", b.bodyPath(), "-db", dbPath)
}

// openDurable creates the database with one table and one connection, every pragma in the DSN.
func openDurable(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", "5000")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS pastes (n INTEGER PRIMARY KEY, body BLOB NOT NULL)`); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// durablePut is one upload waiting for its commit.
type durablePut struct {
	body []byte
	done chan error
}

// durableWriter commits each upload and whatever else queued behind it in one transaction,
// then answers them all.
func durableWriter(db *sql.DB, puts <-chan durablePut) error {
	var batch []durablePut
	for first := range puts {
		batch = append(batch[:0], first)
	drain:
		for {
			select {
			case p, ok := <-puts:
				if !ok {
					break drain
				}
				batch = append(batch, p)
			default:
				break drain
			}
		}
		err := commitBatch(db, batch)
		for _, p := range batch {
			p.done <- err
		}
		clear(batch)
	}
	return nil
}

func commitBatch(db *sql.DB, batch []durablePut) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.Prepare(`INSERT INTO pastes (body) VALUES (?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, p := range batch {
		if _, err := stmt.Exec(p.body); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func durableHandler(body []byte, puts chan<- durablePut) http.HandlerFunc {
	plain := ceilingHandler(body)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut && r.Method != http.MethodPost {
			plain(w, r)
			return
		}
		data, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read failed", http.StatusBadRequest)
			return
		}
		done := make(chan error, 1)
		puts <- durablePut{body: data, done: done}
		if err := <-done; err != nil {
			http.Error(w, fmt.Sprintf("commit failed: %v", err), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, ceilingReply)
	}
}
