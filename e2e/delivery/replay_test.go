package delivery

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookline/hookline/config"
)

// task is a background task as GET /api/v1/background-task/{id} shows it.
type task struct {
	ID     string         `json:"id"`
	Status string         `json:"status"`
	Task   string         `json:"task"`
	Data   map[string]any `json:"data"`
}

// runTask posts to an endpoint route that starts a task, waits for the task to end, and
// returns it.
func (e *env) runTask(path string, body any, kind string) task {
	e.T.Helper()
	var started task
	e.Op("POST", path, body, 202).JSON(e.T, &started)
	if started.Task != kind || started.Status == "" || len(started.ID) == 0 {
		e.T.Fatalf("POST %s answered %+v, want a %s task", path, started, kind)
	}
	var got task
	pollUntil(e.T, 10*time.Second, kind+" task done", func() bool {
		e.Op("GET", "/api/v1/background-task/"+started.ID, nil, 200).JSON(e.T, &got)
		return got.Status != "running"
	})
	if got.Status != "finished" || got.Task != kind || got.ID != started.ID {
		e.T.Fatalf("task %s ended %+v", started.ID, got)
	}
	return got
}

// sent returns the number in a task's data.
func sent(t *testing.T, tk task) int {
	t.Helper()
	n, ok := tk.Data["messagesSent"].(float64)
	if !ok || len(tk.Data) != 1 {
		t.Fatalf("task data %v, want {messagesSent: n}", tk.Data)
	}
	return int(n)
}

