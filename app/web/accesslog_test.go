package web

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestAppendJSONStringIsValidJSON(t *testing.T) {
	for _, s := range []string{
		"", "/abc", `/a"b\c`, "/tab\there", "/nl\nx\r", "/ctl\x00\x01\x1f\x7f",
		"/héllo/世界", "/bad\xff\xfeutf8", "/ls\u2028ps\u2029", strings.Repeat("/x", 300),
	} {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("%q encodes as %s: %v", s, b, err)
			continue
		}
		// Each invalid byte becomes one U+FFFD, as []rune does.
		if want := string([]rune(s)); got != want {
			t.Errorf("%q round-trips as %q, want %q", s, got, want)
		}
		if strings.ContainsAny(string(b), "\u2028\u2029") || !utf8.Valid(b) {
			t.Errorf("%q encodes as %q", s, b)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("/a\"b")
	f.Add("\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		var got string
		if err := json.Unmarshal(appendJSONString(nil, s), &got); err != nil {
			t.Fatal(err)
		}
		if want := string([]rune(s)); got != want {
			t.Fatalf("%q round-trips as %q", s, got)
		}
	})
}

func TestRequestLogLineShape(t *testing.T) {
	var out strings.Builder
	l := newRequestLog(&out)
	at := time.Date(2026, 11, 26, 3, 4, 5, 6000, time.UTC)
	l.write(at, "PUT", "/a\"b", 503, 12, 1500*time.Microsecond, "192.0.2.1")
	var rec map[string]any
	if err := json.Unmarshal([]byte(out.String()), &rec); err != nil {
		t.Fatalf("%s: %v", out.String(), err)
	}
	want := map[string]any{
		"time": "2026-11-26T03:04:05.000006Z", "level": "WARN", "msg": "request", "method": "PUT",
		"path": "/a\"b", "status": 503.0, "bytes": 12.0, "duration": 1.5e6, "client": "192.0.2.1",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s: got %v, want %v", k, rec[k], v)
		}
	}
	if !strings.HasSuffix(out.String(), "}\n") || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("not one line: %q", out.String())
	}
}

func TestStamperFormatsAsRFC3339Nano(t *testing.T) {
	east := time.FixedZone("east", 5*3600+30*60)
	west := time.FixedZone("west", -7*3600)
	base := time.Date(2026, 11, 26, 23, 59, 58, 0, time.UTC)
	var times []time.Time
	for _, ns := range []int{0, 1, 10, 999999999, 120000000, 100000000, 5, 450000} {
		for _, sec := range []int{0, 1, 2} {
			at := base.Add(time.Duration(sec)*time.Second + time.Duration(ns))
			// The same instant in three zones, in turn: each must get its own offset.
			times = append(times, at, at.In(east), at.In(west))
		}
	}
	// And instants anywhere from 1970 to 2100, in a fixed order so a failure repeats.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		at := time.Unix(rng.Int64N(4102444800), rng.Int64N(1e9))
		if rng.IntN(2) == 0 {
			at = at.UTC()
		}
		times = append(times, at)
	}
	var s stamper
	for _, at := range times {
		got := string(s.append(nil, at))
		if want := at.Format(time.RFC3339Nano); got != want {
			t.Errorf("%v: got %q, want %q", at, got, want)
		}
	}
}
