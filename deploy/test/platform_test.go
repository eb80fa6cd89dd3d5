package deploytest_test

import (
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"sigs.k8s.io/yaml"
)

const (
	platformDir        = "deploy/platform"
	platformDockerfile = platformDir + "/Dockerfile"
)

// platformCommand is what the image built for platforms that keep PID 1
// (Heroku, fly.io) runs: ENTRYPOINT and CMD together, checked to be the
// launcher it copies from its build context, deploy/platform.
func platformCommand(t *testing.T) []string {
	t.Helper()
	var entry, cmd []string
	copied := set{}
	for _, in := range dockerInstructions(string(readFile(t, platformDockerfile))) {
		word, rest, _ := strings.Cut(in, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(word) {
		case "ENTRYPOINT":
			entry = execForm(rest)
		case "CMD":
			cmd = execForm(rest)
		case "COPY":
			f := strings.Fields(rest)
			if len(f) != 2 {
				t.Fatalf("%s: COPY %s: want one source and one destination", platformDockerfile, rest)
			}
			readFile(t, path.Join(platformDir, f[0])) // the source is in the build context
			copied.add(f[1])
		}
	}
	if len(entry) != 0 {
		t.Errorf("%s: ENTRYPOINT %q; it must be cleared, or platforms that run the CMD alone skip it", platformDockerfile, entry)
	}
	full := append(entry, cmd...)
	if len(full) == 0 || !copied[full[0]] {
		t.Fatalf("%s: the command %q is not the launcher it copies in (%v)", platformDockerfile, full, copied.sorted())
	}
	return full
}

// TestPlatformLauncher checks that the launcher uses the image's own restore
// step and config, which it must keep using as they change.
func TestPlatformLauncher(t *testing.T) {
	df := string(readFile(t, "Dockerfile"))
	platformCommand(t)
	start := string(readFile(t, "deploy/platform/start"))
	etc := readTree(t, "etc/cont-init.d")
	if len(etc) == 0 {
		t.Fatal("etc/cont-init.d is empty: the launcher would start without restoring")
	}
	for _, want := range []string{"/etc/cont-init.d/", "S6_KEEP_ENV=1", "-config /etc/litestream.yml", "-exec litepaste"} {
		if !strings.Contains(start, want) {
			t.Errorf("deploy/platform/start does not contain %q", want)
		}
	}
	for _, script := range etc {
		if !strings.HasPrefix(script, "#!/command/with-contenv ") {
			t.Errorf("a cont-init script does not start with with-contenv; the launcher relies on S6_KEEP_ENV=1 to pass the environment: %.60q", script)
		}
	}
	if !strings.Contains(df, "COPY litestream.yml /etc/litestream.yml") {
		t.Error("Dockerfile no longer copies litestream.yml to /etc/litestream.yml, where the launcher reads it")
	}
}

// herokuStopGrace is fixed by Heroku: SIGTERM, then SIGKILL 30 s later.
const herokuStopGrace = 30 * time.Second

func TestHeroku(t *testing.T) {
	img := loadImage(t)
	checkStartsWithoutPID1(t, img, "Heroku", platformCommand(t))
	if need := img.stopNeeds + 5*time.Second; herokuStopGrace < need {
		t.Errorf("a clean stop can take %v; Heroku allows %v", img.stopNeeds, herokuStopGrace)
	}

	section := readmeSection(t, "deploy")
	build := commandLine(t, section, "docker build --platform linux/amd64 -t registry.heroku.com/")
	if !strings.HasSuffix(build, " "+platformDir) {
		t.Errorf("README: %q does not build %s", build, platformDir)
	}
	checkHerokuYML(t)
	if scale := commandLine(t, section, "heroku ps:scale"); !strings.Contains(scale, "web=1") {
		t.Errorf("README: %q; one web dyno only", scale)
	}

	config := commandLine(t, section, "heroku config:set")
	vars := assignments(config)
	checkEnvNames(t, img, "README's heroku config:set", vars.sorted())
	checkReplicationProvided(t, img, "README's heroku config:set", vars)
	if vars["PORT"] {
		t.Error("README: heroku config:set sets PORT; Heroku assigns it to each dyno")
	}
	for _, n := range []string{"TRUSTED_PROXIES", "DB_PATH"} {
		if !vars[n] {
			t.Errorf("README: heroku config:set does not set %s", n)
		}
	}
	// Heroku's filesystem does not outlive the dyno, and the dyno's user may not own
	// the image's data directory: the database goes to /tmp.
	if !strings.Contains(config, "DB_PATH=/tmp/") {
		t.Errorf("README: %q: DB_PATH should be under /tmp on Heroku", config)
	}
}

// flyConfig is the part of fly.toml this deployment uses; any other key fails
// the decode, so a misspelt one cannot be silently ignored.
type flyConfig struct {
	App           string            `toml:"app"`
	PrimaryRegion string            `toml:"primary_region"`
	KillSignal    string            `toml:"kill_signal"`
	KillTimeout   string            `toml:"kill_timeout"`
	Env           map[string]string `toml:"env"`
	Deploy        struct {
		Strategy string `toml:"strategy"`
	} `toml:"deploy"`
	Mounts      []map[string]any `toml:"mounts"`
	HTTPService struct {
		InternalPort       int    `toml:"internal_port"`
		ForceHTTPS         bool   `toml:"force_https"`
		AutoStopMachines   string `toml:"auto_stop_machines"`
		AutoStartMachines  bool   `toml:"auto_start_machines"`
		MinMachinesRunning int    `toml:"min_machines_running"`
		Checks             []struct {
			GracePeriod string `toml:"grace_period"`
			Interval    string `toml:"interval"`
			Timeout     string `toml:"timeout"`
			Method      string `toml:"method"`
			Path        string `toml:"path"`
		} `toml:"checks"`
	} `toml:"http_service"`
	VM []struct {
		Size   string `toml:"size"`
		Memory string `toml:"memory"`
	} `toml:"vm"`
}

const (
	flyWriterConfig  = "deploy/fly/fly.toml"
	flyReplicaConfig = "deploy/fly/replica.toml"
)

// flyApp decodes one fly.io app's config and checks what every litepaste
// app there must keep, writer or replica.
func flyApp(t *testing.T, img image, file string) flyConfig {
	t.Helper()
	var cfg flyConfig
	md, err := toml.Decode(string(readFile(t, file)), &cfg)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Fatalf("%s: keys this deployment does not know: %v", file, u)
	}

	hs := cfg.HTTPService
	if hs.InternalPort != img.port {
		t.Errorf("%s: internal_port %d, want the image's port %d", file, hs.InternalPort, img.port)
	}
	if v, ok := cfg.Env["PORT"]; ok && v != strconv.Itoa(img.port) {
		t.Errorf("%s: PORT=%s, but internal_port is %d", file, v, hs.InternalPort)
	}
	if len(hs.Checks) == 0 {
		t.Errorf("%s: no HTTP check", file)
	}
	for _, c := range hs.Checks {
		if c.Path != readyPath || !img.routes[c.Path] {
			t.Errorf("%s: check path %q; want %s, which the server serves", file, c.Path, readyPath)
		}
	}

	if cfg.KillSignal != img.stopSignal {
		t.Errorf("%s: kill_signal %q; the image stops on %s", file, cfg.KillSignal, img.stopSignal)
	}
	kill, err := time.ParseDuration(cfg.KillTimeout)
	if err != nil {
		t.Fatalf("%s: kill_timeout %q: %v", file, cfg.KillTimeout, err)
	}
	if need := img.stopNeeds + 5*time.Second; kill < need {
		t.Errorf("%s: kill_timeout %v; a clean stop can take %v, want at least %v", file, kill, img.stopNeeds, need)
	}
	for _, m := range cfg.Mounts {
		if d, _ := m["destination"].(string); path.Clean(d) == img.dataDir {
			t.Errorf("%s: mounts a volume on %s; fly.io mounts volumes as root, where the image's user cannot write", file, d)
		}
	}

	var names []string
	for k := range cfg.Env {
		names = append(names, k)
	}
	checkEnvNames(t, img, file+" [env]", names)
	for _, n := range replicationVars {
		if _, ok := cfg.Env[n]; ok {
			t.Errorf("%s: %s is in [env], in plain text; it belongs in fly secrets", file, n)
		}
	}
	return cfg
}

