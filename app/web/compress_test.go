package web_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"
	"github.com/litepaste/litepaste/app/sqlite"
	"github.com/litepaste/litepaste/app/web"
)

// logLines is a compressible paste of about n bytes, larger than one storage
// chunk when asked.
func logLines(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "2026-11-30T14:03:%02d.%03dZ INFO http request done path=/api/v1/items/%d status=200\n", i%60, i%1000, i*7919%10007)
	}
	return b.Bytes()[:n]
}

// rawDo sends a request on a real connection without the client's own
// decoding, so the answer is seen as it went over the wire; the caller
// closes its body.
func rawDo(t *testing.T, method, url string, headers ...string) *http.Response {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(hc.CloseIdleConnections)
	res, err := hc.Do(testkit.NewRequest(t, method, url, nil, headers...))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// rawGet is rawDo with the whole answer read.
func rawGet(t *testing.T, method, url string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	res := rawDo(t, method, url, headers...)
	return res, testkit.ReadBody(t, res)
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("bad gzip stream: %v", err)
	}
	return out
}

func TestPastesGoGzipEncodedToClientsThatAskForIt(t *testing.T) {
	ts := mustServer(t, withConfig(func(c *web.Config) { c.MaxSize = 4 << 20 }))
	hs := httptest.NewServer(ts.h)
	t.Cleanup(hs.Close)
	tests := []struct {
		desc     string
		size     int
		accept   string
		wantGzip bool
	}{
		{desc: "small paste stays plain", size: 1000, accept: "gzip", wantGzip: false},
		{desc: "paste of a few KiB", size: 5000, accept: "gzip", wantGzip: true},
		{desc: "browser's list", size: 5000, accept: "gzip, deflate, br, zstd", wantGzip: true},
		{desc: "log of several storage chunks", size: 2*sqlite.ChunkSize + 12345, accept: "gzip", wantGzip: true},
		{desc: "no Accept-Encoding", size: 5000, accept: "", wantGzip: false},
		{desc: "identity only", size: 5000, accept: "identity", wantGzip: false},
		{desc: "gzip refused", size: 5000, accept: "gzip;q=0", wantGzip: false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			body := logLines(tt.size)
			a := ts.mustPut(t, "/", body)
			plainTag := ts.do(req(http.MethodGet, "/"+a.ID, nil)).Header().Get("ETag")
			res, got := rawGet(t, http.MethodGet, hs.URL+"/"+a.ID, "Accept-Encoding", tt.accept)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("got status %d, want 200", res.StatusCode)
			}
			if !varyOn(res.Header, "Accept-Encoding") || !varyOn(res.Header, "Origin") {
				t.Errorf("Vary: got %q, want Origin and Accept-Encoding", res.Header.Values("Vary"))
			}
			if ct := res.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type: got %q, want text/plain; charset=utf-8", ct)
			}
			wantTag := plainTag
			if tt.wantGzip {
				wantTag = strings.TrimSuffix(plainTag, `"`) + `-gzip"`
				if ce := res.Header.Get("Content-Encoding"); ce != "gzip" {
					t.Fatalf("Content-Encoding: got %q, want gzip", ce)
				}
				if len(got) >= len(body)/3 {
					t.Errorf("%d bytes on the wire for %d: want a third or less", len(got), len(body))
				}
				got = gunzip(t, got)
			} else if ce := res.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("Content-Encoding: got %q, want none", ce)
			}
			if tag := res.Header.Get("ETag"); tag != wantTag {
				t.Errorf("ETag: got %q, want %q", tag, wantTag)
			}
			if !bytes.Equal(got, body) {
				t.Errorf("decoded: got %d bytes %q…, want the %d put", len(got), head(got), len(body))
			}
		})
	}
}

