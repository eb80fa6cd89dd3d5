package web

import (
	"sync"
	"time"
)

// rateLimiter allows n uploads per window per client, sustained: a token
// bucket of n tokens refilled at n per window, so a client that waits gets
// its full allowance back (not "a burst of n, then one per window").
type rateLimiter struct {
	mu        sync.Mutex
	capacity  float64
	interval  time.Duration // time to earn one token
	window    time.Duration
	now       func() time.Time
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(n int, window time.Duration, now func() time.Time) *rateLimiter {
	return &rateLimiter{
		capacity:  float64(n),
		interval:  window / time.Duration(n),
		window:    window,
		now:       now,
		buckets:   make(map[string]*bucket),
		lastSweep: now(),
	}
}

// allow takes a token for key, or says how long until one is available.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.lastSweep) >= l.window {
		l.sweepLocked(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.capacity, last: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(l.interval))
}

func (l *rateLimiter) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(l.capacity, b.tokens+float64(elapsed)/float64(l.interval))
		b.last = now
	}
}

func (l *rateLimiter) sweep() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(l.now())
}

// sweepLocked forgets clients whose bucket has refilled: their state is the
// same as a stranger's, so the map only holds recently active clients.
func (l *rateLimiter) sweepLocked(now time.Time) {
	for key, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.capacity {
			delete(l.buckets, key)
		}
	}
	l.lastSweep = now
}

func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
