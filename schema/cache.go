package schema

import (
	"container/list"
	"crypto/sha256"
	"encoding/json"
	"sync"
)

// DefaultCacheSize is a cache size for when nothing better is known: compiled schemas are a few
// kilobytes, and few platforms define more event types than this.
const DefaultCacheSize = 1024

// Cache keeps compiled schemas so that sending a message does not recompile its event type's
// schema. Entries are keyed by event type name and a hash of the schema's content, so an
// updated schema is simply a new key and a stale one can never be served; the least recently
// used entries are dropped beyond the size limit. A Cache is safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	size    int
	entries map[cacheKey]*list.Element // values are *cacheEntry
	lru     *list.List                 // front is the most recently used
}

type cacheKey struct {
	eventType string
	sum       [sha256.Size]byte
}

// cacheEntry compiles at most once: concurrent first sends of the same event type wait for one
// compilation instead of each doing their own.
type cacheEntry struct {
	key    cacheKey
	once   sync.Once
	schema *Schema
	err    error
}

// NewCache returns a cache holding at most size compiled schemas (DefaultCacheSize if size < 1).
func NewCache(size int) *Cache {
	if size < 1 {
		size = DefaultCacheSize
	}
	return &Cache{size: size, entries: map[cacheKey]*list.Element{}, lru: list.New()}
}

// Get returns the compiled form of raw, the schema of eventType, compiling it on first use.
// Compile errors are cached too: the same bytes always fail the same way.
func (c *Cache) Get(eventType string, raw json.RawMessage) (*Schema, error) {
	key := cacheKey{eventType: eventType, sum: sha256.Sum256(raw)}
	c.mu.Lock()
	el, ok := c.entries[key]
	if ok {
		c.lru.MoveToFront(el)
	} else {
		el = c.lru.PushFront(&cacheEntry{key: key})
		c.entries[key] = el
		for c.lru.Len() > c.size {
			oldest := c.lru.Back()
			c.lru.Remove(oldest)
			delete(c.entries, oldest.Value.(*cacheEntry).key)
		}
	}
	e := el.Value.(*cacheEntry)
	c.mu.Unlock()

	// Compiling outside the lock keeps one slow schema from blocking every other event type.
	e.once.Do(func() { e.schema, e.err = Compile(raw) })
	return e.schema, e.err
}

// Len reports how many schemas the cache holds.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
