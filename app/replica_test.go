package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/internal/testkit"
	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/sqlite"
	"github.com/litepaste/litepaste/test/kit"
)

// putPaste uploads body with PUT to base and returns the writer's answer.
func putPaste(t *testing.T, base string, body []byte, headers ...string) (id, url, token string) {
	t.Helper()
	res, answer := httpDo(t, http.MethodPut, base+"/", bytes.NewReader(body), headers...)
	var put struct{ ID, URL, DeleteToken string }
	if res.StatusCode != http.StatusOK || json.Unmarshal(answer, &put) != nil {
		t.Fatalf("PUT %s: got %d %q", base, res.StatusCode, answer)
	}
	return put.ID, put.URL, put.DeleteToken
}

// A replica passes PUT, POST and DELETE to the writer and relays its answers
// as they are; the writer sees the client's address, and builds links with
// the host and scheme the client used. Before its copy exists the replica
// is not ready, and says why, without creating the file.
func TestReplicaPassesWritesToTheWriter(t *testing.T) {
	writer := startProgram(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1", "MAX_SIZE_MB": "1", "ADMIN_SOCKET": "off"})
	socket := shortSocketPath(t)
	replica := startProgram(t, map[string]string{"PRIMARY_URL": writer.base, "TRUSTED_PROXIES": "127.0.0.1", "ADMIN_SOCKET": socket})

	res, body := httpDo(t, http.MethodGet, replica.base+"/readyz", nil)
	if res.StatusCode != http.StatusServiceUnavailable || string(body) != "not ready: no copy of the database yet\n" {
		t.Errorf("/readyz without a copy: got %d %q", res.StatusCode, body)
	}
	if _, err := os.Stat(replica.dbPath); !os.IsNotExist(err) {
		t.Errorf("the replica created %s (%v)", replica.dbPath, err)
	}

	paste := []byte("sent through a replica\n")
	id, url, token := putPaste(t, replica.base, paste,
		"X-Forwarded-For", "203.0.113.7", "X-Forwarded-Host", "paste.example", "X-Forwarded-Proto", "https")
	if want := "https://paste.example/" + id; url != want {
		t.Errorf("link: got %q, want %q", url, want)
	}
	if res, got := httpDo(t, http.MethodGet, writer.base+"/"+id, nil); res.StatusCode != http.StatusOK || !bytes.Equal(got, paste) {
		t.Errorf("GET on the writer: got %d %q", res.StatusCode, got)
	}
	testkit.WaitFor(t, "the client's address in the writer's log line of the PUT", func() bool {
		_, ok := logLineWith(writer.stderr, `"method":"PUT"`, `"client":"203.0.113.7"`)
		return ok
	})
	// Without a Host of its own choosing, the link names the replica's.
	if _, url, _ := putPaste(t, replica.base, paste); !strings.HasPrefix(url, replica.base+"/") {
		t.Errorf("link: got %q, want it under %s", url, replica.base)
	}

	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "a.log")
	io.WriteString(fw, "a form through a replica")
	mw.Close()
	res, answer := httpDo(t, http.MethodPost, replica.base+"/upload", &form, "Content-Type", mw.FormDataContentType())
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(answer), replica.base+"/") {
		t.Fatalf("POST: got %d %q", res.StatusCode, answer)
	}
	if _, got := httpDo(t, http.MethodGet, writer.base+strings.TrimPrefix(strings.TrimSpace(string(answer)), replica.base), nil); string(got) != "a form through a replica" {
		t.Errorf("GET of the form paste on the writer: got %q", got)
	}

	// The writer's refusals pass through: its limit is 1 MiB, the replica's 2.
	res, answer = httpDo(t, http.MethodPut, replica.base+"/", bytes.NewReader(bytes.Repeat([]byte("x"), 1<<20+1)))
	if res.StatusCode != http.StatusRequestEntityTooLarge || string(answer) != "paste is larger than the limit of 1 MiB\n" {
		t.Errorf("PUT over the writer's limit: got %d %q", res.StatusCode, answer)
	}
	// The replica's own limit holds before anything is sent.
	res, answer = httpDo(t, http.MethodPut, replica.base+"/", bytes.NewReader(bytes.Repeat([]byte("x"), 2<<20+1)))
	if res.StatusCode != http.StatusRequestEntityTooLarge || string(answer) != "paste is larger than the limit of 2 MiB\n" {
		t.Errorf("PUT over the replica's limit: got %d %q", res.StatusCode, answer)
	}
	if res, _ := httpDo(t, http.MethodDelete, replica.base+"/"+id, nil, "X-Delete-Token", "wrong"); res.StatusCode != http.StatusForbidden {
		t.Errorf("DELETE with a wrong token: got %d, want the writer's 403", res.StatusCode)
	}
	if res, _ := httpDo(t, http.MethodDelete, replica.base+"/"+id, nil, "X-Delete-Token", token); res.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE with the token: got %d, want 204", res.StatusCode)
	}
	if res, _ := httpDo(t, http.MethodGet, writer.base+"/"+id, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET on the writer after the DELETE: got %d, want 404", res.StatusCode)
	}

	var stderr strings.Builder
	err := runDelete(context.Background(), []string{"-adminsocket", socket, id}, envOf(nil), io.Discard, &stderr)
	if err == nil || stderr.String() != id+": this server is a read replica: run litepaste delete on the writer\n" {
		t.Errorf("litepaste delete on a replica: got %v, %q", err, stderr.String())
	}
}

