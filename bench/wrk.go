package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what the bench keeps of one wrk run.
type wrkResult struct {
	RPS          float64
	P99          time.Duration
	Requests     int64
	Non2xx       int64
	SocketErrors int64
}

// bad says why the run's figures cannot be trusted, or "".
func (r wrkResult) bad() string {
	var why []string
	if r.Non2xx > 0 {
		why = append(why, fmt.Sprintf("%d non-2xx answers", r.Non2xx))
	}
	if r.SocketErrors > 0 {
		why = append(why, fmt.Sprintf("%d socket errors", r.SocketErrors))
	}
	if r.Requests == 0 {
		why = append(why, "no requests completed")
	}
	return strings.Join(why, ", ")
}

// wrkLoad describes a wrk invocation apart from its URL.
type wrkLoad struct {
	bin      string
	threads  int
	conns    int
	duration time.Duration
	script   string   // Lua script, "" for plain GET
	env      []string // for the script
}

func (l wrkLoad) run(ctx context.Context, url string) (wrkResult, error) {
	ctx, cancel := context.WithTimeout(ctx, l.duration+30*time.Second)
	defer cancel()
	args := []string{
		"-t" + strconv.Itoa(l.threads),
		"-c" + strconv.Itoa(l.conns),
		"-d" + strconv.Itoa(int(l.duration.Seconds())) + "s",
		"--latency",
	}
	if l.script != "" {
		args = append(args, "-s", l.script)
	}
	args = append(args, url)
	cmd := exec.CommandContext(ctx, l.bin, args...)
	cmd.Env = append(os.Environ(), l.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	res, err := parseWrk(string(out))
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return res, nil
}

var (
	wrkRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkP99      = regexp.MustCompile(`(?m)^\s+99%\s+([0-9.]+)(us|ms|s|m|h)\s*$`)
	wrkRequests = regexp.MustCompile(`(?m)^\s+(\d+) requests in `)
	wrkNon2xx   = regexp.MustCompile(`(?m)^\s+Non-2xx or 3xx responses: (\d+)`)
	wrkSocket   = regexp.MustCompile(`(?m)^\s+Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

var wrkUnits = map[string]time.Duration{
	"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
}

// parseWrk reads the report of `wrk --latency`.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk output")
	}
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	m = wrkP99.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no 99%% latency in wrk output (was --latency given?)")
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	r.P99 = time.Duration(v * float64(wrkUnits[m[2]]))
	m = wrkRequests.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no request count in wrk output")
	}
	r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	if m = wrkNon2xx.FindStringSubmatch(out); m != nil {
		r.Non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m = wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.SocketErrors += n
		}
	}
	return r, nil
}
