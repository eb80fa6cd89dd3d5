package web_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"
	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/sqlite"
	"github.com/litepaste/litepaste/app/web"
)

func TestPutStoresTheBodyAtAnyPath(t *testing.T) {
	ts := mustServer(t)
	tests := []struct {
		desc        string
		target      string
		contentType string
		body        string
	}{
		{desc: "root", target: "/", body: "hello\n"},
		{desc: "curl -T names the file in the path", target: "/app.log", body: "line 1\nline 2\n"},
		{desc: "deep path", target: "/a/b/c/debug.txt", body: "deep"},
		{desc: "path that looks like an id", target: "/Ab3dEf9H", body: "id-shaped"},
		{desc: "html content type is stored as given", target: "/", contentType: "text/html", body: "<b>bold</b>"},
		{desc: "octet stream", target: "/", contentType: "application/octet-stream", body: "\x00\x01\x02"},
		{desc: "form content type on PUT is not parsed", target: "/", contentType: "application/x-www-form-urlencoded", body: "a=1&b=2"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			headers := header("Content-Type", tt.contentType)
			rec := ts.mustAnswer(t, req(http.MethodPut, tt.target, strings.NewReader(tt.body), headers...), http.StatusOK)
			if got, want := rec.Header().Get("Content-Type"), "application/json"; !strings.HasPrefix(got, want) {
				t.Errorf("Content-Type: got %q, want %q", got, want)
			}
			a := ts.mustPut(t, tt.target, []byte(tt.body), headers...)
			if got, want := a.URL, "http://example.com/"+a.ID; got != want {
				t.Errorf("url: got %q, want %q", got, want)
			}
			if got := string(ts.mustGet(t, a.ID)); got != tt.body {
				t.Errorf("read back: got %q, want %q", got, tt.body)
			}
		})
	}
}

func TestPutAnswerCarriesADeleteToken(t *testing.T) {
	ts := mustServer(t)
	rec := ts.do(req(http.MethodPut, "/", strings.NewReader("x")))
	a := ts.mustPut(t, "/", []byte("y"))
	if a.DeleteToken == "" {
		t.Fatal("deleteToken: got empty, want a token")
	}
	if got := rec.Header().Get("X-Delete-Token"); got == "" {
		t.Error("X-Delete-Token header: got empty, want the token")
	}
	if got, want := rec.Header().Get("Cache-Control"), "no-store"; got != want {
		t.Errorf("Cache-Control of an upload answer: got %q, want %q", got, want)
	}
	b := ts.mustPut(t, "/", []byte("y"))
	if a.ID == b.ID {
		t.Errorf("two uploads got the same id %q", a.ID)
	}
	if a.DeleteToken == b.DeleteToken {
		t.Errorf("two uploads got the same delete token")
	}
}

