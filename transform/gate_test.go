package transform

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// useGate runs the test with a gate of its own that admits limit calls side by side.
func useGate(t *testing.T, limit int) {
	saved := calls
	calls = newGate(limit)
	t.Cleanup(func() { calls = saved })
}

// running waits until n calls are registered with the watchdog.
func running(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		dog.mu.Lock()
		got := len(dog.calls)
		dog.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls running after 30s, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func webhook() Webhook {
	return Webhook{Method: "POST", URL: "https://example.com/hook", EventType: "order.paid", Payload: json.RawMessage(`{"id":7}`)}
}

// One tenant's function that runs to its budget does not hold up another tenant's: calls run
// side by side. (With calls one at a time, the quick call would wait for the loop, which here
// only ends when the test cancels it.)
func TestSlowCallDoesNotHoldOthers(t *testing.T) {
	useGate(t, 2)
	e := New(Limits{CPU: time.Hour})
	slow, _ := Compile(`function handler(w) { while (true) {} }`)
	quick, _ := Compile(`function handler(w) { w.payload = {quick: true}; return w; }`)

	ctx, cancel := context.WithCancel(context.Background())
	slowDone := make(chan error, 1)
	go func() { _, err := e.Run(ctx, slow, webhook()); slowDone <- err }()
	running(t, 1)

	qctx, qcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer qcancel()
	res, err := e.Run(qctx, quick, webhook())
	if err != nil || string(res.Payload) != `{"quick":true}` {
		t.Fatalf("quick call beside a looping one: %+v, %v", res, err)
	}
	select {
	case err := <-slowDone:
		t.Fatalf("the looping call ended on its own: %v", err)
	default:
	}
	cancel()
	if err := <-slowDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("looping call: %v, want context.Canceled", err)
	}
}

// A call that allocates within its cap is not failed for what a call beside it allocated: a
// call stopped at its cap while others ran runs again alone. The function that really breaks
// its cap still fails.
func TestMemoryCapChargesOnlyTheCall(t *testing.T) {
	useGate(t, 4)
	// The cap counts every byte a call allocates, garbage included: the modest call's 16 MiB of
	// strings come to 20-30 MiB, so the cap leaves it room alone.
	e := New(Limits{CPU: time.Minute, Memory: 48 << 20})
	hog, _ := Compile(`function handler(w) { var a = []; while (true) { a.push("abcdefgh".repeat(64) + a.length); } }`)
	// About 16 MiB in small pieces: well within the cap alone, over it with the hog beside it.
	modest, _ := Compile(`function handler(w) { var a = []; for (var i = 0; i < 16384; i++) { a.push("x".repeat(500) + i); } w.payload = {n: a.length}; return w; }`)

	for round := 0; round < 5; round++ {
		var wg sync.WaitGroup
		hogErr := make(chan error, 1)
		wg.Add(1)
		go func() { defer wg.Done(); _, err := e.Run(context.Background(), hog, webhook()); hogErr <- err }()
		running(t, 1)
		errs := make(chan error, 3)
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := e.Run(context.Background(), modest, webhook())
				if err == nil && string(res.Payload) != `{"n":16384}` {
					err = errors.New("payload " + string(res.Payload))
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: a modest call beside a hog failed: %v", round, err)
			}
		}
		if err := <-hogErr; err == nil || !strings.Contains(err.Error(), "memory cap of 48 MiB") {
			t.Fatalf("round %d: the hog: %v", round, err)
		}
	}
}

// The gate: shared calls up to the limit; a call alone waits for the shared ones and goes
// before shared calls that come after it; a canceled wait leaves the gate as it was.
func TestGate(t *testing.T) {
	g := newGate(2)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(g.enter(ctx, false))
	must(g.enter(ctx, false))
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	if err := g.enter(short, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third shared call admitted past the limit: %v", err)
	}
	cancel()

	aloneIn := make(chan struct{})
	go func() { must(g.enter(ctx, true)); close(aloneIn) }()
	for {
		g.mu.Lock()
		q := g.queued
		g.mu.Unlock()
		if q == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	g.leave(false) // one shared slot free, but the exclusive call is queued: shared ones wait
	short, cancel = context.WithTimeout(ctx, 20*time.Millisecond)
	if err := g.enter(short, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shared call admitted ahead of a queued exclusive one: %v", err)
	}
	cancel()
	select {
	case <-aloneIn:
		t.Fatal("exclusive call admitted beside a shared one")
	default:
	}
	g.leave(false)
	<-aloneIn
	g.leave(true)
	must(g.enter(ctx, false))
	must(g.enter(ctx, false))
	g.leave(false)
	g.leave(false)
	if g.shared != 0 || g.alone || g.queued != 0 {
		t.Fatalf("gate left %+v", g)
	}
}
