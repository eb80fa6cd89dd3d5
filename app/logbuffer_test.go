package main

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// flakyWriter fails its first write (a full or closed stderr), then works.
type flakyWriter struct {
	mu     sync.Mutex
	failed bool
	buf    bytes.Buffer
}

func (w *flakyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.failed {
		w.failed = true
		return 0, errors.New("write /dev/stderr: no space left on device")
	}
	return w.buf.Write(p)
}

func (w *flakyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestLogLinesArriveAgainAfterAFailedWrite(t *testing.T) {
	out := &flakyWriter{}
	// A ticker too slow to matter: the test flushes by hand.
	b := newLogBuffer(out, time.Hour)
	if _, err := b.Write([]byte("lost with the failed write\n")); err != nil {
		t.Fatal(err)
	}
	b.flush()
	for _, line := range []string{"after the failure 1\n", "after the failure 2\n"} {
		if _, err := b.Write([]byte(line)); err != nil {
			t.Fatalf("write after a failed flush: %v", err)
		}
	}
	b.flush()
	b.Close()
	if got, want := out.String(), "after the failure 1\nafter the failure 2\n"; got != want {
		t.Errorf("log output: got %q, want %q", got, want)
	}
}

func TestLogLinesArriveAgainAfterAFailedWriteOfAFullBuffer(t *testing.T) {
	out := &flakyWriter{}
	b := newLogBuffer(out, time.Hour)
	// More than the buffer holds, so the write itself reaches the writer.
	big := strings.Repeat("x", 100<<10) + "\n"
	if _, err := b.Write([]byte(big)); err == nil {
		t.Fatal("a write that reached the failing writer reported no error")
	}
	if _, err := b.Write([]byte("next line\n")); err != nil {
		t.Fatalf("write after a failed write: %v", err)
	}
	b.Close()
	if got, want := out.String(), "next line\n"; got != want {
		t.Errorf("log output: got %q, want %q", got, want)
	}
}