func TestPostMultipartPicksThePaste(t *testing.T) {
	ts := mustServer(t)
	tests := []struct {
		desc  string
		parts []part
		want  string
	}{
		{desc: "curl -F '_=<-'", parts: []part{{field: "_", content: "from stdin"}}, want: "from stdin"},
		{desc: "curl -F '_=@app.log'", parts: []part{{field: "_", filename: "app.log", content: "from a file"}}, want: "from a file"},
		{desc: "any field name", parts: []part{{field: "whatever-name", content: "named"}}, want: "named"},
		{desc: "plain field preferred over an earlier file",
			parts: []part{{field: "f", filename: "a.log", content: "file"}, {field: "t", content: "plain"}}, want: "plain"},
		{desc: "plain field preferred over a later file",
			parts: []part{{field: "t", content: "plain"}, {field: "f", filename: "a.log", content: "file"}}, want: "plain"},
		{desc: "first of several plain fields",
			parts: []part{{field: "a", content: "first"}, {field: "b", content: "second"}}, want: "first"},
		{desc: "first of several files",
			parts: []part{{field: "a", filename: "1.log", content: "first file"}, {field: "b", filename: "2.log", content: "second file"}}, want: "first file"},
		{desc: "binary in a file part",
			parts: []part{{field: "f", filename: "x.bin", content: "\x00\xff\xfe binary"}}, want: "\x00\xff\xfe binary"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			body, ctype := multipartBody(t, tt.parts...)
			rec := ts.mustAnswer(t, req(http.MethodPost, "/", body, "Content-Type", ctype), http.StatusOK)
			if got, want := rec.Header().Get("Content-Type"), "text/plain; charset=utf-8"; got != want {
				t.Errorf("Content-Type: got %q, want %q", got, want)
			}
			answer := rec.Body.String()
			if !strings.HasPrefix(answer, "http://example.com/") || !strings.HasSuffix(answer, "\n") || strings.Count(answer, "\n") != 1 {
				t.Errorf("answer: got %q, want the paste URL and one newline", answer)
			}
			if rec.Header().Get("X-Delete-Token") == "" {
				t.Error("X-Delete-Token: got empty, want the token")
			}
			if got := string(ts.mustGet(t, idFromURL(t, answer))); got != tt.want {
				t.Errorf("stored: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPostRawBodyIsAPaste(t *testing.T) {
	ts := mustServer(t)
	tests := []struct {
		desc        string
		contentType string
		body        string
	}{
		{desc: "curl --data-binary sends a form content type", contentType: "application/x-www-form-urlencoded", body: "key=value&x=%41"},
		{desc: "plain text", contentType: "text/plain", body: "plain\n"},
		{desc: "no content type", body: "bare"},
		{desc: "multipart without a boundary is raw", contentType: "multipart/form-data", body: "not a form"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			headers := header("Content-Type", tt.contentType)
			rec := ts.mustAnswer(t, req(http.MethodPost, "/", strings.NewReader(tt.body), headers...), http.StatusOK)
			if got := string(ts.mustGet(t, idFromURL(t, rec.Body.String()))); got != tt.body {
				t.Errorf("stored: got %q, want %q", got, tt.body)
			}
		})
	}
}

func TestGetReturnsExactBytes(t *testing.T) {
	ts := mustServer(t)
	all := testkit.AllBytes()
	tests := []struct {
		desc string
		body []byte
	}{
		{desc: "every byte value", body: all},
		{desc: "invalid UTF-8", body: []byte("ok \xc3\x28 \xa0\xa1 \xf0\x28\x8c\xbc end")},
		{desc: "NUL bytes", body: []byte("a\x00b\x00\x00c")},
		{desc: "CRLF kept", body: []byte("one\r\ntwo\r\n")},
		{desc: "leading and trailing space kept", body: []byte("  padded  \n\n")},
		{desc: "html is data", body: []byte("<script>alert(1)</script>")},
		{desc: "larger than one storage chunk", body: bytes.Repeat([]byte("0123456789abcdef"), (sqlite.ChunkSize+5000)/16)},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			a := ts.mustPut(t, "/", tt.body)
			if got := ts.mustGet(t, a.ID); !bytes.Equal(got, tt.body) {
				t.Errorf("got %d bytes %q…, want %d bytes %q…", len(got), head(got), len(tt.body), head(tt.body))
			}
		})
	}
}

func head(b []byte) []byte { return b[:min(len(b), 32)] }

func TestGetHeaders(t *testing.T) {
	ts := mustServer(t)
	body := []byte("<html><script>alert(1)</script></html>")
	a := ts.mustPut(t, "/", body, "Content-Type", "text/html")
	rec := ts.mustAnswer(t, req(http.MethodGet, "/"+a.ID, nil), http.StatusOK)
	h := rec.Header()
	checks := []struct {
		desc   string
		header string
		ok     func(string) bool
		want   string
	}{
		{"always plain text", "Content-Type", eq("text/plain; charset=utf-8"), "text/plain; charset=utf-8"},
		{"no sniffing", "X-Content-Type-Options", eq("nosniff"), "nosniff"},
		{"CSP sandboxes", "Content-Security-Policy", contains("sandbox"), "contains sandbox"},
		{"CSP allows nothing", "Content-Security-Policy", contains("default-src 'none'"), "contains default-src 'none'"},
		{"cacheable", "Cache-Control", contains("max-age="), "a max-age"},
		{"immutable", "Cache-Control", contains("immutable"), "immutable"},
		{"strong ETag naming the paste", "ETag", func(v string) bool {
			return strings.HasPrefix(v, `"`+a.ID+"-") && strings.HasSuffix(v, `"`)
		}, `"` + a.ID + `-…"`},
	}
	for _, c := range checks {
		if got := h.Get(c.header); !c.ok(got) {
			t.Errorf("%s: %s: got %q, want %s", c.desc, c.header, got, c.want)
		}
	}
	if got := maxAge(t, h.Get("Cache-Control")); got <= 0 || got > 3600 {
		t.Errorf("max-age: got %d, want between 1 s and an hour (a paste can still be deleted)", got)
	}
}

// TestContentLengthOnTheWire reads answers off a real connection by a client
// that asks for no compression: small bodies get their Content-Length from
// net/http, larger ones from the handler, and none is sent chunked.
func TestContentLengthOnTheWire(t *testing.T) {
	ts := mustServer(t)
	hs := httptest.NewServer(ts.h)
	t.Cleanup(hs.Close)
	for _, size := range []int{1, 1024, 2047, 2048, 2049, 4096, sqlite.ChunkSize, sqlite.ChunkSize + 5} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			body := bytes.Repeat([]byte("x"), size)
			a := ts.mustPut(t, "/", body)
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				res, got := rawGet(t, method, hs.URL+"/"+a.ID)
				if res.ContentLength != int64(size) || len(res.TransferEncoding) > 0 {
					t.Errorf("%s: Content-Length %d, Transfer-Encoding %q; want %d, none", method, res.ContentLength, res.TransferEncoding, size)
				}
				if method == http.MethodGet && !bytes.Equal(got, body) {
					t.Errorf("GET: got %d bytes, want the %d put", len(got), size)
				}
			}
		})
	}
}

