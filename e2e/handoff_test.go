package e2e

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
)

// metricValue reads one unlabelled sample (such as a histogram's _sum or _count) from
// /metrics; -1 when it is absent.
func metricValue(t *testing.T, srv *testserver.Instance, name string) float64 {
	t.Helper()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	return -1
}

// TestHandOff: a message accepted while the dispatcher keeps up goes straight to it, with no
// claim; once the dispatcher holds plenty (here: one worker, so 16 jobs at most, and an
// endpoint that does not answer), new messages are stored due instead, to be claimed when there
// is room, and every one is delivered in the end.
func TestHandOff(t *testing.T) {
	t.Parallel()
	var received atomic.Int64
	release := make(chan struct{})
	var hang atomic.Bool
	// The receiver counts requests for its own random path only: its port may have been, a
	// moment before, another test's receiver's, to which that test's server may still send.
	hook := "/hook-" + hookline.NewID("")
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != hook {
			http.NotFound(w, r)
			return
		}
		if hang.Load() {
			<-release
		}
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	t.Cleanup(func() {
		if hang.Swap(false) {
			close(release)
		}
	})
	srv := testserver.Start(t, testserver.Options{Configure: func(c *config.Config) {
		c.Workers = 1
		c.DeliveryTimeout = time.Minute
	}})
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "Order paid"}, 201)
	var app struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "acme"}, 201).JSON(t, &app)
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": rc.URL + hook}, 201)
	post := func(n int) {
		for i := range n {
			srv.Op("POST", "/api/v1/app/"+app.ID+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"n": i}}, 202)
		}
	}

	// Keeping up: every message is handed off, none claimed. The dispatcher takes hand-offs once
	// its first claim found the store has no backlog: on a busy machine that may come after the
	// server answers.
	d := srv.Server.Dispatcher()
	pollUntil(t, 10*time.Second, "the dispatcher taking hand-offs", func() bool {
		lease := d.Lease()
		if lease != nil {
			d.HandOff(nil) // given back unused
		}
		return lease != nil
	})
	const first = 10
	for i := range first {
		post(1)
		pollUntil(t, 10*time.Second, "the message delivered", func() bool { return received.Load() == int64(i+1) })
	}
	if got := metricValue(t, srv, "hookline_delivery_handoff_batch_size_sum"); got != first {
		t.Errorf("messages handed off = %v, want %d", got, first)
	}
	if got := metricValue(t, srv, "hookline_delivery_claim_batch_size_sum"); got != 0 {
		t.Errorf("deliveries claimed = %v, want 0: the messages should have gone by hand-off", got)
	}

	// Full: with the endpoint hanging, the dispatcher holds what it was handed, then stops
	// taking messages; the rest wait in the store.
	hang.Store(true)
	const second = 40
	// One at a time, each given a moment to reach the dispatcher's loop: on a loaded machine the
	// API can otherwise hand off many messages before the loop runs and counts what it holds.
	for range second {
		before := metricValue(t, srv, "hookline_delivery_handoff_batch_size_sum")
		post(1)
		for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
			if metricValue(t, srv, "hookline_delivery_handoff_batch_size_sum") > before {
				break // taken; a message the dispatcher refused leaves the sum as it was
			}
		}
	}
	handed := metricValue(t, srv, "hookline_delivery_handoff_batch_size_sum") - first
	if handed >= second {
		t.Fatalf("all %d messages were handed off to a dispatcher holding at most 16 jobs", second)
	}
	if waiting := metricValue(t, srv, "hookline_messages_awaiting_dispatch"); waiting < second-16 {
		t.Errorf("messages awaiting dispatch = %v, want at least %d", waiting, second-16)
	}
	hang.Store(false)
	close(release)
	pollUntil(t, 30*time.Second, "every message delivered", func() bool { return received.Load() >= first+second })
	if got := received.Load(); got != first+second {
		t.Errorf("received %d deliveries, want %d", got, first+second)
	}
}

// TestRetryOnTimeWithoutClaims: with hand-off, the dispatcher makes no claims while it keeps
// up, so a retry recorded for soon must itself move the next claim up: with polling set to a
// minute, a failed first attempt is retried after its 300 ms, not at the next poll.
func TestRetryOnTimeWithoutClaims(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var arrivals []time.Time
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		first := len(arrivals) == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	srv := testserver.Start(t, testserver.Options{Configure: func(c *config.Config) {
		c.PollInterval = time.Minute
		c.RetrySchedule = []time.Duration{300 * time.Millisecond}
		c.RetryJitter = 0
	}})
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "Order paid"}, 201)
	var app struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "acme"}, 201).JSON(t, &app)
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": rc.URL + "/hook"}, 201)
	posted := time.Now() // before the first attempt starts: the retry is due 300ms after that start
	srv.Op("POST", "/api/v1/app/"+app.ID+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"n": 1}}, 202)
	pollUntil(t, 10*time.Second, "the retry", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(arrivals) >= 2
	})
	mu.Lock()
	gap, sincePost := arrivals[1].Sub(arrivals[0]), arrivals[1].Sub(posted)
	mu.Unlock()
	// The schedule counts from the attempt's start, which the receiver cannot see: on a loaded
	// machine the failed request may arrive well after it. The post came before that start, so
	// the retry cannot arrive sooner than 300ms after the post; and a claim a minute away
	// (PollInterval) did not bring it, so it arrives within seconds.
	if sincePost < 300*time.Millisecond || gap > 5*time.Second {
		t.Errorf("retry %v after the post and %v after the failed attempt, want no sooner than 300ms after the post and within 5s", sincePost, gap)
	}
}
