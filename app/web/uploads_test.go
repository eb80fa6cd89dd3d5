package web_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/web"
)

// paced sets the body pace main.go gives by default (a byte at least every
// 30 s, 1 KiB/s on average after a 5 s grace).
func paced(c *web.Config) {
	c.UploadIdle = 30 * time.Second
	c.UploadMinRate = 1 << 10
	c.UploadMemory = 64 << 20
}

// dialFrom connects to addr from a loopback address of its own (on Linux
// all of 127.0.0.0/8 reaches a listener on 127.0.0.1), so that the server
// sees a client of that address.
func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 10 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", local, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// clientFrom is an HTTP client whose connections come from local.
func clientFrom(local string) *http.Client {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// sendPaced writes a PUT of body on conn at rate bytes a second, in pieces
// of an eighth of the rate, and returns the answer's status and body.
func sendPaced(t *testing.T, conn net.Conn, body []byte, rate int) (int, string) {
	t.Helper()
	fmt.Fprintf(conn, "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body))
	piece := rate / 8
	for off := 0; off < len(body); off += piece {
		time.Sleep(time.Second / 8)
		if _, err := conn.Write(body[off:min(off+piece, len(body))]); err != nil {
			t.Fatalf("writing the body at byte %d: %v", off, err)
		}
	}
	return readAnswer(t, conn)
}

func readAnswer(t *testing.T, conn net.Conn) (int, string) {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(got)
}

// A body that keeps arriving at 4 KiB/s succeeds, however long it takes:
// here longer than the server's own read and write timeouts.
func TestSlowButSteadyUploadSucceeds(t *testing.T) {
	ts := mustServer(t, withConfig(paced))
	addr := realServer(t, ts, func(s *http.Server) {
		s.ReadTimeout = time.Second
		s.WriteTimeout = time.Second
	})
	body := bytes.Repeat([]byte("slow uplink "), 2000) // 24 000 bytes: 6 s at 4 KiB/s
	code, answer := sendPaced(t, dialFrom(t, "127.0.0.1", addr), body, 4<<10)
	if code != http.StatusOK {
		t.Fatalf("24 kB at 4 KiB/s: got %d (%q), want 200", code, answer)
	}
	var created struct{ ID string }
	mustJSON(t, []byte(answer), &created)
	if got := ts.mustGet(t, created.ID); !bytes.Equal(got, body) {
		t.Errorf("stored %d bytes that differ from the %d sent", len(got), len(body))
	}
}

// A body that stops arriving is cut off once nothing came for the idle
// timeout, and nothing is stored.
func TestStalledUploadIsCutOff(t *testing.T) {
	ts := mustServer(t, withConfig(func(c *web.Config) {
		paced(c)
		c.UploadIdle = 500 * time.Millisecond
	}))
	addr := realServer(t, ts, nil)
	conn := dialFrom(t, "127.0.0.1", addr)
	began := time.Now()
	fmt.Fprintf(conn, "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nhalf of it")
	got := cutOff(t, conn)
	if !strings.HasPrefix(got, "HTTP/1.1 408") {
		t.Errorf("stalled upload: got %q, want a 408", got)
	}
	if took := time.Since(began); took < 500*time.Millisecond {
		t.Errorf("stalled upload cut off after %v, before the idle timeout", took)
	}
	if n := ts.pasteCount(t); n != 0 {
		t.Errorf("pastes stored: got %d, want 0", n)
	}
}

// trickle opens a PUT that announces 2 MiB and sends a byte now and then,
// from local, until the test ends.
func trickleFrom(t *testing.T, local, addr string, stop <-chan struct{}) net.Conn {
	t.Helper()
	conn := dialFrom(t, local, addr)
	fmt.Fprintf(conn, "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\nx", 2<<20)
	go trickle(conn, "x", 500*time.Millisecond, stop)
	return conn
}

func awaitHeld(t *testing.T, ts *testServer, ok func(int64) bool, what string) int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		held := ts.srv.UploadMemoryHeld()
		if ok(held) {
			return held
		}
		if time.Now().After(deadline) {
			t.Fatalf("upload memory held: %d bytes, never %s", held, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Memory follows the bytes received, not the bytes announced: trickling
// uploads announcing far more than the budget hold only their first buffer
// each, and an honest upload is served at once.
func TestTricklingUploadsHoldWhatTheySent(t *testing.T) {
	ts := mustServer(t, withConfig(func(c *web.Config) {
		paced(c)
		c.UploadMemory = 2 << 20 // the budget of one announced body
	}))
	addr := realServer(t, ts, nil)
	stop := make(chan struct{})
	defer close(stop)
	const tricklers = 20
	for i := range tricklers {
		trickleFrom(t, fmt.Sprintf("127.0.0.%d", 10+i), addr, stop)
	}
	// A first buffer each, far from the 40 MiB announced.
	const limit = tricklers * 16 << 10
	held := awaitHeld(t, ts, func(n int64) bool { return n >= limit }, "taken by every trickler")
	if held > limit {
		t.Errorf("%d trickling uploads hold %d bytes, want at most %d", tricklers, held, limit)
	}
	res, err := clientFrom("127.0.0.2").Post("http://"+addr+"/", "text/plain", strings.NewReader("an honest paste"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("upload while %d clients trickle: got %d (%q), want 200", tricklers, res.StatusCode, body)
	}
}

// A body without a length grows its buffer in steps, and the budget counts
// each step's whole buffer (not just the bytes in it) until the paste is
// stored or refused.
func TestBodyWithoutALengthIsCountedAsHeld(t *testing.T) {
	const limit = 256 << 10
	ts := mustServer(t, withConfig(func(c *web.Config) {
		c.MaxSize = limit
		c.UploadMemory = 4 * limit
	}))
	for _, tt := range []struct {
		desc string
		sent int
		want int // status
	}{
		{desc: "within the limit", sent: 100 << 10, want: http.StatusOK},
		{desc: "over the limit", sent: limit + 1, want: http.StatusRequestEntityTooLarge},
	} {
		t.Run(tt.desc, func(t *testing.T) {
			pr, pw := io.Pipe()
			r := req(http.MethodPost, "/", pr, "Content-Type", "text/plain")
			r.ContentLength = -1
			done := make(chan int)
			go func() { done <- ts.do(r).Code }()
			// Each write returns once the handler has read it all.
			chunk := bytes.Repeat([]byte("y"), 10<<10)
			for sent := 0; sent < 40<<10; sent += len(chunk) {
				if _, err := pw.Write(chunk); err != nil {
					t.Fatal(err)
				}
			}
			// 40 KiB read: the buffer went from 16 KiB to 32, then 64.
			if got, want := ts.srv.UploadMemoryHeld(), int64(64<<10); got != want {
				t.Errorf("after 40 KiB: budget holds %d bytes, want %d (the buffer's size)", got, want)
			}
			rest := bytes.Repeat([]byte("z"), tt.sent-40<<10)
			go func() {
				_, _ = pw.Write(rest)
				pw.Close()
			}()
			if code := <-done; code != tt.want {
				t.Errorf("got status %d, want %d", code, tt.want)
			}
			if got := ts.srv.UploadMemoryHeld(); got != 0 {
				t.Errorf("after the answer: budget holds %d bytes, want 0", got)
			}
		})
	}
}

// holdSlot starts an upload from remote through the router whose body
// arrives only when the returned function is called; it returns once the
// handler reads the body, that is, once the upload holds its client's slot.
func holdSlot(t *testing.T, ts *testServer, remote string) (finish func() int) {
	t.Helper()
	pr, pw := io.Pipe()
	r := req(http.MethodPut, "/", pr)
	r.ContentLength = 10
	r.RemoteAddr = remote
	done := make(chan int, 1)
	go func() { done <- ts.do(r).Code }()
	if _, err := pw.Write([]byte("held")); err != nil {
		t.Fatal(err)
	}
	return func() int {
		_, _ = pw.Write([]byte("slot..")) // the other 6 bytes
		pw.Close()
		return <-done
	}
}

// One client (an address, or an IPv6 /64) sends at most UploadsPerClient
// bodies at once; another is refused with 429 and Retry-After after a brief
// wait, while other clients are served as usual.
func TestOneClientCannotFillTheServer(t *testing.T) {
	ts := mustServer(t, withConfig(func(c *web.Config) { c.UploadsPerClient = 2 }))
	ts.srv.SetSlotWait(100 * time.Millisecond)
	put := func(remote string) *http.Response {
		r := req(http.MethodPut, "/", strings.NewReader("a paste"))
		r.RemoteAddr = remote
		return ts.do(r).Result()
	}
	for _, tt := range []struct {
		desc           string
		holders        []string
		same, distinct string
	}{
		{desc: "IPv4", holders: []string{"192.0.2.1:1", "192.0.2.1:2"},
			same: "192.0.2.1:3", distinct: "192.0.2.2:1"},
		{desc: "IPv6 /64", holders: []string{"[2001:db8::1]:1", "[2001:db8::2]:1"},
			same: "[2001:db8::ffff]:1", distinct: "[2001:db8:0:1::1]:1"},
	} {
		t.Run(tt.desc, func(t *testing.T) {
			var finish []func() int
			for _, h := range tt.holders {
				finish = append(finish, holdSlot(t, ts, h))
			}
			res := put(tt.same)
			if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
				t.Errorf("third upload of the client: got %d, Retry-After %q; want 429 with a delay",
					res.StatusCode, res.Header.Get("Retry-After"))
			}
			if res := put(tt.distinct); res.StatusCode != http.StatusOK {
				t.Errorf("upload of another client: got %d, want 200", res.StatusCode)
			}
			for i, f := range finish {
				if code := f(); code != http.StatusOK {
					t.Errorf("held upload %d: got %d, want 200", i, code)
				}
			}
			if res := put(tt.same); res.StatusCode != http.StatusOK {
				t.Errorf("upload once the client's others are done: got %d, want 200", res.StatusCode)
			}
			if n := ts.srv.UploadingClients(); n != 0 {
				t.Errorf("clients remembered after every upload ended: %d, want 0", n)
			}
		})
	}
}

// An upload over its client's share waits for a slot rather than failing
// at once, if one frees up soon.
func TestAnUploadWaitsBrieflyForItsClientsSlot(t *testing.T) {
	ts := mustServer(t, withConfig(func(c *web.Config) { c.UploadsPerClient = 1 }))
	ts.srv.SetSlotWait(30 * time.Second)
	finish := holdSlot(t, ts, "192.0.2.1:1")
	r := req(http.MethodPut, "/", strings.NewReader("waits its turn"))
	r.RemoteAddr = "192.0.2.1:2"
	done := make(chan int)
	go func() { done <- ts.do(r).Code }()
	deadline := time.Now().Add(30 * time.Second)
	for ts.srv.UploadsOfClient("192.0.2.1") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the second upload never waited for a slot")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code := finish(); code != http.StatusOK {
		t.Errorf("first upload: got %d, want 200", code)
	}
	if code := <-done; code != http.StatusOK {
		t.Errorf("the waiting upload: got %d, want 200", code)
	}
}

// Under either attack (200 connections announcing 2 MiB and trickling, from
// one address, then from 50) a normal client uploading 1 KiB every 0.2 s
// from another address gets every upload through. Its latencies are
// measured by make bench.
func TestUnderAttackOthersAreServed(t *testing.T) {
	for _, sources := range []int{1, 50} {
		t.Run(fmt.Sprintf("from %d addresses", sources), func(t *testing.T) {
			ts := mustServer(t, withConfig(func(c *web.Config) {
				paced(c)
				c.UploadsPerClient = 4
			}))
			addr := realServer(t, ts, func(s *http.Server) {
				s.ReadTimeout = 2 * time.Minute
				s.WriteTimeout = 2 * time.Minute
			})
			stop := make(chan struct{})
			defer close(stop)
			for i := range 200 {
				trickleFrom(t, fmt.Sprintf("127.0.0.%d", 2+i%sources), addr, stop)
			}
			client := clientFrom("127.0.0.200")
			body := bytes.Repeat([]byte("k"), 1<<10)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failures []string
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for i := range 15 {
				<-tick.C
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
					defer cancel()
					r, _ := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+addr+"/", bytes.NewReader(body))
					res, err := client.Do(r)
					msg := ""
					if err != nil {
						msg = err.Error()
					} else {
						got, _ := io.ReadAll(res.Body)
						res.Body.Close()
						if res.StatusCode != http.StatusOK {
							msg = fmt.Sprintf("%d %q", res.StatusCode, got)
						}
					}
					if msg != "" {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("upload %d: %s", i, msg))
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			for _, f := range failures {
				t.Error(f)
			}
			if n := ts.pasteCount(t); n != 15 {
				t.Errorf("pastes stored: got %d, want the normal client's 15", n)
			}
		})
	}
}
