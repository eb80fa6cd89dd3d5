package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/web"
)

// upload sends one PUT as if from remote with the given X-Forwarded-For.
func (ts *testServer) upload(remote, xff string) *httptest.ResponseRecorder {
	r := req(http.MethodPut, "/", strings.NewReader("rate limited paste"))
	r.RemoteAddr = remote
	if xff != "" {
		r.Header.Set("X-Forwarded-For", xff)
	}
	return ts.do(r)
}

func limited(n int, proxies ...string) option {
	return withConfig(func(c *web.Config) {
		c.PerMinuteLimit = n
		for _, p := range proxies {
			c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix(p))
		}
	})
}

func TestRateLimitAllowsNPerMinuteSustained(t *testing.T) {
	const n = 6
	ts := mustServer(t, limited(n))
	const client = "198.51.100.7:40000"

	for i := range n {
		if rec := ts.upload(client, ""); rec.Code != http.StatusOK {
			t.Fatalf("upload %d of the first %d: got status %d, want 200", i+1, n, rec.Code)
		}
	}
	rec := ts.upload(client, "")
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("upload %d: got status %d, want 429", n+1, rec.Code)
	}
	if got, want := rec.Body.String(), "too many uploads, try again later\n"; got != want {
		t.Errorf("body: got %q, want %q", got, want)
	}
	retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if err != nil || retry < 1 || retry > 60 {
		t.Fatalf("Retry-After: got %q, want whole seconds from 1 to 60", rec.Header().Get("Retry-After"))
	}
	if got, want := ts.pasteCount(t), int64(n); got != want {
		t.Errorf("pastes stored: got %d, want %d (a refused upload stores nothing)", got, want)
	}

	// Waiting as long as Retry-After says is enough.
	ts.clock.Advance(time.Duration(retry) * time.Second)
	if rec := ts.upload(client, ""); rec.Code != http.StatusOK {
		t.Errorf("after waiting Retry-After (%d s): got status %d, want 200", retry, rec.Code)
	}

	// A client that keeps trying every second for ten minutes gets N per
	// minute: not a burst of N, then one a minute.
	accepted := 0
	for range 600 {
		ts.clock.Advance(time.Second)
		if ts.upload(client, "").Code == http.StatusOK {
			accepted++
		}
	}
	if got, want := accepted, 10*n; got < want-1 || got > want+1 {
		t.Errorf("uploads accepted in ten minutes of steady trying: got %d, want %d", got, want)
	}
}

func TestRateLimitAllowanceReturnsAfterIdle(t *testing.T) {
	const n = 3
	ts := mustServer(t, limited(n))
	const client = "198.51.100.7:40000"
	for range n {
		ts.upload(client, "")
	}
	ts.clock.Advance(time.Minute)
	for i := range n {
		if rec := ts.upload(client, ""); rec.Code != http.StatusOK {
			t.Fatalf("upload %d after a quiet minute: got status %d, want 200", i+1, rec.Code)
		}
	}
}

func TestRateLimitIsPerClient(t *testing.T) {
	ts := mustServer(t, limited(1))
	if rec := ts.upload("198.51.100.1:1000", ""); rec.Code != http.StatusOK {
		t.Fatalf("first client: got %d, want 200", rec.Code)
	}
	if rec := ts.upload("198.51.100.1:2000", ""); rec.Code != http.StatusTooManyRequests {
		t.Errorf("first client from another port: got %d, want 429", rec.Code)
	}
	if rec := ts.upload("198.51.100.2:1000", ""); rec.Code != http.StatusOK {
		t.Errorf("second client: got %d, want 200", rec.Code)
	}
	if rec := ts.upload("[2001:db8::1]:1000", ""); rec.Code != http.StatusOK {
		t.Errorf("IPv6 client: got %d, want 200", rec.Code)
	}
	if rec := ts.upload("[::ffff:198.51.100.1]:1000", ""); rec.Code != http.StatusTooManyRequests {
		t.Errorf("first client as an IPv4-mapped address: got %d, want 429", rec.Code)
	}
	// Reads are never limited.
	a := ts.mustPut(t, "/", []byte("x")) // example.com's default remote is another client
	for range 5 {
		r := req(http.MethodGet, "/"+a.ID, nil)
		r.RemoteAddr = "198.51.100.1:1000"
		if rec := ts.do(r); rec.Code != http.StatusOK {
			t.Fatalf("read by a limited client: got %d, want 200", rec.Code)
		}
	}
}

func TestRateLimitAppliesToEveryUploadKind(t *testing.T) {
	ts := mustServer(t, limited(1))
	const client = "198.51.100.9:1"
	ts.upload(client, "")
	body, ctype := multipartBody(t, part{field: "_", content: "form"})
	tests := []struct {
		desc string
		r    *http.Request
	}{
		{desc: "POST form", r: req(http.MethodPost, "/", body, "Content-Type", ctype)},
		{desc: "POST raw", r: req(http.MethodPost, "/", strings.NewReader("raw"))},
		{desc: "PUT to a path", r: req(http.MethodPut, "/file.log", strings.NewReader("raw"))},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			tt.r.RemoteAddr = client
			if rec := ts.do(tt.r); rec.Code != http.StatusTooManyRequests {
				t.Errorf("got status %d, want 429", rec.Code)
			}
		})
	}
}

