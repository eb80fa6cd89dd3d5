package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"

	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/sqlite"
	"github.com/litepaste/litepaste/app/web"
)

// clock is the injected time source: tests move it by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testServer is the real server on a real SQLite file in a temp dir.
type testServer struct {
	t      *testing.T
	srv    *web.Server
	h      http.Handler
	store  *sqlite.Store
	clock  *clock
	logs   *testkit.SyncBuffer
	dbPath string
}

type option func(*serverSetup)

type serverSetup struct {
	cfg  web.Config
	obs  web.Observer
	wrap func(*sqlite.Store) web.Store
	path string
}

func withConfig(f func(*web.Config)) option { return func(s *serverSetup) { f(&s.cfg) } }
func withObserver(o web.Observer) option    { return func(s *serverSetup) { s.obs = o } }

// withStoreWrapper lets a test put faults in front of the real store.
func withStoreWrapper(w func(*sqlite.Store) web.Store) option {
	return func(s *serverSetup) { s.wrap = w }
}

// withDBPath puts the database somewhere other than a fresh temp dir.
func withDBPath(p string) option { return func(s *serverSetup) { s.path = p } }

func defaultConfig() web.Config {
	return web.Config{
		Title:    "litepaste",
		Subtitle: "A minimalist paste service",
		ShowDocs: true,
		MaxSize:  2 << 20,
	}
}

// mustServer builds the server around a fresh SQLite file, closed at cleanup.
func mustServer(t testing.TB, opts ...option) *testServer {
	t.Helper()
	setup := serverSetup{cfg: defaultConfig()}
	for _, o := range opts {
		o(&setup)
	}
	if setup.path == "" {
		setup.path = filepath.Join(t.TempDir(), "data", "litepaste.db")
	}
	st := mustStore(t, setup.path)
	var store web.Store = st
	if setup.wrap != nil {
		store = setup.wrap(st)
	}
	clk := newClock()
	logs := &testkit.SyncBuffer{}
	srv, err := web.New(setup.cfg, store, clk.Now, logs, setup.obs)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	ts := &testServer{srv: srv, h: srv.Handler(), store: st, clock: clk, logs: logs, dbPath: setup.path}
	if tt, ok := t.(*testing.T); ok {
		ts.t = tt
	}
	return ts
}

func mustStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("sqlite.Open(%q): %v", path, err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st
}

// do sends req through the real router.
func (ts *testServer) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	return rec
}

// mustAnswer sends r through the real router and stops the test unless the
// answer has status code.
func (ts *testServer) mustAnswer(t testing.TB, r *http.Request, code int) *httptest.ResponseRecorder {
	t.Helper()
	rec := ts.do(r)
	if rec.Code != code {
		body := rec.Body.Bytes()
		t.Fatalf("%s %s: got status %d (%q), want %d", r.Method, r.URL.RequestURI(), rec.Code, body[:min(len(body), 200)], code)
	}
	return rec
}

// req builds a request; headers come in name, value pairs.
func req(method, target string, body io.Reader, headers ...string) *http.Request {
	r := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

// header is the name, value pair for req, or nothing for an empty value: a
// request without the header, not one with it empty.
func header(name, value string) []string {
	if value == "" {
		return nil
	}
	return []string{name, value}
}

func (ts *testServer) pasteCount(t testing.TB) int64 {
	t.Helper()
	st, err := ts.store.Stats(context.Background())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st.Pastes
}

type putAnswer struct {
	ID          string `json:"id"`
	URL         string `json:"url"`
	DeleteToken string `json:"deleteToken"`
	Expires     string `json:"expires"`
}

// mustPut uploads body with PUT and returns the decoded answer.
func (ts *testServer) mustPut(t testing.TB, target string, body []byte, headers ...string) putAnswer {
	t.Helper()
	rec := ts.mustAnswer(t, req(http.MethodPut, target, bytes.NewReader(body), headers...), http.StatusOK)
	var a putAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("PUT %s: answer %q is not JSON: %v", target, rec.Body.String(), err)
	}
	if _, err := paste.ParseID(a.ID); err != nil {
		t.Fatalf("PUT %s: id %q: %v", target, a.ID, err)
	}
	return a
}

// mustGet reads a paste back and fails unless it is served.
func (ts *testServer) mustGet(t testing.TB, id string) []byte {
	t.Helper()
	return ts.mustAnswer(t, req(http.MethodGet, "/"+id, nil), http.StatusOK).Body.Bytes()
}

// mustRefuse fails unless rec answers code with the one-line message msg
// ("" for any) and no paste was stored.
func (ts *testServer) mustRefuse(t *testing.T, rec *httptest.ResponseRecorder, code int, msg string) {
	t.Helper()
	if rec.Code != code {
		t.Fatalf("got status %d (%q), want %d", rec.Code, rec.Body.String(), code)
	}
	if got := rec.Body.String(); msg != "" && got != msg+"\n" {
		t.Errorf("body: got %q, want %q", got, msg+"\n")
	}
	if n := ts.pasteCount(t); n != 0 {
		t.Errorf("pastes stored: got %d, want 0", n)
	}
}

// part is one multipart form part; a file part has a file name.
type part struct {
	field, filename, content string
}

func multipartBody(t testing.TB, parts ...part) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			w, err = mw.CreateFormFile(p.field, p.filename)
		} else {
			w, err = mw.CreateFormField(p.field)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, p.content); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

// idFromURL takes the id out of a paste URL answered by the server.
func idFromURL(t testing.TB, u string) string {
	t.Helper()
	u = strings.TrimSpace(u)
	i := strings.LastIndexByte(u, '/')
	if i < 0 {
		t.Fatalf("URL %q has no path", u)
	}
	id := u[i+1:]
	if _, err := paste.ParseID(id); err != nil {
		t.Fatalf("URL %q: id %q: %v", u, id, err)
	}
	return id
}

func mustJSON(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("answer %q is not JSON: %v", data, err)
	}
}

func httptestDo(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// readOnlyDatabase makes a migrated database file that this process cannot
// write: mode 0444 for an ordinary user; for root, who ignores modes, the
// file system's immutable attribute.
func readOnlyDatabase(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ro.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(path, 0o444); err != nil {
			t.Fatal(err)
		}
		return path
	}
	testkit.ReadOnlyFile(t, path)
	return path
}
