package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	targetFloodMiB = 160
	// A big paste may cost one copy of itself in the server's memory, plus this share of its
	// size for buffers and the SQLite page cache.
	bigSlack = 0.25
)

// startIdle starts litepaste and reads its RSS before any load, the baseline
// a memory figure counts from; the caller stops the server.
func (b *bench) startIdle(ctx context.Context, name, dbPath string, maxMiB int) (*server, int64, error) {
	srv, err := b.startLitepaste(ctx, name, dbPath, maxMiB)
	if err != nil {
		return nil, 0, err
	}
	_, idle, err := memStatus(srv.pid())
	if err != nil {
		b.stopServer(srv)
		return nil, 0, err
	}
	return srv, idle, nil
}

// flood sends rounds of concurrent maximum-size uploads and reports the server's peak RSS
// and how the uploads were answered: the server must refuse or queue, never balloon.
func (b *bench) flood(ctx context.Context) error {
	c := b.cfg
	size := int64(c.floodMiB) << 20
	section("memory flood: %d clients x %d rounds, each PUT of %d MiB (-maxsize %d)",
		c.floodClients, c.floodRounds, c.floodMiB, c.floodMiB)
	srv, idle, err := b.startIdle(ctx, "litepaste-flood", b.path("flood/litepaste.db"), c.floodMiB)
	if err != nil {
		return err
	}
	defer b.stopServer(srv)
	body := textBytes(size, 2)
	// Each client from its own address, as many users would be: one address gets only a few
	// uploads in at once, and the flood is about the memory budget.
	clients := make([]*http.Client, c.floodClients)
	for i := range clients {
		local := net.IPv4(127, 0, byte(2+i/250), byte(1+i%250))
		tr := &http.Transport{
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				return dialFrom(ctx, local, addr)
			},
			DisableCompression: true,
		}
		defer tr.CloseIdleConnections()
		clients[i] = &http.Client{Timeout: 2 * time.Minute, Transport: tr}
	}

	total := map[string]int{}
	for round := 1; round <= c.floodRounds; round++ {
		outcomes := make([]string, c.floodClients)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range outcomes {
			wg.Go(func() {
				<-start
				outcomes[i] = floodOne(ctx, clients[i], srv.url("/"), body)
			})
		}
		began := time.Now()
		close(start)
		wg.Wait()
		counts := map[string]int{}
		for _, o := range outcomes {
			counts[o]++
			total[o]++
		}
		hwm, _, err := memStatus(srv.pid())
		if err != nil {
			return fmt.Errorf("litepaste gone after flood round %d: %w\n%s", round, err, srv.tail(20))
		}
		fmt.Printf("  round %d: %s in %v, peak RSS so far %s\n",
			round, fmtCounts(counts), time.Since(began).Round(time.Millisecond), mib(hwm))
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if srv.exited() {
		return fmt.Errorf("litepaste died in the flood: %v\n%s", srv.err, srv.tail(20))
	}
	if err := healthy(ctx, srv); err != nil {
		return fmt.Errorf("after the flood: %w", err)
	}
	hwm, _, err := memStatus(srv.pid())
	if err != nil {
		return err
	}
	fmt.Printf("  idle RSS before the flood %s; all rounds: %s\n", mib(idle), fmtCounts(total))
	b.check("peak RSS in flood",
		fmt.Sprintf("%s (%s)", mib(hwm), fmtCounts(total)),
		fmt.Sprintf("<= %d MiB", targetFloodMiB), hwm <= targetFloodMiB<<20 && total["200"] > 0)
	return nil
}

// floodOne uploads body once and names the outcome: a status code or a short error.
func floodOne(ctx context.Context, hc *http.Client, url string, body []byte) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return "error: " + err.Error()
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := hc.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, syscall.ECONNRESET):
			return "connection reset"
		case errors.Is(err, syscall.EPIPE):
			return "broken pipe"
		case errors.Is(err, context.DeadlineExceeded):
			return "timeout"
		}
		return "error: " + firstLine(err.Error())
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return fmt.Sprint(resp.StatusCode)
}

func fmtCounts(counts map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d x %s", counts[k], k))
	}
	return strings.Join(parts, ", ")
}

func healthy(ctx context.Context, s *server) error {
	var buf bytes.Buffer
	_, err := getTo(ctx, s, "/healthz", &buf)
	return err
}

// bigPaste uploads one paste of bigMiB with the limit set to match, downloads it from a
// freshly started server on the same database, compares the bytes, and reports how much
// memory each direction cost beyond the idle server.
func (b *bench) bigPaste(ctx context.Context) error {
	size := int64(b.cfg.bigMiB) << 20
	section("big paste: %d MiB with -maxsize %d", b.cfg.bigMiB, b.cfg.bigMiB)
	dbPath := b.path("big/litepaste.db")

	srv, idleUp, err := b.startIdle(ctx, "litepaste-big-up", dbPath, b.cfg.bigMiB)
	if err != nil {
		return err
	}
	sent := sha256.New()
	began := time.Now()
	id, err := putPaste(ctx, srv, io.TeeReader(newTextReader(size, 3), sent), size)
	if err != nil {
		srv.kill()
		return fmt.Errorf("upload: %w", err)
	}
	upTime := time.Since(began)
	peakUp, _, err := memStatus(srv.pid())
	if err != nil {
		return err
	}
	b.stopServer(srv)

	srv, idleDown, err := b.startIdle(ctx, "litepaste-big-down", dbPath, b.cfg.bigMiB)
	if err != nil {
		return err
	}
	defer b.stopServer(srv)
	got := sha256.New()
	began = time.Now()
	n, err := getTo(ctx, srv, "/"+id, got)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	downTime := time.Since(began)
	peakDown, _, err := memStatus(srv.pid())
	if err != nil {
		return err
	}
	if n != size || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		return fmt.Errorf("downloaded %d bytes that differ from the %d uploaded", n, size)
	}
	fmt.Printf("  upload %v (%.0f MiB/s), download %v (%.0f MiB/s), bytes identical\n",
		upTime.Round(time.Millisecond), float64(b.cfg.bigMiB)/upTime.Seconds(),
		downTime.Round(time.Millisecond), float64(b.cfg.bigMiB)/downTime.Seconds())
	copies := func(peak, idle int64) float64 { return float64(peak-idle) / float64(size) }
	limit := 1 + bigSlack
	b.check("big paste upload: copies held",
		fmt.Sprintf("%.2f (peak %s, idle %s)", copies(peakUp, idleUp), mib(peakUp), mib(idleUp)),
		fmt.Sprintf("<= %.2f", limit), copies(peakUp, idleUp) <= limit)
	b.check("big paste download: copies held",
		fmt.Sprintf("%.2f (peak %s, idle %s)", copies(peakDown, idleDown), mib(peakDown), mib(idleDown)),
		fmt.Sprintf("<= %.2f", limit), copies(peakDown, idleDown) <= limit)
	return nil
}
