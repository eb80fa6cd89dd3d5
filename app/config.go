package main

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/litepaste/litepaste/app/paste"
)

// config is every setting, read from flags, each with an environment variable
// as its default (so a container sets env, a developer types flags).
type config struct {
	port           string
	dbPath         string
	title          string
	subtitle       string
	footer         string
	showDocs       bool
	perMinuteLimit int
	maxSizeMiB     int64
	uploadMemMiB   int64
	uploadIdle     time.Duration
	uploadMinKiB   int64
	perClient      int
	trustedProxies []netip.Prefix
	expiry         paste.Policy
	metricsAddr    string
	readyFD        int
	sweepInterval  time.Duration
	migrateOnly    bool
	// execPath, with -exec, is the program to run in litepaste's place;
	// flagEnv holds each flag given as NAME=value of its variable.
	execPath    string
	flagEnv     []string
	adminSocket string // "" when off
	// Litestream's control socket and loopback metrics URL ("" = not
	// watched, not forwarded), and the lag from which replication counts as
	// stalled.
	litestreamSocket  string
	litestreamMetrics string
	replicationStall  time.Duration
	// primary, when set, makes this server a read replica of the writer at
	// that URL; writeRetry is how long it retries a write the writer did not
	// answer; followInterval is how often its follower lists the bucket.
	primary        *url.URL
	writeRetry     time.Duration
	followInterval time.Duration
	// describe, with -describe, prints what describe says instead of
	// serving; envVars and flagNames are what it lists.
	describe  bool
	envVars   []string
	flagNames []string
}

// defaultDBPath is DB_PATH when neither the flag nor the variable sets it.
const defaultDBPath = "data/litepaste.db"

// envFlags registers flags whose defaults come from the environment; it
// remembers each flag's variable for -h.
type envFlags struct {
	fs     *flag.FlagSet
	getenv func(string) string
	envOf  map[string]string
	errs   []error
}

func (f *envFlags) env(name, envVar, def string) string {
	f.envOf[name] = envVar
	if v, ok := f.lookup(envVar); ok {
		return v
	}
	return def
}

func (f *envFlags) lookup(envVar string) (string, bool) {
	v := f.getenv(envVar)
	return v, v != ""
}

func (f *envFlags) String(p *string, name, envVar, def, usage string) {
	f.fs.StringVar(p, name, f.env(name, envVar, def), usage)
}

func (f *envFlags) Bool(p *bool, name, envVar string, def bool, usage string) {
	v, err := strconv.ParseBool(f.env(name, envVar, strconv.FormatBool(def)))
	if err != nil {
		f.errs = append(f.errs, fmt.Errorf("%s: want true or false", envVar))
	}
	f.fs.BoolVar(p, name, v, usage)
}

func (f *envFlags) Int(p *int, name, envVar string, def int, usage string) {
	v, err := strconv.Atoi(f.env(name, envVar, strconv.Itoa(def)))
	if err != nil {
		f.errs = append(f.errs, fmt.Errorf("%s: want a whole number", envVar))
	}
	f.fs.IntVar(p, name, v, usage)
}

func (f *envFlags) Int64(p *int64, name, envVar string, def int64, usage string) {
	v, err := strconv.ParseInt(f.env(name, envVar, strconv.FormatInt(def, 10)), 10, 64)
	if err != nil {
		f.errs = append(f.errs, fmt.Errorf("%s: want a whole number", envVar))
	}
	f.fs.Int64Var(p, name, v, usage)
}