// logLineWith finds the first log line holding every one of parts.
func logLineWith(b interface{ String() string }, parts ...string) (string, bool) {
	for _, line := range strings.Split(b.String(), "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return line, true
		}
	}
	return "", false
}

// An upload sent to a replica while the writer restarts is held and sent
// again until the writer answers: while something on the writer's port
// drops every connection before answering, and while the port refuses
// connections. The upload is acknowledged once, by the restarted writer,
// and stored once. Past WRITE_RETRY the client gets 503 with Retry-After,
// and the log line says so without the writer URL's password.
func TestReplicaRetriesWritesWhileTheWriterRestarts(t *testing.T) {
	port := fmt.Sprint(kit.FreePort(t))
	dbPath := filepath.Join(t.TempDir(), "writer.db")
	writerEnv := map[string]string{"PORT": port, "DB_PATH": dbPath, "ADMIN_SOCKET": "off"}
	first := startProgram(t, writerEnv)
	replica := startProgram(t, map[string]string{"PRIMARY_URL": "http://127.0.0.1:" + port, "WRITE_RETRY": "1m", "ADMIN_SOCKET": "off"})
	putPaste(t, replica.base, []byte("before the restart\n"))
	if err := first.stop(t); err != nil {
		t.Fatal(err)
	}

	type answer struct {
		status int
		body   []byte
	}
	paste := []byte("sent while the writer restarts\n")
	done := make(chan answer, 1)
	sent := time.Now()
	go func() {
		res, err := http.Post(replica.base+"/", "text/plain", bytes.NewReader(paste))
		if err != nil {
			done <- answer{0, []byte(err.Error())}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		done <- answer{res.StatusCode, b}
	}()
	// Something on the writer's port drops each connection unanswered;
	// then the port refuses connections until the writer is back.
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	var dropped atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dropped.Add(1)
			c.(*net.TCPConn).SetLinger(0) // a reset, before any answer
			c.Close()
		}
	}()
	testkit.WaitFor(t, "three dropped tries", func() bool { return dropped.Load() >= 3 })
	ln.Close()
	second := startProgram(t, writerEnv)

	got := <-done
	t.Logf("FIGURES upload held %.2f s by the replica while the writer restarted, %d tries dropped", time.Since(sent).Seconds(), dropped.Load())
	if got.status != http.StatusOK || !strings.HasPrefix(string(got.body), replica.base+"/") {
		t.Fatalf("upload during the restart: got %d %q", got.status, got.body)
	}
	id := strings.TrimPrefix(strings.TrimSpace(string(got.body)), replica.base+"/")
	if res, body := httpDo(t, http.MethodGet, second.base+"/"+id, nil); res.StatusCode != http.StatusOK || !bytes.Equal(body, paste) {
		t.Errorf("GET on the restarted writer: got %d %q", res.StatusCode, body)
	}
	testkit.WaitFor(t, "the restarted writer's request log", func() bool {
		_, ok := logLineWith(second.stderr, `"method":"POST"`)
		return ok
	})
	if n := strings.Count(second.stderr.String(), `"method":"POST"`); n != 1 {
		t.Errorf("the restarted writer got the upload %d times, want once", n)
	}

	// No writer at all, and a retry time of one second.
	gone := startProgram(t, map[string]string{"PRIMARY_URL": "http://lp:s3cr3t-word@127.0.0.1:" + fmt.Sprint(kit.FreePort(t)),
		"WRITE_RETRY": "1s", "ADMIN_SOCKET": "off"})
	start := time.Now()
	res, body := httpDo(t, http.MethodPut, gone.base+"/", strings.NewReader("nobody stores this"))
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "1" ||
		string(body) != "the server that stores pastes is unreachable, try again shortly\n" {
		t.Errorf("PUT with the writer gone: got %d, Retry-After %q, %q", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("PUT with the writer gone answered after %s, want about WRITE_RETRY (1s)", took)
	}
	testkit.WaitFor(t, "the log line of the failed write", func() bool {
		_, ok := logLineWith(gone.stderr, `"msg":"writer unreachable"`, `"kind":"write"`)
		return ok
	})
	if strings.Contains(gone.stderr.String(), "s3cr3t-word") {
		t.Errorf("the log shows the writer URL's password:\n%s", gone.stderr)
	}
}

