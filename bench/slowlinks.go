package main

import (
	"bufio"
	"context"
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

// Targets from the issue "Uploads that survive slow links and cannot be starved".
const (
	targetAttackP95 = 500 * time.Millisecond
	attackConns     = 200
	attackSources   = 50
)

// Addresses on loopback (all of 127.0.0.0/8 reaches 127.0.0.1 on Linux): the attackers
// take 127.0.0.2 upward, the normal client one address beyond them.
var normalClientIP = net.IPv4(127, 0, 0, 200)

func attackerIP(i int) net.IP { return net.IPv4(127, 0, 0, byte(2+i)) }

// slowUploads sends a 1 MiB paste at 16 KiB/s and another at 32 KiB/s, at the same time
// from two addresses, and reports how each was answered and how long it took: a poor uplink
// must still be able to share a log.
func (b *bench) slowUploads(ctx context.Context) error {
	section("slow links: a 1 MiB PUT at 16 KiB/s and one at 32 KiB/s, defaults otherwise")
	srv, err := b.startLitepaste(ctx, "litepaste-slow", b.path("slow/litepaste.db"), 2)
	if err != nil {
		return err
	}
	defer b.stopServer(srv)
	const size = 1 << 20
	rates := []int{16 << 10, 32 << 10}
	results := make([]rawResult, len(rates))
	var wg sync.WaitGroup
	for i, rate := range rates {
		wg.Go(func() {
			body := textBytes(size, uint64(10+i))
			results[i] = pacedPut(ctx, srv.addr, net.IPv4(127, 0, 1, byte(1+i)), body, rate)
		})
	}
	wg.Wait()
	for i, rate := range rates {
		r := results[i]
		b.check(fmt.Sprintf("1 MiB at %d KiB/s", rate>>10),
			fmt.Sprintf("%s after %s", r.outcome, fmtDur(r.elapsed)), "200", r.outcome == "200")
	}
	return nil
}

// underAttack runs a normal client (a 1 KiB PUT every 0.2 s from its own address) while
// attackConns connections announce 2 MiB bodies and send one byte a second: first all from
// one address, then spread over attackSources addresses. Every attacking connection that
// the server ends is opened again, so the pressure stays.
func (b *bench) underAttack(ctx context.Context) error {
	c := b.cfg
	section("uploads under attack: %d connections trickling 1 byte/s of a 2 MiB body; a normal client PUTs 1 KiB every 200 ms for %v",
		attackConns, c.attackFor)
	srv, err := b.startLitepaste(ctx, "litepaste-attack", b.path("attack/litepaste.db"), 2)
	if err != nil {
		return err
	}
	defer b.stopServer(srv)
	for _, sources := range []int{1, attackSources} {
		label := "attack from 1 address"
		if sources > 1 {
			label = fmt.Sprintf("attack from %d addresses", sources)
		}
		att := startTricklers(ctx, srv.addr, attackConns, sources)
		if err := att.awaitOpen(ctx, 30*time.Second); err != nil {
			att.stop()
			return err
		}
		lat, outcomes := normalClient(ctx, srv.addr, c.attackFor)
		att.stop()
		if srv.exited() {
			return fmt.Errorf("litepaste died under attack: %v\n%s", srv.err, srv.tail(20))
		}
		fmt.Printf("  %s: normal client %s; attackers answered %s\n", label, fmtCounts(outcomes), fmtCounts(att.outcomes()))
		p95 := percentile(lat, 0.95)
		ok := outcomes["200"] == len(lat) && p95 < targetAttackP95
		b.check(label,
			fmt.Sprintf("%d of %d ok, p50 %s, p95 %s, max %s", outcomes["200"], len(lat),
				fmtDur(percentile(lat, 0.5)), fmtDur(p95), fmtDur(percentile(lat, 1))),
			fmt.Sprintf("p95 < %s", fmtDur(targetAttackP95)), ok)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

type rawResult struct {
	outcome string // a status code, with the first line of the answer when not 200, or an error
	elapsed time.Duration
}

// dialFrom connects to addr from the given loopback address.
func dialFrom(ctx context.Context, local net.IP, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: local}, Timeout: 10 * time.Second}
	return d.DialContext(ctx, "tcp", addr)
}

// openPut connects from local and sends the header of a PUT announcing length bytes. The
// connection closes when ctx ends or when the returned function is called.
func openPut(ctx context.Context, local net.IP, addr string, length int) (net.Conn, func(), error) {
	conn, err := dialFrom(ctx, local, addr)
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	closeAll := func() { stop(); conn.Close() }
	if _, err := fmt.Fprintf(conn, "PUT / HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n", addr, length); err != nil {
		closeAll()
		return nil, nil, err
	}
	return conn, closeAll, nil
}

// awaitAnswer reads the answer on conn in the background and names it: the status code,
// with the first line of the body when not 200, or what ended the connection.
func awaitAnswer(conn net.Conn) <-chan string {
	answer := make(chan string, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answer <- describeErr(err)
			return
		}
		reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		out := fmt.Sprint(resp.StatusCode)
		if resp.StatusCode != http.StatusOK {
			out += " " + strings.TrimSpace(firstLine(string(reply)))
		}
		answer <- out
	}()
	return answer
}

