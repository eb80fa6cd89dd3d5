package web

import (
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// byteSemaphore bounds the upload bytes held in memory at once.
type byteSemaphore struct {
	sem      *semaphore.Weighted
	capacity int64
	held     atomic.Int64 // for tests and nothing else: the semaphore keeps the real count
}

func newByteSemaphore(capacity int64) *byteSemaphore {
	return &byteSemaphore{sem: semaphore.NewWeighted(capacity), capacity: capacity}
}

// acquire takes n bytes, waiting up to wait for them.
func (b *byteSemaphore) acquire(ctx context.Context, n int64, wait time.Duration) bool {
	if !b.sem.TryAcquire(n) {
		ctx, cancel := context.WithTimeout(ctx, wait)
		err := b.sem.Acquire(ctx, n)
		cancel()
		if err != nil {
			return false
		}
	}
	b.held.Add(n)
	return true
}

// release gives back n bytes; releasing nothing is allowed.
func (b *byteSemaphore) release(n int64) {
	if n > 0 {
		b.held.Add(-n)
		b.sem.Release(n)
	}
}

// budgetShare is what one upload holds of the budget: the capacity of the
// buffers its body is read into, taken as they grow, given back once the
// paste is stored or dropped.
type budgetShare struct {
	budget *byteSemaphore
	ctx    context.Context
	wait   time.Duration
	held   int64
}

// take adds n bytes to the share, or fails with errBusy after waiting for
// them. One upload never asks for more than the whole budget: a form with two
// parts of the maximum size is counted up to the budget only.
func (s *budgetShare) take(n int64) error {
	n = min(n, s.budget.capacity-s.held)
	if n <= 0 {
		return nil
	}
	if !s.budget.acquire(s.ctx, n, s.wait) {
		return retryError{errBusy, 5}
	}
	s.held += n
	return nil
}

// give returns n bytes of the share.
func (s *budgetShare) give(n int64) {
	n = min(n, s.held)
	s.budget.release(n)
	s.held -= n
}

// keep gives back whatever the share holds beyond n bytes: after a buffer
// was replaced by a larger one, the share drops from both to what stays
// held (at most the whole budget).
func (s *budgetShare) keep(n int64) {
	if n < s.held {
		s.give(s.held - n)
	}
}

func (s *budgetShare) releaseAll() { s.give(s.held) }
