package deploytest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/litepaste/litepaste/test/kit"
)

// The launcher of deploy/platform/start, run for real: the image's restore
// step, the pinned litestream and the server, against a real S3 server
// (versitygw) on 127.0.0.1. No image can be built here, so the launcher and
// the restore step run from a copy whose /etc paths point into a temp dir,
// and /command/with-contenv is a stand-in that, like s6-overlay's, only passes
// the environment through when S6_KEEP_ENV is set (without /init there is no
// saved container environment to read).

const (
	s3Key    = "deploytestkey"
	s3Secret = "deploytestsecret0123456789"
)

type tools struct{ litepaste, litestream, versitygw string }

func findTools(t *testing.T) tools {
	t.Helper()
	find := func(env, name string) string {
		p := os.Getenv(env)
		if p == "" {
			p = filepath.Join(repoRoot(t), "bin", name)
		}
		if _, err := os.Stat(p); err != nil {
			if !kit.InCI() {
				t.Skipf("%s not found (%s, or set %s; make build tools); skipping", name, p, env)
			}
			t.Fatalf("%s not found at %s (set %s)", name, p, env)
		}
		return p
	}
	return tools{
		litepaste:  find("LITEPASTE_BIN", "litepaste"),
		litestream: find("LITESTREAM_BIN", "litestream"),
		versitygw:  find("VERSITYGW_BIN", "versitygw"),
	}
}

// launcherRoot lays out the launcher and the image files it uses under dir.
func launcherRoot(t *testing.T, tl tools) (start string, path string) {
	t.Helper()
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc")
	rewrite := func(src string) string {
		src = strings.ReplaceAll(src, "/etc/cont-init.d/", filepath.Join(etc, "cont-init.d")+"/")
		src = strings.ReplaceAll(src, "/etc/s6-overlay/", filepath.Join(etc, "s6-overlay")+"/")
		src = strings.ReplaceAll(src, "/run/", filepath.Join(dir, "run")+"/")
		src = strings.ReplaceAll(src, "/etc/litestream.yml", filepath.Join(etc, "litestream.yml"))
		return strings.ReplaceAll(src, "#!/command/with-contenv", "#!"+filepath.Join(dir, "command", "with-contenv"))
	}
	write := func(rel, content string, mode os.FileMode) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("command/with-contenv", `#!/bin/sh
[ "${S6_KEEP_ENV:-0}" != 0 ] || { echo "with-contenv: no /run/s6/container_environment" >&2; exit 111; }
exec "$@"
`, 0o755)
	write("etc/litestream.yml", string(readFile(t, "litestream.yml")), 0o644)
	for p, src := range readTree(t, "etc/cont-init.d") {
		write(filepath.Join("etc", "cont-init.d", filepath.Base(p)), rewrite(src), 0o755)
	}
	// The follower service a read replica's launcher runs.
	root := filepath.Join(repoRoot(t), "etc")
	for p, src := range readTree(t, "etc/s6-overlay") {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			t.Fatal(err)
		}
		write(filepath.Join("etc", rel), rewrite(src), 0o755)
	}
	if err := os.Mkdir(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	start = write("start", rewrite(string(readFile(t, "deploy/platform/start"))), 0o755)

	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]string{"litepaste": tl.litepaste, "litestream": tl.litestream} {
		if err := os.Symlink(p, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	return start, bin + ":/usr/bin:/bin"
}

// output is what a launcher and its children wrote.
type output struct{ f *os.File }

func (o output) String() string {
	b, _ := os.ReadFile(o.f.Name())
	return string(b)
}

// launched is one run of the launcher, as a platform would start it.
type launched struct {
	cmd  *exec.Cmd
	out  output
	done chan error
	url  string
}

func launch(t *testing.T, start, path string, env ...string) *launched {
	t.Helper()
	return launchArgs(t, start, path, nil, env...)
}

// launchArgs is launch with arguments for the launcher (LogPaste's flags).
func launchArgs(t *testing.T, start, path string, args []string, env ...string) *launched {
	t.Helper()
	port := kit.FreePort(t)
	cmd := exec.Command(start, args...)
	cmd.Env = append([]string{
		"PATH=" + path,
		fmt.Sprintf("PORT=%d", port),
		// Set on these machines, and fatal to litestream's S3 client: the launcher must drop it.
		"AWS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt",
	}, env...)
	// A file, not a pipe: Wait returns when the launcher exits, even while
	// what it leaves behind (a read replica's follower) still writes there.
	// That goes with its process group at the end, as on a platform.
	f, err := os.Create(filepath.Join(t.TempDir(), "output"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	out := output{f}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &launched{cmd: cmd, out: out, done: make(chan error, 1), url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	go func() { l.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("launcher output:\n%s", out)
		}
	})
	return l
}

func (l *launched) waitReady(t *testing.T) time.Duration {
	t.Helper()
	begin := time.Now()
	deadline := begin.Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-l.done:
			t.Fatalf("the launcher exited before the server was ready: %v", err)
		default:
		}
		if resp, err := http.Get(l.url + readyPath); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(begin)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s%s did not answer 200 within 60 s", l.url, readyPath)
	return 0
}

// stop sends SIGTERM, as Heroku and fly.io do, and returns how long the
// launcher took to exit and its exit error.
func (l *launched) stop(t *testing.T) (time.Duration, error) {
	t.Helper()
	begin := time.Now()
	if err := l.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := l.wait(t)
	return time.Since(begin), err
}

func (l *launched) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-l.done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("the launcher did not exit within 60 s")
		return nil
	}
}

