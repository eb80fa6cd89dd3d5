package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"
)

// shortSocketPath is a path for a Unix socket short enough for the kernel's
// limit (about 100 bytes), which test temp dirs can exceed.
func shortSocketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "admin.sock")
}

// `litepaste delete ID...`, run beside the server as `docker exec` runs it,
// takes down any paste: one from LogPaste without a token, a new one with
// its own, a cached one. From then on each answers 404 and its bytes are
// gone from the file. The public port offers no such thing.
func TestProgramTakesPastesDownOnTheOperatorsCommand(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "store.db")
	marker := "takedown-marker-5be21d"
	testkit.WriteLogPasteDB(t, dbPath, "WAL", 1, []testkit.LogPasteEntry{
		{ID: "OldPaste", Created: time.Now(), Contents: []byte("old " + marker)},
		{ID: "KeptPast", Created: time.Now(), Contents: []byte("kept")},
	})
	socket := shortSocketPath(t)
	env := map[string]string{"DB_PATH": dbPath, "ADMIN_SOCKET": socket}
	p := startProgram(t, env)
	res, answer := httpDo(t, http.MethodPut, p.base+"/", strings.NewReader("new "+marker))
	var put struct{ ID string }
	if res.StatusCode != http.StatusOK || json.Unmarshal(answer, &put) != nil {
		t.Fatalf("PUT: got %d %q", res.StatusCode, answer)
	}
	ids := []string{"OldPaste", put.ID}
	for _, id := range ids {
		for range 2 { // the second read is served from the cache
			if res, _ := httpDo(t, http.MethodGet, p.base+"/"+id, nil); res.StatusCode != http.StatusOK {
				t.Fatalf("GET /%s before the takedown: %d", id, res.StatusCode)
			}
		}
		// Neither the public DELETE without the token nor any path under
		// /pastes/ on the public port takes it down.
		if res, _ := httpDo(t, http.MethodDelete, p.base+"/"+id, nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("public DELETE /%s without a token: %d, want 403", id, res.StatusCode)
		}
		if res, _ := httpDo(t, http.MethodDelete, p.base+"/pastes/"+id, nil); res.StatusCode == http.StatusNoContent {
			t.Errorf("public DELETE /pastes/%s: 204, the admin endpoint is on the public port", id)
		}
	}
	if st, err := os.Stat(socket); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("admin socket: %v, mode %v, want 0600 (this user only)", err, st.Mode().Perm())
	}

	cmd := startMain(t, []string{"DB_PATH=" + dbPath, "ADMIN_SOCKET=" + socket}, append([]string{"delete"}, ids...)...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("litepaste delete: %v\n%s", err, cmd.Stderr)
	}
	for _, id := range ids {
		if out := cmd.Stdout.(*testkit.SyncBuffer).String(); !strings.Contains(out, id+": taken down") {
			t.Errorf("litepaste delete printed %q, want %s taken down", out, id)
		}
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			if res, _ := httpDo(t, method, p.base+"/"+id, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s /%s after the takedown: %d, want 404", method, id, res.StatusCode)
			}
		}
	}
	if res, got := httpDo(t, http.MethodGet, p.base+"/KeptPast", nil); res.StatusCode != http.StatusOK || string(got) != "kept" {
		t.Errorf("a paste not taken down: %d %q", res.StatusCode, got)
	}
	testkit.WaitFor(t, "the takedown's log line", func() bool {
		_, ok := logLine(p.stderr, "paste taken down")
		return ok
	})

	again := startMain(t, []string{"DB_PATH=" + dbPath, "ADMIN_SOCKET=" + socket}, "delete", "OldPaste", "not-an-id")
	if err := again.Wait(); err == nil {
		t.Error("litepaste delete of a paste already gone: exit 0, want a failure")
	}
	for _, want := range []string{"OldPaste: paste not found", "not-an-id: not a paste id", "2 of 2 pastes not taken down"} {
		if !strings.Contains(again.Stderr.(*testkit.SyncBuffer).String(), want) {
			t.Errorf("litepaste delete said %q, want %q", again.Stderr, want)
		}
	}

	if err := p.stop(t); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(socket); !os.IsNotExist(err) {
		t.Errorf("admin socket after the stop: %v, want it removed", err)
	}
	file, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(marker)) {
		t.Error("the database still holds the bytes of a paste taken down")
	}
}

// A socket left by a server that was killed does not keep the next one from
// taking operator commands; a running server's socket is not taken over.
func TestProgramReplacesAStaleAdminSocket(t *testing.T) {
	socket := shortSocketPath(t)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: socket, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	dbPath := filepath.Join(t.TempDir(), "litepaste.db")
	first := startProgram(t, map[string]string{"DB_PATH": dbPath, "ADMIN_SOCKET": socket})
	if _, ok := logLine(first.stderr, "admin socket listening"); !ok {
		t.Fatalf("the server did not listen on the stale socket's path:\n%s", first.stderr)
	}
	second := startProgram(t, map[string]string{"DB_PATH": filepath.Join(t.TempDir(), "other.db"), "ADMIN_SOCKET": socket})
	if line, ok := logLine(second.stderr, "no admin socket: `litepaste delete` cannot reach this server"); !ok || !strings.Contains(line["err"].(string), "another server answers") {
		t.Errorf("a second server on a live socket: want a warning that another server answers, got %v\n%s", line, second.stderr)
	}
	cmd := startMain(t, []string{"DB_PATH=" + dbPath}, "delete", "-adminsocket", socket, "AAAAAAAA")
	_ = cmd.Wait()
	if !strings.Contains(cmd.Stderr.(*testkit.SyncBuffer).String(), "AAAAAAAA: paste not found") {
		t.Errorf("the first server no longer answers on its socket: %s", cmd.Stderr)
	}
}

// The admin socket's default place is beside the database.
func TestAdminSocketPath(t *testing.T) {
	for _, tt := range []struct{ db, setting, want string }{
		{"/data/litepaste.db", "", "/data/litepaste.db-admin.sock"},
		{"/data/litepaste.db", "/run/lp.sock", "/run/lp.sock"},
		{"/data/litepaste.db", "off", ""},
	} {
		if got := adminSocketPath(tt.db, tt.setting); got != tt.want {
			t.Errorf("adminSocketPath(%q, %q): got %q, want %q", tt.db, tt.setting, got, tt.want)
		}
	}
}
