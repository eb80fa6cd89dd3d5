package system_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/litepaste/litepaste/test/kit"
)

// container is one run of the image under harness.sh.
type container struct {
	t        *testing.T
	ts       *toolset
	name     string
	state    string // harness state directory
	data     string // host directory mounted at /data
	port     int
	base     string    // http://127.0.0.1:port
	launched time.Time // when harness.sh run was called (it then sets up the container)
	started  time.Time // when pid 1 started
}

// runContainer starts the image detached with the image env, the given env
// and data mounted at /data; it does not wait for the server.
func runContainer(t *testing.T, ts *toolset, name, data string, env ...string) *container {
	t.Helper()
	return runContainerLayers(t, ts, name, data, nil, env...)
}

// runContainerLayers is runContainer with extra layers over the image (files
// that replace the image's, as a derived image would).
func runContainerLayers(t *testing.T, ts *toolset, name, data string, layers []string, env ...string) *container {
	t.Helper()
	return runContainerCmd(t, ts, name, data, layers, nil, env...)
}

// harnessArgs is `harness.sh run` of the image as `docker run` would run it:
// its entrypoint, user, settings, the volume at /data, then cmd (the words
// after the image name).
func harnessArgs(ts *toolset, state, data string, port int, layers, cmd []string, env ...string) []string {
	return harnessArgsEntry(ts, imageEntrypoint, state, data, port, layers, cmd, env...)
}

// harnessArgsEntry is harnessArgs for an image with another entrypoint.
func harnessArgsEntry(ts *toolset, entry []string, state, data string, port int, layers, cmd []string, env ...string) []string {
	args := []string{"run", "--state", state, "-u", imageUser, "-v", data + ":/data",
		"-e", "PORT=" + itoa(port), "-e", hostCABundle,
		// docker sets HOME from the image user's passwd entry
		"-e", "HOME=/data",
		// s6-overlay sleeps the whole S6_KILL_GRACETIME at the end of a stop
		"-e", "HARNESS_EXACT_GRACE=1"}
	for _, w := range entry {
		args = append(args, "--entrypoint", w)
	}
	for _, e := range append(append([]string{}, imageEnv...), env...) {
		args = append(args, "-e", e)
	}
	for _, l := range layers {
		args = append(args, "-L", l)
	}
	return append(append(args, ts.image), cmd...)
}

// runContainerCmd is runContainerLayers with words after the image name.
func runContainerCmd(t *testing.T, ts *toolset, name, data string, layers, cmd []string, env ...string) *container {
	t.Helper()
	return runContainerOn(t, ts, name, data, kit.FreePort(t), layers, cmd, env...)
}

// runContainerOn is runContainerCmd on a given port, such as that of an
// earlier run (a restarted writer keeps its address).
func runContainerOn(t *testing.T, ts *toolset, name, data string, port int, layers, cmd []string, env ...string) *container {
	t.Helper()
	c := &container{t: t, ts: ts, name: name, data: data, port: port,
		state: filepath.Join(t.TempDir(), "state-"+name)}
	c.base = fmt.Sprintf("http://127.0.0.1:%d", c.port)
	args := harnessArgs(ts, c.state, data, c.port, layers, cmd, env...)
	args = append([]string{args[0], "-d"}, args[1:]...)
	c.launched = time.Now()
	out, err := exec.Command(ts.harness, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("harness run %s: %v\n%s", name, err, out)
	}
	c.started = time.Now() // pid 1 (s6-svscan) runs; stage 2 begins
	t.Cleanup(func() {
		if !c.exited() {
			_, _ = exec.Command(ts.harness, "kill", c.state).CombinedOutput()
		}
		if t.Failed() {
			t.Logf("console of container %s:\n%s", c.name, c.console())
		}
	})
	return c
}

// startContainer runs the image and waits until the server answers /readyz.
func startContainer(t *testing.T, ts *toolset, name, data string, env ...string) *container {
	t.Helper()
	c := runContainer(t, ts, name, data, env...)
	c.waitReady()
	return c
}

func (c *container) waitReady() time.Duration {
	c.t.Helper()
	waitFor(c.t, 60*time.Second, "container "+c.name+" ready", func() bool {
		if c.exited() {
			c.t.Fatalf("container %s exited with %s before it was ready", c.name, c.exitCode())
		}
		return httpStatus(c.base+"/readyz") == 200
	})
	return time.Since(c.started)
}

func (c *container) console() string {
	b, _ := os.ReadFile(filepath.Join(c.state, "console.log"))
	return string(b)
}

func (c *container) exited() bool {
	b, err := os.ReadFile(filepath.Join(c.state, "rc"))
	return err == nil && len(bytes.TrimSpace(b)) > 0
}