func waitUntil(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func hasFiles(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// bucketEnv points a launcher at the bucket startS3 made.
func bucketEnv(s3 string) []string {
	return []string{
		"DB_REPLICA_URL=s3://pastes/litepaste",
		"LITESTREAM_ENDPOINT=http://" + s3,
		"LITESTREAM_REGION=us-east-1",
		"LITESTREAM_ACCESS_KEY_ID=" + s3Key,
		"LITESTREAM_SECRET_ACCESS_KEY=" + s3Secret,
	}
}

// startS3 runs versitygw over a temp dir with one bucket and returns its
// address, the bucket's directory, and a function that stops it.
func startS3(t *testing.T, bin string) (addr, bucket string, stop func()) {
	t.Helper()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "pastes"), 0o755); err != nil {
		t.Fatal(err)
	}
	log := &bytes.Buffer{}
	gw, err := kit.StartVersityGW(bin, fmt.Sprintf("127.0.0.1:%d", kit.FreePort(t)), root, s3Key, s3Secret, log)
	if err != nil {
		t.Fatalf("%v: %s", err, log)
	}
	t.Cleanup(gw.Stop)
	return gw.Addr, filepath.Join(root, "pastes"), gw.Stop
}

func put(t *testing.T, base, body string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, base+"/", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK || got.ID == "" {
		t.Fatalf("PUT /: status %d, id %q, %v", resp.StatusCode, got.ID, err)
	}
	return got.ID
}

func get(t *testing.T, base, id string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + "/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestLauncherRedeploy is Heroku's or fly.io's life: start on an empty
// bucket, take a paste, stop on SIGTERM, start again on a fresh disk.
func TestLauncherRedeploy(t *testing.T) {
	tl := findTools(t)
	start, path := launcherRoot(t, tl)
	s3, bucket, stopS3 := startS3(t, tl.versitygw)
	replica := bucketEnv(s3)
	disk := func() string { return "DB_PATH=" + filepath.Join(t.TempDir(), "litepaste.db") }

	first := launch(t, start, path, append(replica, disk())...)
	t.Logf("first start on an empty bucket: ready after %v", first.waitReady(t))
	// litestream takes up a database it did not find at its own start only at
	// its next sync; this test is about the stop, so it waits for that first.
	put(t, first.url, "the first paste\n")
	waitUntil(t, 30*time.Second, "the first upload to the bucket", func() bool { return hasFiles(bucket) })
	content := "a paste written just before the platform stops the container\n"
	id := put(t, first.url, content)
	took, err := first.stop(t)
	if err != nil {
		t.Fatalf("after SIGTERM the launcher exited with %v; want 0", err)
	}
	t.Logf("stop (server drains, final upload): %v", took)

	second := launch(t, start, path, append(replica, disk())...)
	t.Logf("start on a fresh disk, restoring: ready after %v", second.waitReady(t))
	if code, body := get(t, second.url, id); code != http.StatusOK || body != content {
		t.Fatalf("after redeploy GET /%s: %d %q; want 200 %q", id, code, body, content)
	}
	if _, err := second.stop(t); err != nil {
		t.Errorf("second stop: %v", err)
	}

	// The bucket unreachable at start: the launcher stops before the server
	// starts, so no empty database is ever uploaded over the replica.
	stopS3()
	third := launch(t, start, path, append(replica, disk())...)
	err = third.wait(t)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("with the bucket unreachable the launcher exited with %v; want a non-zero exit", err)
	}
	if strings.Contains(third.out.String(), `"msg":"listening"`) {
		t.Error("with the bucket unreachable the server started anyway")
	}
}