// TestReplayAndRecover drives a real receiver through replay-missing, bulk-replay and recover:
// each is a background task whose data counts the messages it sent, and the receiver gets
// exactly those messages again, signed, byte for byte.
func TestReplayAndRecover(t *testing.T) {
	t.Parallel()
	// No retries: a failed attempt is final, so recover has failed messages to send.
	e := startReal(t, func(c *config.Config) { c.RetrySchedule = []time.Duration{} })
	var healthy atomic.Bool
	healthy.Store(true)
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	e.eventType("order.paid", nil)
	e.eventType("order.refunded", nil)
	app := e.app("Acme")
	t0 := time.Now().UTC().Add(-time.Second)

	// Three messages before the endpoint exists (one with a tag), one it filters out.
	send := func(eventType string, n int, tags ...string) string {
		var out struct {
			ID string `json:"id"`
		}
		body := map[string]any{"eventType": eventType, "payload": map[string]any{"n": n}}
		if len(tags) > 0 {
			body["tags"] = tags
		}
		e.Op("POST", "/api/v1/app/"+app+"/msg", body, 202).JSON(t, &out)
		return out.ID
	}
	early := []string{send("order.paid", 1), send("order.paid", 2, "vip"), send("order.paid", 3)}
	send("order.refunded", 4) // filtered out by the endpoint
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ep := e.endpoint(app, map[string]any{"url": rc.URL, "filterTypes": []string{"order.paid"}, "secret": secret})
	live := send("order.paid", 5)
	if r := rc.next(t, 10*time.Second); r.ID() != live {
		t.Fatalf("first delivery %s, want the message sent after the endpoint (%s)", r.ID(), live)
	}
	pollUntil(t, 10*time.Second, "the live delivery recorded", func() bool { return e.stats(app, ep)["success"] == 1 })

	// replay-missing sends the three it never got, not the refund it filters out, not live.
	path := "/api/v1/app/" + app + "/endpoint/" + ep
	if n := sent(t, e.runTask(path+"/replay-missing", map[string]any{"since": t0}, "endpoint.replay")); n != 3 {
		t.Errorf("replay-missing sent %d messages, want 3", n)
	}
	got := receiveIDs(t, rc, 3, secret)
	if !sameSet(got, early) {
		t.Errorf("replay-missing delivered %v, want %v", got, early)
	}
	// Nothing is missing any more.
	if n := sent(t, e.runTask(path+"/replay-missing", map[string]any{"since": t0}, "endpoint.replay")); n != 0 {
		t.Errorf("a second replay-missing sent %d, want 0", n)
	}

	// bulk-replay sends again what went to the endpoint, as its filters say.
	pollUntil(t, 10*time.Second, "four successes recorded", func() bool { return e.stats(app, ep)["success"] == 4 })
	if n := sent(t, e.runTask(path+"/bulk-replay", map[string]any{"since": t0, "tag": "vip"}, "endpoint.bulk-replay")); n != 1 {
		t.Errorf("bulk-replay tag=vip sent %d, want 1", n)
	}
	if got := receiveIDs(t, rc, 1, secret); !sameSet(got, early[1:2]) {
		t.Errorf("bulk-replay tag=vip delivered %v, want %v", got, early[1:2])
	}
	pollUntil(t, 10*time.Second, "the vip replay recorded", func() bool { return e.stats(app, ep)["success"] == 4 && len(e.attempts(app, ep)) == 5 })
	all := append(slices.Clone(early), live)
	if n := sent(t, e.runTask(path+"/bulk-replay", map[string]any{"since": t0, "eventTypes": []string{"order.paid"}, "status": 0, "statusCodeClass": 200}, "endpoint.bulk-replay")); n != 4 {
		t.Errorf("bulk-replay of successes sent %d, want 4", n)
	}
	if got := receiveIDs(t, rc, 4, secret); !sameSet(got, all) {
		t.Errorf("bulk-replay delivered %v, want %v", got, all)
	}
	if n := sent(t, e.runTask(path+"/bulk-replay", map[string]any{"since": t0, "eventTypes": []string{"order.refunded"}}, "endpoint.bulk-replay")); n != 0 {
		t.Errorf("bulk-replay of refunds (never sent to the endpoint) sent %d, want 0", n)
	}
	if n := sent(t, e.runTask(path+"/bulk-replay", map[string]any{"since": time.Now().UTC().Add(time.Minute)}, "endpoint.bulk-replay")); n != 0 {
		t.Errorf("bulk-replay since the future sent %d, want 0", n)
	}

	// recover sends the failed one again, once the receiver is back.
	pollUntil(t, 10*time.Second, "the replays recorded", func() bool { return len(e.attempts(app, ep)) == 9 })
	healthy.Store(false)
	t1 := time.Now().UTC().Add(-time.Millisecond)
	failed := send("order.paid", 6)
	if r := rc.next(t, 10*time.Second); r.ID() != failed {
		t.Fatalf("got %s, want the failing %s", r.ID(), failed)
	}
	pollUntil(t, 10*time.Second, "the failure recorded", func() bool { return e.stats(app, ep)["fail"] == 1 })
	healthy.Store(true)
	tk := e.runTask(path+"/recover", map[string]any{"since": t1, "until": time.Now().UTC().Add(time.Minute)}, "endpoint.recover")
	if n := sent(t, tk); n != 1 {
		t.Errorf("recover sent %d, want 1", n)
	}
	if got := receiveIDs(t, rc, 1, secret); !sameSet(got, []string{failed}) {
		t.Errorf("recover delivered %v, want %v", got, []string{failed})
	}
	pollUntil(t, 10*time.Second, "the recovered message succeeded", func() bool { return e.stats(app, ep)["fail"] == 0 })
	// A window that ends before the failure recovers nothing.
	if n := sent(t, e.runTask(path+"/recover", map[string]any{"since": t0, "until": t1}, "endpoint.recover")); n != 0 {
		t.Errorf("recover before the failure sent %d, want 0", n)
	}
	if extra := rc.count(); extra != 1+3+1+4+1+1 {
		t.Errorf("the receiver got %d requests, want 11", extra)
	}

	// Bad input names its field; nothing is started.
	for _, c := range []struct {
		path  string
		body  map[string]any
		field string
	}{
		{"/replay-missing", map[string]any{}, "since"},
		{"/replay-missing", map[string]any{"since": t0, "until": t0.Add(-time.Hour)}, "until"},
		{"/bulk-replay", map[string]any{"since": t0, "status": 7}, "status"},
		{"/bulk-replay", map[string]any{"since": t0, "statusCodeClass": 250}, "statusCodeClass"},
		{"/bulk-replay", map[string]any{"since": t0, "tag": "no spaces"}, "tag"},
		{"/bulk-replay", map[string]any{"since": t0, "channel": "a b"}, "channel"},
		{"/bulk-replay", map[string]any{"since": t0, "eventTypes": []string{"bad type!"}}, "eventTypes"},
		{"/bulk-replay", map[string]any{"since": t0, "messageIds": []string{"x"}}, "messageIds"},
		{"/cancel-msgs", map[string]any{}, "createdBefore"},
		{"/recover", map[string]any{"since": t0, "limit": 3}, "limit"},
	} {
		r := e.Do("POST", path+c.path, e.Token, c.body)
		var body struct {
			Detail []struct {
				Loc []string `json:"loc"`
			} `json:"detail"`
		}
		json.Unmarshal(r.Body, &body)
		if r.Status != 422 || len(body.Detail) == 0 || !slices.Contains(body.Detail[0].Loc, c.field) {
			t.Errorf("POST %s %v: %d %s, want a 422 naming %s", c.path, c.body, r.Status, r.Body, c.field)
		}
	}
}

