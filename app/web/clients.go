package web

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// clientKey names the client an address belongs to, for the limits kept per
// client: an IPv4 address, or the /64 of an IPv6 one (a single subscriber
// is given a whole /64, so its 2^64 addresses are one client).
func clientKey(ip string) string {
	if strings.IndexByte(ip, ':') < 0 {
		return ip
	}
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// uploadSlots bounds the upload bodies one client sends at once, so that no
// client can occupy the server with slow bodies; an upload beyond its
// client's share waits for a slot, briefly. Only clients with a body in
// flight are remembered.
type uploadSlots struct {
	mu      sync.Mutex
	perKey  int64
	clients map[string]*clientSlots
	spare   sync.Pool
}

type clientSlots struct {
	sem  *semaphore.Weighted
	refs int // uploads holding or waiting for a slot
}

func newUploadSlots(perClient int) *uploadSlots {
	u := &uploadSlots{perKey: int64(perClient), clients: make(map[string]*clientSlots)}
	u.spare.New = func() any { return &clientSlots{sem: semaphore.NewWeighted(u.perKey)} }
	return u
}

// enter takes a slot for key, waiting up to wait; it reports whether it got
// one. Every true must be followed by leave(key).
func (u *uploadSlots) enter(ctx context.Context, key string, wait time.Duration) bool {
	u.mu.Lock()
	c := u.clients[key]
	if c == nil {
		c = u.spare.Get().(*clientSlots)
		u.clients[key] = c
	}
	c.refs++
	u.mu.Unlock()
	if c.sem.TryAcquire(1) {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	err := c.sem.Acquire(ctx, 1)
	cancel()
	if err != nil {
		u.unref(key, c)
		return false
	}
	return true
}

func (u *uploadSlots) leave(key string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	c := u.clients[key]
	c.sem.Release(1)
	u.unrefLocked(key, c)
}

func (u *uploadSlots) unref(key string, c *clientSlots) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.unrefLocked(key, c)
}

// unrefLocked forgets a client once nothing holds or awaits its slots; its
// semaphore, then empty, serves the next client.
func (u *uploadSlots) unrefLocked(key string, c *clientSlots) {
	if c.refs--; c.refs == 0 {
		delete(u.clients, key)
		u.spare.Put(c)
	}
}

func (u *uploadSlots) size() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.clients)
}
