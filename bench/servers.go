package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// server is an HTTP process under test: litepaste or the ceiling.
type server struct {
	*proc
	addr string // 127.0.0.1:port
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// serverEnv is cleared from the bench's own environment before litepaste starts, so that
// each run uses the documented defaults plus what the bench sets.
var serverEnv = []string{
	"PORT", "DB_PATH", "SITE_TITLE", "SITE_SUBTITLE", "SITE_FOOTER", "SITE_SHOW_DOCUMENTATION",
	"PER_MINUTE_LIMIT", "MAX_SIZE_MB", "TRUSTED_PROXIES", "READY_FD", "METRICS_ADDR",
	"DEFAULT_EXPIRY", "MAX_EXPIRY", "UPLOAD_MEMORY_MB", "SWEEP_INTERVAL",
	"UPLOAD_IDLE_TIMEOUT", "UPLOAD_MIN_RATE_KB", "UPLOADS_PER_CLIENT",
	"LITESTREAM_SOCKET", "LITESTREAM_METRICS_URL", "REPLICATION_STALL_AFTER",
}

// startLitepaste starts the server on a free port with its database at dbPath, logging to
// NAME.log as it would in production, with the upload limit at maxMiB.
func (b *bench) startLitepaste(ctx context.Context, name, dbPath string, maxMiB int) (*server, error) {
	env := append(envWithout(serverEnv...),
		"PORT=0", "DB_PATH="+dbPath, "PER_MINUTE_LIMIT=0", fmt.Sprintf("MAX_SIZE_MB=%d", maxMiB))
	p, err := startProc(name, b.path(name+".log"), env, b.cfg.litepaste)
	if err != nil {
		return nil, err
	}
	b.procs = append(b.procs, p)
	return b.awaitListening(ctx, p)
}

func (b *bench) startCeiling(ctx context.Context, name string) (*server, error) {
	return b.startSubcommand(ctx, name, "ceiling", "-body", b.bodyPath())
}

// startSubcommand runs this program again as one of its server subcommands.
func (b *bench) startSubcommand(ctx context.Context, name string, args ...string) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p, err := startProc(name, b.path(name+".log"), os.Environ(), self, args...)
	if err != nil {
		return nil, err
	}
	b.procs = append(b.procs, p)
	return b.awaitListening(ctx, p)
}

// awaitListening reads the process's log until it names the address it listens on.
func (b *bench) awaitListening(ctx context.Context, p *proc) (*server, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		if f, err := os.Open(p.logPath); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if addr := listenAddr(sc.Bytes()); addr != "" {
					f.Close()
					s := &server{proc: p, addr: addr}
					return s, waitTCP(ctx, p, addr, 10*time.Second)
				}
			}
			f.Close()
		}
		if p.exited() {
			return nil, fmt.Errorf("%s exited before listening: %v\n%s", p.name, p.err, p.tail(20))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s logged no \"listening\" line within 30s\n%s", p.name, p.tail(20))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// client asks for no compression: the phases measure the plain bytes.
var client = &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{DisableCompression: true}}

// putPaste uploads body to s and returns the new paste's ID.
func putPaste(ctx context.Context, s *server, body io.Reader, size int64) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.url("/"), body)
	if err != nil {
		return "", err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("PUT / answered %s: %s", resp.Status, firstLine(string(reply)))
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(reply, &created); err != nil || created.ID == "" {
		return "", fmt.Errorf("PUT / answered %q, want JSON with an id", reply)
	}
	return created.ID, nil
}

// getTo downloads path from s into w and returns the byte count.
func getTo(ctx context.Context, s *server, path string, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url(path), nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s answered %s", path, resp.Status)
	}
	return io.Copy(w, resp.Body)
}

// stopServer stops s and records it as broken if it does not end the way the contract says
// (exit 0 on SIGTERM).
func (b *bench) stopServer(s *server) {
	if err := s.stop(20 * time.Second); err != nil {
		b.broke = append(b.broke, err.Error())
		fmt.Printf("  BROKE: %v\n", err)
	}
}

// createPaste stores the 1 KiB body on s and checks it reads back the same.
func (b *bench) createPaste(ctx context.Context, s *server) (string, error) {
	id, err := putPaste(ctx, s, bytes.NewReader(b.body), int64(len(b.body)))
	if err != nil {
		return "", err
	}
	var got bytes.Buffer
	if _, err := getTo(ctx, s, "/"+id, &got); err != nil {
		return "", err
	}
	if !bytes.Equal(got.Bytes(), b.body) {
		return "", fmt.Errorf("GET /%s gave %d bytes that differ from the %d uploaded", id, got.Len(), len(b.body))
	}
	return id, nil
}

func dirBytes(root string) (files int, size int64) {
	_ = filepath.WalkDir(root, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				files++
				size += fi.Size()
			}
		}
		return nil
	})
	return files, size
}