// TestConditionalGetPerEncoding: each encoding's ETag revalidates, and the
// 304 carries the tag the client holds.
func TestConditionalGetPerEncoding(t *testing.T) {
	ts := mustServer(t)
	hs := httptest.NewServer(ts.h)
	t.Cleanup(hs.Close)
	a := ts.mustPut(t, "/", logLines(8000))
	plain, _ := rawGet(t, http.MethodGet, hs.URL+"/"+a.ID)
	gz, _ := rawGet(t, http.MethodGet, hs.URL+"/"+a.ID, "Accept-Encoding", "gzip")
	plainTag, gzTag := plain.Header.Get("ETag"), gz.Header.Get("ETag")
	if plainTag == gzTag || plainTag == "" || gzTag == "" {
		t.Fatalf("ETags plain %q, gzip %q: want two different tags", plainTag, gzTag)
	}
	for _, tt := range []struct {
		desc, accept, tag string
	}{
		{"gzip client, gzip tag", "gzip", gzTag},
		{"gzip client, plain tag", "gzip", plainTag},
		{"plain client, plain tag", "", plainTag},
		{"plain client, gzip tag", "", gzTag},
		{"weak gzip tag", "gzip", "W/" + gzTag},
	} {
		t.Run(tt.desc, func(t *testing.T) {
			res, body := rawGet(t, http.MethodGet, hs.URL+"/"+a.ID, "Accept-Encoding", tt.accept, "If-None-Match", tt.tag)
			if res.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Fatalf("got status %d with %d bytes, want 304 and none", res.StatusCode, len(body))
			}
			if got := res.Header.Get("ETag"); got != strings.TrimPrefix(tt.tag, "W/") {
				t.Errorf("ETag: got %q, want %q", got, strings.TrimPrefix(tt.tag, "W/"))
			}
		})
	}
	other := strings.TrimSuffix(plainTag, `"`) + `-zstd"`
	if res, _ := rawGet(t, http.MethodGet, hs.URL+"/"+a.ID, "Accept-Encoding", "gzip", "If-None-Match", other); res.StatusCode != http.StatusOK {
		t.Errorf("If-None-Match %q: got status %d, want 200", other, res.StatusCode)
	}
}

// TestHeadDescribesThePlainPaste: gzhttp never encodes a HEAD answer (some
// proxies mishandle that), so HEAD gives, whatever the client accepts, what
// a plain GET gets: the length and tag Range requests will address.
func TestHeadDescribesThePlainPaste(t *testing.T) {
	ts := mustServer(t)
	hs := httptest.NewServer(ts.h)
	t.Cleanup(hs.Close)
	for _, size := range []int{100, 8000, sqlite.ChunkSize + 5} {
		a := ts.mustPut(t, "/", logLines(size))
		get, _ := rawGet(t, http.MethodGet, hs.URL+"/"+a.ID)
		for _, accept := range []string{"", "gzip"} {
			t.Run(fmt.Sprintf("%d bytes, Accept-Encoding %q", size, accept), func(t *testing.T) {
				hd, body := rawGet(t, http.MethodHead, hs.URL+"/"+a.ID, "Accept-Encoding", accept)
				if len(body) != 0 || hd.StatusCode != http.StatusOK {
					t.Fatalf("HEAD: status %d with %d bytes, want 200 and none", hd.StatusCode, len(body))
				}
				for _, name := range []string{"Content-Encoding", "ETag", "Content-Type", "Vary", "Cache-Control"} {
					if g, h := strings.Join(get.Header.Values(name), ", "), strings.Join(hd.Header.Values(name), ", "); g != h {
						t.Errorf("%s: plain GET %q, HEAD %q", name, g, h)
					}
				}
				if hd.ContentLength != int64(size) {
					t.Errorf("HEAD: Content-Length %d, want %d", hd.ContentLength, size)
				}
			})
		}
	}
}

// TestPartialContentIsNeverEncoded pins what Range requests will rely on: an
// answer with a Content-Range passes the wrapper byte for byte.
func TestPartialContentIsNeverEncoded(t *testing.T) {
	wrap, err := web.NewGzip()
	if err != nil {
		t.Fatal(err)
	}
	body := logLines(8000)
	h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req(http.MethodGet, "/x", nil, "Accept-Encoding", "gzip", "Range", "bytes=100-4099"))
	if rec.Code != http.StatusPartialContent || rec.Header().Get("Content-Encoding") != "" {
		t.Fatalf("got status %d, Content-Encoding %q; want 206 and none", rec.Code, rec.Header().Get("Content-Encoding"))
	}
	if !bytes.Equal(rec.Body.Bytes(), body[100:4100]) {
		t.Errorf("got %d bytes, want bytes 100-4099 of the body", rec.Body.Len())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req(http.MethodGet, "/x", nil, "Accept-Encoding", "gzip"))
	if rec.Header().Get("Content-Encoding") != "gzip" || !bytes.Equal(gunzip(t, rec.Body.Bytes()), body) {
		t.Errorf("whole answer: Content-Encoding %q, want gzip and the body", rec.Header().Get("Content-Encoding"))
	}
}
