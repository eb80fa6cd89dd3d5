package main

import (
	"errors"
	"flag"
	"io"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/paste"
)

func mustParse(t *testing.T, args []string, env map[string]string) config {
	t.Helper()
	c, err := parseConfig(args, envOf(env), io.Discard)
	if err != nil {
		t.Fatalf("parseConfig(%q, %v): %v", args, env, err)
	}
	return c
}

func TestConfigDefaults(t *testing.T) {
	c := mustParse(t, nil, nil)
	checks := []struct {
		desc      string
		got, want any
	}{
		{"port", c.port, "3001"},
		{"database", c.dbPath, "data/litepaste.db"},
		{"docs shown", c.showDocs, true},
		{"no rate limit", c.perMinuteLimit, 0},
		{"2 MiB", c.maxSizeMiB, int64(2)},
		{"no trusted proxies", len(c.trustedProxies), 0},
		{"pastes never expire", c.expiry, paste.Policy{Default: paste.Never, Max: paste.Never}},
		{"metrics off", c.metricsAddr, ""},
		{"no readiness fd", c.readyFD, 0},
		{"sweep every minute", c.sweepInterval, time.Minute},
		{"footer empty", c.footer, ""},
		{"serve, not migrate only", c.migrateOnly, false},
		{"upload idle timeout 30 s", c.uploadIdle, 30 * time.Second},
		{"upload minimum rate 1 KiB/s", c.uploadMinKiB, int64(1)},
		{"4 uploads per client at once", c.perClient, 4},
		{"the writer, not a replica", c.primary, (*url.URL)(nil)},
		{"writes retried for 5 s", c.writeRetry, 5 * time.Second},
		{"follower lists the bucket every minute", c.followInterval, time.Minute},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s: got %v, want %v", ch.desc, ch.got, ch.want)
		}
	}
}