// Reads passed to the writer are bounded: two at once per client and
// sixteen in all; past that a read gets 503 at once instead of piling up
// at the writer. The writer here accepts connections and never answers, so
// every read passed on stays in flight.
func TestReplicaBoundsTheReadsItPassesOn(t *testing.T) {
	writerDB, copyDB, _ := snapshotCopy(t)
	var unseen []string
	for _, p := range storePastes(t, writerDB, 20) {
		unseen = append(unseen, p.ID.String())
	}

	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns = make(chan net.Conn, 64)
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	replica := startProgram(t, map[string]string{"PRIMARY_URL": "http://" + hung.Addr().String(), "DB_PATH": copyDB,
		"TRUSTED_PROXIES": "127.0.0.1", "WRITE_RETRY": "0", "ADMIN_SOCKET": "off"})
	var inFlight sync.WaitGroup
	t.Cleanup(func() {
		hung.Close()
		for len(conns) > 0 {
			(<-conns).Close()
		}
		inFlight.Wait()
	})
	get := func(id, client string) int {
		res, _ := httpDo(t, http.MethodGet, replica.base+"/"+id, nil, "X-Forwarded-For", client)
		return res.StatusCode
	}
	hold := func(from, to int) {
		for i := from; i < to; i++ {
			inFlight.Add(1)
			go func() {
				defer inFlight.Done()
				get(unseen[i], fmt.Sprintf("198.51.100.%d", i/2))
			}()
		}
		testkit.WaitFor(t, fmt.Sprintf("%d reads at the writer", to), func() bool { return len(conns) == to })
	}
	// Past the bounds the answer is at once: a read passed on would hang.
	refused := func(id, client string) bool {
		req, _ := http.NewRequest(http.MethodGet, replica.base+"/"+id, nil)
		req.Header.Set("X-Forwarded-For", client)
		res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") == "1"
	}
	hold(0, 2)
	if !refused(unseen[16], "198.51.100.0") {
		t.Error("a third read at once from one client was not refused with 503")
	}
	hold(2, 16)
	if !refused(unseen[17], "198.51.100.99") {
		t.Error("a seventeenth read at once was not refused with 503")
	}
	if len(conns) != 16 {
		t.Errorf("%d reads reached the writer, want 16", len(conns))
	}
}

