package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/sqlite"
	"github.com/litepaste/litepaste/app/web"
)

// TestPastesAnswerRangeRequests pins what http.ServeContent gives pastes,
// small (served from memory) and several chunks long (read by chunk),
// through the real router.
func TestPastesAnswerRangeRequests(t *testing.T) {
	ts := mustServer(t, withConfig(func(c *web.Config) { c.MaxSize = 4 << 20 }))
	for _, size := range []int{100, 2*sqlite.ChunkSize + 12345} {
		body := logLines(size)
		a := ts.mustPut(t, "/", body)
		tag := ts.do(req(http.MethodGet, "/"+a.ID, nil)).Header().Get("ETag")
		n := strconv.Itoa(size)
		mid := size/2 - 3
		tests := []struct {
			desc       string
			method     string
			headers    []string
			wantCode   int
			wantBody   []byte
			wantRange  string
			wantLength string
		}{
			{desc: "first ten bytes", headers: []string{"Range", "bytes=0-9"},
				wantCode: 206, wantBody: body[:10], wantRange: "bytes 0-9/" + n, wantLength: "10"},
			{desc: "across the middle", headers: []string{"Range", "bytes=" + strconv.Itoa(mid) + "-" + strconv.Itoa(mid+5)},
				wantCode: 206, wantBody: body[mid : mid+6], wantRange: "bytes " + strconv.Itoa(mid) + "-" + strconv.Itoa(mid+5) + "/" + n},
			{desc: "suffix", headers: []string{"Range", "bytes=-7"},
				wantCode: 206, wantBody: body[size-7:], wantRange: "bytes " + strconv.Itoa(size-7) + "-" + strconv.Itoa(size-1) + "/" + n},
			{desc: "open-ended resume", headers: []string{"Range", "bytes=" + strconv.Itoa(size-20) + "-"},
				wantCode: 206, wantBody: body[size-20:], wantRange: "bytes " + strconv.Itoa(size-20) + "-" + strconv.Itoa(size-1) + "/" + n},
			{desc: "unsatisfiable", headers: []string{"Range", "bytes=" + n + "-"},
				wantCode: 416, wantRange: "bytes */" + n},
			{desc: "If-Range matching the ETag", headers: []string{"Range", "bytes=0-9", "If-Range", tag},
				wantCode: 206, wantBody: body[:10], wantRange: "bytes 0-9/" + n},
			{desc: "If-Range not matching: the whole paste", headers: []string{"Range", "bytes=0-9", "If-Range", `"other"`},
				wantCode: 200, wantBody: body, wantLength: n},
			{desc: "HEAD", method: http.MethodHead,
				wantCode: 200, wantBody: []byte{}, wantLength: n},
			{desc: "HEAD with a range", method: http.MethodHead, headers: []string{"Range", "bytes=0-9"},
				wantCode: 206, wantBody: []byte{}, wantRange: "bytes 0-9/" + n, wantLength: "10"},
		}
		for _, tt := range tests {
			t.Run(n+" bytes/"+tt.desc, func(t *testing.T) {
				method := tt.method
				if method == "" {
					method = http.MethodGet
				}
				rec := ts.mustAnswer(t, req(method, "/"+a.ID, nil, tt.headers...), tt.wantCode)
				h := rec.Header()
				if got := h.Get("Content-Range"); got != tt.wantRange {
					t.Errorf("Content-Range: got %q, want %q", got, tt.wantRange)
				}
				if tt.wantLength != "" && h.Get("Content-Length") != tt.wantLength {
					t.Errorf("Content-Length: got %q, want %q", h.Get("Content-Length"), tt.wantLength)
				}
				if tt.wantBody != nil && !bytes.Equal(rec.Body.Bytes(), tt.wantBody) {
					t.Errorf("body: got %d bytes %q…, want %d", rec.Body.Len(), head(rec.Body.Bytes()), len(tt.wantBody))
				}
				if tt.wantCode == 416 {
					return
				}
				for name, want := range map[string]string{
					"Content-Type":           "text/plain; charset=utf-8",
					"X-Content-Type-Options": "nosniff",
					"Cache-Control":          "public, max-age=3600, immutable",
					"ETag":                   tag,
					"Accept-Ranges":          "bytes",
				} {
					if got := h.Get(name); got != want {
						t.Errorf("%s: got %q, want %q", name, got, want)
					}
				}
				if h.Get("Content-Security-Policy") == "" {
					t.Error("Content-Security-Policy: got none, want the sandbox")
				}
			})
		}
	}
}