func TestConfigFromEnvAndFlags(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		desc string
		env  map[string]string
		args []string
		get  func(config) any
		want any
	}{
		{"PORT", map[string]string{"PORT": "8080"}, nil, func(c config) any { return c.port }, "8080"},
		{"-port", nil, []string{"-port", "9090"}, func(c config) any { return c.port }, "9090"},
		{"flag wins over env", map[string]string{"PORT": "8080"}, []string{"-port=9090"}, func(c config) any { return c.port }, "9090"},
		{"DB_PATH", map[string]string{"DB_PATH": "/data/x.db"}, nil, func(c config) any { return c.dbPath }, "/data/x.db"},
		{"-db wins", map[string]string{"DB_PATH": "/data/x.db"}, []string{"-db", "/other.db"}, func(c config) any { return c.dbPath }, "/other.db"},
		{"SITE_TITLE", map[string]string{"SITE_TITLE": "Logs"}, nil, func(c config) any { return c.title }, "Logs"},
		{"-title wins", map[string]string{"SITE_TITLE": "Logs"}, []string{"-title", "Other"}, func(c config) any { return c.title }, "Other"},
		{"SITE_SUBTITLE", map[string]string{"SITE_SUBTITLE": "sub"}, nil, func(c config) any { return c.subtitle }, "sub"},
		{"SITE_FOOTER", map[string]string{"SITE_FOOTER": "<b>f</b>"}, nil, func(c config) any { return c.footer }, "<b>f</b>"},
		{"SITE_SHOW_DOCUMENTATION", map[string]string{"SITE_SHOW_DOCUMENTATION": "false"}, nil, func(c config) any { return c.showDocs }, false},
		{"-showdocs wins", map[string]string{"SITE_SHOW_DOCUMENTATION": "false"}, []string{"-showdocs"}, func(c config) any { return c.showDocs }, true},
		{"-showdocs=false", nil, []string{"-showdocs=false"}, func(c config) any { return c.showDocs }, false},
		{"PER_MINUTE_LIMIT", map[string]string{"PER_MINUTE_LIMIT": "10"}, nil, func(c config) any { return c.perMinuteLimit }, 10},
		{"-perminutelimit wins", map[string]string{"PER_MINUTE_LIMIT": "10"}, []string{"-perminutelimit", "3"}, func(c config) any { return c.perMinuteLimit }, 3},
		{"MAX_SIZE_MB", map[string]string{"MAX_SIZE_MB": "100"}, nil, func(c config) any { return c.maxSizeMiB }, int64(100)},
		{"-maxsize wins", map[string]string{"MAX_SIZE_MB": "100"}, []string{"-maxsize", "5"}, func(c config) any { return c.maxSizeMiB }, int64(5)},
		{"UPLOAD_MEMORY_MB", map[string]string{"UPLOAD_MEMORY_MB": "128"}, nil, func(c config) any { return c.uploadMemMiB }, int64(128)},
		{"UPLOAD_IDLE_TIMEOUT", map[string]string{"UPLOAD_IDLE_TIMEOUT": "1m"}, nil, func(c config) any { return c.uploadIdle }, time.Minute},
		{"-uploadidle wins", map[string]string{"UPLOAD_IDLE_TIMEOUT": "1m"}, []string{"-uploadidle", "0"}, func(c config) any { return c.uploadIdle }, time.Duration(0)},
		{"UPLOAD_MIN_RATE_KB", map[string]string{"UPLOAD_MIN_RATE_KB": "0"}, nil, func(c config) any { return c.uploadMinKiB }, int64(0)},
		{"UPLOADS_PER_CLIENT", map[string]string{"UPLOADS_PER_CLIENT": "20"}, nil, func(c config) any { return c.perClient }, 20},
		{"METRICS_ADDR", map[string]string{"METRICS_ADDR": "127.0.0.1:9090"}, nil, func(c config) any { return c.metricsAddr }, "127.0.0.1:9090"},
		{"READY_FD", map[string]string{"READY_FD": "3"}, nil, func(c config) any { return c.readyFD }, 3},
		{"-readyfd wins", map[string]string{"READY_FD": "3"}, []string{"-readyfd", "5"}, func(c config) any { return c.readyFD }, 5},
		{"SWEEP_INTERVAL", map[string]string{"SWEEP_INTERVAL": "10s"}, nil, func(c config) any { return c.sweepInterval }, 10 * time.Second},
		{"DEFAULT_EXPIRY", map[string]string{"DEFAULT_EXPIRY": "1d"}, nil, func(c config) any { return c.expiry },
			paste.Policy{Default: day, Max: paste.Never}},
		{"MAX_EXPIRY", map[string]string{"DEFAULT_EXPIRY": "1d", "MAX_EXPIRY": "30d"}, nil, func(c config) any { return c.expiry },
			paste.Policy{Default: day, Max: 30 * day}},
		{"expiry flags win", map[string]string{"DEFAULT_EXPIRY": "1d", "MAX_EXPIRY": "30d"}, []string{"-defaultexpiry", "1h", "-maxexpiry", "1w"},
			func(c config) any { return c.expiry }, paste.Policy{Default: time.Hour, Max: 7 * day}},
		{"TRUSTED_PROXIES", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7,::1 , fd00::/8"}, nil,
			func(c config) any { return c.trustedProxies }, []netip.Prefix{
				netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"),
				netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("fd00::/8")}},
		{"proxy prefixes are masked", map[string]string{"TRUSTED_PROXIES": "10.1.2.3/8"}, nil,
			func(c config) any { return c.trustedProxies }, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		{"mapped IPv4 proxy", map[string]string{"TRUSTED_PROXIES": "::ffff:10.0.0.1"}, nil,
			func(c config) any { return c.trustedProxies }, []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}},
		{"-migrate", nil, []string{"-migrate"}, func(c config) any { return c.migrateOnly }, true},
		{"PRIMARY_URL", map[string]string{"PRIMARY_URL": "http://writer:3001"}, nil,
			func(c config) any { return c.primary.String() }, "http://writer:3001"},
		{"-primary wins", map[string]string{"PRIMARY_URL": "http://writer:3001"}, []string{"-primary", "https://u:p@w.internal/base"},
			func(c config) any { return c.primary.Redacted() }, "https://u:xxxxx@w.internal/base"},
		{"WRITE_RETRY", map[string]string{"WRITE_RETRY": "2s"}, nil, func(c config) any { return c.writeRetry }, 2 * time.Second},
		{"-writeretry 0", nil, []string{"-writeretry", "0"}, func(c config) any { return c.writeRetry }, time.Duration(0)},
		{"FOLLOW_INTERVAL", map[string]string{"FOLLOW_INTERVAL": "1s"}, nil, func(c config) any { return c.followInterval }, time.Second},
		{"-followinterval wins", map[string]string{"FOLLOW_INTERVAL": "1s"}, []string{"-followinterval", "1m"},
			func(c config) any { return c.followInterval }, time.Minute},
		// LogPaste's LP_BEHIND_PROXY: any value, even "false", turns it on.
		{"LP_BEHIND_PROXY trusts local peers", map[string]string{"LP_BEHIND_PROXY": "false"}, nil,
			func(c config) any { return c.trustedProxies }, localNetworks()},
		{"TRUSTED_PROXIES wins over LP_BEHIND_PROXY", map[string]string{"LP_BEHIND_PROXY": "y", "TRUSTED_PROXIES": "10.1.0.0/16"}, nil,
			func(c config) any { return c.trustedProxies }, []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := tt.get(mustParse(t, tt.args, tt.env)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	tests := []struct {
		desc string
		env  map[string]string
		args []string
		want string
	}{
		{desc: "port not a number", env: map[string]string{"PORT": "http"}, want: "PORT"},
		{desc: "port too large", env: map[string]string{"PORT": "70000"}, want: "PORT"},
		{desc: "port negative", args: []string{"-port", "-1"}, want: "-port"},
		{desc: "size not a number", env: map[string]string{"MAX_SIZE_MB": "2MB"}, want: "MAX_SIZE_MB"},
		{desc: "size zero", env: map[string]string{"MAX_SIZE_MB": "0"}, want: "MAX_SIZE_MB"},
		{desc: "size flag not a number", args: []string{"-maxsize", "big"}, want: "-maxsize"},
		{desc: "limit negative", env: map[string]string{"PER_MINUTE_LIMIT": "-5"}, want: "PER_MINUTE_LIMIT"},
		{desc: "limit not a number", env: map[string]string{"PER_MINUTE_LIMIT": "ten"}, want: "PER_MINUTE_LIMIT"},
		{desc: "docs not a boolean", env: map[string]string{"SITE_SHOW_DOCUMENTATION": "maybe"}, want: "SITE_SHOW_DOCUMENTATION"},
		{desc: "proxy not an address", env: map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"}, want: "TRUSTED_PROXIES"},
		{desc: "proxy prefix too long", env: map[string]string{"TRUSTED_PROXIES": "10.0.0.0/33"}, want: "TRUSTED_PROXIES"},
		{desc: "default expiry nonsense", env: map[string]string{"DEFAULT_EXPIRY": "tomorrow"}, want: "DEFAULT_EXPIRY"},
		{desc: "max expiry negative", env: map[string]string{"MAX_EXPIRY": "-1h"}, want: "MAX_EXPIRY"},
		{desc: "default longer than max", env: map[string]string{"DEFAULT_EXPIRY": "1w", "MAX_EXPIRY": "1d"}, want: "MAX_EXPIRY"},
		{desc: "default never under a max", env: map[string]string{"DEFAULT_EXPIRY": "never", "MAX_EXPIRY": "1d"}, want: "DEFAULT_EXPIRY"},
		{desc: "sweep zero", env: map[string]string{"SWEEP_INTERVAL": "0s"}, want: "SWEEP_INTERVAL"},
		{desc: "sweep nonsense", env: map[string]string{"SWEEP_INTERVAL": "often"}, want: "SWEEP_INTERVAL"},
		{desc: "ready fd not a number", env: map[string]string{"READY_FD": "stdout"}, want: "READY_FD"},
		{desc: "upload memory not a number", env: map[string]string{"UPLOAD_MEMORY_MB": "x"}, want: "UPLOAD_MEMORY_MB"},
		{desc: "upload idle nonsense", env: map[string]string{"UPLOAD_IDLE_TIMEOUT": "30"}, want: "UPLOAD_IDLE_TIMEOUT"},
		{desc: "upload rate negative", env: map[string]string{"UPLOAD_MIN_RATE_KB": "-1"}, want: "UPLOAD_MIN_RATE_KB"},
		{desc: "uploads per client negative", args: []string{"-uploadsperclient", "-2"}, want: "UPLOADS_PER_CLIENT"},
		{desc: "primary without a scheme", env: map[string]string{"PRIMARY_URL": "writer:3001"}, want: "PRIMARY_URL"},
		{desc: "primary not http", env: map[string]string{"PRIMARY_URL": "ftp://writer"}, want: "PRIMARY_URL"},
		{desc: "primary without a host", args: []string{"-primary", "http:///x"}, want: "-primary"},
		{desc: "primary with a query", env: map[string]string{"PRIMARY_URL": "http://writer/?a=b"}, want: "PRIMARY_URL"},
		{desc: "write retry nonsense", env: map[string]string{"WRITE_RETRY": "5"}, want: "WRITE_RETRY"},
		{desc: "write retry negative", args: []string{"-writeretry", "-1s"}, want: "-writeretry"},
		{desc: "follow interval zero", env: map[string]string{"FOLLOW_INTERVAL": "0s"}, want: "FOLLOW_INTERVAL"},
		{desc: "replica told to migrate", env: map[string]string{"PRIMARY_URL": "http://writer:3001"}, args: []string{"-migrate"}, want: "-migrate"},
		{desc: "unknown flag", args: []string{"-nope"}, want: "nope"},
		{desc: "stray argument", args: []string{"serve"}, want: `"serve"`},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			_, err := parseConfig(tt.args, envOf(tt.env), io.Discard)
			if err == nil {
				t.Fatalf("got no error, want one naming %s", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line", err)
			}
		})
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var out strings.Builder
	_, err := parseConfig([]string{"-h"}, envOf(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: got %v, want flag.ErrHelp", err)
	}
	help := out.String()
	settings := []struct{ flag, env string }{
		{"port", "PORT"},
		{"db", "DB_PATH"},
		{"title", "SITE_TITLE"},
		{"subtitle", "SITE_SUBTITLE"},
		{"footer", "SITE_FOOTER"},
		{"showdocs", "SITE_SHOW_DOCUMENTATION"},
		{"perminutelimit", "PER_MINUTE_LIMIT"},
		{"maxsize", "MAX_SIZE_MB"},
		{"uploadmemory", "UPLOAD_MEMORY_MB"},
		{"uploadidle", "UPLOAD_IDLE_TIMEOUT"},
		{"uploadminrate", "UPLOAD_MIN_RATE_KB"},
		{"uploadsperclient", "UPLOADS_PER_CLIENT"},
		{"trustedproxies", "TRUSTED_PROXIES"},
		{"behindproxy", "LP_BEHIND_PROXY"},
		{"defaultexpiry", "DEFAULT_EXPIRY"},
		{"maxexpiry", "MAX_EXPIRY"},
		{"metricsaddr", "METRICS_ADDR"},
		{"readyfd", "READY_FD"},
		{"sweepinterval", "SWEEP_INTERVAL"},
		{"primary", "PRIMARY_URL"},
		{"writeretry", "WRITE_RETRY"},
		{"followinterval", "FOLLOW_INTERVAL"},
	}
	for _, s := range settings {
		if !strings.Contains(help, "-"+s.flag+" (env "+s.env+",") {
			t.Errorf("-h does not list -%s with %s", s.flag, s.env)
		}
	}
	if !strings.Contains(help, "-migrate") {
		t.Error("-h does not list -migrate")
	}
	for _, want := range []string{`default "3001"`, `default "data/litepaste.db"`, `default "2"`, "HTML", "escaped"} {
		if !strings.Contains(help, want) {
			t.Errorf("-h lacks %q", want)
		}
	}
}
