package web_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
	"testing"
)

// BenchmarkGetCachedPaste is a GET of a cached 1 KiB paste through the real
// server (net/http, Echo, middleware, request log, gzip negotiation,
// ServeContent) on loopback, from a client that writes the same request
// bytes each time and reads the answer into one buffer, so that allocs/op
// is what the server spends:
//
//	go test ./app/web -run '^$' -bench GetCachedPaste -benchmem
func BenchmarkGetCachedPaste(b *testing.B) {
	ts := mustServer(b)
	a := ts.mustPut(b, "/", bytes.Repeat([]byte("0123456789abcdef"), 64))
	ts.mustGet(b, a.ID)
	etag := ts.do(req(http.MethodGet, "/"+a.ID, nil)).Header().Get("ETag")
	srv := httptest.NewServer(ts.h)
	b.Cleanup(srv.Close)
	for _, bc := range []struct {
		desc    string
		method  string
		headers string
		want    int
	}{
		{"plain", http.MethodGet, "", http.StatusOK},
		{"gzip", http.MethodGet, "Accept-Encoding: gzip\r\n", http.StatusOK},
		{"range", http.MethodGet, "Range: bytes=0-9\r\n", http.StatusPartialContent},
		{"if-none-match", http.MethodGet, "If-None-Match: " + etag + "\r\n", http.StatusNotModified},
		{"head", http.MethodHead, "", http.StatusOK},
		{"cors", http.MethodGet, "Origin: https://example.com\r\n", http.StatusOK},
	} {
		b.Run(bc.desc, func(b *testing.B) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			request := []byte(fmt.Sprintf("%s /%s HTTP/1.1\r\nHost: bench\r\n%s\r\n", bc.method, a.ID, bc.headers))
			// The first answer, parsed, gives the length of every answer:
			// the same headers (a Date of fixed width) and body each time.
			if _, err := conn.Write(request); err != nil {
				b.Fatal(err)
			}
			n := answerLength(b, conn, bc.method, bc.want)
			buf := make([]byte, n)
			ts.logs.Reset()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := conn.Write(request); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(conn, buf); err != nil {
					b.Fatal(err)
				}
				ts.logs.Reset()
			}
			if !bytes.HasPrefix(buf, []byte("HTTP/1.1 "+strconv.Itoa(bc.want)+" ")) {
				b.Fatalf("answer: got %q, want status %d", buf, bc.want)
			}
		})
	}
}

// answerLength reads one answer off conn and returns its length in bytes.
func answerLength(b *testing.B, conn net.Conn, method string, want int) int {
	b.Helper()
	var raw bytes.Buffer
	r := bufio.NewReader(io.TeeReader(conn, &raw))
	tp := textproto.NewReader(r)
	status, err := tp.ReadLine()
	if err != nil {
		b.Fatal(err)
	}
	if !bytes.HasPrefix([]byte(status), []byte("HTTP/1.1 "+strconv.Itoa(want)+" ")) {
		b.Fatalf("status line %q, want %d", status, want)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		b.Fatal(err)
	}
	if cl := h.Get("Content-Length"); cl != "" && method != http.MethodHead {
		size, err := strconv.Atoi(cl)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyN(io.Discard, r, int64(size)); err != nil {
			b.Fatal(err)
		}
	} else if h.Get("Transfer-Encoding") != "" {
		b.Fatalf("chunked answer %v: its length would vary", h)
	}
	if r.Buffered() != 0 {
		b.Fatalf("%d bytes after the answer", r.Buffered())
	}
	return raw.Len()
}