func TestForgedForwardedForFromUntrustedPeersChangesNothing(t *testing.T) {
	tests := []struct {
		desc    string
		proxies []string
	}{
		{desc: "no trusted proxies"},
		{desc: "peer outside the trusted range", proxies: []string{"10.0.0.0/8"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ts := mustServer(t, limited(2, tt.proxies...))
			const peer = "203.0.113.50:1234"
			codes := ""
			for i := range 10 {
				xff := fmt.Sprintf("192.0.2.%d", i+1)
				codes += strconv.Itoa(ts.upload(peer, xff).Code) + " "
			}
			if want := "200 200 " + strings.Repeat("429 ", 8); codes != want {
				t.Errorf("rotating X-Forwarded-For: got statuses %s, want %s", codes, want)
			}
		})
	}
}

func TestTrustedProxyChainPicksTheClient(t *testing.T) {
	ts := mustServer(t, limited(1, "10.0.0.0/8", "fd00::/8"))
	tests := []struct {
		desc     string
		remote   string
		xff      string
		sameAs   string // a request that must count against the same client
		distinct string // a request that must count against another client
	}{
		{desc: "one proxy", remote: "10.0.0.1:1", xff: "203.0.113.1",
			sameAs: "203.0.113.1", distinct: "203.0.113.2"},
		{desc: "two proxies", remote: "10.0.0.1:1", xff: "203.0.113.3, 10.9.9.9",
			sameAs: "203.0.113.3", distinct: "203.0.113.4, 10.9.9.9"},
		{desc: "a forged entry before the real client counts for nothing", remote: "10.0.0.1:1", xff: "1.1.1.1, 203.0.113.5",
			sameAs: "2.2.2.2, 203.0.113.5", distinct: "1.1.1.1, 203.0.113.6"},
		{desc: "several headers", remote: "10.0.0.1:1", xff: "203.0.113.7",
			sameAs: "9.9.9.9, 203.0.113.7, 10.1.1.1", distinct: "203.0.113.8"},
		{desc: "IPv6 proxy and client", remote: "[fd00::5]:1", xff: "2001:db8::7",
			sameAs: "2001:db8::7", distinct: "2001:db8:0:1::7"},
		{desc: "an IPv6 /64 is one client", remote: "[fd00::5]:1", xff: "2001:db8:0:2::1",
			sameAs: "2001:db8:0:2:ffff:ffff:ffff:ffff", distinct: "2001:db8:0:3::1"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if rec := ts.upload(tt.remote, tt.xff); rec.Code != http.StatusOK {
				t.Fatalf("first upload: got %d, want 200", rec.Code)
			}
			if rec := ts.upload(tt.remote, tt.sameAs); rec.Code != http.StatusTooManyRequests {
				t.Errorf("X-Forwarded-For %q after %q: got %d, want 429 (same client)", tt.sameAs, tt.xff, rec.Code)
			}
			if rec := ts.upload(tt.remote, tt.distinct); rec.Code != http.StatusOK {
				t.Errorf("X-Forwarded-For %q after %q: got %d, want 200 (another client)", tt.distinct, tt.xff, rec.Code)
			}
		})
	}
}

func TestGarbageForwardedForThroughATrustedProxyNeverFails(t *testing.T) {
	for _, xff := range []string{
		"not-an-ip",
		"",
		",,,",
		"::::",
		"203.0.113.1, garbage",
		"garbage, 203.0.113.1",
		"[2001:db8::1]",
		"203.0.113.1:8080",
		"unknown",
		strings.Repeat("1.2.3.4, ", 2000),
		"\x00\xff",
	} {
		t.Run(fmt.Sprintf("%.30q", xff), func(t *testing.T) {
			ts := mustServer(t, limited(100, "10.0.0.0/8"))
			if rec := ts.upload("10.0.0.1:1", xff); rec.Code != http.StatusOK {
				t.Errorf("got status %d (%q), want 200", rec.Code, rec.Body.String())
			}
		})
	}
}

func TestIdleClientStateIsDropped(t *testing.T) {
	const n = 2
	ts := mustServer(t, limited(n))
	for i := range 100 {
		ts.upload(fmt.Sprintf("198.51.100.%d:1", i), "")
	}
	if got := ts.srv.RateLimitedClients(); got != 100 {
		t.Fatalf("clients remembered after 100 uploads: got %d, want 100", got)
	}
	// Once a client's allowance has fully returned, nothing about it needs
	// keeping: a later upload from anyone sweeps it away.
	ts.clock.Advance(time.Minute)
	ts.upload("192.0.2.200:1", "")
	if got := ts.srv.RateLimitedClients(); got > 1 {
		t.Errorf("clients remembered a minute later: got %d, want at most 1", got)
	}
	ts.clock.Advance(time.Minute)
	ts.srv.Sweep()
	if got := ts.srv.RateLimitedClients(); got != 0 {
		t.Errorf("clients remembered after Sweep: got %d, want 0", got)
	}
}

func TestRateLimitOff(t *testing.T) {
	ts := mustServer(t)
	for i := range 50 {
		if rec := ts.upload("198.51.100.7:1", ""); rec.Code != http.StatusOK {
			t.Fatalf("upload %d without a limit: got %d, want 200", i+1, rec.Code)
		}
	}
}
