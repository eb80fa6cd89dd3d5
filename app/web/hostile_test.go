package web_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"

	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/web"
)

// realServer serves ts over TCP on loopback with the given limits (main.go
// sets its own; these are short so a test does not wait for minutes).
func realServer(t *testing.T, ts *testServer, configure func(*http.Server)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: ts.h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 32 << 10}
	if configure != nil {
		configure(srv)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// cutOff waits (generously) until the server ends conn, reading whatever
// it sends, and says what it saw.
func cutOff(t *testing.T, conn net.Conn) string {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server never ended a slow connection (read %q)", got)
	}
	return string(got)
}

// trickle writes one piece every interval until stop is closed or the
// server hangs up.
func trickle(conn net.Conn, piece string, every time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if _, err := io.WriteString(conn, piece); err != nil {
			return
		}
	}
}

func TestSlowClientsAreCutOffAndDoNotBlockOthers(t *testing.T) {
	ts := mustServer(t)
	addr := realServer(t, ts, func(s *http.Server) {
		s.ReadHeaderTimeout = 300 * time.Millisecond
		s.ReadTimeout = time.Second
	})
	stop := make(chan struct{})
	defer close(stop)

	type slow struct {
		desc  string
		start string
		piece string
	}
	kinds := []slow{
		{desc: "headers trickled", start: "GET /healthz HTTP/1.1\r\nHost: x\r\n", piece: "X-Slow: 1\r\n"},
		{desc: "body trickled", start: "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", piece: "slow "},
		{desc: "chunked body trickled", start: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", piece: "5\r\nslow \r\n"},
	}
	const each = 10
	var conns []net.Conn
	var kindOf []string
	for _, k := range kinds {
		for range each {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			if _, err := io.WriteString(conn, k.start); err != nil {
				t.Fatal(err)
			}
			go trickle(conn, k.piece, 50*time.Millisecond, stop)
			conns = append(conns, conn)
			kindOf = append(kindOf, k.desc)
		}
	}

	// Everyone else is served meanwhile.
	client := &http.Client{Timeout: 30 * time.Second}
	for i := range 10 {
		res, err := client.Post("http://"+addr+"/", "text/plain", strings.NewReader(fmt.Sprintf("paste %d", i)))
		if err != nil {
			t.Fatalf("upload %d while slow clients hang on: %v", i, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("upload %d while slow clients hang on: got %d (%q), want 200", i, res.StatusCode, body)
		}
		res, err = client.Get(strings.TrimSpace(string(body)))
		if err != nil {
			t.Fatalf("read %d while slow clients hang on: %v", i, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("read %d while slow clients hang on: got %d, want 200", i, res.StatusCode)
		}
	}

	for i, conn := range conns {
		got := cutOff(t, conn)
		if strings.HasPrefix(got, "HTTP/1.1 200") {
			t.Errorf("%s: a slow request was accepted: %q", kindOf[i], got)
		}
	}
	if got, want := ts.pasteCount(t), int64(10); got != want {
		t.Errorf("pastes stored: got %d, want %d (none from slow clients)", got, want)
	}
}

func TestOversizedHeadersAre431(t *testing.T) {
	ts := mustServer(t)
	addr := realServer(t, ts, nil) // MaxHeaderBytes as main.go sets it
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
		for range 100 {
			fmt.Fprintf(conn, "X-Big: %s\r\n", strings.Repeat("a", 1000))
		}
		io.WriteString(conn, "\r\n")
	}()
	if code, _ := readAnswer(t, conn); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("got status %d, want 431", code)
	}
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("healthz afterwards: got %d, want 200", res.StatusCode)
	}
}

func TestUnknownMethodsAre405(t *testing.T) {
	ts := mustServer(t)
	a := ts.mustPut(t, "/", []byte("x"))
	for _, tt := range []struct{ method, path string }{
		{"PATCH", "/"},
		{"PATCH", "/" + a.ID},
		{"PROPFIND", "/"},
		{"TRACE", "/" + a.ID},
		{"BREW", "/healthz"},
		{"DELETE", "/"},
		{"POST", "/" + a.ID},
		{"PUT", "/healthz/x"},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := ts.do(req(tt.method, tt.path, strings.NewReader("x")))
			if tt.method == "PUT" || tt.method == "POST" {
				// PUT and POST to any path are uploads, as in LogPaste.
				if rec.Code != http.StatusOK {
					t.Errorf("got status %d, want 200", rec.Code)
				}
				return
			}
			if rec.Code != http.StatusMethodNotAllowed {
				t.Fatalf("got status %d (%q), want 405", rec.Code, rec.Body.String())
			}
			if got := rec.Body.String(); strings.Count(got, "\n") != 1 {
				t.Errorf("body: got %q, want one line", got)
			}
		})
	}
	if got, want := ts.pasteCount(t), int64(3); got != want {
		t.Errorf("pastes stored: got %d, want %d", got, want)
	}
}

func TestOddPathsAre404WithoutFileAccess(t *testing.T) {
	ts := mustServer(t)
	addr := realServer(t, ts, nil)
	paths := []string{
		"/..",
		"/../../../../etc/passwd",
		"/static/../../../../etc/passwd",
		"/static/../handlers.go",
		"/static/%2e%2e/handlers.go",
		"/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
		"/static/..%2fhandlers.go",
		"/static/js/..%2f..%2fhandlers.go",
		"/%2e%2e/%2e%2e/etc/passwd",
		"/static/",
		"/static/js/",
		"/static/js",
		"/static//etc/passwd",
		"/static/%00",
		"/js/../static/js/../../handlers.go",
		"/templates/index.html",
		"/static/../templates/index.html",
		"/" + strings.Repeat("a", 8000),
		"/static/" + strings.Repeat("a/", 4000),
	}
	for _, p := range paths {
		t.Run(fmt.Sprintf("%.60s", p), func(t *testing.T) {
			// Raw request lines, so no client cleans the path first.
			for _, method := range []string{"GET", "HEAD"} {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", method, p)
				res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
				if err != nil {
					conn.Close()
					t.Fatalf("%s: read answer: %v", method, err)
				}
				body, _ := io.ReadAll(res.Body)
				conn.Close()
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("%s: got status %d, want 404", method, res.StatusCode)
				}
				for _, leak := range []string{"root:", "package web", "<!doctype"} {
					if bytes.Contains(body, []byte(leak)) {
						t.Errorf("%s: answer holds %q: a file was read", method, leak)
					}
				}
			}
		})
	}
}

