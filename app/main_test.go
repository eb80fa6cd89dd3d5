package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"

	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/sqlite"
)

// logLine finds the first JSON log line with the given msg.
func logLine(b *testkit.SyncBuffer, msg string) (map[string]any, bool) {
	for _, line := range strings.Split(b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			return m, true
		}
	}
	return nil, false
}

// runArgs is the whole program as main runs it, from its arguments and
// environment, but for the collector's process-wide settings.
func runArgs(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, listening chan<- net.Addr) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	return run(ctx, cfg, stderr, listening)
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// program is one run of the whole server, as main runs it.
type program struct {
	base   string // http://127.0.0.1:PORT
	stderr *testkit.SyncBuffer
	cancel context.CancelFunc
	done   chan error
	dbPath string
}

// metricsAddr is the address p's metrics listener logged.
func (p *program) metricsAddr(t *testing.T) string {
	t.Helper()
	line, ok := logLine(p.stderr, "metrics listening")
	if !ok {
		t.Fatalf("no metrics address in the log:\n%s", p.stderr)
	}
	return line["addr"].(string)
}

// startProgram runs the server on a free port with a temp database, and
// stops it (and checks it stopped cleanly) at cleanup.
func startProgram(t *testing.T, env map[string]string, args ...string) *program {
	t.Helper()
	full := map[string]string{"PORT": "0", "DB_PATH": filepath.Join(t.TempDir(), "data", "litepaste.db")}
	for k, v := range env {
		full[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &program{stderr: &testkit.SyncBuffer{}, cancel: cancel, done: make(chan error, 1), dbPath: full["DB_PATH"]}
	listening := make(chan net.Addr, 1)
	go func() { p.done <- runArgs(ctx, args, envOf(full), p.stderr, listening) }()
	select {
	case a := <-listening:
		_, port, err := net.SplitHostPort(a.String())
		if err != nil {
			t.Fatal(err)
		}
		p.base = "http://127.0.0.1:" + port
	case err := <-p.done:
		cancel()
		t.Fatalf("run returned before listening: %v\n%s", err, p.stderr)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("run did not listen within a minute\n%s", p.stderr)
	}
	t.Cleanup(func() {
		if err := p.stop(t); err != nil {
			t.Errorf("run: %v\n%s", err, p.stderr)
		}
	})
	return p
}

// stop cancels the program's context (SIGTERM in main) and waits for run.
func (p *program) stop(t *testing.T) error {
	t.Helper()
	p.cancel()
	select {
	case err := <-p.done:
		p.done <- err // a second stop sees the same result
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("run did not return within a minute of the stop\n%s", p.stderr)
		return nil
	}
}

func httpDo(t *testing.T, method, url string, body io.Reader, headers ...string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(testkit.NewRequest(t, method, url, body, headers...))
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return res, testkit.ReadBody(t, res)
}

func TestProgramServesPastesOverHTTP(t *testing.T) {
	p := startProgram(t, map[string]string{
		"METRICS_ADDR": "127.0.0.1:0",
		"SITE_TITLE":   "Team <Logs>",
	})
	body := []byte("binary \x00\xff and text\n")
	res, answer := httpDo(t, http.MethodPut, p.base+"/build.log", bytes.NewReader(body))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PUT: got %d %q", res.StatusCode, answer)
	}
	var put struct{ ID, URL, DeleteToken string }
	if err := json.Unmarshal(answer, &put); err != nil {
		t.Fatalf("PUT answer %q: %v", answer, err)
	}
	if want := p.base + "/" + put.ID; put.URL != want {
		t.Errorf("url: got %q, want %q", put.URL, want)
	}
	res, got := httpDo(t, http.MethodGet, put.URL, nil)
	if res.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Errorf("GET: got %d %q, want 200 %q", res.StatusCode, got, body)
	}

	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormField("_")
	io.WriteString(fw, "from a form")
	mw.Close()
	res, answer = httpDo(t, http.MethodPost, p.base+"/", &form, "Content-Type", mw.FormDataContentType())
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(answer), p.base+"/") {
		t.Fatalf("POST: got %d %q", res.StatusCode, answer)
	}
	if _, got := httpDo(t, http.MethodGet, strings.TrimSpace(string(answer)), nil); string(got) != "from a form" {
		t.Errorf("GET of the form paste: got %q", got)
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		if res, _ := httpDo(t, http.MethodGet, p.base+path, nil); res.StatusCode != http.StatusOK {
			t.Errorf("%s: got %d, want 200", path, res.StatusCode)
		}
	}
	if _, page := httpDo(t, http.MethodGet, p.base+"/", nil); !bytes.Contains(page, []byte("Team &lt;Logs&gt;")) {
		t.Errorf("page does not show the escaped SITE_TITLE")
	}
	if res, _ := httpDo(t, http.MethodGet, p.base+"/metrics", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the public port: got %d, want 404", res.StatusCode)
	}

	res, metrics := httpDo(t, http.MethodGet, "http://"+p.metricsAddr(t)+"/metrics", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("metrics: got %d", res.StatusCode)
	}
	for _, want := range []string{`litepaste_uploads_total{outcome="stored"} 2`, "litepaste_pastes 2", "litepaste_pastes_served_total 2", "go_goroutines"} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("metrics lack %q", want)
		}
	}

	if l, ok := logLine(p.stderr, "listening"); !ok || !strings.HasSuffix(l["addr"].(string), p.base[strings.LastIndex(p.base, ":"):]) {
		t.Errorf("log: want a listening line with the address, got %v\n%s", l, p.stderr)
	}
	testkit.WaitFor(t, "request log lines", func() bool {
		return strings.Contains(p.stderr.String(), `"msg":"request","method":"PUT","path":"/build.log","status":200`)
	})
	if strings.Contains(p.stderr.String(), "from a form") {
		t.Error("the log holds a paste's contents")
	}
}