func TestFly(t *testing.T) {
	img := loadImage(t)
	cfg := flyApp(t, img, flyWriterConfig)
	checkStartsWithoutPID1(t, img, "fly.io", platformCommand(t))
	if v := cfg.Env[primaryVar]; v != "" {
		t.Errorf("fly.toml: %s=%q; the writer app is the one without it", primaryVar, v)
	}
	switch cfg.Deploy.Strategy {
	case "rolling", "immediate":
	default:
		t.Errorf("fly.toml: deploy strategy %q; bluegreen and canary run a second Machine beside the first", cfg.Deploy.Strategy)
	}
	if cfg.HTTPService.MinMachinesRunning > 1 {
		t.Errorf("fly.toml: min_machines_running %d; one Machine only", cfg.HTTPService.MinMachinesRunning)
	}

	section := readmeSection(t, "deploy")
	// fly.io keeps PID 1: what it deploys must be the launcher image, built on the local image.
	want := "fly deploy " + platformDir + " --config " + flyWriterConfig + " --local-only --ha=false"
	if d := commandLine(t, section, "fly deploy"); d != want {
		t.Errorf("README: %q; want %q", d, want)
	}
	secrets := assignments(commandLine(t, section, "fly secrets set"))
	checkEnvNames(t, img, "README's fly secrets set", secrets.sorted())
	checkReplicationProvided(t, img, "README's fly secrets set", secrets)
}

// herokuYML is heroku.yml as this deployment uses it; other keys fail the decode.
type herokuYML struct {
	Build struct {
		Docker map[string]string `json:"docker"`
		Config map[string]string `json:"config"`
	} `json:"build"`
}

// checkHerokuYML: git-push builds make the launcher image (Heroku builds in the
// Dockerfile's directory and passes build.config as build arguments) and leave
// its command alone.
func checkHerokuYML(t *testing.T) {
	t.Helper()
	var hy herokuYML
	if err := yaml.UnmarshalStrict(readFile(t, "deploy/heroku/heroku.yml"), &hy); err != nil {
		t.Fatalf("deploy/heroku/heroku.yml: %v (a run section would replace the launcher)", err)
	}
	if web := hy.Build.Docker["web"]; web != platformDockerfile {
		t.Errorf("heroku.yml: web builds %q, want %s", web, platformDockerfile)
	}
	if len(hy.Build.Docker) != 1 {
		t.Errorf("heroku.yml: builds %v; one web process only", hy.Build.Docker)
	}
	if hy.Build.Config["BASE"] == "" {
		t.Error("heroku.yml: no BASE: Heroku's builder has no local litepaste image to start from")
	}
	if !strings.Contains(string(readFile(t, platformDockerfile)), "ARG BASE") {
		t.Errorf("%s does not take BASE", platformDockerfile)
	}
}
