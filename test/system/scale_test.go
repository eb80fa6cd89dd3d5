package system_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Litestream's defaults for DB_SYNC_INTERVAL's two settings (monitor-interval
// and sync-interval) when the environment leaves it empty, as the image does.
const shippedSyncInterval = time.Second

// minScaledSync keeps a scaled DB_SYNC_INTERVAL from making litestream poll
// the WAL in a busy loop; uploads in the scaled runs stay farther apart.
const minScaledSync = 10 * time.Millisecond

// unscaledKeys are the durations of litestream.yml that bound a stop instead
// of scheduling requests: a scaled run keeps them as shipped.
var unscaledKeys = map[string]bool{
	"shutdown-sync-timeout":  true,
	"shutdown-timeout":       true,
	"shutdown-sync-interval": true,
}

var (
	sectionLine  = regexp.MustCompile(`^([a-z0-9-]+):\s*(#.*)?$`)
	durationLine = regexp.MustCompile(`^(\s*)(- )?([a-z0-9-]+):\s*([0-9][0-9a-zµ.]*)\s*(#.*)?$`)
)

// scaledLitestream is the shipped litestream.yml with every Litestream timer
// divided by factor, as a layer over the image, and the environment that
// scales DB_SYNC_INTERVAL (sync, the shipped 1 s if zero) the same way: one
// scaled day lasts 24 h / factor. It also returns the scaled timers by path
// ("levels[0].interval", "snapshot.retention", "dbs[0].checkpoint-interval").
func scaledLitestream(t *testing.T, ts *toolset, factor float64, sync time.Duration) (layer string, env []string, timers map[string]time.Duration) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ts.repo, "litestream.yml"))
	if err != nil {
		t.Fatal(err)
	}
	timers = map[string]time.Duration{}
	section, item := "", -1
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if m := sectionLine.FindStringSubmatch(line); m != nil {
			section, item = m[1], -1
		}
		m := durationLine.FindStringSubmatch(line)
		if m != nil && m[2] != "" {
			item++
		} else if m == nil && strings.HasPrefix(strings.TrimSpace(line), "- ") {
			item++
		}
		if m == nil || unscaledKeys[m[3]] {
			out = append(out, line)
			continue
		}
		d, err := time.ParseDuration(m[4])
		if err != nil {
			t.Fatalf("litestream.yml: %q: %v", line, err)
		}
		path := m[3]
		if m[1] != "" || m[2] != "" {
			path = section
			if item >= 0 {
				path += fmt.Sprintf("[%d]", item)
			}
			path += "." + m[3]
		}
		s := scaleDuration(d, factor)
		timers[path] = s
		out = append(out, m[1]+m[2]+m[3]+": "+s.String())
	}
	if len(timers) == 0 {
		t.Fatal("litestream.yml has no timer to scale")
	}
	layer = litestreamConfigLayer(t, strings.Join(out, "\n"))
	if sync == 0 {
		sync = shippedSyncInterval
	}
	s := max(scaleDuration(sync, factor), minScaledSync)
	return layer, []string{"DB_SYNC_INTERVAL=" + s.String()}, timers
}

