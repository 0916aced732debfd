package transform

import (
	"context"
	"runtime"
	"sync"
)

// Calls run side by side, up to one per CPU, so one tenant's slow function does not hold up
// another tenant's deliveries. The memory cap is read from a counter of the whole process's
// allocations (watchdog.go), so a call stopped at its cap while other calls ran beside it may
// have been charged for their allocations: it runs again alone (functions are pure: no network,
// no timers, nothing kept between calls), and only a call that breaks its cap alone fails.
//
// The gate admits calls side by side (shared) or one alone (exclusive). A call waiting to run
// alone goes before shared calls that arrive after it, so it waits at most for the calls already
// running, each bounded by its time budget.
type gate struct {
	mu      sync.Mutex
	limit   int  // shared calls at most at a time
	shared  int  // shared calls running
	alone   bool // an exclusive call is running
	queued  int  // exclusive calls waiting
	changed chan struct{}
}

func newGate(limit int) *gate {
	return &gate{limit: max(limit, 1), changed: make(chan struct{})}
}

// calls is the process's gate: the allocation counter it protects is the process's.
var calls = newGate(runtime.GOMAXPROCS(0))

// enter waits until the call may run, shared or alone, or until ctx is done.
func (g *gate) enter(ctx context.Context, exclusive bool) error {
	g.mu.Lock()
	if exclusive {
		g.queued++
	}
	for {
		var ok bool
		if exclusive {
			ok = !g.alone && g.shared == 0
		} else {
			ok = !g.alone && g.queued == 0 && g.shared < g.limit
		}
		if ok {
			if exclusive {
				g.queued--
				g.alone = true
			} else {
				g.shared++
			}
			g.mu.Unlock()
			return nil
		}
		changed := g.changed
		g.mu.Unlock()
		select {
		case <-changed:
			g.mu.Lock()
		case <-ctx.Done():
			if exclusive {
				g.mu.Lock()
				g.queued--
				g.broadcast()
				g.mu.Unlock()
			}
			return ctx.Err()
		}
	}
}

// leave ends a call that enter admitted.
func (g *gate) leave(exclusive bool) {
	g.mu.Lock()
	if exclusive {
		g.alone = false
	} else {
		g.shared--
	}
	g.broadcast()
	g.mu.Unlock()
}

// broadcast wakes every waiter; g.mu is held.
func (g *gate) broadcast() {
	close(g.changed)
	g.changed = make(chan struct{})
}
