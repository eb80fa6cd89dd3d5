package deploytest_test

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/litepaste/litepaste/test/kit"
	"sigs.k8s.io/yaml"
)

// image is what the deploy material has to agree with, read from the files
// that build the image and the server, never restated by hand.
type image struct {
	stage                   // the Dockerfile's final stage
	dataDir   string        // directory of DB_PATH
	routes    set           // GET paths the server registers
	reads     set           // environment names the image reads
	stopNeeds time.Duration // upper bound of a clean stop
}

// s6-overlay's own settings that the deploy material may set.
var s6Settings = []string{
	"S6_READ_ONLY_ROOT",
	"S6_YES_I_WANT_A_WORLD_WRITABLE_RUN_BECAUSE_KUBERNETES",
	"S6_KEEP_ENV",
	"S6_BEHAVIOUR_IF_STAGE2_FAILS",
	"S6_KILL_GRACETIME",
	"S6_SERVICES_GRACETIME",
	"S6_VERBOSITY",
}

const (
	healthPath = "/healthz"
	readyPath  = "/readyz"
)

func loadImage(t *testing.T) image {
	t.Helper()
	img := image{
		stage:  parseDockerfile(t, string(readFile(t, "Dockerfile"))),
		routes: serverRoutes(t),
		reads:  set{},
	}
	ls := string(readFile(t, "litestream.yml"))
	etc := readTree(t, "etc")
	if img.port == 0 {
		t.Fatal("Dockerfile: no EXPOSE in the final stage")
	}
	dbPath := img.env["DB_PATH"]
	if dbPath == "" {
		t.Fatal("Dockerfile: the final stage sets no DB_PATH")
	}
	img.dataDir = path.Dir(dbPath)

	shellVar := regexp.MustCompile(`\$\{?([A-Z_][A-Z0-9_]*)`)
	for _, m := range shellVar.FindAllStringSubmatch(ls, -1) {
		img.reads.add(m[1])
	}
	for _, script := range etc {
		for _, m := range shellVar.FindAllStringSubmatch(script, -1) {
			img.reads.add(m[1])
		}
	}
	for name := range img.env {
		img.reads.add(name)
	}
	img.reads.add(serverEnv(t).sorted()...)
	img.reads.add(litestreamEnv(t).sorted()...)
	img.reads.add(s6Settings...)
	img.stopNeeds = stopBound(t, ls, img.env)
	return img
}

// stopBound is the longest a clean stop can take: s6-overlay gives the
// services S6_SERVICES_GRACETIME (litestream's own shutdown-timeout bounds the
// final upload), then sleeps S6_KILL_GRACETIME.
func stopBound(t *testing.T, litestreamYML string, env map[string]string) time.Duration {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(litestreamYML), &cfg); err != nil {
		t.Fatalf("litestream.yml: %v", err)
	}
	litestream := 30 * time.Second // litestream's default shutdown-sync-timeout
	for _, key := range []string{"shutdown-sync-timeout", "shutdown-timeout"} {
		if v, ok := cfg[key]; ok {
			d, err := time.ParseDuration(strings.TrimSpace(toString(v)))
			if err != nil {
				t.Fatalf("litestream.yml: %s %v: %v", key, v, err)
			}
			litestream = d
		}
	}
	services := millis(t, env, "S6_SERVICES_GRACETIME", 5000)
	return max(litestream, services) + millis(t, env, "S6_KILL_GRACETIME", 3000)
}

// millis reads an s6-overlay duration setting, in milliseconds, from the image's ENV.
func millis(t *testing.T, env map[string]string, name string, def int) time.Duration {
	t.Helper()
	ms := def
	if v := env[name]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("Dockerfile: %s=%q: %v", name, v, err)
		}
		ms = n
	}
	return time.Duration(ms) * time.Millisecond
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// readTree returns the text of every file under dir, keyed by path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	root := filepath.Join(repoRoot(t), dir)
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatalf("read %s/: %v", dir, err)
	}
	return out
}

// describeServer asks the built server (LITEPASTE_BIN, else bin/litepaste)
// for its routes, variables and flags.
func describeServer(t *testing.T) kit.Description {
	t.Helper()
	bin := os.Getenv("LITEPASTE_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot(t), "bin", "litepaste")
	}
	return kit.Describe(t, bin)
}