// TestRangeOverARealConnection: a client that accepts gzip still gets the
// bytes it asked for, plain (a range of the gzip stream would be useless),
// and a download cut short resumes where it stopped, as `curl -C -` does.
func TestRangeOverARealConnection(t *testing.T) {
	ts := mustServer(t, withConfig(func(c *web.Config) { c.MaxSize = 4 << 20 }))
	hs := httptest.NewServer(ts.h)
	t.Cleanup(hs.Close)
	body := logLines(3*sqlite.ChunkSize + 999)
	a := ts.mustPut(t, "/", body)
	url := hs.URL + "/" + a.ID

	res, got := rawGet(t, http.MethodGet, url, "Range", "bytes=0-9", "Accept-Encoding", "gzip")
	if res.StatusCode != http.StatusPartialContent || !bytes.Equal(got, body[:10]) {
		t.Errorf("Range 0-9: got %d %q, want 206 %q", res.StatusCode, got, body[:10])
	}
	if ce := res.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("Content-Encoding of a 206: got %q, want none", ce)
	}
	if !varyOn(res.Header, "Accept-Encoding") {
		t.Errorf("Vary: got %q, want Accept-Encoding", res.Header.Values("Vary"))
	}

	// Several ranges, together past gzip's minimum size: still plain bytes.
	res, got = rawGet(t, http.MethodGet, url, "Range", "bytes=0-4999,20000-29999", "Accept-Encoding", "gzip")
	if res.StatusCode != http.StatusPartialContent || res.Header.Get("Content-Encoding") != "" {
		t.Errorf("two ranges: got %d, Content-Encoding %q; want 206 plain", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	if !bytes.Contains(got, body[20000:30000]) || !strings.HasPrefix(res.Header.Get("Content-Type"), "multipart/byteranges") {
		t.Errorf("two ranges: got %s of %d bytes, want multipart/byteranges with both ranges", res.Header.Get("Content-Type"), len(got))
	}

	// The first download, without compression as curl makes it, stops
	// partway through the second chunk.
	first := rawDo(t, http.MethodGet, url)
	tag := first.Header.Get("ETag")
	cut := sqlite.ChunkSize + 4321
	part := make([]byte, cut)
	if _, err := io.ReadFull(first.Body, part); err != nil {
		t.Fatal(err)
	}
	first.Body.Close()

	res, rest := rawGet(t, http.MethodGet, url, "Range", "bytes="+strconv.Itoa(cut)+"-", "If-Range", tag)
	if res.StatusCode != http.StatusPartialContent {
		t.Fatalf("resume: got status %d, want 206", res.StatusCode)
	}
	if whole := append(part, rest...); !bytes.Equal(whole, body) {
		t.Errorf("resumed download: got %d bytes, want the %d put, unchanged", len(whole), len(body))
	}
}

// cutStore serves every paste through a reader that fails after half of it,
// as a read of a paste deleted mid-download does.
type cutStore struct{ *sqlite.Store }

func (s cutStore) Lookup(ctx context.Context, id paste.ID, now time.Time) (paste.Paste, io.ReadSeeker, error) {
	p, r, err := s.Store.Lookup(ctx, id, now)
	if err != nil {
		return p, nil, err
	}
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return p, nil, err
	}
	return p, &failingReader{ReadSeeker: r, failAt: size / 2}, nil
}

type failingReader struct {
	io.ReadSeeker
	off, failAt int64
}

func (r *failingReader) Read(b []byte) (int, error) {
	if r.off >= r.failAt {
		return 0, errors.New("chunk missing")
	}
	n, err := r.ReadSeeker.Read(b[:min(int64(len(b)), r.failAt-r.off)])
	r.off += int64(n)
	return n, err
}

func (r *failingReader) Seek(offset int64, whence int) (int64, error) {
	off, err := r.ReadSeeker.Seek(offset, whence)
	r.off = off
	return off, err
}

// TestAPasteCutShortNeverLooksWhole: a read failing after the status went
// out cuts the connection, plain or gzip-encoded, so the client sees an
// error instead of a shorter body that ends cleanly.
func TestAPasteCutShortNeverLooksWhole(t *testing.T) {
	ts := mustServer(t, withConfig(func(c *web.Config) { c.MaxSize = 4 << 20 }),
		withStoreWrapper(func(s *sqlite.Store) web.Store { return cutStore{s} }))
	hs := httptest.NewServer(ts.h)
	t.Cleanup(hs.Close)
	a := ts.mustPut(t, "/", logLines(2*sqlite.ChunkSize))
	for _, accept := range []string{"", "gzip"} {
		t.Run("Accept-Encoding "+accept, func(t *testing.T) {
			res := rawDo(t, http.MethodGet, hs.URL+"/"+a.ID, header("Accept-Encoding", accept)...)
			defer res.Body.Close()
			var src io.Reader = res.Body
			if res.Header.Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				src = zr
			}
			if got, err := io.ReadAll(src); err == nil {
				t.Errorf("read %d bytes and no error, want the connection cut", len(got))
			}
		})
	}
}
