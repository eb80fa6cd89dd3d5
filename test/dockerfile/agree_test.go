package dockerfile_test

import (
	"go/ast"
	goparser "go/parser"
	"go/token"
	"go/version"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"golang.org/x/mod/modfile"
)

// TestCopiedPathsInContext: every path the Dockerfile copies from the build
// context exists in the repository and survives .dockerignore.
func TestCopiedPathsInContext(t *testing.T) {
	d, bc := mustParse(t), mustContext(t)
	n := 0
	for i := range d.stages {
		for _, c := range commands[*instructions.CopyCommand](&d.stages[i]) {
			if c.From != "" {
				continue
			}
			for _, src := range c.SourcePaths {
				n++
				src = path.Clean(src)
				files := bc.under(src)
				if len(files) == 0 {
					t.Errorf("COPY %s: no such file or directory in the repository", src)
					continue
				}
				sent := 0
				for _, f := range files {
					if bc.files[f] {
						sent++
					}
				}
				if sent == 0 {
					t.Errorf("COPY %s: .dockerignore leaves it out of the build context", src)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("the Dockerfile copies nothing from the build context")
	}
}

// embedPattern is a //go:embed line.
var embedPattern = regexp.MustCompile(`(?m)^//go:embed\s+(.+)$`)

// TestServerSourcesInContext: what `go build ./app` reads (the Go files and the
// files they embed) is all in the build context.
func TestServerSourcesInContext(t *testing.T) {
	bc := mustContext(t)
	for _, f := range []string{"go.mod", "go.sum"} {
		if !bc.files[f] {
			t.Errorf("%s is not in the build context", f)
		}
	}
	goFiles := 0
	for _, f := range bc.under("app") {
		if !strings.HasSuffix(f, ".go") || strings.HasSuffix(f, "_test.go") || strings.Contains(f, "/testdata/") {
			continue
		}
		goFiles++
		if !bc.files[f] {
			t.Errorf("%s is left out of the build context by .dockerignore", f)
		}
		for _, m := range embedPattern.FindAllStringSubmatch(string(mustRead(t, f)), -1) {
			for _, pat := range strings.Fields(m[1]) {
				pat = strings.TrimPrefix(strings.Trim(pat, "\"`"), "all:")
				full := path.Join(path.Dir(f), pat)
				matched := false
				for g, sent := range bc.files {
					if ok, _ := path.Match(full, g); ok || strings.HasPrefix(g, full+"/") {
						matched = true
						if !sent {
							t.Errorf("%s embeds %s, which .dockerignore leaves out", f, g)
						}
					}
				}
				if !matched {
					t.Errorf("%s embeds %s, which matches no file", f, pat)
				}
			}
		}
	}
	if goFiles == 0 {
		t.Fatal("no Go files under app/")
	}
}

// TestEtcCopied: every part of the container tree in etc/ lands at the same place
// under /etc in the image, with nothing of it left out of the build context.
func TestEtcCopied(t *testing.T) {
	d, bc := mustParse(t), mustContext(t)
	entries, err := os.ReadDir(filepath.Join(repoRoot, "etc"))
	if err != nil {
		t.Fatalf("read etc/: %v", err)
	}
	dests := map[string]string{} // context source -> image destination
	for _, c := range commands[*instructions.CopyCommand](d.final()) {
		if c.From == "" {
			for _, src := range c.SourcePaths {
				dests[path.Clean(src)] = path.Clean(c.DestPath)
			}
		}
	}
	if len(entries) == 0 {
		t.Fatal("etc/ is empty")
	}
	for _, e := range entries {
		src := "etc/" + e.Name()
		if got, ok := dests[src]; !ok {
			t.Errorf("%s is not copied into the image", src)
		} else if want := "/" + src; got != want {
			t.Errorf("COPY %s lands at %s, want %s", src, got, want)
		}
	}
	for _, f := range bc.under("etc") {
		if !bc.files[f] {
			t.Errorf("%s is left out of the build context by .dockerignore", f)
		}
	}
	if got, want := dests["litestream.yml"], "/etc/litestream.yml"; got != want {
		t.Errorf("litestream.yml lands at %q, want %q", got, want)
	}
}

// interpreters are the shebangs the image can run: /bin/sh is Alpine's busybox
// sh (there is no bash), /command/* comes with s6-overlay.
var interpreters = map[string][]string{
	"/command/with-contenv": {"sh"},
	"/bin/sh":               nil,
	"/command/execlineb":    nil,
}

// TestEtcScriptsRunInImage: the scripts of etc/ are executable and start with an
// interpreter the image has; s6's run and finish files and the cont-init.d
// entries are such scripts.
func TestEtcScriptsRunInImage(t *testing.T) {
	bc := mustContext(t)
	scripts := etcScripts(t, bc)
	isScript := map[string]bool{}
	for _, s := range scripts {
		isScript[s.rel] = true
		fields := strings.Fields(strings.TrimPrefix(s.first, "#!"))
		args, known := interpreters[fields[0]]
		switch {
		case !known:
			t.Errorf("%s: interpreter %s is not in the image", s.rel, fields[0])
		case args != nil && (len(fields) < 2 || !slices.Contains(args, fields[1])):
			t.Errorf("%s: %q: %s can only run %v here", s.rel, s.first, fields[0], args)
		}
		fi, err := os.Stat(filepath.Join(repoRoot, s.rel))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o111 != 0o111 {
			t.Errorf("%s: mode %v, want it executable by everyone (the image runs it as a non-root user)", s.rel, fi.Mode().Perm())
		}
	}
	for _, f := range bc.under("etc") {
		base := path.Base(f)
		mustRun := strings.HasPrefix(f, "etc/cont-init.d/") ||
			(base == "run" || base == "finish") && (strings.HasPrefix(f, "etc/services.d/") || strings.HasPrefix(f, "etc/s6-overlay/s6-rc.d/"))
		if mustRun && !isScript[f] {
			t.Errorf("%s: s6 executes it, but it does not start with #!", f)
		}
	}
}

// absPath finds absolute paths that name files the image must provide.
var absPath = regexp.MustCompile(`(/etc/[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*|/usr/local/bin/[A-Za-z0-9._-]+)`)

// TestEtcScriptsFindTheirFiles: the files and programs the scripts name are in
// the image where they look for them.
func TestEtcScriptsFindTheirFiles(t *testing.T) {
	d, bc := mustParse(t), mustContext(t)
	final := d.final()
	var installed []string // image paths written by COPY
	for _, c := range commands[*instructions.CopyCommand](final) {
		installed = append(installed, path.Clean(c.DestPath))
	}
	provides := func(p string) bool {
		for _, dst := range installed {
			if p == dst || strings.HasPrefix(p, dst+"/") {
				return true
			}
		}
		return false
	}
	pathDirs := strings.Split(env(final)["PATH"], ":")
	programs := map[string]bool{} // programs the image installs on its PATH
	for _, dst := range installed {
		if slices.Contains(pathDirs, path.Dir(dst)) {
			programs[path.Base(dst)] = false
		}
	}
	if len(programs) == 0 {
		t.Fatalf("no COPY puts a program in a PATH directory (PATH=%s)", env(final)["PATH"])
	}
	for _, s := range etcScripts(t, bc) {
		for _, l := range s.lines {
			for _, p := range absPath.FindAllString(l, -1) {
				if !provides(p) {
					t.Errorf("%s names %s, which the image does not provide", s.rel, p)
				}
			}
			for _, w := range strings.Fields(l) {
				if _, ok := programs[w]; ok {
					programs[w] = true
				}
			}
		}
	}
	for prog, used := range programs {
		if !used {
			t.Errorf("the image installs %s, but no script in etc/ runs it", prog)
		}
	}
}

// s6Vars are s6-overlay v3's settings; it ignores any other S6_ name silently.
var s6Vars = []string{
	"S6_KEEP_ENV", "S6_LOGGING", "S6_LOGGING_SCRIPT", "S6_CATCHALL_USER",
	"S6_BEHAVIOUR_IF_STAGE2_FAILS", "S6_KILL_FINISH_MAXTIME", "S6_SERVICES_READYTIME",
	"S6_SERVICES_GRACETIME", "S6_KILL_GRACETIME",
	"S6_CMD_ARG0", "S6_CMD_USE_TERMINAL", "S6_FIX_ATTRS_HIDDEN",
	"S6_CMD_WAIT_FOR_SERVICES", "S6_CMD_WAIT_FOR_SERVICES_MAXTIME", "S6_READ_ONLY_ROOT",
	"S6_SYNC_DISKS", "S6_STAGE2_HOOK", "S6_VERBOSITY", "S6_CMD_RECEIVE_SIGNALS",
	"S6_YES_I_WANT_A_WORLD_WRITABLE_RUN_BECAUSE_KUBERNETES",
}

// dockerStopGrace is what `docker stop` waits before SIGKILL, in ms.
const dockerStopGrace = 10000

// TestEnv: every variable the image sets is read by something, s6-overlay's are
// spelled right, a failed restore stops the container, and the stop fits in
// docker stop's grace.
func TestEnv(t *testing.T) {
	d := mustParse(t)
	final := d.final()
	e := env(final)
	var readers strings.Builder // everything that reads the environment
	for _, s := range etcScripts(t, mustContext(t)) {
		readers.WriteString(strings.Join(s.lines, "\n"))
	}
	readers.Write(mustRead(t, "litestream.yml"))
	for _, hc := range commands[*instructions.HealthCheckCommand](final) {
		readers.WriteString(strings.Join(hc.Health.Test, " "))
	}
	used := map[string]bool{}
	for _, m := range varRef.FindAllStringSubmatch(readers.String(), -1) {
		used[m[1]] = true
	}
	server := describeServer(t)
	for k := range e {
		switch {
		case k == "PATH":
		case strings.HasPrefix(k, "S6_"):
			if !slices.Contains(s6Vars, k) {
				t.Errorf("ENV %s: s6-overlay has no such setting (it would be ignored silently)", k)
			}
		case !used[k] && !slices.Contains(server.Env, k):
			t.Errorf("ENV %s: neither etc/, litestream.yml, the health check nor the server reads it", k)
		}
	}
	if got := e["S6_BEHAVIOUR_IF_STAGE2_FAILS"]; got != "2" {
		t.Errorf("S6_BEHAVIOUR_IF_STAGE2_FAILS=%q, want 2: a failed restore must stop the container before any service starts", got)
	}
	grace := 0
	for _, k := range []string{"S6_SERVICES_GRACETIME", "S6_KILL_GRACETIME"} {
		v, ok := e[k]
		if !ok {
			t.Errorf("ENV %s is not set: s6-overlay's default would apply", k)
			continue
		}
		ms, err := strconv.Atoi(v)
		if err != nil {
			t.Errorf("ENV %s=%q: want milliseconds", k, v)
		}
		grace += ms
	}
	if grace >= dockerStopGrace {
		t.Errorf("S6_SERVICES_GRACETIME + S6_KILL_GRACETIME = %d ms, want well under docker stop's %d ms", grace, dockerStopGrace)
	}
	// The scripts' fallbacks for image settings are the image's values.
	for _, s := range etcScripts(t, mustContext(t)) {
		for _, m := range varDefault.FindAllStringSubmatch(strings.Join(s.lines, "\n"), -1) {
			if v, ok := e[m[1]]; ok && m[2] != v {
				t.Errorf("%s falls back to %s=%s, but the image sets %s", s.rel, m[1], m[2], v)
			}
		}
	}
}

// TestSystemTestsRunTheImage: test/system runs etc/ with the settings and the user
// of the image; this keeps the two the same.
func TestSystemTestsRunTheImage(t *testing.T) {
	d := mustParse(t)
	imageEnv := systemTestsValue(t, "imageEnv")
	user := systemTestsValue(t, "imageUser")
	if len(imageEnv) == 0 || len(user) != 1 {
		t.Fatal("test/system/env_test.go: no imageEnv/imageUser found; this test reads them to compare with the Dockerfile")
	}
	e := env(d.final())
	for _, kv := range imageEnv {
		k, v, _ := strings.Cut(kv, "=")
		if got, ok := e[k]; !ok || got != v {
			t.Errorf("system tests run with %s, the Dockerfile sets %s=%q", kv, k, got)
		}
	}
	uid, gid := userIDs(t, d)
	if got := uid + ":" + gid; got != user[0] {
		t.Errorf("system tests run as %s, the image as %s", user[0], got)
	}
}

// systemTestsEntrypoint is the entrypoint test/system runs the image with.
func systemTestsEntrypoint(t *testing.T) []string {
	t.Helper()
	ep := systemTestsValue(t, "imageEntrypoint")
	if len(ep) == 0 {
		t.Fatal("test/system/env_test.go: no imageEntrypoint found; this test reads it to compare with the Dockerfile")
	}
	return ep
}

// systemTestsValue reads the string literals of a declaration of
// test/system/env_test.go (a string, or a []string composite literal).
func systemTestsValue(t *testing.T, name string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := goparser.ParseFile(fset, filepath.Join(repoRoot, "test/system/env_test.go"), nil, 0)
	if err != nil {
		t.Fatalf("read the system tests' image settings: %v", err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 || vs.Names[0].Name != name {
			return true
		}
		if cl, ok := vs.Values[0].(*ast.CompositeLit); ok {
			for _, el := range cl.Elts {
				if s, ok := stringLit(el); ok {
					out = append(out, s)
				}
			}
		} else if s, ok := stringLit(vs.Values[0]); ok {
			out = append(out, s)
		}
		return false
	})
	return out
}

func stringLit(e ast.Expr) (string, bool) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(bl.Value)
	return s, err == nil
}

var (
	adduserUID  = regexp.MustCompile(`adduser\b[^&;|]*?-u\s+(\d+)[^&;|]*?\s(\w[\w-]*)\s*(?:$|&&|;|\\)`)
	addgroupGID = regexp.MustCompile(`addgroup\b[^&;|]*?-g\s+(\d+)[^&;|]*?\s(\w[\w-]*)\s*(?:$|&&|;|\\)`)
)

// userIDs returns the uid and gid of the image's USER, created by adduser and
// addgroup in the final stage.
func userIDs(t *testing.T, d *dockerfile) (uid, gid string) {
	t.Helper()
	final := d.final()
	users := commands[*instructions.UserCommand](final)
	if len(users) == 0 {
		t.Fatal("the image has no USER: it would run as root")
	}
	name, group, _ := strings.Cut(users[len(users)-1].User, ":")
	run := runText(final)
	ids := func(re *regexp.Regexp, who string) string {
		for _, m := range re.FindAllStringSubmatch(run, -1) {
			if m[2] == who {
				return m[1]
			}
		}
		if _, err := strconv.Atoi(who); err == nil {
			return who
		}
		t.Fatalf("USER %s: no adduser/addgroup in the final stage gives %q an id", users[len(users)-1].User, who)
		return ""
	}
	uid = ids(adduserUID, name)
	if group == "" {
		group = name
	}
	gid = ids(addgroupGID, group)
	return uid, gid
}

// TestNonRoot: the image runs as an unprivileged user who owns the data volume.
func TestNonRoot(t *testing.T) {
	d := mustParse(t)
	uid, gid := userIDs(t, d)
	for _, id := range []string{uid, gid} {
		if n, _ := strconv.Atoi(id); n < 1000 {
			t.Errorf("USER id %s: want an unprivileged id (>= 1000), not root or a system account", id)
		}
	}
	final := d.final()
	e := env(final)
	dir := path.Dir(e["DB_PATH"])
	vols := commands[*instructions.VolumeCommand](final)
	if len(vols) == 0 || !slices.Contains(vols[0].Volumes, dir) {
		t.Errorf("DB_PATH=%s: its directory %s should be the image's VOLUME", e["DB_PATH"], dir)
	}
	user := strings.Split(commands[*instructions.UserCommand](final)[0].User, ":")[0]
	owns := regexp.MustCompile(`(install\s+-d\s+-o\s+` + regexp.QuoteMeta(user) + `\b[^&;]*\s` + regexp.QuoteMeta(dir) + `\b)|(chown\s+(-R\s+)?` + regexp.QuoteMeta(user) + `\S*\s+` + regexp.QuoteMeta(dir) + `\b)`)
	if !owns.MatchString(runText(final)) {
		t.Errorf("no RUN in the final stage gives %s to %s: the server could not write its database", dir, user)
	}
}

// TestEntrypoint: the entrypoint is the server binary checking the flags given
// after the image name, then exec-ing s6-overlay's /init (which so becomes
// PID 1, with no shell in front), with no CMD (s6-overlay would run a CMD as
// the container's one program, after the services). test/system runs the same.
func TestEntrypoint(t *testing.T) {
	final := mustParse(t).final()
	eps := commands[*instructions.EntrypointCommand](final)
	if len(eps) != 1 {
		t.Fatalf("the final stage has %d ENTRYPOINTs, want 1", len(eps))
	}
	want := []string{"/usr/local/bin/litepaste", "-exec", "/init"}
	if ep := eps[0]; ep.PrependShell || !slices.Equal(ep.CmdLine, want) {
		t.Errorf(`ENTRYPOINT %q (shell form: %v), want %q in exec form`, ep.CmdLine, ep.PrependShell, want)
	}
	checkInstalled(t, mustParse(t), "server", want[0])
	if !slices.Contains(describeServer(t).Flags, want[1][1:]) {
		t.Errorf("ENTRYPOINT passes %s, which is no flag of the server", want[1])
	}
	if cmds := commands[*instructions.CmdCommand](final); len(cmds) > 0 {
		t.Errorf("CMD %q: s6-overlay would run it as the container's main program", cmds[0].CmdLine)
	}
	if got := systemTestsEntrypoint(t); !slices.Equal(got, want) {
		t.Errorf("test/system runs the image with the entrypoint %q, the Dockerfile has %q", got, want)
	}
}

// healthURL finds the URL a health check asks.
var healthURL = regexp.MustCompile(`https?://(127\.0\.0\.1|localhost):(\$\{?PORT\}?|\d+)(/[a-z]+)`)

// TestHealthcheck: the health check asks a path the server serves, on the port it
// listens on, with a program the base image has.
func TestHealthcheck(t *testing.T) {
	d := mustParse(t)
	final := d.final()
	hcs := commands[*instructions.HealthCheckCommand](final)
	if len(hcs) != 1 {
		t.Fatalf("the final stage has %d HEALTHCHECKs, want 1", len(hcs))
	}
	test := hcs[0].Health.Test
	if len(test) < 2 || (test[0] != "CMD-SHELL" && test[0] != "CMD") {
		t.Fatalf("HEALTHCHECK %q: want CMD", test)
	}
	cmd := strings.Join(test[1:], " ")
	m := healthURL.FindStringSubmatch(cmd)
	if m == nil {
		t.Fatalf("HEALTHCHECK %q: no http://127.0.0.1:$PORT/<path> in it", cmd)
	}
	port := env(final)["PORT"]
	if m[2] != port && strings.Trim(m[2], "${}") != "PORT" {
		t.Errorf("HEALTHCHECK asks port %s, the server listens on PORT=%s", m[2], port)
	}
	if p := m[3]; p != "/healthz" && p != "/readyz" {
		t.Errorf("HEALTHCHECK asks %s, want /healthz or /readyz", p)
	}
	if !describeServer(t).Serves("GET", m[3]) {
		t.Errorf("HEALTHCHECK asks %s, which the server does not serve", m[3])
	}
	if tool := strings.Fields(cmd)[0]; tool != "wget" || !strings.HasPrefix(baseRepo(t, final), "docker.io/library/alpine") {
		t.Errorf("HEALTHCHECK runs %s on %s: only busybox's wget on Alpine is known to be there", tool, final.BaseName)
	}
	exposes := commands[*instructions.ExposeCommand](final)
	if len(exposes) == 0 || !slices.Contains(exposes[0].Ports, port) {
		t.Errorf("EXPOSE does not list PORT=%s", port)
	}
}

func baseRepo(t *testing.T, st *instructions.Stage) string {
	t.Helper()
	named, err := reference.ParseNormalizedNamed(st.BaseName)
	if err != nil {
		t.Fatalf("FROM %s: %v", st.BaseName, err)
	}
	return named.Name()
}

// TestLitestreamFromToolsModule: litestream is built inside tools/litestream, so
// its version comes from that go.mod only, and that binary is the image's.
func TestLitestreamFromToolsModule(t *testing.T) {
	d := mustParse(t)
	const pkg = "github.com/benbjohnson/litestream/cmd/litestream"
	if strings.Contains(string(d.raw), "litestream@") {
		t.Error("the Dockerfile names a litestream version (litestream@...): tools/litestream/go.mod is the one place for it")
	}
	var st *instructions.Stage
	for i := range d.stages {
		if strings.Contains(runText(&d.stages[i]), "go build") && strings.Contains(runText(&d.stages[i]), pkg) {
			st = &d.stages[i]
		}
	}
	if st == nil {
		t.Fatalf("no stage runs go build %s", pkg)
	}
	var srcs []string
	for _, c := range commands[*instructions.CopyCommand](st) {
		srcs = append(srcs, c.SourcePaths...)
	}
	slices.Sort(srcs)
	if want := []string{"tools/litestream/go.mod", "tools/litestream/go.sum"}; !slices.Equal(srcs, want) {
		t.Errorf("stage %s copies %q, want exactly %q", st.Name, srcs, want)
	}
	wds := commands[*instructions.WorkdirCommand](st)
	if len(wds) == 0 || !strings.HasSuffix(wds[len(wds)-1].Path, "/tools/litestream") {
		t.Errorf("stage %s must build inside the tools module (WORKDIR .../tools/litestream)", st.Name)
	}
	checkInstalled(t, d, st.Name, "/usr/local/bin/litestream")
}

// TestServerBuild: the server is built from ./app with cgo and linked statically,
// and that binary is the image's.
func TestServerBuild(t *testing.T) {
	d := mustParse(t)
	var st *instructions.Stage
	for i := range d.stages {
		if regexp.MustCompile(`go build\b.*\s\./app\b`).MatchString(strings.ReplaceAll(runText(&d.stages[i]), "\n", " ")) {
			st = &d.stages[i]
		}
	}
	if st == nil {
		t.Fatal("no stage runs go build ./app")
	}
	run := runText(st)
	for _, want := range []string{"CGO_ENABLED=1", "-extldflags -static", "osusergo", "netgo"} {
		if !strings.Contains(run, want) {
			t.Errorf("stage %s: the server build lacks %s (mattn/go-sqlite3 needs cgo; a static binary needs the rest)", st.Name, want)
		}
	}
	checkInstalled(t, d, st.Name, "/usr/local/bin/litepaste")

	// The Go in the build image is at least the one each module asks for.
	m := regexp.MustCompile(`^golang:(\d+\.\d+\.\d+)`).FindStringSubmatch(strings.TrimPrefix(st.BaseName, "docker.io/library/"))
	if m == nil {
		t.Fatalf("stage %s: FROM %s is not an official golang image with a version", st.Name, st.BaseName)
	}
	for _, mod := range []string{"go.mod", "tools/litestream/go.mod"} {
		mf, err := modfile.ParseLax(mod, mustRead(t, mod), nil)
		if err != nil || mf.Go == nil {
			t.Fatalf("%s: no go directive (%v)", mod, err)
		}
		if version.Compare("go"+m[1], "go"+mf.Go.Version) < 0 {
			t.Errorf("%s wants Go %s, the build image has %s", mod, mf.Go.Version, m[1])
		}
	}
	for i := range d.stages {
		if b := d.stages[i].BaseName; strings.HasPrefix(b, "golang:") && b != st.BaseName {
			t.Errorf("stage %s builds with %s, stage %s with %s: keep one Go", d.stages[i].Name, b, st.Name, st.BaseName)
		}
	}
}

// checkInstalled wants the final stage to copy a binary built in stage from to dst.
func checkInstalled(t *testing.T, d *dockerfile, from, dst string) {
	t.Helper()
	for _, c := range commands[*instructions.CopyCommand](d.final()) {
		if c.From == from && path.Clean(c.DestPath) == dst {
			return
		}
	}
	t.Errorf("the final stage does not COPY --from=%s to %s", from, dst)
}

// s6Asset is an s6-overlay release tarball's URL.
var s6Asset = regexp.MustCompile(`^https://github\.com/just-containers/s6-overlay/releases/download/v\$\{S6_OVERLAY_VERSION\}/s6-overlay-(noarch|x86_64|aarch64)\.tar\.xz$`)

// TestS6Overlay: s6-overlay comes from its release tarballs at one version, each
// checked against a pinned sha256, and both target architectures have theirs.
func TestS6Overlay(t *testing.T) {
	d := mustParse(t)
	v, ok := d.metaArg("S6_OVERLAY_VERSION")
	if !ok || !regexp.MustCompile(`^3\.\d+\.\d+\.\d+$`).MatchString(v) {
		t.Fatalf("ARG S6_OVERLAY_VERSION=%q: want a v3 release (3.x.y.z) before the first FROM", v)
	}
	assets := map[string]string{}  // asset -> stage
	checksums := map[string]bool{} // sha256 values seen
	for i := range d.stages {
		st := &d.stages[i]
		for _, a := range commands[*instructions.AddCommand](st) {
			for _, src := range a.SourcePaths {
				if !strings.Contains(src, "://") {
					continue
				}
				if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(a.Checksum) {
					t.Errorf("ADD %s: want --checksum=sha256:<64 hex digits>", src)
				} else if checksums[a.Checksum] {
					t.Errorf("ADD %s: checksum %s is used twice", src, a.Checksum)
				}
				checksums[a.Checksum] = true
				if m := s6Asset.FindStringSubmatch(src); m != nil {
					assets[m[1]] = st.Name
				}
			}
		}
	}
	if assets["noarch"] == "" {
		t.Error("no stage ADDs s6-overlay-noarch.tar.xz")
	}
	// FROM s6-${TARGETARCH} must lead to the tarball of that architecture.
	lex := shell.NewLex('\\')
	for targetArch, s6Arch := range map[string]string{"amd64": "x86_64", "arm64": "aarch64"} {
		found := false
		for i := range d.stages {
			base := d.stages[i].BaseName
			if !strings.Contains(base, "TARGETARCH") {
				continue
			}
			res, err := lex.ProcessWordWithMatches(base, shell.EnvsFromSlice([]string{"TARGETARCH=" + targetArch}))
			if err != nil {
				t.Fatalf("FROM %s: %v", base, err)
			}
			found = true
			if res.Result != assets[s6Arch] {
				t.Errorf("TARGETARCH=%s: FROM %s is stage %q, but s6-overlay-%s.tar.xz is in stage %q", targetArch, base, res.Result, s6Arch, assets[s6Arch])
			}
		}
		if !found {
			t.Error("no FROM picks the s6-overlay tarball by ${TARGETARCH}")
		}
	}
}
