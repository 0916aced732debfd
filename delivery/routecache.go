package delivery

import (
	"sync"
	"time"

	"github.com/hookline/hookline"
)

// maxEndpointRoutes bounds each endpointRoutes cache: past it the cache starts over.
const maxEndpointRoutes = 4096

// endpointRoutes keeps one route per endpoint (its own HTTP client, a broker connection, ...),
// keyed by the endpoint's id and built from the endpoint as it was at its UpdatedAt. A newer
// version of the endpoint (a later UpdatedAt) replaces the route and releases the old one; a
// job that carries an older copy of the endpoint (claimed before a change) gets the newer route.
type endpointRoutes[R any] struct {
	mu      sync.Mutex
	routes  map[string]versionedRoute[R]
	release func(R) // lets go of a replaced route's resources
}

type versionedRoute[R any] struct {
	updatedAt time.Time
	route     R
}

// get returns the route of ep, building it with build when ep is newer than the cached one.
func (c *endpointRoutes[R]) get(ep *hookline.Endpoint, build func() R) R {
	c.mu.Lock()
	defer c.mu.Unlock()
	if vr, ok := c.routes[ep.ID]; ok && !ep.UpdatedAt.After(vr.updatedAt) {
		return vr.route
	}
	if c.routes == nil || len(c.routes) >= maxEndpointRoutes {
		for _, vr := range c.routes {
			c.release(vr.route)
		}
		c.routes = map[string]versionedRoute[R]{}
	}
	if old, ok := c.routes[ep.ID]; ok {
		c.release(old.route)
	}
	r := build()
	c.routes[ep.ID] = versionedRoute[R]{updatedAt: ep.UpdatedAt, route: r}
	return r
}

// drain hands every cached route to close and empties the cache.
func (c *endpointRoutes[R]) drain(close func(R)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, vr := range c.routes {
		close(vr.route)
	}
	c.routes = nil
}
