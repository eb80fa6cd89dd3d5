package system_test

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// AWS S3 Standard request prices (us-east-1), dollars per 1000 requests.
const (
	priceWritePer1000 = 0.005  // PUT, COPY, POST, LIST
	priceReadPer1000  = 0.0004 // GET and the rest (DELETE is free)
)

// TestRequestCost counts the S3 requests litestream makes with the shipped
// settings, in the versitygw access log: first while one paste arrives every
// second, then while idle. It takes LITEPASTE_COST_MINUTES minutes per phase
// (plus as long again to let compactions settle before the idle count), so
// it only runs when that variable is set, e.g.
//
//	cd test/system && LITEPASTE_COST_MINUTES=10 go test -run TestRequestCost -timeout 2h -v .
//
// LITEPASTE_COST_SYNC_INTERVAL sets DB_SYNC_INTERVAL for the run.
func TestRequestCost(t *testing.T) {
	minutes, _ := strconv.Atoi(os.Getenv("LITEPASTE_COST_MINUTES"))
	if minutes <= 0 {
		t.Skip("set LITEPASTE_COST_MINUTES=N to measure S3 requests over N-minute phases")
	}
	ts := needTools(t)
	s3 := startS3(t, ts)
	url := s3.bucket("cost")
	env := replicaEnv(s3, url)
	if v := os.Getenv("LITEPASTE_COST_SYNC_INTERVAL"); v != "" {
		env = append(env, "DB_SYNC_INTERVAL="+v)
	}
	c := startContainer(t, ts, "cost", dataDir(t), env...)
	phase := time.Duration(minutes) * time.Minute

	_, from := s3.requests("cost", 0)
	tick := time.NewTicker(time.Second)
	uploads := 0
	for end := time.Now().Add(phase); time.Now().Before(end); <-tick.C {
		mustUpload(t, c.base, body(fmt.Sprintf("cost%d", uploads), 1000))
		uploads++
	}
	tick.Stop()
	busy, _ := s3.requests("cost", from)
	report(t, fmt.Sprintf("busy (%d uploads, one a second)", uploads), busy, phase)

	time.Sleep(phase) // compactions of the busy phase finish
	_, from = s3.requests("cost", 0)
	time.Sleep(phase)
	idle, _ := s3.requests("cost", from)
	report(t, "idle", idle, phase)
}

func report(t *testing.T, what string, counts map[string]int, over time.Duration) {
	t.Helper()
	perDay := 24 * time.Hour.Seconds() / over.Seconds()
	var ops []string
	write, read := 0.0, 0.0
	for op, n := range counts {
		ops = append(ops, fmt.Sprintf("%s %d (%.0f/day)", op, n, float64(n)*perDay))
		switch {
		case strings.HasPrefix(op, "Put"), strings.HasPrefix(op, "List"), strings.HasPrefix(op, "Copy"),
			strings.HasPrefix(op, "Create"), strings.HasPrefix(op, "Complete"), strings.HasPrefix(op, "Upload"):
			write += float64(n) * perDay
		case strings.HasPrefix(op, "Delete"):
		default:
			read += float64(n) * perDay
		}
	}
	sort.Strings(ops)
	dollars := 30 * (write*priceWritePer1000 + read*priceReadPer1000) / 1000
	t.Logf("FIGURES S3 requests %s over %s: %s; about $%.2f a month at AWS S3 Standard request prices",
		what, over, strings.Join(ops, ", "), dollars)
}