// litestreamConfigLayer returns a layer whose /etc/litestream.yml is cfg.
func litestreamConfigLayer(t *testing.T, cfg string) string {
	t.Helper()
	layer := t.TempDir()
	if err := os.MkdirAll(filepath.Join(layer, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(layer, "etc", "litestream.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return layer
}

func scaleDuration(d time.Duration, factor float64) time.Duration {
	return time.Duration(float64(d) / factor)
}

// shippedTimer is one timer of the shipped litestream.yml by path (see
// scaledLitestream): the tests derive their windows and bounds from it.
func shippedTimer(t *testing.T, ts *toolset, path string) time.Duration {
	t.Helper()
	_, _, timers := scaledLitestream(t, ts, 1, 0)
	d, ok := timers[path]
	if !ok {
		t.Fatalf("litestream.yml has no timer %s (it has %v)", path, timers)
	}
	return d
}

// describeTimers lists timers by path, sorted.
func describeTimers(timers map[string]time.Duration) string {
	var parts []string
	for k, v := range timers {
		parts = append(parts, k+" "+v.String())
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// litestreamKeys are the litestream.yml keys Litestream v0.5.18 reads (the
// yaml tags of its Config, DBConfig, ReplicaConfig and their parts, for the
// S3 replica), as paths: "dbs[].replica.url". It reads no others and says
// nothing about a key it does not know.
var litestreamKeys = strings.Fields(`
	addr mcp-addr exec shutdown-sync-timeout shutdown-sync-interval shutdown-timeout
	socket socket.enabled socket.path socket.permissions
	logging logging.level logging.type logging.stderr logging.source
	levels levels[].interval l0-retention l0-retention-check-interval verify-compaction
	snapshot snapshot.interval snapshot.retention validation validation.interval retention retention.enabled
	heartbeat-url heartbeat-interval
	dbs dbs[].path dbs[].meta-path dbs[].monitor-interval dbs[].checkpoint-interval dbs[].busy-timeout
	dbs[].min-checkpoint-page-count dbs[].truncate-page-n dbs[].max-sync-wal-bytes
	dbs[].snapshot dbs[].snapshot.interval dbs[].snapshot.retention
	dbs[].replica dbs[].replica.type dbs[].replica.url dbs[].replica.path dbs[].replica.bucket
	dbs[].replica.endpoint dbs[].replica.region dbs[].replica.force-path-style
	dbs[].replica.access-key-id dbs[].replica.secret-access-key dbs[].replica.sync-interval
	dbs[].replica.validation-interval dbs[].replica.max-sync-ltx-files dbs[].replica.auto-recover
	dbs[].replica.sign-payload dbs[].replica.require-content-md5 dbs[].replica.put-object-content-md5
	dbs[].replica.skip-verify dbs[].replica.storage-class dbs[].replica.part-size dbs[].replica.concurrency
	dbs[].replica.sse-customer-algorithm dbs[].replica.sse-customer-key dbs[].replica.sse-customer-key-path
	dbs[].replica.sse-kms-key-id
`)

// yamlKeyPaths lists the key paths of a block-style YAML file such as
// litestream.yml: nested keys joined by dots, list items as "[]".
func yamlKeyPaths(text string) []string {
	type entry struct {
		indent int
		path   string
	}
	var stack []entry
	var paths []string
	push := func(indent int, name string) {
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		path := name
		if len(stack) > 0 {
			parent := stack[len(stack)-1].path
			if name == "[]" {
				path = parent + name
			} else {
				path = parent + "." + name
			}
		}
		stack = append(stack, entry{indent, path})
		if name != "[]" {
			paths = append(paths, path)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		content := strings.TrimLeft(line, " ")
		if content == "" || strings.HasPrefix(content, "#") {
			continue
		}
		indent := len(line) - len(content)
		if strings.HasPrefix(content, "- ") {
			push(indent, "[]")
			indent, content = indent+2, content[2:]
		}
		if key, _, ok := strings.Cut(content, ":"); ok {
			push(indent, key)
		}
	}
	return paths
}

// Litestream ignores unknown keys and typos silently: every key of the
// shipped litestream.yml must be one that v0.5.18 reads.
func TestShippedLitestreamKeysAreKnown(t *testing.T) {
	b, err := os.ReadFile("../../litestream.yml")
	if err != nil {
		t.Fatal(err)
	}
	paths := yamlKeyPaths(string(b))
	if len(paths) < 10 {
		t.Fatalf("only %d keys found in litestream.yml: %v", len(paths), paths)
	}
	for _, p := range paths {
		if !slices.Contains(litestreamKeys, p) {
			t.Errorf("litestream.yml: Litestream v0.5.18 does not read %q and would ignore it silently", p)
		}
	}
	if got := yamlKeyPaths("a:\n  - b: 1\n    c: 2\nd: 3\n"); !slices.Equal(got, []string{"a", "a[].b", "a[].c", "d"}) {
		t.Errorf("yamlKeyPaths: got %v", got)
	}
}
