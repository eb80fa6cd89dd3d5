package web

import (
	"context"

	"golang.org/x/sync/semaphore"
)

// byteSemaphore bounds the upload bytes held in memory at once.
type byteSemaphore struct {
	sem      *semaphore.Weighted
	capacity int64
}

func newByteSemaphore(capacity int64) *byteSemaphore {
	return &byteSemaphore{sem: semaphore.NewWeighted(capacity), capacity: capacity}
}

func (b *byteSemaphore) tryAcquire(n int64) bool                    { return b.sem.TryAcquire(n) }
func (b *byteSemaphore) acquire(ctx context.Context, n int64) error { return b.sem.Acquire(ctx, n) }

// release gives back n bytes; releasing nothing is allowed.
func (b *byteSemaphore) release(n int64) {
	if n > 0 {
		b.sem.Release(n)
	}
}