// mountTmpfs mounts a small tmpfs (as root) for a database to fill up.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "litepaste-test", dir).CombinedOutput()
	if err != nil {
		testkit.SkipOrFail(t, "cannot mount a tmpfs for the disk-full test (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

func TestDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "4m")
	dbPath := filepath.Join(dir, "litepaste.db")
	const pasteSize = 48 << 10
	ts := mustServer(t, withDBPath(dbPath), withConfig(func(c *web.Config) { c.MaxSize = 1 << 20 }))

	// Leave room for a few pastes only.
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, freeBytes(t, dir)-400<<10), 0o600); err != nil {
		t.Fatal(err)
	}

	stored := map[string][]byte{}
	var full *http.Response
	for i := 0; full == nil; i++ {
		if i == 200 {
			t.Fatal("200 uploads fit on a nearly full disk")
		}
		body := bytes.Repeat([]byte{byte('a' + i%26)}, pasteSize)
		rec := ts.do(req(http.MethodPut, "/", bytes.NewReader(body)))
		switch rec.Code {
		case http.StatusOK:
			var a putAnswer
			mustJSON(t, rec.Body.Bytes(), &a)
			stored[a.ID] = body
		case http.StatusInsufficientStorage, http.StatusServiceUnavailable:
			full = rec.Result()
			msg, _ := io.ReadAll(full.Body)
			if strings.Count(string(msg), "\n") != 1 || !strings.Contains(string(msg), "try again later") {
				t.Errorf("disk full answer: got %q, want one line saying to try later", msg)
			}
			t.Logf("disk full after %d uploads: %d %q", len(stored), rec.Code, msg)
		default:
			t.Fatalf("upload %d on a filling disk: got %d (%q), want 200, 507 or 503", i, rec.Code, rec.Body.String())
		}
	}
	if len(stored) == 0 {
		t.Fatal("no upload fit before the disk was full; the test needs a few")
	}
	// What was stored before is still served while the disk is full.
	for id, body := range stored {
		if got := ts.mustGet(t, id); !bytes.Equal(got, body) {
			t.Errorf("paste %s while the disk is full: got %d bytes, want %d", id, len(got), len(body))
		}
	}
	if rec := ts.do(req(http.MethodGet, "/healthz", nil)); rec.Code != http.StatusOK {
		t.Errorf("healthz while the disk is full: got %d, want 200", rec.Code)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	a := ts.mustPut(t, "/", bytes.Repeat([]byte("z"), pasteSize))
	stored[a.ID] = bytes.Repeat([]byte("z"), pasteSize)

	// No corruption: SQLite's own check, from a second connection.
	db := testkit.RawDB(t, dbPath, "mode=ro")
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil {
		t.Fatal(err)
	}
	if check != "ok" {
		t.Errorf("integrity_check: got %q, want ok", check)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM pastes").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(stored) {
		t.Errorf("rows: got %d, want %d (every accepted paste, no rejected one)", n, len(stored))
	}
	for id, body := range stored {
		if got := ts.mustGet(t, id); !bytes.Equal(got, body) {
			t.Errorf("paste %s after space was freed: got %d bytes, want %d", id, len(got), len(body))
		}
		if _, err := paste.ParseID(id); err != nil {
			t.Error(err)
		}
	}
}

// An upload whose handler outlives the server's read timeout (here: it waits
// for upload memory that a slow upload holds) must not spoil its keep-alive
// connection: the next request on it is served normally.
func TestKeepAliveSurvivesAnUploadPastTheReadTimeout(t *testing.T) {
	const limit = 64 << 10
	ts := mustServer(t, withConfig(func(c *web.Config) {
		c.MaxSize = limit
		// Exactly the slow upload's buffer (its length and one byte).
		c.UploadMemory = limit + 1
		// It is cut off about 4 s after it started.
		c.UploadMinRate = 16 << 10
	}))
	ts.srv.SetUploadGrace(500 * time.Millisecond)
	addr := realServer(t, ts, func(s *http.Server) { s.ReadTimeout = time.Second })
	stop := make(chan struct{})
	defer close(stop)
	slow := dialFrom(t, "127.0.0.2", addr)
	// A quarter of the body, after which its buffer is the whole length.
	fmt.Fprintf(slow, "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", limit, strings.Repeat("s", limit/4))
	go trickle(slow, "s", 50*time.Millisecond, stop)
	awaitHeld(t, ts, func(n int64) bool { return n == limit+1 }, "the whole budget")

	began := time.Now()
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Post("http://"+addr+"/", "text/plain", strings.NewReader("waited for memory"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("upload: got %d (%q), want 200", res.StatusCode, body)
	}
	if took := time.Since(began); took < time.Second {
		t.Fatalf("the upload took %v, within the read timeout: nothing was tested", took)
	}
	// Same client, same idle connection.
	res, err = client.Get(strings.TrimSpace(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(got) != "waited for memory" {
		t.Errorf("next request on the connection: got %d %q, want 200 and the paste", res.StatusCode, got)
	}
}
