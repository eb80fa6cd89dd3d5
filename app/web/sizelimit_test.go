package web_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"
	"github.com/litepaste/litepaste/app/web"
)

// countingListener hands out connections that count the bytes the server
// reads from them, and say when the server is done with them.
type countingListener struct {
	net.Listener
	read  atomic.Int64
	mu    sync.Mutex
	conns []*countingConn
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &countingConn{Conn: c, read: &l.read}
	l.mu.Lock()
	l.conns = append(l.conns, cc)
	l.mu.Unlock()
	return cc, nil
}

// allDone says whether the server closed, or hit the end of, every
// connection it accepted.
func (l *countingListener) allDone() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		if !c.done.Load() {
			return false
		}
	}
	return len(l.conns) > 0
}

type countingConn struct {
	net.Conn
	read *atomic.Int64
	done atomic.Bool
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	if err != nil {
		c.done.Store(true)
	}
	return n, err
}

func (c *countingConn) Close() error {
	c.done.Store(true)
	return c.Conn.Close()
}

// A body past the size limit is answered 413 without being read much past
// the limit, whether its length is announced or it comes chunked: a server
// that took in a whole 50 MiB body before refusing it would pass every other
// test. The bytes are counted on the server's side of a real connection.
func TestNothingIsReadPastTheSizeLimit(t *testing.T) {
	const (
		limit = 1 << 20
		sent  = 50 << 20
		// What the server may read beyond the limit: its read-ahead and
		// buffers before it answers, and up to 256 KiB that net/http drains
		// after the answer to keep the connection.
		slack = 640 << 10
	)
	const boundary = "b0undary"
	multipartHead := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n"
	tests := []struct {
		desc        string
		method      string
		contentType string
		head        string // body bytes before the filler
		chunked     bool
	}{
		{desc: "PUT, length announced", method: http.MethodPut, contentType: "text/plain"},
		{desc: "PUT, chunked", method: http.MethodPut, contentType: "text/plain", chunked: true},
		{desc: "POST multipart, length announced", method: http.MethodPost, contentType: "multipart/form-data; boundary=" + boundary, head: multipartHead},
		{desc: "POST multipart, chunked", method: http.MethodPost, contentType: "multipart/form-data; boundary=" + boundary, head: multipartHead, chunked: true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ts := mustServer(t, withConfig(func(c *web.Config) { c.MaxSize = limit }))
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln := &countingListener{Listener: inner}
			srv := &http.Server{Handler: ts.h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
			go func() { _ = srv.Serve(ln) }()
			t.Cleanup(func() { _ = srv.Close() })

			conn, err := net.Dial("tcp", inner.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			framing := fmt.Sprintf("Content-Length: %d", sent)
			if tt.chunked {
				framing = "Transfer-Encoding: chunked"
			}
			if _, err := fmt.Fprintf(conn, "%s / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n%s\r\n\r\n", tt.method, tt.contentType, framing); err != nil {
				t.Fatal(err)
			}
			wrote := make(chan struct{})
			go func() {
				defer close(wrote)
				writeBody(conn, tt.head, sent, tt.chunked)
			}()

			if code, _ := readAnswer(t, conn); code != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, want 413", code)
			}
			conn.Close()
			<-wrote
			testkit.WaitFor(t, "the server to be done with the connection", ln.allDone)
			if got := ln.read.Load(); got > limit+slack {
				t.Errorf("the server read %d bytes of a %d-byte upload with a limit of %d (at most %d expected)", got, sent, limit, limit+slack)
			}
		})
	}
}

// writeBody sends head, then filler up to size bytes in all, chunked or not,
// until the server stops taking them.
func writeBody(w io.Writer, head string, size int, chunked bool) {
	piece := []byte(head + strings.Repeat("x", 64<<10-len(head)))
	for written := 0; written < size; written += len(piece) {
		var err error
		if chunked {
			_, err = fmt.Fprintf(w, "%x\r\n%s\r\n", len(piece), piece)
		} else {
			_, err = w.Write(piece)
		}
		if err != nil {
			return
		}
		piece = piece[:0]
		piece = append(piece, strings.Repeat("x", 64<<10)...)
	}
	if chunked {
		_, _ = io.WriteString(w, "0\r\n\r\n")
	}
}
