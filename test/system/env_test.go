// Package system_test runs litepaste's container tree (etc/, litestream.yml)
// with the real server, the pinned litestream and a real S3 server
// (versitygw) under Debian's s6, through harness.sh, as the image would run.
package system_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// The image's fixed settings. The Dockerfile sets the same ENV and USER; the
// README lists them (section "Running the container with replication").
var imageEnv = []string{
	"DB_PATH=/data/litepaste.db",
	"S6_BEHAVIOUR_IF_STAGE2_FAILS=2",
	"S6_SERVICES_GRACETIME=4000",
	"S6_KILL_GRACETIME=500",
}

const imageUser = "10001:10001"

// imageEntrypoint is the Dockerfile's ENTRYPOINT (test/dockerfile checks it).
var imageEntrypoint = []string{"/usr/local/bin/litepaste", "-exec", "/init"}

// hostEnv is what these machines (and many CI hosts) export; the container
// receives it to prove that the scripts unset it for litestream.
const hostCABundle = "AWS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt"

// Credentials of the test S3 server's root account.
const (
	s3Key    = "litepaste-test"
	s3Secret = "litepaste-test-secret"
)

type toolset struct {
	repo       string // repository root
	harness    string // test/system/harness.sh
	litepaste  string
	litestream string
	// litestreamV03 is the Litestream v0.3 of LogPaste's image (tools/litestream-v0.3).
	litestreamV03 string
	versitygw     string
	image         string // the assembled image layer
}

var (
	toolsOnce sync.Once
	toolsVal  *toolset
	toolsErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if toolsVal != nil {
		os.RemoveAll(toolsVal.image)
	}
	os.Exit(code)
}

// needTools returns the binaries and the image layer, or ends the test: a
// skip on a developer machine, a failure under CI=true.
func needTools(t *testing.T) *toolset {
	t.Helper()
	toolsOnce.Do(func() { toolsVal, toolsErr = findTools() })
	if toolsErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("system test prerequisites missing under CI: %v", toolsErr)
		}
		t.Skipf("system test prerequisites missing: %v", toolsErr)
	}
	return toolsVal
}

func findTools() (*toolset, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("must run as root (the harness uses mount and pid namespaces and overlayfs)")
	}
	for _, p := range []string{"s6-svscan", "s6-svstat", "execlineb", "unshare", "nsenter", "setpriv"} {
		if _, err := exec.LookPath(p); err != nil {
			return nil, errors.New(p + " not found: apt-get install s6 execline util-linux")
		}
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		return nil, err
	}
	ts := &toolset{repo: repo, harness: filepath.Join(repo, "test/system/harness.sh")}
	for _, b := range []struct {
		dst *string
		env string
		bin string
	}{
		{&ts.litepaste, "LITEPASTE_BIN", "litepaste"},
		{&ts.litestream, "LITESTREAM_BIN", "litestream"},
		{&ts.litestreamV03, "LITESTREAM_V03_BIN", "litestream-v0.3"},
		{&ts.versitygw, "VERSITYGW_BIN", "versitygw"},
	} {
		p := os.Getenv(b.env)
		if p == "" {
			p = filepath.Join(repo, "bin", b.bin)
		}
		if _, err := os.Stat(p); err != nil {
			return nil, errors.New(b.bin + " binary not found at " + p + " (set " + b.env + " or run make build tools)")
		}
		*b.dst = p
	}
	img, err := buildImage(ts)
	if err != nil {
		return nil, err
	}
	ts.image = img
	return ts, nil
}

// buildImage assembles the image layer the way the Dockerfile does: the
// repository's etc/ tree, litestream.yml at /etc, both binaries in
// /usr/local/bin and a /data owned by the image user.
func buildImage(ts *toolset) (string, error) {
	dir, err := os.MkdirTemp("", "litepaste-image-")
	if err != nil {
		return "", err
	}
	steps := [][]string{
		{"mkdir", "-p", dir + "/etc", dir + "/usr/local/bin", dir + "/data"},
		{"cp", "-a", ts.repo + "/etc/.", dir + "/etc/"},
		{"cp", ts.repo + "/litestream.yml", dir + "/etc/litestream.yml"},
		{"cp", ts.litepaste, dir + "/usr/local/bin/litepaste"},
		{"cp", ts.litestream, dir + "/usr/local/bin/litestream"},
		{"chown", imageUser, dir + "/data"},
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			return "", errors.New(s[0] + ": " + err.Error() + ": " + string(out))
		}
	}
	return dir, nil
}

// dataDir returns an empty volume directory owned by the image user.
func dataDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, 10001, 10001); err != nil {
		t.Fatal(err)
	}
	return d
}

func itoa(i int) string { return strconv.Itoa(i) }