func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("litepaste", flag.ContinueOnError)
	fs.SetOutput(out)
	f := &envFlags{fs: fs, getenv: getenv, envOf: map[string]string{}}
	var proxies, behindProxy, defExpiry, maxExpiry string

	f.String(&c.port, "port", "PORT", "3001", "TCP port to listen on (0 picks a free one)")
	f.String(&c.dbPath, "db", "DB_PATH", defaultDBPath, "SQLite database file; its directory is created")
	f.String(&c.title, "title", "SITE_TITLE", "litepaste", "title of the upload page (plain text, escaped)")
	f.String(&c.subtitle, "subtitle", "SITE_SUBTITLE", "A minimalist paste service for sharing logs", "subtitle of the upload page (plain text, escaped)")
	f.String(&c.footer, "footer", "SITE_FOOTER", "", "footer of the upload page: HTML, shown as given (links and formatting; scripts never run)")
	f.Bool(&c.showDocs, "showdocs", "SITE_SHOW_DOCUMENTATION", true, "show curl and JavaScript usage on the upload page")
	f.Int(&c.perMinuteLimit, "perminutelimit", "PER_MINUTE_LIMIT", 0, "uploads allowed per client per minute, sustained (0 = no limit)")
	f.Int64(&c.maxSizeMiB, "maxsize", "MAX_SIZE_MB", 2, "largest accepted paste, in MiB")
	f.Int64(&c.uploadMemMiB, "uploadmemory", "UPLOAD_MEMORY_MB", 64, "upload bodies held in memory at once, in MiB; more uploads wait, then get 503")
	var idle string
	f.String(&idle, "uploadidle", "UPLOAD_IDLE_TIMEOUT", "30s", "an upload body from which nothing arrives for this long is cut off (408)")
	f.Int64(&c.uploadMinKiB, "uploadminrate", "UPLOAD_MIN_RATE_KB", 1, "slowest average an upload body may arrive at, in KiB/s, after 5 s (0 = no minimum)")
	f.Int(&c.perClient, "uploadsperclient", "UPLOADS_PER_CLIENT", 4, "upload bodies one client (address, IPv6 /64) may send at once; more wait 2 s, then 429 (0 = no limit)")
	f.String(&proxies, "trustedproxies", "TRUSTED_PROXIES", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For/-Proto/-Host are believed")
	f.String(&behindProxy, "behindproxy", "LP_BEHIND_PROXY", "", "any value: behind a reverse proxy on a loopback, private or link-local address (LogPaste's setting; TRUSTED_PROXIES, when set, wins)")
	f.String(&defExpiry, "defaultexpiry", "DEFAULT_EXPIRY", "never", "lifetime of a paste when the upload does not ask (e.g. 1h, 1d, 1w, 30d, never)")
	f.String(&maxExpiry, "maxexpiry", "MAX_EXPIRY", "never", "longest lifetime an upload may ask for (never = no limit)")
	f.String(&c.metricsAddr, "metricsaddr", "METRICS_ADDR", "", "address for Prometheus /metrics, e.g. 127.0.0.1:9091 (empty = off; in the container litestream has 127.0.0.1:9090)")
	f.Int(&c.readyFD, "readyfd", "READY_FD", 0, "file descriptor to write a newline to once listening (s6 notification-fd; 0 = off)")
	fs.BoolVar(&c.migrateOnly, "migrate", false, "create or upgrade the database at DB_PATH (an older litepaste schema or a LogPaste database), then exit (the container's restore step uses it)")
	fs.BoolVar(&c.describe, describeFlag, false, "print the routes, variables and flags as JSON, then exit (for the repository's checks)")
	fs.StringVar(&c.execPath, "exec", "", "check the other flags and settings, then run this program in litepaste's place with each flag given as its environment variable (the image's entrypoint: flags after the image name reach every step)")
	var adminSocket string
	f.String(&adminSocket, "adminsocket", "ADMIN_SOCKET", "", "Unix socket (this user only) for operator commands such as \"litepaste delete ID\"; empty = DB_PATH + \"-admin.sock\", off = none")
	var sweep, stall string
	f.String(&sweep, "sweepinterval", "SWEEP_INTERVAL", "1m", "how often expired pastes are deleted from the database")
	f.String(&c.litestreamSocket, "litestreamsocket", "LITESTREAM_SOCKET", "", "Litestream's control socket: replication lag in the metrics, stalls in the log (empty = off)")
	f.String(&c.litestreamMetrics, "litestreammetrics", "LITESTREAM_METRICS_URL", "", "Litestream's own /metrics URL on loopback, forwarded on the metrics address (empty = off)")
	f.String(&stall, "replicationstall", "REPLICATION_STALL_AFTER", "1m", "replication counts as stalled when no sync to the bucket succeeded for this long")
	var primary, writeRetry, follow string
	f.String(&primary, "primary", "PRIMARY_URL", "", "the writer's URL, e.g. http://litepaste-writer:3001: this server is then a read replica serving DB_PATH read-only as its follower keeps it, and passes writes to the writer (empty = this is the writer)")
	f.String(&writeRetry, "writeretry", "WRITE_RETRY", "5s", "a replica retries a write the writer does not answer for this long, then answers 503")
	f.String(&follow, "followinterval", "FOLLOW_INTERVAL", defaultFollowInterval, "how often a replica's follower (litestream restore -f) lists the bucket for changes")

	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: litepaste [flags]\n       litepaste delete [-db PATH] [-adminsocket PATH] ID...   (take pastes down on the running server)\n\nEvery flag can also be set by the environment variable shown; a flag wins over its variable.\n\n")
		fs.VisitAll(func(fl *flag.Flag) {
			if fl.Name == describeFlag {
				return // for the repository's checks, not for operators
			}
			if env, ok := f.envOf[fl.Name]; ok {
				fmt.Fprintf(out, "  -%s (env %s, default %q)\n    \t%s\n", fl.Name, env, fl.DefValue, fl.Usage)
				return
			}
			fmt.Fprintf(out, "  -%s\n    \t%s\n", fl.Name, fl.Usage)
		})
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if len(f.errs) > 0 {
		return c, f.errs[0]
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, env := range f.envOf {
		c.envVars = append(c.envVars, env)
	}
	fs.VisitAll(func(fl *flag.Flag) { c.flagNames = append(c.flagNames, fl.Name) })
	if c.execPath != "" {
		var noEnv string
		fs.Visit(func(fl *flag.Flag) {
			if env, ok := f.envOf[fl.Name]; ok {
				c.flagEnv = append(c.flagEnv, env+"="+fl.Value.String())
			} else if fl.Name != "exec" {
				noEnv = fl.Name
			}
		})
		if noEnv != "" {
			return c, fmt.Errorf("-%s cannot be handed on by -exec (it has no environment variable)", noEnv)
		}
		// The container's follower reads FOLLOW_INTERVAL too: it gets this
		// value, the default included, so the default lives here alone.
		if !slices.ContainsFunc(c.flagEnv, func(kv string) bool { return strings.HasPrefix(kv, "FOLLOW_INTERVAL=") }) {
			c.flagEnv = append(c.flagEnv, "FOLLOW_INTERVAL="+follow)
		}
	}
	if _, err := strconv.ParseUint(c.port, 10, 16); err != nil {
		return c, fmt.Errorf("PORT/-port %q: want a number from 0 to 65535", c.port)
	}
	var err error
	if c.maxSizeMiB < 1 {
		return c, fmt.Errorf("MAX_SIZE_MB/-maxsize: want at least 1")
	}
	if c.uploadIdle, err = time.ParseDuration(idle); err != nil || c.uploadIdle < 0 {
		return c, fmt.Errorf("UPLOAD_IDLE_TIMEOUT/-uploadidle %q: want a duration such as 30s (0 = none)", idle)
	}
	if c.uploadMinKiB < 0 {
		return c, fmt.Errorf("UPLOAD_MIN_RATE_KB/-uploadminrate: want 0 or more")
	}
	if c.perClient < 0 {
		return c, fmt.Errorf("UPLOADS_PER_CLIENT/-uploadsperclient: want 0 or more")
	}
	if c.perMinuteLimit < 0 {
		return c, fmt.Errorf("PER_MINUTE_LIMIT/-perminutelimit: want 0 or more")
	}
	if c.trustedProxies, err = parsePrefixes(proxies); err != nil {
		return c, fmt.Errorf("TRUSTED_PROXIES/-trustedproxies: %w", err)
	}
	if len(c.trustedProxies) == 0 && behindProxy != "" {
		c.trustedProxies = localNetworks()
	}
	if c.expiry.Default, err = paste.ParseLifetime(defExpiry); err != nil {
		return c, fmt.Errorf("DEFAULT_EXPIRY/-defaultexpiry %q: want e.g. 1h, 1d, 1w, 30d or never", defExpiry)
	}
	if c.expiry.Max, err = paste.ParseLifetime(maxExpiry); err != nil {
		return c, fmt.Errorf("MAX_EXPIRY/-maxexpiry %q: want e.g. 1h, 1d, 1w, 30d or never", maxExpiry)
	}
	if c.expiry.Max != paste.Never && (c.expiry.Default == paste.Never || c.expiry.Default > c.expiry.Max) {
		return c, fmt.Errorf("DEFAULT_EXPIRY must not be longer than MAX_EXPIRY")
	}
	c.adminSocket = adminSocketPath(c.dbPath, adminSocket)
	if c.sweepInterval, err = time.ParseDuration(sweep); err != nil || c.sweepInterval <= 0 {
		return c, fmt.Errorf("SWEEP_INTERVAL/-sweepinterval %q: want a positive duration", sweep)
	}
	if c.replicationStall, err = time.ParseDuration(stall); err != nil || c.replicationStall <= 0 {
		return c, fmt.Errorf("REPLICATION_STALL_AFTER/-replicationstall %q: want a positive duration", stall)
	}
	if c.primary, err = parsePrimary(primary); err != nil {
		return c, fmt.Errorf("PRIMARY_URL/-primary: %w", err)
	}
	if c.primary != nil && c.migrateOnly {
		return c, fmt.Errorf("-migrate: a read replica (PRIMARY_URL set) never changes its copy: run it on the writer")
	}
	if c.writeRetry, err = time.ParseDuration(writeRetry); err != nil || c.writeRetry < 0 {
		return c, fmt.Errorf("WRITE_RETRY/-writeretry %q: want a duration such as 5s (0 = no retry)", writeRetry)
	}
	if c.followInterval, err = time.ParseDuration(follow); err != nil || c.followInterval <= 0 {
		return c, fmt.Errorf("FOLLOW_INTERVAL/-followinterval %q: want a positive duration such as 1m", follow)
	}
	return c, nil
}

// defaultFollowInterval is FOLLOW_INTERVAL unless set: each follower lists
// the bucket once per interval, so the interval sets what a replica costs
// (docs/replicas.md) and how long a deleted paste stays on replicas;
// freshness comes from passing unseen paste numbers to the writer, not from
// a short interval.
const defaultFollowInterval = "1m"

// parsePrimary reads the writer's URL: http or https, a host, nothing after
// the path. Empty is no writer: this server is the writer.
func parsePrimary(s string) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("want the writer's http:// or https:// URL, such as http://litepaste-writer:3001")
	}
	return u, nil
}

// localNetworks are the peers LP_BEHIND_PROXY trusts: LogPaste believed
// forwarded headers from anyone, but a platform's proxy reaches the
// container from loopback, a private range or a link-local address.
func localNetworks() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12",
		"192.168.0.0/16", "fc00::/7", "169.254.0.0/16", "fe80::/10"} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// parsePrefixes reads "10.0.0.0/8, 192.168.1.7" (a bare address is a /32 or /128).
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or CIDR", part)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR", part)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