func TestProgramSignalsReadinessOnAFileDescriptor(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The server closes the descriptor it is given; hand it a duplicate so
	// the test's own *os.File never closes a number reused since.
	fd, err := syscall.Dup(int(w.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	startProgram(t, nil, "-readyfd", strconv.Itoa(fd))

	if err := r.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r) // EOF once the server closed its end
	if err != nil {
		t.Fatalf("read the readiness pipe: %v (got %q)", err, got)
	}
	if string(got) != "\n" {
		t.Errorf("readiness notification: got %q, want one newline", got)
	}
}

func TestProgramFinishesARequestInFlightWhenStopped(t *testing.T) {
	p := startProgram(t, nil)
	hostPort := strings.TrimPrefix(p.base, "http://")
	conn, err := net.Dial("tcp", hostPort)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "uploaded while the server stops\n"
	fmt.Fprintf(conn, "PUT / HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", hostPort, len(body))
	br := bufio.NewReader(conn)
	if err := conn.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// "100 Continue" comes once the handler reads the body: the request is
	// in flight.
	if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("waiting for 100 Continue: got %q, %v", line, err)
	}
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}

	p.cancel()
	testkit.WaitFor(t, "the server to stop accepting connections", func() bool {
		c, err := net.Dial("tcp", hostPort)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the request in flight got no answer: %v", err)
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the request in flight: got %d %q, want 200", res.StatusCode, answer)
	}
	var put struct{ ID string }
	if err := json.Unmarshal(answer, &put); err != nil {
		t.Fatal(err)
	}

	if err := p.stop(t); err != nil {
		t.Fatalf("run after a stop: got %v, want nil", err)
	}
	for _, msg := range []string{"shutting down", "stopped"} {
		if _, ok := logLine(p.stderr, msg); !ok {
			t.Errorf("log lacks %q:\n%s", msg, p.stderr)
		}
	}
	// The database was closed: SQLite removes the WAL when its last
	// connection closes.
	if _, err := os.Stat(p.dbPath + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WAL file after the stop: %v, want it gone (database closed)", err)
	}
	st, err := sqlite.Open(context.Background(), p.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, r, err := st.Lookup(context.Background(), paste.ID(put.ID), time.Now())
	var got []byte
	if err == nil {
		got, err = io.ReadAll(r)
	}
	if err != nil || string(got) != body {
		t.Errorf("the paste uploaded during the stop: got %q, %v, want it stored", got, err)
	}
}

func TestProgramSweepsExpiredPastes(t *testing.T) {
	p := startProgram(t, map[string]string{"METRICS_ADDR": "127.0.0.1:0", "SWEEP_INTERVAL": "50ms"})
	res, answer := httpDo(t, http.MethodPut, p.base+"/?expires=1s", strings.NewReader("short-lived"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PUT: got %d %q", res.StatusCode, answer)
	}
	metricsURL := "http://" + p.metricsAddr(t) + "/metrics"
	testkit.WaitFor(t, "the sweeper to delete the expired paste", func() bool {
		_, m := httpDo(t, http.MethodGet, metricsURL, nil)
		return bytes.Contains(m, []byte("litepaste_expired_swept_total 1")) && bytes.Contains(m, []byte("litepaste_pastes 0"))
	})
}

func TestProgramMigrateOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fresh", "litepaste.db")
	listening := make(chan net.Addr, 1)
	stderr := &testkit.SyncBuffer{}
	err := runArgs(context.Background(), []string{"-migrate"}, envOf(map[string]string{"DB_PATH": path, "PORT": "0"}), stderr, listening)
	if err != nil {
		t.Fatalf("run -migrate: %v\n%s", err, stderr)
	}
	select {
	case a := <-listening:
		t.Errorf("run -migrate listened on %v", a)
	default:
	}
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open the migrated database: %v", err)
	}
	defer st.Close()
	if err := st.Ready(context.Background()); err != nil {
		t.Errorf("migrated database not ready: %v", err)
	}
}

func TestProgramMigrateOnlyClosesTheDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "litepaste.db")
	if err := runArgs(context.Background(), []string{"-migrate"}, envOf(map[string]string{"DB_PATH": path}), io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WAL beside the database after -migrate: %v, want none (the database closed)", err)
	}
}

func TestProgramFailsWithAClearError(t *testing.T) {
	busy, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, busyPort, _ := net.SplitHostPort(busy.Addr().String())
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc string
		env  map[string]string
		want string
	}{
		{desc: "port taken", env: map[string]string{"PORT": busyPort}, want: "address already in use"},
		{desc: "database under a file", env: map[string]string{"DB_PATH": filepath.Join(notADir, "db", "x.db")}, want: "database directory"},
		{desc: "bad metrics address", env: map[string]string{"METRICS_ADDR": "nowhere:-1"}, want: "metrics address"},
		{desc: "bad setting", env: map[string]string{"MAX_SIZE_MB": "lots"}, want: "MAX_SIZE_MB"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			env := map[string]string{"PORT": "0", "DB_PATH": filepath.Join(t.TempDir(), "x.db")}
			for k, v := range tt.env {
				env[k] = v
			}
			err := runArgs(context.Background(), nil, envOf(env), io.Discard, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestProgramHelp(t *testing.T) {
	var out testkit.SyncBuffer
	err := runArgs(context.Background(), []string{"-h"}, envOf(nil), &out, nil)
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run -h: got %v, want flag.ErrHelp (main exits 0 on it)", err)
	}
	if !strings.Contains(out.String(), "Usage") {
		t.Errorf("run -h printed %q, want the usage", out.String())
	}
}

// A LogPaste database at DB_PATH is upgraded as the server starts, or by
// -migrate before it: every old link serves the same bytes, and new pastes
// get other IDs.
func TestProgramServesALogPasteDatabase(t *testing.T) {
	entries := testkit.LogPasteEntries(sqlite.ChunkSize)
	for _, migrateFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("migrate first %v", migrateFirst), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "data", "store.db")
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			testkit.WriteLogPasteDB(t, path, "WAL", 1, entries)
			env := map[string]string{"DB_PATH": path, "MAX_SIZE_MB": "4"}
			upgradeLog := &testkit.SyncBuffer{}
			if migrateFirst {
				if err := runArgs(context.Background(), []string{"-migrate"}, envOf(env), upgradeLog, nil); err != nil {
					t.Fatalf("run -migrate: %v\n%s", err, upgradeLog)
				}
			}
			p := startProgram(t, env)
			if !migrateFirst {
				upgradeLog = p.stderr
			}
			line, ok := logLine(upgradeLog, "database upgraded")
			if !ok || line["from"] != "LogPaste" || line["imported"] != float64(len(entries)) {
				t.Errorf("upgrade log line: got %v, want from LogPaste, imported %d\n%s", line, len(entries), upgradeLog)
			}
			for _, e := range entries {
				res, got := httpDo(t, http.MethodGet, p.base+"/"+e.ID, nil)
				if res.StatusCode != http.StatusOK || testkit.SHA256(got) != testkit.SHA256(e.Contents) {
					t.Errorf("GET /%s: got %d, %d bytes (SHA-256 %s), want 200 and the %d bytes LogPaste stored (%s)",
						e.ID, res.StatusCode, len(got), testkit.SHA256(got), len(e.Contents), testkit.SHA256(e.Contents))
				}
			}
			res, answer := httpDo(t, http.MethodPut, p.base+"/", strings.NewReader("after the switch"))
			var put struct{ ID string }
			if res.StatusCode != http.StatusOK || json.Unmarshal(answer, &put) != nil {
				t.Fatalf("PUT: got %d %q", res.StatusCode, answer)
			}
			for _, e := range entries {
				if put.ID == e.ID {
					t.Errorf("a new paste got %s, a LogPaste paste's id", put.ID)
				}
			}
		})
	}
}

// A database that is not litepaste's nor LogPaste's stops the server with
// one line saying what it is, and is left as it was.
func TestProgramRefusesAForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE users (name TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before := testkit.FilesState(t, path)
	for _, args := range [][]string{nil, {"-migrate"}} {
		err := runArgs(context.Background(), args, envOf(map[string]string{"DB_PATH": path, "PORT": "0"}), io.Discard, nil)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "neither litepaste's nor LogPaste's: tables users") {
			t.Errorf("run %v: got %v, want one line naming what the file holds", args, err)
		}
	}
	if after := testkit.FilesState(t, path); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("files after the refusal: %v, before: %v", after, before)
	}
}
