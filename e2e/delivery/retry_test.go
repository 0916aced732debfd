package delivery

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/config"
)

// TestRetriesFollowTheScheduleUntilSuccess fails a receiver three times, then lets it succeed.
// After each failure the delivery is due again after the next entry of the schedule, within
// the jitter; the clock is moved there and the retry arrives, with the same webhook-id.
func TestRetriesFollowTheScheduleUntilSuccess(t *testing.T) {
	t.Parallel()
	e := start(t, nil)
	const failures = 3
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n <= failures {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "failure %d", n)
			return
		}
		io.WriteString(w, "thanks")
	})
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep := e.endpoint(app, map[string]any{"url": rc.URL})
	msg := e.send(app, "order.paid", map[string]any{"order": 1})

	schedule := e.Config.RetrySchedule
	var sentAt []time.Time
	for i := range failures {
		req := rc.next(t, 10*time.Second)
		if req.ID() != msg {
			t.Fatalf("attempt %d: webhook-id %q, want the message id %s", i+1, req.ID(), msg)
		}
		sentAt = append(sentAt, e.clock.Now())
		e.waitAttempts(app, ep, i+1)
		st := e.endpointMsgState(app, ep, msg)
		if st.Status != 1 {
			t.Fatalf("after failed attempt %d: status %d, want 1 (pending)", i+1, st.Status)
		}
		within(t, fmt.Sprintf("after failed attempt %d", i+1), st.NextAttempt, e.clock.Now(), schedule[i], 0.2)
		e.advanceTo(*st.NextAttempt)
	}
	if req := rc.next(t, 10*time.Second); req.ID() != msg {
		t.Fatalf("last attempt: webhook-id %q, want %s", req.ID(), msg)
	}
	sentAt = append(sentAt, e.clock.Now())
	e.waitAttempts(app, ep, failures+1)

	st := e.endpointMsgState(app, ep, msg)
	if st.Status != 0 || st.NextAttempt != nil {
		t.Errorf("after the successful attempt: status %d, next attempt %v; want 0 and none", st.Status, st.NextAttempt)
	}
	got := e.attempts(app, ep) // newest first
	if len(got) != failures+1 {
		t.Fatalf("%d attempts listed, want %d", len(got), failures+1)
	}
	for i, a := range got {
		n := failures + 1 - i // the attempt's number
		wantStatus, wantCode, wantResp := 2, 500, fmt.Sprintf("failure %d", n)
		if n == failures+1 {
			wantStatus, wantCode, wantResp = 0, 200, "thanks"
		}
		if a.Status != wantStatus || a.ResponseStatusCode != wantCode || a.Response != wantResp || a.TriggerType != 0 ||
			a.MsgID != msg || a.EndpointID != ep || a.URL != rc.URL {
			t.Errorf("attempt %d: %+v; want status %d, code %d, response %q, trigger 0", n, a, wantStatus, wantCode, wantResp)
		}
		if !a.Timestamp.Equal(sentAt[n-1]) {
			t.Errorf("attempt %d at %s, want %s (the clock when it was sent)", n, a.Timestamp, sentAt[n-1])
		}
	}
	if s := e.stats(app, ep); s["success"] != 1 || s["pending"] != 0 || s["fail"] != 0 || s["sending"] != 0 {
		t.Errorf("stats %v, want one success", s)
	}
	if n := rc.count(); n != failures+1 {
		t.Errorf("the receiver got %d requests, want %d", n, failures+1)
	}
}