// pacedPut sends body as a PUT over its own connection at rate bytes a second, in pieces of
// a sixteenth of the rate, and reads the answer.
func pacedPut(ctx context.Context, addr string, local net.IP, body []byte, rate int) rawResult {
	began := time.Now()
	conn, closeConn, err := openPut(ctx, local, addr, len(body))
	if err != nil {
		return rawResult{describeErr(err), time.Since(began)}
	}
	defer closeConn()
	answer := awaitAnswer(conn)
	piece := rate / 16
	tick := time.NewTicker(time.Second / 16)
	defer tick.Stop()
	for off := 0; off < len(body); off += piece {
		select {
		case out := <-answer: // answered (refused) before the body was sent
			return rawResult{out, time.Since(began)}
		case <-tick.C:
		}
		if _, err := conn.Write(body[off:min(off+piece, len(body))]); err != nil {
			break
		}
	}
	return rawResult{<-answer, time.Since(began)}
}

func describeErr(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed without answer"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "error: " + firstLine(err.Error())
}

// tricklers keeps n connections open, each announcing a 2 MiB PUT body and sending one byte
// a second, spread round-robin over the given number of source addresses.
type tricklers struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	open   int
	counts map[string]int
}

func startTricklers(ctx context.Context, addr string, n, sources int) *tricklers {
	ctx, cancel := context.WithCancel(ctx)
	t := &tricklers{cancel: cancel, counts: map[string]int{}}
	for i := range n {
		local := attackerIP(i % sources)
		t.wg.Go(func() {
			for ctx.Err() == nil {
				t.trickleOnce(ctx, addr, local)
			}
		})
	}
	return t
}

// trickleOnce runs one attacking connection until the server ends it or the attack stops.
func (t *tricklers) trickleOnce(ctx context.Context, addr string, local net.IP) {
	conn, closeConn, err := openPut(ctx, local, addr, 2<<20)
	if err != nil {
		if ctx.Err() == nil {
			t.count(describeErr(err))
			time.Sleep(100 * time.Millisecond)
		}
		return
	}
	defer closeConn()
	t.mu.Lock()
	t.open++
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.open--
		t.mu.Unlock()
	}()
	answer := awaitAnswer(conn)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case out := <-answer:
			if ctx.Err() == nil {
				if code, _, ok := strings.Cut(out, " "); ok && len(code) == 3 && code[0] >= '1' && code[0] <= '5' {
					out = code // the status is enough for the count
				}
				t.count(out)
			}
			return
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := conn.Write([]byte("x")); err != nil {
				if ctx.Err() == nil {
					t.count(describeErr(err))
				}
				return
			}
		}
	}
}

func (t *tricklers) count(how string) {
	t.mu.Lock()
	t.counts[how]++
	t.mu.Unlock()
}

func (t *tricklers) outcomes() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.counts)
}

// awaitOpen waits until every attacking connection has sent its header.
func (t *tricklers) awaitOpen(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		t.mu.Lock()
		open, want := t.open, attackConns
		t.mu.Unlock()
		if open >= want {
			// A moment for the server to take every header in.
			time.Sleep(time.Second)
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("only %d of %d attacking connections open after %v", open, want, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (t *tricklers) stop() {
	t.cancel()
	t.wg.Wait()
}

// normalClient PUTs 1 KiB every 200 ms for d from normalClientIP, each on schedule whether
// or not the one before has been answered, and returns every upload's latency and outcomes.
func normalClient(ctx context.Context, addr string, d time.Duration) ([]time.Duration, map[string]int) {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return dialFrom(ctx, normalClientIP, addr)
		},
		MaxIdleConnsPerHost: 16,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	body := textBytes(1<<10, 4)
	var mu sync.Mutex
	var lat []time.Duration
	outcomes := map[string]int{}
	var wg sync.WaitGroup
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	end := time.After(d)
	for {
		select {
		case <-ctx.Done():
		case <-end:
		case <-tick.C:
			wg.Go(func() {
				began := time.Now()
				out := floodOne(ctx, hc, "http://"+addr+"/", body)
				took := time.Since(began)
				mu.Lock()
				lat = append(lat, took)
				outcomes[out]++
				mu.Unlock()
			})
			continue
		}
		break
	}
	wg.Wait()
	return lat, outcomes
}

// percentile is the q-quantile of ds (nearest rank); 0 for none.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}