// A read of a paste the replica's copy has not seen yet is answered by the
// writer, as the writer answers it: HEAD, Range, gzip (encoded once), 404
// for one deleted since. The copy here is a snapshot of the writer's file
// that never changes, so every such read is passed on.
func TestReplicaPassesReadsOfUnseenPastesToTheWriter(t *testing.T) {
	writerDB, copyDB, old := snapshotCopy(t)
	writer := startProgram(t, map[string]string{"DB_PATH": writerDB, "ADMIN_SOCKET": "off"})
	replica := startProgram(t, map[string]string{"PRIMARY_URL": writer.base, "DB_PATH": copyDB, "ADMIN_SOCKET": "off",
		"METRICS_ADDR": "127.0.0.1:0"})
	metrics := replica.metricsAddr(t)
	forwarded := func() float64 {
		return metric(t, metrics, `litepaste_forwarded_requests_total{kind="read",outcome="answered"}`)
	}

	text := bytes.Repeat([]byte("a line of a log that compresses well\n"), 200)
	id, _, token := putPaste(t, writer.base, text)
	if res, got := httpDo(t, http.MethodGet, replica.base+"/"+old.ID.String(), nil); res.StatusCode != http.StatusOK || string(got) != "in the copy" {
		t.Errorf("GET of a paste in the copy: %d %q", res.StatusCode, got)
	}
	if n := forwarded(); n != 0 {
		t.Errorf("a read of a paste in the copy went to the writer (%v)", n)
	}
	res, got := httpDo(t, http.MethodGet, replica.base+"/"+id, nil)
	if res.StatusCode != http.StatusOK || !bytes.Equal(got, text) || res.Header.Get("ETag") == "" {
		t.Errorf("GET of an unseen paste: %d, %d bytes, ETag %q", res.StatusCode, len(got), res.Header.Get("ETag"))
	}
	if res, got := httpDo(t, http.MethodHead, replica.base+"/"+id, nil); res.StatusCode != http.StatusOK || len(got) != 0 ||
		res.ContentLength != int64(len(text)) {
		t.Errorf("HEAD of an unseen paste: %d, Content-Length %d, %d bytes", res.StatusCode, res.ContentLength, len(got))
	}
	if res, got := httpDo(t, http.MethodGet, replica.base+"/"+id, nil, "Range", "bytes=0-9"); res.StatusCode != http.StatusPartialContent ||
		!bytes.Equal(got, text[:10]) {
		t.Errorf("Range of an unseen paste: %d %q", res.StatusCode, got)
	}
	res, got = httpDo(t, http.MethodGet, replica.base+"/"+id, nil, "Accept-Encoding", "gzip")
	if res.StatusCode != http.StatusOK || res.Header.Values("Content-Encoding")[0] != "gzip" || len(res.Header.Values("Content-Encoding")) != 1 {
		t.Fatalf("gzip GET of an unseen paste: %d, Content-Encoding %q", res.StatusCode, res.Header.Values("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := io.ReadAll(zr); err != nil || !bytes.Equal(plain, text) {
		t.Errorf("gzip GET of an unseen paste: %d bytes after one gunzip, %v", len(plain), err)
	}
	if n := forwarded(); n != 4 {
		t.Errorf("reads passed to the writer: %v, want 4", n)
	}
	if res, _ := httpDo(t, http.MethodDelete, writer.base+"/"+id, nil, "X-Delete-Token", token); res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE on the writer: %d", res.StatusCode)
	}
	if res, got := httpDo(t, http.MethodGet, replica.base+"/"+id, nil); res.StatusCode != http.StatusNotFound || string(got) != "paste not found\n" {
		t.Errorf("GET of an unseen paste deleted on the writer: %d %q", res.StatusCode, got)
	}
}

// snapshotCopy makes a writer's database holding one paste, and a copy of
// it as a follower would have restored it (the file and its txid).
func snapshotCopy(t *testing.T) (writerDB, copyDB string, inBoth paste.Paste) {
	t.Helper()
	dir := t.TempDir()
	writerDB, copyDB = filepath.Join(dir, "writer.db"), filepath.Join(dir, "copy.db")
	inBoth = storePastes(t, writerDB, 1)[0]
	testkit.CopyFile(t, writerDB, copyDB)
	if err := os.WriteFile(copyDB+"-txid", []byte("0000000000000001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return writerDB, copyDB, inBoth
}

// storePastes stores n pastes in the database at path, the store closed
// again after.
func storePastes(t *testing.T, path string, n int) []paste.Paste {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var out []paste.Paste
	for range n {
		p, err := store.Insert(ctx, paste.New([]byte("in the copy"), time.Now(), paste.Never, nil))
		if err != nil {
			store.Close()
			t.Fatal(err)
		}
		out = append(out, p)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A replica whose PRIMARY_URL leads to a replica (here itself, as a
// Service of the replicas would) refuses what it is passed, once, with 508
// and a line in the log, instead of passing it round.
func TestReplicaRefusesRequestsPassedBetweenReplicas(t *testing.T) {
	port := fmt.Sprint(kit.FreePort(t))
	replica := startProgram(t, map[string]string{"PORT": port, "PRIMARY_URL": "http://127.0.0.1:" + port, "ADMIN_SOCKET": "off"})
	res, body := httpDo(t, http.MethodPut, replica.base+"/", strings.NewReader("round and round"))
	if res.StatusCode != http.StatusLoopDetected || string(body) != "this server's PRIMARY_URL leads to a read replica, not to the writer\n" {
		t.Errorf("PUT: got %d %q, want 508", res.StatusCode, body)
	}
	// The client's PUT and the one passed back, each once.
	testkit.WaitFor(t, "two PUTs in the request log", func() bool {
		return strings.Count(replica.stderr.String(), `"msg":"request","method":"PUT"`) == 2
	})
	if _, ok := logLineWith(replica.stderr, `"status":508`, "PRIMARY_URL must name the writer"); !ok {
		t.Errorf("no log line says what is wrong:\n%s", replica.stderr)
	}
}
