// Package kit holds what the repository's test modules and the bench share:
// a free port, the rule for a missing prerequisite, the built server's
// description of itself, and a real S3 server (versitygw) on loopback.
package kit

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// FreePort returns a loopback TCP port that was free a moment ago, for
// programs that cannot listen on port 0 and report the port they got.
func FreePort(t testing.TB) int {
	t.Helper()
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// FreeAddr is FreePort as 127.0.0.1:PORT, for callers without a testing.TB.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// InCI says whether the tests run under CI=true, where a missing
// prerequisite is a failure, never a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// SkipOrFail skips the test outside CI and fails it under CI=true.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (outside CI this is a skip)", args...)
}

// Route is one method and path the server answers.
type Route struct{ Method, Path string }

// Description is what the built server says of itself with -describe: the
// routes it answers and the environment variables and flags it reads.
type Description struct {
	Routes []Route
	Env    []string
	Flags  []string
}

// Serves says whether the server answers method on path.
func (d Description) Serves(method, path string) bool {
	return slices.Contains(d.Routes, Route{method, path})
}

// Describe asks the server binary at bin to describe itself.
func Describe(t testing.TB, bin string) Description {
	t.Helper()
	if _, err := os.Stat(bin); err != nil {
		SkipOrFail(t, "litepaste not found at %s (make build, or set LITEPASTE_BIN)", bin)
	}
	var stderr strings.Builder
	cmd := exec.Command(bin, "-describe")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s -describe: %v: %s", bin, err, stderr.String())
	}
	var d Description
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("%s -describe: %v\n%s", bin, err, out)
	}
	return d
}

// VersityGW is a versitygw process serving a POSIX directory as S3 on
// loopback: each top-level directory is a bucket, each object a file.
type VersityGW struct {
	Addr   string
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartVersityGW runs bin on addr over root with one access key, its output
// to log, extra flags (such as --access-log FILE) before the backend, and
// waits until it accepts connections. It dies with the process that
// started it.
func StartVersityGW(bin, addr, root, key, secret string, log io.Writer, extra ...string) (*VersityGW, error) {
	args := append([]string{"--port", addr, "--access", key, "--secret", secret, "--quiet"}, extra...)
	cmd := exec.Command(bin, append(args, "posix", root)...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	v := &VersityGW{Addr: addr, cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(v.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return v, nil
		}
		select {
		case <-v.exited:
			return nil, fmt.Errorf("versitygw exited before listening on %s: %v", addr, cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			v.Stop()
			return nil, fmt.Errorf("versitygw did not listen on %s within 30 s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop sends SIGTERM, kills after 10 s, and waits for the process to end.
func (v *VersityGW) Stop() {
	_ = v.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-v.exited:
	case <-time.After(10 * time.Second):
		_ = v.cmd.Process.Kill()
		<-v.exited
	}
}