func eq(want string) func(string) bool { return func(got string) bool { return got == want } }
func contains(want string) func(string) bool {
	return func(got string) bool { return strings.Contains(got, want) }
}

func maxAge(t *testing.T, cc string) int {
	t.Helper()
	for _, d := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("Cache-Control %q: bad max-age", cc)
			}
			return n
		}
	}
	t.Fatalf("Cache-Control %q has no max-age", cc)
	return 0
}

func TestConditionalGet(t *testing.T) {
	ts := mustServer(t)
	a := ts.mustPut(t, "/", []byte("cache me"))
	etag := ts.do(req(http.MethodGet, "/"+a.ID, nil)).Header().Get("ETag")
	tests := []struct {
		desc        string
		ifNoneMatch string
		wantStatus  int
		wantBody    string
	}{
		{desc: "same ETag", ifNoneMatch: etag, wantStatus: http.StatusNotModified},
		{desc: "one of several", ifNoneMatch: `"other", ` + etag, wantStatus: http.StatusNotModified},
		{desc: "wildcard", ifNoneMatch: "*", wantStatus: http.StatusNotModified},
		{desc: "another ETag", ifNoneMatch: `"0123"`, wantStatus: http.StatusOK, wantBody: "cache me"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			rec := ts.mustAnswer(t, req(http.MethodGet, "/"+a.ID, nil, "If-None-Match", tt.ifNoneMatch), tt.wantStatus)
			if got := rec.Body.String(); got != tt.wantBody {
				t.Errorf("body: got %q, want %q", got, tt.wantBody)
			}
			if got := rec.Header().Get("ETag"); got != etag {
				t.Errorf("ETag: got %q, want %q", got, etag)
			}
		})
	}
}