// serverRoutes are the paths the server answers GET on.
func serverRoutes(t *testing.T) set {
	t.Helper()
	out := set{}
	for _, r := range describeServer(t).Routes {
		if r.Method == http.MethodGet {
			out.add(r.Path)
		}
	}
	if !out[healthPath] || !out[readyPath] {
		t.Fatalf("the server answers GET on %v; want %s and %s among them", out.sorted(), healthPath, readyPath)
	}
	return out
}

// serverEnv are the names of the environment variables the server reads.
func serverEnv(t *testing.T) set {
	t.Helper()
	out := set{}
	out.add(describeServer(t).Env...)
	if !out["PORT"] || !out["TRUSTED_PROXIES"] {
		t.Fatalf("the server reads %v; want PORT and TRUSTED_PROXIES among them", out.sorted())
	}
	return out
}

// litestreamEnv are the variables the pinned litestream reads by itself
// (LITESTREAM_ACCESS_KEY_ID, ...), taken from its source at the version
// tools/litestream/go.mod pins.
func litestreamEnv(t *testing.T) set {
	t.Helper()
	mod := string(readFile(t, "tools/litestream/go.mod"))
	m := regexp.MustCompile(`(?m)^\s*github\.com/benbjohnson/litestream (v\S+)`).FindStringSubmatch(mod)
	if m == nil {
		t.Fatal("tools/litestream/go.mod does not require github.com/benbjohnson/litestream")
	}
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/benbjohnson/litestream@"+m[1])
	cmd.Dir = filepath.Join(repoRoot(t), "tools", "litestream")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download litestream %s: %v", m[1], err)
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		t.Fatalf("go mod download litestream: %q: %v", out, err)
	}
	var src strings.Builder
	for _, dir := range []string{"cmd/litestream", "s3"} {
		files, _ := filepath.Glob(filepath.Join(info.Dir, dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src.Write(b)
		}
	}
	re := regexp.MustCompile(`os\.(?:Getenv|LookupEnv)\("([A-Z][A-Z0-9_]*)"\)`)
	names := set{}
	for _, m := range re.FindAllStringSubmatch(src.String(), -1) {
		names.add(m[1])
	}
	if !names["LITESTREAM_ACCESS_KEY_ID"] {
		t.Fatalf("litestream %s reads %v; expected LITESTREAM_ACCESS_KEY_ID among them", m[1], names.sorted())
	}
	return names
}

// checkEnvNames reports every name the image does not read: a typo there is
// silently ignored by the container.
func checkEnvNames(t *testing.T, img image, where string, names []string) {
	t.Helper()
	for _, n := range names {
		if !img.reads[n] {
			t.Errorf("%s sets %s, which the image never reads (it reads %v)", where, n, img.reads.sorted())
		}
	}
}

// replicationVars are what every platform must give the container: without
// them it runs on a local file that the platform throws away.
var replicationVars = []string{"DB_REPLICA_URL", "LITESTREAM_ACCESS_KEY_ID", "LITESTREAM_SECRET_ACCESS_KEY"}

// checkReplicationProvided reports replication variables the platform leaves
// unset, or that the image does not read under that name.
func checkReplicationProvided(t *testing.T, img image, where string, provided set) {
	t.Helper()
	for _, n := range replicationVars {
		if !img.reads[n] {
			t.Errorf("the image does not read %s (it reads %v)", n, img.reads.sorted())
		}
		if !provided[n] {
			t.Errorf("%s does not provide %s: the instance would run without a replica", where, n)
		}
	}
}

// checkStartsWithoutPID1 fails where the platform keeps PID 1 for its own init
// (Heroku's dyno manager, fly.io's init) but the image starts s6-overlay's
// /init directly: s6-overlay v3 refuses to run there ("can only run as pid 1").
func checkStartsWithoutPID1(t *testing.T, img image, platform string, entrypoint []string) {
	t.Helper()
	if len(entrypoint) == 0 {
		entrypoint = img.entrypoint
	}
	if slices.Contains(entrypoint, "/init") {
		t.Errorf("%s runs its own init as PID 1 and starts the image's entrypoint %q as a child; "+
			"s6-overlay's /init exits with \"can only run as pid 1\" there. The image needs an "+
			"entrypoint that execs /init when it is PID 1 and otherwise restores and runs "+
			"`litestream replicate -exec` itself", platform, entrypoint)
	}
}