// TestExhaustion runs a short schedule to its end: the delivery fails for good and the
// operator hears of it through a message.attempt.exhausted operational webhook.
func TestExhaustion(t *testing.T) {
	t.Parallel()
	schedule := []time.Duration{10 * time.Second, time.Minute}
	e := start(t, func(c *config.Config) { c.RetrySchedule = schedule })
	ops := newReceiver(t, nil)
	opSecret := e.opEndpoint(ops.URL)
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "upstream down")
	})
	e.eventType("order.paid", nil)
	var app struct {
		ID string `json:"id"`
	}
	e.Op("POST", "/api/v1/app", map[string]any{"name": "Acme", "uid": "acme"}, 201).JSON(t, &app)
	ep := e.endpoint(app.ID, map[string]any{"url": rc.URL, "uid": "orders"})
	var m struct {
		ID string `json:"id"`
	}
	e.Op("POST", "/api/v1/app/acme/msg", map[string]any{"eventType": "order.paid", "eventId": "evt-1", "payload": map[string]any{"n": 1}}, 202).JSON(t, &m)

	for i := range len(schedule) + 1 {
		rc.next(t, 10*time.Second)
		e.waitAttempts(app.ID, ep, i+1)
		st := e.endpointMsgState(app.ID, ep, m.ID)
		if i == len(schedule) {
			if st.Status != 2 || st.NextAttempt != nil {
				t.Fatalf("after the last attempt: status %d, next %v; want 2 (fail) and none", st.Status, st.NextAttempt)
			}
			break
		}
		if st.Status != 1 {
			t.Fatalf("after attempt %d: status %d, want 1", i+1, st.Status)
		}
		within(t, fmt.Sprintf("after attempt %d", i+1), st.NextAttempt, e.clock.Now(), schedule[i], 0.2)
		e.advanceTo(*st.NextAttempt)
	}
	last := e.attempts(app.ID, ep)[0]

	data := waitOpEvent(t, ops, opSecret, "message.attempt.exhausted", func(d map[string]any) bool { return d["msgId"] == m.ID })
	// Svix's MessageAttemptExhaustedEventData.
	want := map[string]any{"appId": app.ID, "appUid": "acme", "msgId": m.ID, "msgEventId": "evt-1", "endpointId": ep,
		"lastAttempt": map[string]any{"id": last.ID, "responseStatusCode": float64(502), "timestamp": last.Timestamp.Format(time.RFC3339Nano)}}
	checkData(t, "message.attempt.exhausted", data, want)
	if n := countOpEvents(t, ops, opSecret, "message.attempt.exhausted", ep); n != 1 {
		t.Errorf("%d message.attempt.exhausted webhooks, want 1", n)
	}
	if rc.count() != len(schedule)+1 {
		t.Errorf("%d requests, want %d", rc.count(), len(schedule)+1)
	}
	if s := e.stats(app.ID, ep); s["fail"] != 1 || s["pending"] != 0 {
		t.Errorf("stats %v, want one failure", s)
	}
}

// checkData compares an operational webhook's data with want: the same keys, and the same
// values (timestamps compared as times).
func checkData(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected field %q = %v", what, k, got[k])
		}
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: field %q missing", what, k)
			continue
		}
		switch w := w.(type) {
		case map[string]any:
			gm, ok := g.(map[string]any)
			if !ok {
				t.Errorf("%s: %q = %v, want an object", what, k, g)
				continue
			}
			checkData(t, what+"."+k, gm, w)
		case time.Time:
			gs, _ := g.(string)
			gt, err := time.Parse(time.RFC3339Nano, gs)
			if err != nil || !gt.Equal(w) {
				t.Errorf("%s: %q = %v, want %s", what, k, g, w.Format(time.RFC3339Nano))
			}
		default:
			if k == "timestamp" {
				gt, err1 := time.Parse(time.RFC3339Nano, fmt.Sprint(g))
				wt, err2 := time.Parse(time.RFC3339Nano, fmt.Sprint(w))
				if err1 != nil || err2 != nil || !gt.Equal(wt) {
					t.Errorf("%s: %q = %v, want %v", what, k, g, w)
				}
				continue
			}
			if fmt.Sprint(g) != fmt.Sprint(w) {
				t.Errorf("%s: %q = %v, want %v", what, k, g, w)
			}
		}
	}
}