// TestLauncherWithoutReplica: replication off, the server runs on its own.
func TestLauncherWithoutReplica(t *testing.T) {
	tl := findTools(t)
	start, path := launcherRoot(t, tl)
	l := launch(t, start, path, "DB_PATH="+filepath.Join(t.TempDir(), "litepaste.db"))
	l.waitReady(t)
	id := put(t, l.url, "local only\n")
	if code, _ := get(t, l.url, id); code != http.StatusOK {
		t.Fatalf("GET /%s: %d", id, code)
	}
	if _, err := l.stop(t); err != nil {
		t.Fatalf("after SIGTERM: %v; want exit 0", err)
	}
}

// TestLauncherTakesLogPasteFlags: flags given to the launcher reach the
// server; an unknown one stops it with the usage text.
func TestLauncherTakesLogPasteFlags(t *testing.T) {
	tl := findTools(t)
	start, path := launcherRoot(t, tl)
	db := "DB_PATH=" + filepath.Join(t.TempDir(), "litepaste.db")
	l := launchArgs(t, start, path, []string{"-title", "My Cool Log Pasting Service", "-showdocs=false"}, db)
	l.waitReady(t)
	if code, page := get(t, l.url, ""); code != http.StatusOK || !strings.Contains(page, "<h1>My Cool Log Pasting Service</h1>") {
		t.Errorf("GET /: %d, want 200 with the title given as a flag", code)
	}
	if _, err := l.stop(t); err != nil {
		t.Fatalf("after SIGTERM: %v; want exit 0", err)
	}
	bad := launchArgs(t, start, path, []string{"-bogus"}, db)
	var exit *exec.ExitError
	if err := bad.wait(t); !errors.As(err, &exit) || exit.ExitCode() == 0 || !strings.Contains(bad.out.String(), "Usage: litepaste") {
		t.Errorf("-bogus: %v, want a non-zero exit with the usage text:\n%s", err, bad.out)
	}
}

// TestLauncherReadReplica is fly.io's replica app on one machine: a writer
// and a read replica, each started by the launcher on a disk of its own,
// on one bucket. An upload through the replica reaches the writer, and the
// replica serves it from its own copy once the writer is gone.
func TestLauncherReadReplica(t *testing.T) {
	tl := findTools(t)
	start, path := launcherRoot(t, tl)
	s3, bucket, _ := startS3(t, tl.versitygw)
	replica := bucketEnv(s3)
	writer := launch(t, start, path, append(replica, "DB_PATH="+filepath.Join(t.TempDir(), "litepaste.db"))...)
	writer.waitReady(t)
	first := put(t, writer.url, "written before the replica started\n")
	waitUntil(t, 30*time.Second, "the first upload to the bucket", func() bool { return hasFiles(bucket) })

	copyDir := t.TempDir()
	reader := launch(t, start, path, append(replica,
		"DB_PATH="+filepath.Join(copyDir, "litepaste.db"),
		"PRIMARY_URL="+writer.url,
		"FOLLOW_INTERVAL=1s",
	)...)
	t.Logf("read replica on an empty disk: ready after %v", reader.waitReady(t))
	if code, body := get(t, reader.url, first); code != http.StatusOK || body != "written before the replica started\n" {
		t.Errorf("replica GET /%s: %d %q; want the paste the bucket held at its start", first, code, body)
	}
	content := "uploaded through the read replica\n"
	id := put(t, reader.url, content)
	if code, body := get(t, writer.url, id); code != http.StatusOK || body != content {
		t.Fatalf("writer GET /%s: %d %q; the replica acknowledged an upload the writer does not have", id, code, body)
	}
	if code, body := get(t, reader.url, id); code != http.StatusOK || body != content {
		t.Errorf("replica GET /%s right after its upload: %d %q; want it at once (passed to the writer)", id, code, body)
	}

	if _, err := writer.stop(t); err != nil {
		t.Fatalf("writer stop: %v", err)
	}
	waitUntil(t, 30*time.Second, "the upload in the replica's own copy", func() bool {
		code, body := get(t, reader.url, id)
		return code == http.StatusOK && body == content
	})
	if _, err := os.Stat(filepath.Join(copyDir, ".litepaste.db-litestream")); err == nil {
		t.Error("the read replica's disk has Litestream's replicate state: it streamed its copy to the bucket")
	}
	if _, err := reader.stop(t); err != nil {
		t.Errorf("after SIGTERM the read replica exited with %v; want 0", err)
	}
}
