package sqlite

import (
	"sync"

	"github.com/hookline/hookline/internal/sqlcodec"
)

// targetCache keeps each application's fan-out targets (its enabled endpoints, secrets opened,
// with their rate limits), so that fanning out a message reads nothing. One SQLite database has
// one Hookline process and every change to endpoints and applications goes through this DB,
// which empties the cache after it (forget): the cache is never stale for longer than the
// change takes to commit. A load that raced a change is not kept (gen). The endpoints' Health
// is not kept current (recording changes it without forgetting): the dispatcher decides on the
// health RecordAttempts returns, never on a job's endpoint.
type targetCache struct {
	mu    sync.Mutex
	gen   uint64
	byApp map[string][]sqlcodec.Target
}

// get returns the cached targets of each application found, and the generation to pass to put
// for the others once loaded.
func (c *targetCache) get(appIDs []string) (found map[string][]sqlcodec.Target, missing []string, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	found = make(map[string][]sqlcodec.Target, len(appIDs))
	for _, id := range appIDs {
		if t, ok := c.byApp[id]; ok {
			found[id] = t
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing, c.gen
}

// put keeps the targets loaded for the applications, unless a change came after gen.
func (c *targetCache) put(gen uint64, appIDs []string, loaded map[string][]sqlcodec.Target) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.byApp == nil || len(c.byApp) >= maxCachedApps {
		c.byApp = map[string][]sqlcodec.Target{}
	}
	for _, id := range appIDs {
		c.byApp[id] = loaded[id] // nil (no enabled endpoint) is kept too
	}
}

// forget empties the cache; every change to endpoints or applications calls it once committed.
func (c *targetCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.byApp = nil
}

// maxCachedApps bounds the applications whose targets are kept; a full cache is emptied.
const maxCachedApps = 10_000