func TestHead(t *testing.T) {
	ts := mustServer(t)
	hs := httptest.NewServer(ts.h)
	t.Cleanup(hs.Close)
	a := ts.mustPut(t, "/", []byte("twelve bytes"))
	tests := []struct {
		desc       string
		path       string
		wantStatus int
		wantLength int64
	}{
		{desc: "paste", path: "/" + a.ID, wantStatus: http.StatusOK, wantLength: 12},
		{desc: "unknown paste", path: "/ZZZZZZZZ", wantStatus: http.StatusNotFound, wantLength: -1},
		{desc: "page", path: "/", wantStatus: http.StatusOK, wantLength: -1},
		{desc: "health", path: "/healthz", wantStatus: http.StatusOK, wantLength: 3},
		{desc: "client script", path: "/js/logpaste.js", wantStatus: http.StatusOK, wantLength: -1},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			res, err := http.Head(hs.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("got status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			// Only the HEAD answer's declared length is comparable: a
			// server never sends a HEAD body.
			if tt.wantLength >= 0 && res.ContentLength != tt.wantLength {
				t.Errorf("Content-Length: got %d, want %d", res.ContentLength, tt.wantLength)
			}
			get, err := http.Get(hs.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			get.Body.Close()
			if get.StatusCode != res.StatusCode || get.Header.Get("Content-Type") != res.Header.Get("Content-Type") {
				t.Errorf("HEAD %d %q, GET %d %q: want the same status and type",
					res.StatusCode, res.Header.Get("Content-Type"), get.StatusCode, get.Header.Get("Content-Type"))
			}
		})
	}
}

func TestUnknownAndMalformedIDsAre404(t *testing.T) {
	ts := mustServer(t)
	for _, path := range []string{
		"/ZZZZZZZZ",   // well formed, never stored
		"/abc",        // short
		"/Ab3dEf9H12", // long
		"/Ab3d-f9H",   // bad character
		"/Ab3d%20f9H", // escaped space
		"/Ab3dEf9%C3%A9",
		"/favicon.ico",
		"/robots.txt",
	} {
		t.Run(path, func(t *testing.T) {
			rec := ts.mustAnswer(t, req(http.MethodGet, path, nil), http.StatusNotFound)
			if got, want := rec.Body.String(), "paste not found\n"; got != want {
				t.Errorf("body: got %q, want %q", got, want)
			}
			if got, want := rec.Header().Get("Content-Type"), "text/plain; charset=utf-8"; got != want {
				t.Errorf("Content-Type: got %q, want %q", got, want)
			}
			if got := rec.Header().Get("Cache-Control"); strings.Contains(got, "immutable") {
				t.Errorf("Cache-Control of a 404: got %q, want nothing that caches for long", got)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	ts := mustServer(t)
	for _, path := range []string{"/", "/Ab3dEf9H", "/any/path"} {
		t.Run("preflight "+path, func(t *testing.T) {
			rec := ts.do(req(http.MethodOptions, path, nil,
				"Origin", "https://other.example",
				"Access-Control-Request-Method", "PUT",
				"Access-Control-Request-Headers", "content-type, x-delete-token"))
			if rec.Code != http.StatusNoContent && rec.Code != http.StatusOK {
				t.Fatalf("got status %d, want 204 or 200", rec.Code)
			}
			h := rec.Header()
			if got := h.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Allow-Origin: got %q, want *", got)
			}
			methods := h.Get("Access-Control-Allow-Methods")
			for _, m := range []string{"GET", "PUT", "POST", "DELETE"} {
				if !strings.Contains(methods, m) {
					t.Errorf("Allow-Methods: got %q, want it to include %s", methods, m)
				}
			}
			allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
			for _, hd := range []string{"content-type", "x-delete-token", "x-expires"} {
				if !strings.Contains(allowed, hd) {
					t.Errorf("Allow-Headers: got %q, want it to include %s", allowed, hd)
				}
			}
		})
	}
	t.Run("paste read from another origin", func(t *testing.T) {
		a := ts.mustPut(t, "/", []byte("cross-origin"))
		rec := ts.do(req(http.MethodGet, "/"+a.ID, nil, "Origin", "https://other.example"))
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("Allow-Origin: got %q, want *", got)
		}
		// A shared cache must not hand a browser an answer stored for a
		// client that sent no Origin, unless the answers are the same.
		plain := ts.do(req(http.MethodGet, "/"+a.ID, nil))
		if plain.Header().Get("Access-Control-Allow-Origin") != "*" && !varyOn(rec.Header(), "Origin") {
			t.Errorf("CORS headers depend on Origin but Vary is %q, want it to include Origin", rec.Header().Values("Vary"))
		}
	})
	t.Run("upload answer exposes the token", func(t *testing.T) {
		rec := ts.do(req(http.MethodPut, "/", strings.NewReader("x"), "Origin", "https://other.example"))
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("Allow-Origin: got %q, want *", got)
		}
		exposed := strings.ToLower(rec.Header().Get("Access-Control-Expose-Headers"))
		if !strings.Contains(exposed, "x-delete-token") {
			t.Errorf("Expose-Headers: got %q, want X-Delete-Token among them", exposed)
		}
	})
}

func varyOn(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, name) {
				return true
			}
		}
	}
	return false
}

