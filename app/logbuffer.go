package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logBuffer batches log lines and flushes them every interval, so a busy
// server pays for one write system call per batch instead of per request.
// A crash loses at most one interval of log lines.
type logBuffer struct {
	mu   sync.Mutex
	out  io.Writer
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

func newLogBuffer(w io.Writer, every time.Duration) *logBuffer {
	b := &logBuffer{out: w, w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				b.flush()
			case <-b.stop:
				b.flush()
				return
			}
		}
	}()
	return b
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.w.Write(p)
	if err != nil {
		b.reset()
	}
	return n, err
}

func (b *logBuffer) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Nowhere is left to report a failing log stream to: the lines of the
	// batch that failed are dropped, and the next ones are tried afresh.
	if err := b.w.Flush(); err != nil {
		b.reset()
	}
}

// reset lets later lines through after a failed write: a bufio.Writer
// keeps its first error and fails every write after it.
func (b *logBuffer) reset() { b.w.Reset(b.out) }

// Close flushes what is left and stops the ticker.
func (b *logBuffer) Close() {
	close(b.stop)
	<-b.done
}
