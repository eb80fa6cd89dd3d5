package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// compressLogMiB is the size of the log the compression phase serves.
const compressLogMiB = 2

// compression serves a realistic 2 MiB log to clients that ask for gzip and to clients that
// do not, in alternating batches, and reports bytes on the wire and server CPU per GET.
func (b *bench) compression(ctx context.Context) error {
	const batch, batches = 40, 6
	section("compression: GET of a %d MiB log, %d batches of %d per encoding, alternating", compressLogMiB, batches, batch)
	srv, err := b.startLitepaste(ctx, "litepaste-compress", b.path("compress/litepaste.db"), compressLogMiB)
	if err != nil {
		return err
	}
	defer b.stopServer(srv)
	body := logText(compressLogMiB<<20, 3)
	id, err := putPaste(ctx, srv, bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return err
	}
	var wire [2]int64        // bytes read off the connections: plain, gzip
	var cpu [2]time.Duration // server CPU: plain, gzip
	for range batches {
		for enc, accept := range []string{"", "gzip"} {
			var n int64
			spent, err := cpuDuring(srv.pid(), func() (err error) {
				n, err = getWire(ctx, srv.url("/"+id), accept, body, batch)
				return err
			})
			if err != nil {
				return err
			}
			wire[enc] += n
			cpu[enc] += spent
		}
	}
	per := func(enc int) (int64, time.Duration) {
		return wire[enc] / (batch * batches), (cpu[enc] / (batch * batches)).Round(10 * time.Microsecond)
	}
	plainBytes, plainCPU := per(0)
	gzBytes, gzCPU := per(1)
	fmt.Printf("  plain: %d bytes on the wire, %v server CPU per GET\n", plainBytes, plainCPU)
	fmt.Printf("  gzip:  %d bytes on the wire, %v server CPU per GET\n", gzBytes, gzCPU)
	ratio := float64(plainBytes) / float64(gzBytes)
	b.check("gzip: log shrinks on the wire", fmt.Sprintf("%.1fx (%d -> %d bytes)", ratio, plainBytes, gzBytes), ">= 5x", ratio >= 5)
	b.check("gzip: server CPU per 2 MiB GET", fmt.Sprintf("%v plain, %v gzip", plainCPU, gzCPU), "reported", true)
	return nil
}

// getWire GETs url n times on one connection, checks each decoded body against want, and
// returns the bytes read off the connection (headers and framing included).
func getWire(ctx context.Context, url, acceptEncoding string, want []byte, n int) (int64, error) {
	var read atomic.Int64
	dialer := &net.Dialer{}
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		DisableCompression: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			return countingConn{c, &read}, err
		},
	}}
	defer hc.CloseIdleConnections()
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		var r io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			if r, err = gzip.NewReader(resp.Body); err != nil {
				resp.Body.Close()
				return 0, err
			}
		} else if acceptEncoding != "" {
			resp.Body.Close()
			return 0, fmt.Errorf("GET with Accept-Encoding %q answered Content-Encoding %q", acceptEncoding, resp.Header.Get("Content-Encoding"))
		}
		got, err := io.ReadAll(r)
		resp.Body.Close()
		if err != nil {
			return 0, err
		}
		if !bytes.Equal(got, want) {
			return 0, fmt.Errorf("GET (Accept-Encoding %q) gave %d bytes that differ from the %d uploaded", acceptEncoding, len(got), len(want))
		}
	}
	return read.Load(), nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// cpuDuring runs work and returns the CPU time pid used meanwhile.
func cpuDuring(pid int, work func() error) (time.Duration, error) {
	before, err := procCPU(pid)
	if err != nil {
		return 0, err
	}
	if err := work(); err != nil {
		return 0, err
	}
	after, err := procCPU(pid)
	return after - before, err
}

// procCPU is the user plus system CPU time pid has used (/proc/PID/stat, in clock ticks of
// 10 ms: the batches are long enough for that).
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name in parentheses may hold spaces: count fields after it.
	_, rest, ok := strings.Cut(string(data), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	return time.Duration(utime+stime) * tick, nil
}
