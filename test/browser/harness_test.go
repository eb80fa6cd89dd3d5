// Package browser drives the real litepaste binary with Debian's Chromium:
// the upload page, the logpaste.js client from another origin, the page's
// hygiene (console, CSP, requests) and the README screenshots.
package browser_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// testDeadline bounds one test: generous, as CI machines can be slow.
const testDeadline = 90 * time.Second

// needed reports a missing dependency: a failure under CI, a skip elsewhere.
func needed(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg + " (outside CI this is a skip)")
}

func litepasteBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("LITEPASTE_BIN")
	if bin == "" {
		bin = filepath.Join("..", "..", "bin", "litepaste")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		needed(t, "litepaste binary not found at %s: run make build or set LITEPASTE_BIN", abs)
	}
	return abs
}

func chromiumBin(t *testing.T) string {
	t.Helper()
	const debian = "/usr/bin/chromium"
	if _, err := os.Stat(debian); err == nil {
		return debian
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	needed(t, "chromium not found: apt-get install chromium")
	return ""
}

// server is one running bin/litepaste with its own database.
type server struct {
	URL string // http://127.0.0.1:PORT, no trailing slash

	mu  sync.Mutex
	log strings.Builder
}

// startServer runs the binary on a free port with a fresh database and
// stops it with SIGTERM when the test ends.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	bin := litepasteBin(t)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "PORT=0", "DB_PATH="+filepath.Join(t.TempDir(), "litepaste.db"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{}
	addr := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			s.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				select {
				case addr <- rec.Addr:
				default:
				}
			}
		}
	}()
	exited := make(chan error, 1)
	go func() {
		<-done
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("litepaste exited with %v", err)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("litepaste did not stop within 30s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("litepaste log:\n%s", s.logText())
		}
	})
	select {
	case a := <-addr:
		_, port, err := net.SplitHostPort(a)
		if err != nil {
			t.Fatalf("listening address %q: %v", a, err)
		}
		s.URL = "http://127.0.0.1:" + port
	case err := <-exited:
		exited <- err
		t.Fatalf("litepaste exited before listening (%v):\n%s", err, s.logText())
	case <-time.After(30 * time.Second):
		t.Fatalf("litepaste did not log its address within 30s:\n%s", s.logText())
	}
	return s
}

func (s *server) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// waitLog waits until the server's log, as read so far, satisfies cond: the
// log arrives through a pipe, a moment after the answer it describes.
func (s *server) waitLog(t *testing.T, what string, cond func(log string) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond(s.logText()) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the server to log %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// get fetches a path (or a full URL) from Go, outside the browser.
func (s *server) get(t *testing.T, pathOrURL string) (*http.Response, string) {
	t.Helper()
	u := pathOrURL
	if strings.HasPrefix(u, "/") {
		u = s.URL + u
	}
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// tab is one headless Chromium with one page, recording what the page logs
// and every request it makes.
type tab struct {
	ctx context.Context

	mu       sync.Mutex
	messages []consoleLine
	requests []string
}

type consoleLine struct {
	level  string // log, info, warning, error, exception, verbose, ...
	source string // for browser log entries: network, security, javascript, ...
	text   string
	url    string
}

func (l consoleLine) String() string {
	s := l.level
	if l.source != "" {
		s += "/" + l.source
	}
	s += ": " + l.text
	if l.url != "" {
		s += " (" + l.url + ")"
	}
	return s
}

// newTab starts Chromium with the flags DESIGN.md lists and a fresh profile.
func newTab(t *testing.T, width, height int) *tab {
	t.Helper()
	exe := chromiumBin(t)
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(width, height),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tb := &tab{}
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(tb.record))
	t.Cleanup(cancelTab)
	tb.ctx = tabCtx
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return tb
}

// record runs in the tab's event loop: it only appends.
func (tb *tab) record(ev any) {
	var line *consoleLine
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			var s string
			if json.Unmarshal(a.Value, &s) == nil {
				parts = append(parts, s)
			} else if len(a.Value) > 0 {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		line = &consoleLine{level: string(ev.Type), text: strings.Join(parts, " ")}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		line = &consoleLine{level: "exception", text: text, url: d.URL}
	case *log.EventEntryAdded:
		e := ev.Entry
		line = &consoleLine{level: string(e.Level), source: string(e.Source), text: e.Text, url: e.URL}
	case *network.EventRequestWillBeSent:
		tb.mu.Lock()
		tb.requests = append(tb.requests, ev.Request.Method+" "+ev.Request.URL)
		tb.mu.Unlock()
	}
	if line != nil {
		tb.mu.Lock()
		tb.messages = append(tb.messages, *line)
		tb.mu.Unlock()
	}
}

func (tb *tab) consoleLines() []consoleLine {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]consoleLine(nil), tb.messages...)
}

func (tb *tab) requestLines() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.requests...)
}

// do runs steps in the tab and fails the test on the first error.
func (tb *tab) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		t.Fatalf("%s: %v\nconsole:\n%s", what, err, joinLines(tb.consoleLines()))
	}
}

// run runs one action that returns a value.
func run[T any](t *testing.T, tb *tab, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(tb.ctx, a)
	if err != nil {
		t.Fatalf("%s: %v\nconsole:\n%s", what, err, joinLines(tb.consoleLines()))
	}
	return v
}

// eval evaluates a JavaScript expression, awaiting it when it is a promise.
func eval[T any](t *testing.T, tb *tab, expr string) T {
	t.Helper()
	return run(t, tb, "evaluate "+firstLine(expr), chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a string always marshals
	}
	return string(b)
}

func joinLines[T fmt.Stringer](ls []T) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString("  " + l.String() + "\n")
	}
	return b.String()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// navigate loads a URL and waits for its load event.
// openPage starts the server and opens its upload page in a new tab.
func openPage(t *testing.T) (*server, *tab) {
	t.Helper()
	s := startServer(t)
	tb := newTab(t, 1200, 800)
	tb.navigate(t, s.URL+"/")
	return s, tb
}

func (tb *tab) navigate(t *testing.T, url string) {
	t.Helper()
	res, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	if res.Status != http.StatusOK {
		t.Fatalf("navigate %s: status %d", url, res.Status)
	}
}

// waitFor polls a JavaScript expression until it is truthy.
func (tb *tab) waitFor(t *testing.T, what, expr string) {
	t.Helper()
	_, err := chromedp.Run(tb.ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(45*time.Second)))
	if err != nil {
		t.Fatalf("waiting for %s (%s): %v\nconsole:\n%s", what, expr, err, joinLines(tb.consoleLines()))
	}
}

// follow clicks a link and waits for the page it leads to.
func (tb *tab) follow(t *testing.T, sel chromedp.ID) {
	t.Helper()
	res, err := chromedp.RunResponse(tb.ctx, chromedp.Click(sel))
	if err != nil {
		t.Fatalf("following #%s: %v", sel, err)
	}
	if res.Status != http.StatusOK {
		t.Fatalf("following #%s to %s: status %d", sel, res.URL, res.Status)
	}
}