func TestAnswerURLs(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	ts := mustServer(t, withConfig(func(c *web.Config) { c.TrustedProxies = proxies }))
	tests := []struct {
		desc    string
		remote  string
		host    string
		tls     bool
		headers []string
		want    string
	}{
		{desc: "request host", remote: "192.0.2.1:1234", host: "paste.example.org", want: "http://paste.example.org/"},
		{desc: "request host with port", remote: "192.0.2.1:1234", host: "127.0.0.1:3001", want: "http://127.0.0.1:3001/"},
		{desc: "TLS", remote: "192.0.2.1:1234", host: "paste.example.org", tls: true, want: "https://paste.example.org/"},
		{desc: "forwarded headers from an untrusted peer are ignored", remote: "192.0.2.1:1234", host: "paste.example.org",
			headers: []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.example"}, want: "http://paste.example.org/"},
		{desc: "trusted proxy's forwarded proto and host", remote: "10.1.2.3:5555", host: "backend:3001",
			headers: []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "paste.example.org"}, want: "https://paste.example.org/"},
		{desc: "trusted IPv6 proxy", remote: "[fd00::1]:5555", host: "backend:3001",
			headers: []string{"X-Forwarded-Proto", "https"}, want: "https://backend:3001/"},
		{desc: "first of a forwarded list", remote: "10.1.2.3:5555", host: "backend",
			headers: []string{"X-Forwarded-Proto", "HTTPS, http", "X-Forwarded-Host", "a.example, b.example"}, want: "https://a.example/"},
		{desc: "odd forwarded proto ignored", remote: "10.1.2.3:5555", host: "backend",
			headers: []string{"X-Forwarded-Proto", "javascript"}, want: "http://backend/"},
		{desc: "forwarded host with markup ignored", remote: "10.1.2.3:5555", host: "backend",
			headers: []string{"X-Forwarded-Host", "evil.example/<script>"}, want: "http://backend/"},
		{desc: "request host with markup replaced", remote: "192.0.2.1:1234", host: "bad host<x>", want: "http://localhost/"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r := req(http.MethodPut, "/", strings.NewReader("x"), tt.headers...)
			r.RemoteAddr = tt.remote
			r.Host = tt.host
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			rec := ts.mustAnswer(t, r, http.StatusOK)
			var a putAnswer
			mustJSON(t, rec.Body.Bytes(), &a)
			if got, want := a.URL, tt.want+a.ID; got != want {
				t.Errorf("url: got %q, want %q", got, want)
			}
		})
	}
}

func TestOversizeIs413AndNothingStored(t *testing.T) {
	const limit = 1024
	ts := mustServer(t, withConfig(func(c *web.Config) { c.MaxSize = limit }))
	big := strings.Repeat("x", limit+1)
	form, ctype := multipartBody(t, part{field: "f", filename: "big.log", content: big})
	plainForm, plainCtype := multipartBody(t, part{field: "t", content: big})
	tests := []struct {
		desc    string
		method  string
		body    func() io.Reader
		chunked bool
		headers []string
	}{
		{desc: "PUT with a length", method: http.MethodPut, body: func() io.Reader { return strings.NewReader(big) }},
		{desc: "PUT chunked", method: http.MethodPut, chunked: true, body: func() io.Reader { return strings.NewReader(big) }},
		{desc: "PUT far too large, chunked", method: http.MethodPut, chunked: true,
			body: func() io.Reader { return io.LimitReader(zeros{}, 50<<20) }},
		{desc: "POST raw", method: http.MethodPost, body: func() io.Reader { return strings.NewReader(big) }},
		{desc: "POST file part", method: http.MethodPost, headers: []string{"Content-Type", ctype},
			body: func() io.Reader { return bytes.NewReader(form.Bytes()) }},
		{desc: "POST plain part", method: http.MethodPost, headers: []string{"Content-Type", plainCtype},
			body: func() io.Reader { return bytes.NewReader(plainForm.Bytes()) }},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r := req(tt.method, "/", tt.body(), tt.headers...)
			if tt.chunked {
				r.ContentLength = -1
			}
			ts.mustRefuse(t, ts.do(r), http.StatusRequestEntityTooLarge, "paste is larger than the limit of 1 KiB")
		})
	}
	t.Run("exactly the limit is accepted", func(t *testing.T) {
		a := ts.mustPut(t, "/", []byte(big[:limit]))
		if got := len(ts.mustGet(t, a.ID)); got != limit {
			t.Errorf("got %d bytes back, want %d", got, limit)
		}
	})
}

