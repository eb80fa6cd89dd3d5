package system_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/litepaste/litepaste/test/kit"
)

var client = &http.Client{Timeout: 10 * time.Second}

// paste is an upload the server acknowledged.
type paste struct {
	id   string
	body []byte
}

// upload PUTs body and returns the acknowledged paste.
func upload(base string, body []byte) (paste, error) {
	req, err := http.NewRequest(http.MethodPut, base+"/", bytes.NewReader(body))
	if err != nil {
		return paste{}, err
	}
	p, _, err := doUpload(req, body)
	return p, err
}

// doUpload sends an upload of body and reads the answer: the paste and its
// delete token.
func doUpload(req *http.Request, body []byte) (paste, string, error) {
	resp, err := client.Do(req)
	if err != nil {
		return paste{}, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return paste{}, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return paste{}, "", fmt.Errorf("PUT: %s: %s", resp.Status, b)
	}
	var ans struct {
		ID          string `json:"id"`
		DeleteToken string `json:"deleteToken"`
	}
	if err := json.Unmarshal(b, &ans); err != nil || ans.ID == "" {
		return paste{}, "", fmt.Errorf("PUT answer %q: %v", b, err)
	}
	return paste{id: ans.ID, body: body}, ans.DeleteToken, nil
}

func mustUpload(t *testing.T, base string, body []byte) paste {
	t.Helper()
	p, err := upload(base, body)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fetch GETs a paste; found is false on 404.
func fetch(base, id string) (body []byte, found bool, err error) {
	resp, err := client.Get(base + "/" + id)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return nil, false, err
	case resp.StatusCode == http.StatusNotFound:
		return nil, false, nil
	case resp.StatusCode != http.StatusOK:
		return nil, false, fmt.Errorf("GET /%s: %s", id, resp.Status)
	}
	return b, true, nil
}

// deletePaste deletes a paste through base with its token.
func deletePaste(t *testing.T, base, id, token string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, base+"/"+id, nil)
	req.Header.Set("X-Delete-Token", token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /%s: %s", id, resp.Status)
	}
}

// checkServed counts the pastes served byte for byte; it reports each one
// missing or different.
func checkServed(t *testing.T, base string, pastes []paste) int {
	t.Helper()
	ok := 0
	for _, p := range pastes {
		got, found, err := fetch(base, p.id)
		switch {
		case err != nil:
			t.Errorf("paste %s: %v", p.id, err)
		case !found:
			t.Errorf("paste %s: not found", p.id)
		case !bytes.Equal(got, p.body):
			t.Errorf("paste %s: got %d bytes, want the %d uploaded", p.id, len(got), len(p.body))
		default:
			ok++
		}
	}
	return ok
}

func httpStatus(url string) int {
	resp, err := client.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// marker returns a prefix, a colon and 64 random characters, to find in a bucket.
func marker(prefix string) []byte {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return []byte(prefix + ":" + base64.RawURLEncoding.EncodeToString(b))
}

// body returns about n bytes of varied content (text lines, UTF-8, a NUL,
// CR LF) that starts with a marker.
func body(prefix string, n int) []byte {
	var buf bytes.Buffer
	buf.Write(marker(prefix))
	buf.WriteString("\r\nünïcödé ✓\x00\ttab\n")
	for i := 0; buf.Len() < n; i++ {
		fmt.Fprintf(&buf, "%06d %s\n", i, marker("line"))
	}
	return buf.Bytes()
}

// restoreElsewhere restores the replica into a new file with the pinned
// litestream, as on another host, and returns the file and how long it took.
func restoreElsewhere(t *testing.T, ts *toolset, s3 *s3Server, replicaURL string) (string, time.Duration) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "restored.db")
	cmd := exec.Command(ts.litestream, "restore", "-o", out, replicaURL)
	cmd.Env = append(os.Environ(), s3.credentials()...)
	cmd.Env = append(cmd.Env, "AWS_CA_BUNDLE=")
	t0 := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("litestream restore: %v\n%s", err, b)
	}
	return out, time.Since(t0)
}

// serveFile runs the paste server on the host over dbPath and returns its URL.
func serveFile(t *testing.T, ts *toolset, dbPath string) string {
	t.Helper()
	base, _ := hostServer(t, ts, dbPath)
	return base
}

// hostServer runs the paste server on the host over dbPath; kill ends it
// with SIGKILL, as a crash would.
func hostServer(t *testing.T, ts *toolset, dbPath string) (base string, kill func()) {
	t.Helper()
	port := kit.FreePort(t)
	cmd := exec.Command(ts.litepaste)
	cmd.Env = append(os.Environ(), "DB_PATH="+dbPath, "PORT="+itoa(port))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	kill = func() {
		_ = cmd.Process.Kill()
		<-done
	}
	t.Cleanup(func() {
		kill()
		if t.Failed() {
			t.Logf("host litepaste log:\n%s", logs.String())
		}
	})
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	waitFor(t, 30*time.Second, "litepaste on "+dbPath, func() bool {
		select {
		case <-done:
			t.Fatalf("litepaste over %s exited:\n%s", dbPath, logs.String())
		default:
		}
		return httpStatus(base+"/readyz") == 200
	})
	return base, kill
}
