package sqlite

import (
	"container/list"
	"sync"

	"github.com/litepaste/litepaste/app/paste"
)

// cache keeps recently read small pastes in memory (not every upload: a
// busy upload stream would only churn it). Pastes never change and this
// process is the database's only writer, so an entry stays
// right until the paste is deleted here (deletions evict it) or expires
// (readers check the expiry on every hit). On a replica the copy changes
// under it: every change of the copy clears it.
type cache struct {
	mu       sync.Mutex
	capacity int
	maxEntry int
	used     int
	order    *list.List // front = most recently used
	entries  map[paste.ID]*list.Element
	// removals counts deletions, so that a read which raced one does not
	// put back the paste just deleted.
	removals uint64
}

func newCache(capacity, maxEntry int) *cache {
	return &cache{capacity: capacity, maxEntry: maxEntry, order: list.New(), entries: map[paste.ID]*list.Element{}}
}

func cost(p paste.Paste) int { return len(p.Body) + 256 }

func (c *cache) get(id paste.ID) (paste.Paste, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[id]
	if !ok {
		return paste.Paste{}, false
	}
	c.order.MoveToFront(el)
	return el.Value.(paste.Paste), true
}

// generation is taken before reading a paste from the file, for putRead.
func (c *cache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.removals
}

// putRead keeps a paste read from the file, unless a paste was removed since
// gen: the read may have seen it just before its deletion committed.
func (c *cache) putRead(p paste.Paste, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removals == gen {
		c.putLocked(p)
	}
}

func (c *cache) putLocked(p paste.Paste) {
	if el, ok := c.entries[p.ID]; ok {
		c.removeLocked(el)
	}
	if c.capacity <= 0 || len(p.Body) > c.maxEntry {
		return
	}
	p.DeleteTokenHash = nil // never needed by readers
	c.entries[p.ID] = c.order.PushFront(p)
	c.used += cost(p)
	for c.used > c.capacity {
		c.removeLocked(c.order.Back())
	}
}

func (c *cache) remove(id paste.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removals++
	if el, ok := c.entries[id]; ok {
		c.removeLocked(el)
	}
}

// clear forgets every paste: on a replica, the copy changed under it (a
// deletion or expiry on the writer); reads racing it cannot put one back.
func (c *cache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removals++
	c.order.Init()
	clear(c.entries)
	c.used = 0
}

func (c *cache) removeLocked(el *list.Element) {
	p := c.order.Remove(el).(paste.Paste)
	delete(c.entries, p.ID)
	c.used -= cost(p)
}
