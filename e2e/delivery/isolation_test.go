package delivery

import (
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/config"
)

// TestHangingEndpointDoesNotDelayOthers posts 200 messages to an application with a healthy
// endpoint and one whose receiver never answers. Every message reaches the healthy endpoint,
// each well within a second of the API accepting it, while the other endpoint's requests hang
// until they time out.
func TestHangingEndpointDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	const timeout = 3 * time.Second
	e := startReal(t, func(c *config.Config) { c.DeliveryTimeout = timeout })
	healthy := newReceiver(t, nil)
	hanging := newReceiver(t, nil)
	hanging.hang(t)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	e.endpoint(app, map[string]any{"url": healthy.URL})
	e.endpoint(app, map[string]any{"url": hanging.URL})

	const total = 200
	accepted := make(map[string]time.Time, total) // message id → when the API's 2xx arrived
	for i := range total {
		id := e.send(app, "order.paid", map[string]any{"n": i})
		accepted[id] = time.Now()
	}
	pollUntil(t, 30*time.Second, "every message at the healthy endpoint", func() bool { return healthy.count() >= total })

	var latencies []time.Duration
	seen := map[string]bool{}
	for _, r := range healthy.requests() {
		at, ok := accepted[r.ID()]
		if !ok {
			t.Errorf("unknown message %s arrived", r.ID())
			continue
		}
		if seen[r.ID()] {
			t.Errorf("message %s arrived twice at the healthy endpoint", r.ID())
			continue
		}
		seen[r.ID()] = true
		// A delivery may arrive before the client has read the API's response: that is no delay.
		latencies = append(latencies, max(r.At.Sub(at), 0))
	}
	if len(seen) != total {
		t.Fatalf("%d distinct messages arrived, want %d", len(seen), total)
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))] }
	t.Logf("healthy endpoint, from the API's 2xx to arrival, %d messages: p50 %s, p90 %s, p99 %s, max %s (the hanging endpoint had %d requests open)",
		len(latencies), pct(0.5), pct(0.9), pct(0.99), latencies[len(latencies)-1], hanging.count())
	if p99 := pct(0.99); p99 >= time.Second {
		t.Errorf("p99 latency at the healthy endpoint %s, want well under the hanging endpoint's %s timeout", p99, timeout)
	}
	if hanging.count() == 0 {
		t.Error("the hanging endpoint got no request: the test proves nothing")
	}
}

// TestRateLimitHoldsAtTheReceiver sends 20 messages at once to an endpoint with rateLimit 5:
// the receiver never sees more than 5 requests in any second.
func TestRateLimitHoldsAtTheReceiver(t *testing.T) {
	t.Parallel()
	e := startReal(t, nil)
	limited := newReceiver(t, nil)
	free := newReceiver(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	e.endpoint(app, map[string]any{"url": limited.URL, "rateLimit": 5})
	e.endpoint(app, map[string]any{"url": free.URL})
	const total = 20
	for i := range total {
		e.send(app, "order.paid", map[string]any{"n": i})
	}
	// The endpoint without a limit gets everything at once.
	pollUntil(t, 10*time.Second, "every message at the endpoint without a limit", func() bool { return free.count() >= total })
	pollUntil(t, 20*time.Second, "every message at the rate-limited endpoint", func() bool { return limited.count() >= total })

	reqs := limited.requests()
	// mostWithin returns the most requests that arrived within any window of length w.
	mostWithin := func(w time.Duration) int {
		most := 0
		for i := range reqs {
			n := 0
			for j := i; j < len(reqs) && reqs[j].At.Sub(reqs[i].At) < w; j++ {
				n++
			}
			most = max(most, n)
		}
		return most
	}
	span := reqs[len(reqs)-1].At.Sub(reqs[0].At)
	perSecond, perWindow := mostWithin(time.Second), mostWithin(600*time.Millisecond)
	t.Logf("rateLimit 5: %d requests over %s; at most %d in any 1 s window, %d in any 600 ms window", len(reqs), span, perSecond, perWindow)
	// Requests leave 200 ms apart. At the receiver an arrival may come late by the jitter of a
	// busy machine, which brings it closer to the next; up to 400 ms is allowed for here. Then
	// any window of length w holds at most (w+400ms)/200ms+1 requests: 5 in 600 ms, 7 in a
	// second. That still catches a burst (a bucket that banked a second's worth let 9 through
	// in the first second, most of them at once).
	if perWindow > 5 || perSecond > 7 {
		t.Errorf("%d requests within 600 ms, %d within one second; want at most 5 a second", perWindow, perSecond)
	}
	if span < time.Duration(total-1)*200*time.Millisecond-400*time.Millisecond {
		t.Errorf("%d requests in %s: faster than 5 a second", len(reqs), span)
	}
	if n := free.count(); n != total {
		t.Errorf("the endpoint without a limit got %d requests, want %d", n, total)
	}
}