func (c *container) exitCode() string {
	b, _ := os.ReadFile(filepath.Join(c.state, "rc"))
	return strings.TrimSpace(string(b))
}

// stop is docker stop: SIGTERM to pid 1, SIGKILL after 10 s. It returns the
// exit code, how long the stop took and whether SIGKILL was needed.
func (c *container) stop() (code string, took time.Duration, killed bool) {
	c.t.Helper()
	t0 := time.Now()
	cmd := exec.Command(c.ts.harness, "stop", c.state, "10")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("harness stop %s: %v\n%s", c.name, err, stderr.String())
	}
	return strings.TrimSpace(string(out)), time.Since(t0), strings.Contains(stderr.String(), "SIGKILL")
}

// kill is SIGKILL to pid 1: the whole container dies at once, as on a
// crashed node; it returns when it has.
func (c *container) kill() {
	c.t.Helper()
	if out, err := exec.Command(c.ts.harness, "kill", c.state).CombinedOutput(); err != nil {
		c.t.Fatalf("harness kill %s: %v\n%s", c.name, err, out)
	}
}

// wait waits for the container to exit on its own and returns its exit code.
func (c *container) wait(timeout time.Duration) string {
	c.t.Helper()
	waitFor(c.t, timeout, "container "+c.name+" to exit", c.exited)
	return c.exitCode()
}

// exec runs a command inside the container (docker exec).
func (c *container) exec(args ...string) (string, error) {
	out, err := exec.Command(c.ts.harness, append([]string{"exec", c.state}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (c *container) mustExec(args ...string) string {
	c.t.Helper()
	out, err := c.exec(args...)
	if err != nil {
		c.t.Fatalf("exec %v in %s: %v\n%s", args, c.name, err, out)
	}
	return out
}

// svstat returns s6-svstat fields of a service, e.g. "pid", "up", "wantedup", "readyfor".
func (c *container) svstat(service string, fields ...string) []string {
	c.t.Helper()
	return strings.Fields(c.mustExec("s6-svstat", "-o", strings.Join(fields, ","), "/run/service/"+service))
}

func (c *container) pid(service string) int {
	c.t.Helper()
	p, err := strconv.Atoi(c.svstat(service, "pid")[0])
	if err != nil || p <= 0 {
		c.t.Fatalf("service %s has no pid (%v)", service, c.svstat(service, "up", "pid"))
	}
	return p
}

// upFor waits until service has been up (and, with ready, ready) for at
// least d: s6 delays the restart of a service that died sooner than 1 s.
func (c *container) upFor(service string, d time.Duration, ready bool) {
	c.t.Helper()
	field := "updownfor"
	if ready {
		field = "readyfor"
	}
	waitFor(c.t, 30*time.Second, service+" up for "+d.String(), func() bool {
		f := c.svstat(service, "up", field)
		secs, err := strconv.ParseFloat(f[1], 64)
		return f[0] == "true" && err == nil && secs >= d.Seconds()
	})
}

// countLines counts the console lines that contain s.
func (c *container) countLines(s string) int {
	n := 0
	for _, l := range strings.Split(c.console(), "\n") {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// contInitMillis reads how long a cont-init.d script took from the harness log.
func (c *container) contInitMillis(script string) (int, error) {
	for _, l := range strings.Split(c.console(), "\n") {
		_, rest, ok := strings.Cut(l, "/etc/cont-init.d/"+script+" exited ")
		if !ok {
			continue
		}
		f := strings.Fields(rest) // "0 after 123 ms"
		if len(f) >= 3 {
			return strconv.Atoi(f[2])
		}
	}
	return 0, errors.New("no timing for " + script + " in the console")
}

// teardown is the first half of a redeploy: a clean stop (exit 0 without
// SIGKILL), then the data directory deleted, so only the bucket is left.
// It returns how long the stop took.
func (c *container) teardown() time.Duration {
	c.t.Helper()
	code, took, killed := c.stop()
	if code != "0" || killed {
		c.t.Errorf("stop of container %s: exit code %s, SIGKILL needed: %v", c.name, code, killed)
	}
	if err := os.RemoveAll(c.data); err != nil {
		c.t.Fatal(err)
	}
	return took
}

// waitRestored waits until c is ready and returns how long after pid 1 that
// was and how many milliseconds its restore step took.
func (c *container) waitRestored() (ready time.Duration, restoreMS int) {
	c.t.Helper()
	ready = c.waitReady()
	restoreMS, err := c.contInitMillis("10-restore")
	if err != nil {
		c.t.Error(err)
	}
	return ready, restoreMS
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	t0 := time.Now()
	for !cond() {
		if time.Since(t0) > timeout {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(t0)
}
