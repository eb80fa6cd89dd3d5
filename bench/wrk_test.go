package main

import (
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	tests := []struct {
		desc string
		out  string
		want wrkResult
	}{
		{
			desc: "clean run",
			out: `Running 5s test @ http://127.0.0.1:40000/Ab3dEf9H
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   512.33us  201.10us   9.80ms   90.00%
    Req/Sec    30.12k     1.20k   33.00k    70.00%
  Latency Distribution
     50%  480.00us
     75%  600.00us
     90%  750.00us
     99%    1.25ms
  299812 requests in 5.00s, 330.12MB read
Requests/sec:  59962.40
Transfer/sec:     66.02MB
`,
			want: wrkResult{RPS: 59962.40, P99: 1250 * time.Microsecond, Requests: 299812},
		},
		{
			desc: "errors and microsecond p99",
			out: `Running 1s test @ http://127.0.0.1:18080/nonexist
  1 threads and 2 connections
  Latency Distribution
     50%  825.00us
     75%  900.00us
     90%  950.00us
     99%  990.50us
  2405 requests in 1.10s, 1.19MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 2405
Requests/sec:   2185.24
Transfer/sec:      1.08MB
`,
			want: wrkResult{RPS: 2185.24, P99: 990500 * time.Nanosecond, Requests: 2405, Non2xx: 2405, SocketErrors: 6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, err := parseWrk(tt.out)
			if err != nil {
				t.Fatalf("parseWrk: %v", err)
			}
			if got != tt.want {
				t.Errorf("parseWrk = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseWrkRejectsOutputWithoutLatency(t *testing.T) {
	if _, err := parseWrk("Requests/sec: 10.0\n"); err == nil {
		t.Error("parseWrk accepted output without a latency distribution")
	}
}
