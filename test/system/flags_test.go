package system_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/litepaste/litepaste/test/kit"
)

// logpasteFlags are LogPaste's flags as its README passes them after the image name.
var logpasteFlags = []string{
	"-title", "My Cool Log Pasting Service",
	"-subtitle", "Upload all your logs for FooBar here",
	"-footer", "<h2>Notice</h2><p>Only cool users can share logs here.</p>",
	"-showdocs=false", "-perminutelimit", "5", "-maxsize", "4",
}

// putStatus uploads n bytes and returns the status code.
func putStatus(t *testing.T, base string, n int) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, base+"/", bytes.NewReader(bytes.Repeat([]byte("x"), n)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

func getPage(t *testing.T, base string) string {
	t.Helper()
	res, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d %v", res.StatusCode, err)
	}
	return string(b)
}

// checkLogPasteSettings: the page and the limits are those of logpasteFlags.
func checkLogPasteSettings(t *testing.T, base string) {
	t.Helper()
	page := getPage(t, base)
	for _, want := range []string{"<h1>My Cool Log Pasting Service</h1>", "Upload all your logs for FooBar here",
		"<footer><h2>Notice</h2><p>Only cool users can share logs here.</p></footer>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "From the command line") {
		t.Error("-showdocs=false: the page still shows the usage")
	}
}

// TestLogPasteFlagsAfterTheImageName: `docker run IMAGE -title … -perminutelimit 5
// -maxsize 4` runs the supervised server with those settings, under /init as
// pid 1, and a server that dies is restarted by s6 with the same settings.
func TestLogPasteFlagsAfterTheImageName(t *testing.T) {
	ts := needTools(t)
	c := runContainerCmd(t, ts, "flags", dataDir(t), nil, logpasteFlags)
	ready := c.waitReady()
	checkLogPasteSettings(t, c.base)

	// -maxsize 4 (MiB): 4 MiB passes, one byte more is 413. Each try counts
	// against -perminutelimit 5, and the sixth upload within the minute is 429.
	var codes []int
	for _, n := range []int{4 << 20, 4<<20 + 1, 10, 10, 10, 10} {
		codes = append(codes, putStatus(t, c.base, n))
	}
	if want := []int{200, 413, 200, 200, 200, 429}; !slices.Equal(codes, want) {
		t.Errorf("upload statuses %v, want %v", codes, want)
	}

	if comm := c.mustExec("cat", "/proc/1/comm"); comm != "s6-svscan" {
		t.Errorf("pid 1 is %q, want s6-svscan (the entrypoint execs /init)", comm)
	}
	old := c.pid("litepaste")
	c.upFor("litepaste", time.Second, true)
	c.mustExec("kill", "-KILL", strconv.Itoa(old))
	restarted := waitFor(t, 30*time.Second, "s6 to restart the server", func() bool {
		f := c.svstat("litepaste", "up", "pid", "ready")
		return f[0] == "true" && f[1] != strconv.Itoa(old) && f[2] == "true"
	})
	checkLogPasteSettings(t, c.base)
	code, _, _ := c.stop()
	if code != "0" {
		t.Errorf("stop: exit code %s, want 0", code)
	}
	t.Logf("FIGURES LogPaste flags: ready %d ms after pid 1 started; statuses %v for 4 MiB, 4 MiB+1, 10 B x4; server killed (pid %d) and back, ready, in %d ms; stop exit code %s",
		ready.Milliseconds(), codes, old, restarted.Milliseconds(), code)
}

// TestUnknownFlagStopsTheContainer: a flag litepaste does not know stops the
// container at once, with the usage text and a non-zero exit code, before
// the restore step or any service has run.
func TestUnknownFlagStopsTheContainer(t *testing.T) {
	ts := needTools(t)
	data := dataDir(t)
	state := filepath.Join(t.TempDir(), "state")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := harnessArgs(ts, state, data, kit.FreePort(t), nil, []string{"-title", "x", "-bogus"})
	t0 := time.Now()
	out, err := exec.CommandContext(ctx, ts.harness, args...).CombinedOutput()
	took := time.Since(t0)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("harness run: %v, want a non-zero exit code\n%s", err, out)
	}
	for _, want := range []string{"flag provided but not defined: -bogus", "Usage: litepaste", "-perminutelimit"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if bytes.Contains(out, []byte("cont-init.d")) || bytes.Contains(out, []byte("restore:")) {
		t.Errorf("stage 2 ran:\n%s", out)
	}
	if entries, _ := os.ReadDir(data); len(entries) > 0 {
		t.Errorf("the volume holds %d files, want none", len(entries))
	}
	first, _, _ := strings.Cut(string(out), "\n")
	t.Logf("FIGURES unknown flag: exit code %d after %d ms (harness start included); first line %q", exit.ExitCode(), took.Milliseconds(), first)
}
