package transform

import (
	"runtime/metrics"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// The watchdog interrupts calls that run too long or allocate too much. One goroutine serves
// every call in flight, waking every tick while there is any, and stops when there is none.

const tick = time.Millisecond

const allocsMetric = "/gc/heap/allocs:bytes"

type watched struct {
	vm       *goja.Runtime
	deadline time.Time
	maxAlloc uint64 // the allocation counter's value past which the call is interrupted
	limits   Limits

	// Written under dog.mu, read once the call is done.
	overlapped bool // another call ran at some moment of this one
	overMemory bool // the watchdog stopped the call at its memory cap
}

var dog struct {
	mu      sync.Mutex
	calls   map[*watched]struct{}
	running bool
}

// heapAllocs returns the bytes the Go heap has allocated since the process started.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: allocsMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// watch registers a call of vm with the watchdog.
func watch(vm *goja.Runtime, l Limits) *watched {
	w := &watched{vm: vm, deadline: time.Now().Add(l.CPU), maxAlloc: heapAllocs() + uint64(l.Memory), limits: l}
	dog.mu.Lock()
	if dog.calls == nil {
		dog.calls = map[*watched]struct{}{}
	}
	for other := range dog.calls {
		other.overlapped, w.overlapped = true, true
	}
	dog.calls[w] = struct{}{}
	if !dog.running {
		dog.running = true
		go patrol()
	}
	dog.mu.Unlock()
	return w
}

// done unregisters the call. It reports whether the watchdog stopped the call at its memory
// cap while another call ran beside it: then the allocations it was charged were perhaps not
// its own.
func (w *watched) done() (shared bool) {
	dog.mu.Lock()
	delete(dog.calls, w)
	shared = w.overMemory && w.overlapped
	dog.mu.Unlock()
	return shared
}

func patrol() {
	t := time.NewTicker(tick)
	defer t.Stop()
	for range t.C {
		dog.mu.Lock()
		if len(dog.calls) == 0 {
			dog.running = false
			dog.mu.Unlock()
			return
		}
		now, allocs := time.Now(), heapAllocs()
		for w := range dog.calls {
			// The memory cap first: when a late tick finds both broken, it is the more telling.
			switch {
			case allocs > w.maxAlloc:
				w.vm.Interrupt(failf("transformation allocated more than its memory cap of %d MiB and was stopped", w.limits.Memory>>20))
				w.overMemory = true
				delete(dog.calls, w)
			case now.After(w.deadline):
				w.vm.Interrupt(failf("transformation ran longer than its budget of %v and was stopped", w.limits.CPU))
				delete(dog.calls, w)
			}
		}
		dog.mu.Unlock()
	}
}
