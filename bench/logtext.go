package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"time"
)

// logText is n bytes of a web service's log as people paste it: each request logs its start,
// a query and its end under one request id, from a few hundred clients; now and then a slow
// query warning or an error with a stack trace. The same seed gives the same text. It
// compresses about as well as the system logs of a Debian machine (gzip -6: 7 to 11 times).
func logText(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x6c6f6774657874))
	var b bytes.Buffer
	b.Grow(n + 1024)
	at := time.Date(2026, 11, 30, 14, 3, 27, 0, time.UTC)
	tables := []string{"orders", "users", "items", "sessions"}
	methods := []string{"GET", "GET", "GET", "GET", "POST", "PUT"}
	statuses := []int{200, 200, 200, 200, 200, 200, 201, 304, 404, 500}
	line := func(level, comp, format string, args ...any) {
		at = at.Add(time.Duration(rng.IntN(40)) * time.Millisecond)
		fmt.Fprintf(&b, "%s %-5s %-6s ", at.Format("2006-01-02T15:04:05.000Z"), level, comp)
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	for b.Len() < n {
		id := rng.Uint32()
		client := fmt.Sprintf("10.0.%d.%d", rng.IntN(3), rng.IntN(256))
		path := fmt.Sprintf("/api/v1/%s/%d", tables[rng.IntN(len(tables))], rng.IntN(2000))
		method := methods[rng.IntN(len(methods))]
		line("INFO", "http", "request started method=%s path=%s remote=%s req_id=%08x", method, path, client, id)
		took := rng.IntN(120)
		if rng.IntN(20) == 0 {
			took = 500 + rng.IntN(3000)
			line("WARN", "db", "slow query table=%s took=%dms rows=%d req_id=%08x", tables[rng.IntN(len(tables))], took, rng.IntN(5000), id)
		} else {
			line("DEBUG", "db", "query table=%s took=%dms rows=%d req_id=%08x", tables[rng.IntN(len(tables))], took, rng.IntN(50), id)
		}
		status := statuses[rng.IntN(len(statuses))]
		if status == 500 {
			line("ERROR", "http", "handler failed: context deadline exceeded req_id=%08x", id)
			fmt.Fprintf(&b, "goroutine %d [running]:\n", 100+rng.IntN(900))
			for i, fn := range []string{"main.(*Server).handle", "main.(*Store).Query", "database/sql.(*DB).QueryContext", "net/http.HandlerFunc.ServeHTTP"} {
				fmt.Fprintf(&b, "%s(0xc000%06x)\n\t/src/app/%s.go:%d +0x%x\n", fn, rng.IntN(1<<20), []string{"server", "store", "sql", "server"}[i], 40+i*37, 0x40+i*0x1c)
			}
		}
		line("INFO", "http", "request done method=%s path=%s status=%d took=%dms bytes=%d req_id=%08x", method, path, status, took+rng.IntN(5), 200+rng.IntN(20000), id)
	}
	return b.Bytes()[:n]
}