// TestFailureModes checks how each kind of failure is recorded and retried. The clock does not
// move, so each endpoint gets exactly one attempt.
func TestFailureModes(t *testing.T) {
	t.Parallel()
	e := start(t, func(c *config.Config) { c.DeliveryTimeout = 300 * time.Millisecond })
	ops := newReceiver(t, nil)
	opSecret := e.opEndpoint(ops.URL)
	e.eventType("order.paid", nil)
	base := e.Config.RetrySchedule[0]

	// one sends a message to a new endpoint at rawURL and returns the attempt and the
	// delivery's state after it.
	one := func(e *env, rawURL string) (app, ep string, a attempt, st endpointMsg) {
		app = e.app("App")
		ep = e.endpoint(app, map[string]any{"url": rawURL})
		msg := e.send(app, "order.paid", map[string]any{"n": 1})
		a = e.waitAttempts(app, ep, 1)[0]
		return app, ep, a, e.endpointMsgState(app, ep, msg)
	}

	t.Run("429 with Retry-After in seconds", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		})
		_, _, a, st := one(e, rc.URL)
		if a.ResponseStatusCode != 429 || a.Status != 2 || st.Status != 1 {
			t.Fatalf("attempt %+v, delivery %+v", a, st)
		}
		if want := e.clock.Now().Add(time.Hour); st.NextAttempt == nil || st.NextAttempt.Before(want) || st.NextAttempt.After(want.Add(time.Millisecond)) {
			t.Errorf("next attempt %v, want %s (Retry-After: 3600)", st.NextAttempt, want)
		}
	})

	t.Run("503 with Retry-After as a date", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Retry-After", e.clock.Now().Add(2*time.Hour).Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		_, _, a, st := one(e, rc.URL)
		if a.ResponseStatusCode != 503 || st.Status != 1 {
			t.Fatalf("attempt %+v, delivery %+v", a, st)
		}
		if want := e.clock.Now().Add(2 * time.Hour); st.NextAttempt == nil || st.NextAttempt.Before(want) || st.NextAttempt.After(want.Add(time.Millisecond)) {
			t.Errorf("next attempt %v, want %s (Retry-After two hours ahead)", st.NextAttempt, want)
		}
	})

	t.Run("Retry-After is bounded", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Retry-After", fmt.Sprint(int((10 * 24 * time.Hour).Seconds())))
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		_, _, _, st := one(e, rc.URL)
		if want := e.clock.Now().Add(24 * time.Hour); st.NextAttempt == nil || !st.NextAttempt.Equal(want) {
			t.Errorf("next attempt %v, want %s (Retry-After of ten days, bounded to a day)", st.NextAttempt, want)
		}
	})

	t.Run("Retry-After sooner than the schedule", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		_, _, _, st := one(e, rc.URL)
		within(t, "Retry-After: 1", st.NextAttempt, e.clock.Now(), base, 0.2)
	})

	t.Run("410 disables the endpoint", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		rc := newReceiver(t, status(http.StatusGone))
		app, ep, a, st := one(e, rc.URL)
		if a.ResponseStatusCode != 410 || st.Status != 2 || st.NextAttempt != nil {
			t.Fatalf("attempt %+v, delivery %+v; want a failed delivery, no retry", a, st)
		}
		pollUntil(t, 5*time.Second, "the endpoint disabled", func() bool { return e.endpointDisabled(app, ep) })
		data := waitOpEvent(t, ops, opSecret, "endpoint.disabled", func(d map[string]any) bool { return d["endpointId"] == ep })
		checkData(t, "endpoint.disabled", data, map[string]any{"appId": app, "endpointId": ep, "failSince": a.Timestamp, "trigger": "automatic"})
		// A disabled endpoint gets no new messages.
		e.send(app, "order.paid", map[string]any{"n": 2})
		if got := e.endpointMsgs(app, ep); len(got) != 1 {
			t.Errorf("the disabled endpoint has %d messages, want 1", len(got))
		}
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		rc := newReceiver(t, nil)
		rc.hang(t)
		_, _, a, st := one(e, rc.URL)
		if a.ResponseStatusCode != 0 || a.Status != 2 || !strings.Contains(a.Response, "timed out") {
			t.Errorf("attempt %+v; want code 0 and a timeout", a)
		}
		if a.ResponseDurationMs < 250 || a.ResponseDurationMs > 3000 {
			t.Errorf("attempt took %d ms, want about the 300 ms timeout", a.ResponseDurationMs)
		}
		// Twice the schedule's delay, jittered: longer than any jitter of the plain delay.
		within(t, "after a timeout", st.NextAttempt, e.clock.Now(), 2*base, 0.2)
	})

	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		_, _, a, st := one(e, "http://"+addr+"/hook")
		if a.ResponseStatusCode != 0 || a.Status != 2 || a.Response != "connection refused" {
			t.Errorf("attempt %+v; want code 0, response \"connection refused\"", a)
		}
		within(t, "after a refused connection", st.NextAttempt, e.clock.Now(), base, 0.2)
	})

	t.Run("redirects are not followed", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		target := newReceiver(t, nil)
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
		})
		_, _, a, st := one(e, rc.URL)
		if a.ResponseStatusCode != 302 || a.Status != 2 || st.Status != 1 {
			t.Errorf("attempt %+v, delivery %+v; want a failed 302 and a retry", a, st)
		}
		if n := target.count(); n != 0 {
			t.Errorf("the redirect target got %d requests", n)
		}
	})

	t.Run("response bodies are cut at 20 KB", func(t *testing.T) {
		t.Parallel()
		e := e.with(t)
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			io.WriteString(w, strings.Repeat("0123456789", 10_000))
		})
		_, _, a, st := one(e, rc.URL)
		if a.Status != 0 || st.Status != 0 || a.ResponseStatusCode != 200 {
			t.Errorf("attempt %+v, delivery %+v; want a success", a, st)
		}
		if len(a.Response) != 20<<10 || a.Response != strings.Repeat("0123456789", 10_000)[:20<<10] {
			t.Errorf("response kept: %d bytes, want the first %d", len(a.Response), 20<<10)
		}
	})
}
