package sqlite

import (
	"sync"
	"testing"
	"time"
)

// TestWriteGateUrgentFirst: while the gate is held, an urgent waiter that arrives after a
// non-urgent one still goes first, and the non-urgent one gets its turn after it.
func TestWriteGateUrgentFirst(t *testing.T) {
	var g writeGate
	g.cond.L = &g.mu
	g.lock(false)

	var (
		mu    sync.Mutex
		order []string
		wg    sync.WaitGroup
	)
	enter := func(name string, urgent bool) {
		defer wg.Done()
		g.lock(urgent)
		mu.Lock()
		order = append(order, name)
		mu.Unlock()
		time.Sleep(time.Millisecond)
		g.unlock()
	}
	waiting := func(urgent int) bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.pending == urgent
	}
	wg.Add(2)
	go enter("record", false)
	time.Sleep(20 * time.Millisecond) // the record transaction waits first
	go enter("api", true)
	deadline := time.Now().Add(5 * time.Second)
	for !waiting(1) {
		if time.Now().After(deadline) {
			t.Fatal("the urgent waiter never queued")
		}
		time.Sleep(time.Millisecond)
	}
	g.unlock()
	wg.Wait()
	if len(order) != 2 || order[0] != "api" || order[1] != "record" {
		t.Fatalf("order = %v, want [api record]", order)
	}
}