// zeros is an endless body.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestEmptyIs400AndNothingStored(t *testing.T) {
	ts := mustServer(t)
	emptyField, ctype1 := multipartBody(t, part{field: "t", content: " \n "})
	noParts, ctype2 := multipartBody(t)
	tests := []struct {
		desc    string
		method  string
		body    string
		headers []string
	}{
		{desc: "PUT nothing", method: http.MethodPut, body: ""},
		{desc: "PUT spaces", method: http.MethodPut, body: "   "},
		{desc: "PUT whitespace of every kind", method: http.MethodPut, body: " \t\r\n\v\f \n"},
		{desc: "POST nothing", method: http.MethodPost, body: ""},
		{desc: "POST form with a blank field", method: http.MethodPost, body: emptyField.String(), headers: []string{"Content-Type", ctype1}},
		{desc: "POST form without parts", method: http.MethodPost, body: noParts.String(), headers: []string{"Content-Type", ctype2}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ts.mustRefuse(t, ts.do(req(tt.method, "/", strings.NewReader(tt.body), tt.headers...)), http.StatusBadRequest, "paste is empty")
		})
	}
}

func TestMalformedUploadsAre400(t *testing.T) {
	ts := mustServer(t)
	tests := []struct {
		desc          string
		method        string
		body          string
		contentLength int64
		headers       []string
	}{
		{desc: "body longer than its Content-Length", method: http.MethodPut, body: "0123456789", contentLength: 4},
		{desc: "body shorter than its Content-Length", method: http.MethodPut, body: "0123", contentLength: 10},
		{desc: "form cut off", method: http.MethodPost, body: "--XYZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhalf",
			contentLength: -1, headers: []string{"Content-Type", "multipart/form-data; boundary=XYZ"}},
		{desc: "form without its boundary", method: http.MethodPost, body: "just text",
			contentLength: -1, headers: []string{"Content-Type", "multipart/form-data; boundary=XYZ"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r := req(tt.method, "/", strings.NewReader(tt.body), tt.headers...)
			r.ContentLength = tt.contentLength
			ts.mustRefuse(t, ts.do(r), http.StatusBadRequest, "")
		})
	}
}

