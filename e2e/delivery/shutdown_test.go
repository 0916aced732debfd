package delivery

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
	"github.com/hookline/hookline/server"
)

// TestGracefulShutdownFinishesTheAttemptInFlight closes the server while a delivery to a slow
// receiver (it answers after a second) is under way: Close waits for the answer and records
// the attempt, which is there after a restart on the same data directory, and the message is
// not sent again.
func TestGracefulShutdownFinishesTheAttemptInFlight(t *testing.T) {
	t.Parallel()
	const slow = time.Second
	dir := t.TempDir()
	var answered atomic.Bool
	arrived := make(chan struct{}, 1)
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-time.After(slow) // the receiver's own slowness, not the test waiting
		io.WriteString(w, "finally")
		answered.Store(true)
	})

	srv, err := server.Open(context.Background(), testserver.Config(dir), nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := srv.Start(); err != nil {
		srv.Close()
		t.Fatalf("start: %v", err)
	}
	e := &env{Instance: &testserver.Instance{Server: srv, URL: srv.URL(), Token: testserver.OperatorToken, T: t}}
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep := e.endpoint(app, map[string]any{"url": rc.URL})
	msg := e.send(app, "order.paid", map[string]any{"n": 1})

	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		srv.Close()
		t.Fatal("the delivery did not arrive")
	}
	closing := time.Now()
	if err := srv.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	took := time.Since(closing)
	if !answered.Load() {
		t.Fatalf("Close returned after %s, before the receiver answered", took)
	}
	t.Logf("Close took %s with a delivery in flight", took)

	e = &env{Instance: testserver.Start(t, testserver.Options{DataDir: dir})}
	atts := e.attempts(app, ep)
	if len(atts) != 1 {
		t.Fatalf("%d attempts after the restart, want the one in flight at shutdown", len(atts))
	}
	a := atts[0]
	if a.MsgID != msg || a.Status != 0 || a.ResponseStatusCode != 200 || a.Response != "finally" || a.ResponseDurationMs < slow.Milliseconds()*9/10 {
		t.Errorf("attempt after the restart: %+v; want the slow success", a)
	}
	if st := e.endpointMsgState(app, ep, msg); st.Status != 0 || st.NextAttempt != nil {
		t.Errorf("delivery after the restart: %+v; want delivered", st)
	}
	if n := rc.count(); n != 1 {
		t.Errorf("the receiver got %d requests, want 1", n)
	}
}

// TestShutdownHandsBackJobsNotStarted closes the server while one worker is busy with a hanging
// receiver and two more jobs for it wait for a free worker: those two have not started, so
// Close hands them back instead of sending them one after the other, and it returns within
// the shutdown timeout without an error.
func TestShutdownHandsBackJobsNotStarted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rc := newReceiver(t, nil)
	rc.hang(t)

	cfg := testserver.Config(dir)
	cfg.Workers = 1
	cfg.DeliveryTimeout = time.Second
	cfg.ShutdownTimeout = 2500 * time.Millisecond
	srv, err := server.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := srv.Start(); err != nil {
		srv.Close()
		t.Fatalf("start: %v", err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			srv.Close()
		}
	})
	e := &env{Instance: &testserver.Instance{Server: srv, URL: srv.URL(), Token: testserver.OperatorToken, T: t}}
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep := e.endpoint(app, map[string]any{"url": rc.URL})
	for i := range 3 {
		e.send(app, "order.paid", map[string]any{"n": i})
	}
	rc.next(t, 10*time.Second)
	// Fanned out from their messages, the jobs have no stored delivery yet: the dispatcher's
	// gauge tells that it holds all three.
	pollUntil(t, 10*time.Second, "all three deliveries claimed", func() bool {
		resp, err := http.Get(srv.URL() + "/metrics")
		if err != nil {
			t.Fatalf("metrics: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(body), "\nhookline_delivery_jobs_held 3\n")
	})

	closing := time.Now()
	err = srv.Close()
	closed = true
	if err != nil {
		t.Fatalf("close after %s: %v", time.Since(closing), err)
	}
	if n := rc.count(); n != 1 {
		t.Errorf("the receiver got %d requests during shutdown, want only the one in flight", n)
	}
	// The two that never started are stored, pending and never attempted, for the next start
	// (looked at through an API-only server, which sends nothing).
	e = &env{Instance: testserver.Start(t, testserver.Options{DataDir: dir,
		Configure: func(c *config.Config) { c.Role = "api" }})}
	pending := 0
	for _, m := range e.endpointMsgs(app, ep) {
		if m.Status == 1 {
			pending++
		}
	}
	if pending < 2 {
		t.Errorf("%d deliveries pending after the restart, want the two handed back (and the one that timed out, retrying)", pending)
	}
}

// TestShutdownLeavesNoRateLimitTimerBehind stops the server while many rate-limited endpoints
// each have a job waiting for its turn: the timers that fire after the dispatcher stopped must
// not leave goroutines blocked for good.
func TestShutdownLeavesNoRateLimitTimerBehind(t *testing.T) {
	// Not parallel: it counts the goroutines of the whole test binary.
	const endpoints = 80
	rc := newReceiver(t, nil)
	dir := t.TempDir()
	srv, err := server.Open(context.Background(), testserver.Config(dir), nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := srv.Start(); err != nil {
		srv.Close()
		t.Fatalf("start: %v", err)
	}
	e := &env{Instance: &testserver.Instance{Server: srv, URL: srv.URL(), Token: testserver.OperatorToken, T: t}}
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	for range endpoints {
		e.endpoint(app, map[string]any{"url": rc.URL, "rateLimit": 1})
	}
	e.send(app, "order.paid", map[string]any{"n": 1})
	e.send(app, "order.paid", map[string]any{"n": 2})
	// The first message reaches every endpoint at once; the second waits a second for each.
	pollUntil(t, 10*time.Second, "the first round", func() bool { return rc.count() >= endpoints })
	if err := srv.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	// The waiting jobs' timers fire within a second of their endpoint's first request.
	time.Sleep(1500 * time.Millisecond)
	buf := make([]byte, 1<<22)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if n := strings.Count(stacks, "(*Dispatcher).startQueued.func"); n > 0 {
		t.Errorf("%d rate-limit timer goroutines still blocked after the dispatcher stopped", n)
	}
}