// receiveIDs waits for n more requests at rc, checks each signature with secret, and returns
// their message ids.
func receiveIDs(t *testing.T, rc *receiver, n int, secret string) []string {
	t.Helper()
	var ids []string
	for range n {
		r := rc.next(t, 10*time.Second)
		verify(t, secret, r)
		ids = append(ids, r.ID())
	}
	return ids
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestCancelMsgs: cancel-msgs ends the endpoint's pending retries of messages created before the
// cut; they show canceled, and no further request is made for them.
func TestCancelMsgs(t *testing.T) {
	t.Parallel()
	e := start(t, nil)
	rc := newReceiver(t, status(500))
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep := e.endpoint(app, map[string]any{"url": rc.URL})
	old := []string{e.send(app, "order.paid", map[string]any{"n": 1}), e.send(app, "order.paid", map[string]any{"n": 2})}
	e.waitAttempts(app, ep, 2)
	pollUntil(t, 10*time.Second, "two pending retries", func() bool { return e.stats(app, ep)["pending"] == 2 })
	cut := e.clock.Now().Add(time.Second)
	e.clock.Set(cut.Add(time.Second))
	newer := e.send(app, "order.paid", map[string]any{"n": 3})
	e.waitAttempts(app, ep, 3)
	pollUntil(t, 10*time.Second, "three pending retries", func() bool { return e.stats(app, ep)["pending"] == 3 })

	e.Op("POST", "/api/v1/app/"+app+"/endpoint/"+ep+"/cancel-msgs", map[string]any{"createdBefore": cut}, 204)
	st := e.stats(app, ep)
	if st["canceled"] != 2 || st["pending"] != 1 {
		t.Errorf("stats after cancel = %v, want 2 canceled, 1 pending", st)
	}
	for _, m := range e.endpointMsgs(app, ep) {
		want := 4
		if m.ID == newer {
			want = 1
		}
		if m.Status != want {
			t.Errorf("message %s at the endpoint: status %d, want %d", m.ID, m.Status, want)
		}
	}
	var statuses struct {
		Data []struct {
			ID         string `json:"id"`
			Status     int    `json:"status"`
			StatusText string `json:"statusText"`
		} `json:"data"`
	}
	e.Op("GET", "/api/v1/app/"+app+"/msg/"+old[0]+"/endpoint", nil, 200).JSON(t, &statuses)
	if len(statuses.Data) != 1 || statuses.Data[0].Status != 4 || statuses.Data[0].StatusText != "canceled" {
		t.Errorf("destinations of a canceled message = %+v", statuses.Data)
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	e.Op("GET", "/api/v1/app/"+app+"/endpoint/"+ep+"/msg?status=4", nil, 200).JSON(t, &list)
	if len(list.Data) != 2 {
		t.Errorf("the endpoint's canceled messages: %+v, want 2", list.Data)
	}
	// When the retries come due, only the message not canceled is tried again.
	e.advanceTo(e.clock.Now().Add(time.Hour))
	e.waitAttempts(app, ep, 4)
	if r := rc.requests(); len(r) != 4 || r[3].ID() != newer {
		t.Errorf("requests after the cancel: %d, the last for %s; want a 4th for %s only", len(r), r[len(r)-1].ID(), newer)
	}
}

// TestRateLimitStatus reads the dispatcher's rate limiter: an endpoint with throttleRate 1 and a
// burst of messages is RateLimited while they wait, since when they began to, and Ok after.
func TestRateLimitStatus(t *testing.T) {
	t.Parallel()
	e := startReal(t, nil)
	rc := newReceiver(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep := e.endpoint(app, map[string]any{"url": rc.URL, "rateLimit": 1})
	path := "/api/v1/app/" + app + "/endpoint/" + ep + "/rate-limit-status"
	var out struct {
		Status         string     `json:"status"`
		ThrottledSince *time.Time `json:"throttledSince"`
	}
	e.Op("GET", path, nil, 200).JSON(t, &out)
	if out.Status != "Ok" || out.ThrottledSince != nil {
		t.Errorf("idle endpoint: %+v, want Ok", out)
	}
	before := time.Now().UTC().Add(-time.Second)
	for i := range 4 {
		e.send(app, "order.paid", map[string]any{"n": i})
	}
	pollUntil(t, 10*time.Second, "RateLimited", func() bool {
		e.Op("GET", path, nil, 200).JSON(t, &out)
		return out.Status == "RateLimited"
	})
	if out.ThrottledSince == nil || out.ThrottledSince.Before(before) || rc.count() >= 4 {
		t.Errorf("while throttled: %+v with %d delivered", out, rc.count())
	}
	pollUntil(t, 20*time.Second, "all four delivered", func() bool { return rc.count() == 4 })
	pollUntil(t, 10*time.Second, "Ok again", func() bool {
		e.Op("GET", path, nil, 200).JSON(t, &out)
		return out.Status == "Ok"
	})
}

// verify checks a delivery's signature with the official Svix library, and that its body is one
// of the test's payloads.
func verify(t *testing.T, secret string, r request) {
	t.Helper()
	wh, err := svix.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(r.Body, r.Header); err != nil {
		t.Errorf("delivery of %s: bad signature: %v", r.ID(), err)
	}
	var p struct {
		N *int `json:"n"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil || p.N == nil {
		t.Errorf("delivery of %s: body %s is not a payload of the test", r.ID(), r.Body)
	}
}

// TestRecoverManyMessages recovers more failed messages than one batch of the task holds: each
// is sent again exactly once, and the task's data counts them all.
func TestRecoverManyMessages(t *testing.T) {
	t.Parallel()
	e := startReal(t, func(c *config.Config) { c.RetrySchedule = []time.Duration{} })
	var healthy atomic.Bool
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ep := e.endpoint(app, map[string]any{"url": rc.URL, "secret": secret})
	t0 := time.Now().UTC().Add(-time.Second)
	const n = 250 // two and a half batches
	var msgs []string
	for i := range n {
		msgs = append(msgs, e.send(app, "order.paid", map[string]any{"n": i}))
	}
	pollUntil(t, 30*time.Second, "every message failed", func() bool { return e.stats(app, ep)["fail"] == n })
	for range n {
		rc.next(t, 10*time.Second) // the failed first attempts
	}
	healthy.Store(true)
	tk := e.runTask("/api/v1/app/"+app+"/endpoint/"+ep+"/recover", map[string]any{"since": t0}, "endpoint.recover")
	if got := sent(t, tk); got != n {
		t.Errorf("recover sent %d, want %d", got, n)
	}
	if got := receiveIDs(t, rc, n, secret); !sameSet(got, msgs) {
		t.Errorf("recover delivered %d messages, not each of the %d once", len(got), n)
	}
	pollUntil(t, 30*time.Second, "every message delivered", func() bool { return e.stats(app, ep)["success"] == n })
}