func TestHealthz(t *testing.T) {
	ts := mustServer(t)
	rec := ts.do(req(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "ok\n" {
		t.Errorf("got %d %q, want 200 %q", rec.Code, rec.Body.String(), "ok\n")
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", got)
	}
}

func TestReadyz(t *testing.T) {
	t.Run("writable database", func(t *testing.T) {
		ts := mustServer(t)
		rec := ts.do(req(http.MethodGet, "/readyz", nil))
		if rec.Code != http.StatusOK || rec.Body.String() != "ready\n" {
			t.Errorf("got %d %q, want 200 %q", rec.Code, rec.Body.String(), "ready\n")
		}
	})
	t.Run("database the server cannot write", func(t *testing.T) {
		path := readOnlyDatabase(t)
		ts := mustServer(t, withDBPath(path))
		rec := ts.mustAnswer(t, req(http.MethodGet, "/readyz", nil), http.StatusServiceUnavailable)
		if got, want := rec.Body.String(), "not ready: storage is unavailable, try again later\n"; got != want {
			t.Errorf("body: got %q, want %q", got, want)
		}
		if !strings.Contains(ts.logs.String(), "readonly") {
			t.Errorf("log: got %q, want the database's own reason", ts.logs.String())
		}
		// The same database still serves what it holds.
		if rec := ts.do(req(http.MethodPut, "/", strings.NewReader("x"))); rec.Code != http.StatusServiceUnavailable {
			t.Errorf("upload: got status %d (%q), want 503", rec.Code, rec.Body.String())
		}
	})
	t.Run("closed database", func(t *testing.T) {
		ts := mustServer(t)
		st, err := sqlite.Open(context.Background(), ts.dbPath)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := web.New(defaultConfig(), st, time.Now, io.Discard, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		rec := httptestDo(srv.Handler(), req(http.MethodGet, "/readyz", nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("got status %d, want 503", rec.Code)
		}
		if got, want := rec.Body.String(), "not ready: database unavailable\n"; got != want {
			t.Errorf("body: got %q, want %q", got, want)
		}
	})
}

// faultyStore is the real store with one fault put in front of it.
type faultyStore struct {
	*sqlite.Store
	getErr   error
	getPanic bool
}

func (f faultyStore) Lookup(ctx context.Context, id paste.ID, now time.Time) (paste.Paste, io.ReadSeeker, error) {
	if f.getPanic {
		panic("store exploded")
	}
	if f.getErr != nil {
		return paste.Paste{}, nil, f.getErr
	}
	return f.Store.Lookup(ctx, id, now)
}

func TestInternalErrorsHideTheirDetail(t *testing.T) {
	secret := errors.New("disk I/O error at /var/secret/path")
	tests := []struct {
		desc  string
		store func(*sqlite.Store) web.Store
	}{
		{desc: "error", store: func(s *sqlite.Store) web.Store { return faultyStore{Store: s, getErr: secret} }},
		{desc: "panic", store: func(s *sqlite.Store) web.Store { return faultyStore{Store: s, getPanic: true} }},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ts := mustServer(t, withStoreWrapper(tt.store))
			rec := ts.mustAnswer(t, req(http.MethodGet, "/Ab3dEf9H", nil), http.StatusInternalServerError)
			if got, want := rec.Body.String(), "internal error\n"; got != want {
				t.Errorf("body: got %q, want %q", got, want)
			}
			logs := ts.logs.String()
			if !strings.Contains(logs, `"level":"ERROR"`) {
				t.Errorf("log: got %q, want the failure logged as an error", logs)
			}
			// The server keeps serving.
			if rec := ts.do(req(http.MethodGet, "/healthz", nil)); rec.Code != http.StatusOK {
				t.Errorf("healthz after the failure: got %d, want 200", rec.Code)
			}
		})
	}
}

func TestLogsNeverHoldPasteContents(t *testing.T) {
	ts := mustServer(t)
	const secret = "password=hunter2-do-not-log"
	a := ts.mustPut(t, "/upload.log", []byte(secret))
	ts.mustGet(t, a.ID)
	body, ctype := multipartBody(t, part{field: "t", content: secret})
	ts.do(req(http.MethodPost, "/", body, "Content-Type", ctype))
	logs := ts.logs.String()
	if strings.Contains(logs, "hunter2") {
		t.Errorf("logs hold a paste's contents: %s", logs)
	}
	if strings.Contains(logs, a.DeleteToken) {
		t.Errorf("logs hold a delete token: %s", logs)
	}
	for _, field := range []string{`"method":"PUT"`, `"path":"/upload.log"`, `"status":200`, `"bytes":`, `"duration":`, `"client":"192.0.2.1"`} {
		if !strings.Contains(logs, field) {
			t.Errorf("request log lacks %s: %s", field, logs)
		}
	}
}

func TestUploadsBeyondTheMemoryBudgetGet503(t *testing.T) {
	const limit = 1024
	ts := mustServer(t, withConfig(func(c *web.Config) { c.MaxSize = limit; c.UploadMemory = limit }))
	ts.srv.SetBusyWait(50 * time.Millisecond)

	// The first upload holds the whole budget while its body trickles in.
	pr, pw := io.Pipe()
	first := req(http.MethodPut, "/", pr)
	first.ContentLength = limit
	done := make(chan int)
	go func() { done <- ts.do(first).Code }()
	if _, err := pw.Write([]byte("x")); err != nil { // returns once the handler reads
		t.Fatal(err)
	}

	rec := ts.do(req(http.MethodPut, "/", strings.NewReader("second")))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("second upload: got status %d (%q), want 503", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("Retry-After"); got == "" {
		t.Error("Retry-After: got empty, want a delay")
	}

	if _, err := pw.Write(bytes.Repeat([]byte("y"), limit-1)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-done; code != http.StatusOK {
		t.Errorf("first upload: got status %d, want 200", code)
	}
	ts.mustPut(t, "/", []byte("third, after the budget is free"))
}
