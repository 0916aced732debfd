package delivery

import (
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookline/hookline/config"
)

// health returns the endpoint's failure streak and the start of it, as the store keeps them.
func (e *env) health(appID, epID string) (streak int, since *time.Time) {
	e.T.Helper()
	ep, err := e.Server.Store().GetEndpoint(e.T.Context(), appID, epID)
	if err != nil {
		e.T.Fatalf("get endpoint: %v", err)
	}
	return ep.Health.FailureStreak, ep.Health.FailingSince
}

// latestNext returns the latest next-attempt time of the endpoint's pending messages.
func latestNext(t *testing.T, msgs []endpointMsg) time.Time {
	t.Helper()
	var last time.Time
	for _, m := range msgs {
		if m.Status != 1 || m.NextAttempt == nil {
			t.Fatalf("message %s: status %d, next %v; want pending", m.ID, m.Status, m.NextAttempt)
		}
		if m.NextAttempt.After(last) {
			last = *m.NextAttempt
		}
	}
	return last
}

// TestDeactivationByDefaultRule drives an always-failing endpoint under the default rule (10
// consecutive failures spanning at least an hour, seed 000). Forty failures within 42 minutes
// leave it enabled; the first failure an hour after the streak began disables it; its other
// deliveries then end without a request; one PATCH enables it again, and recover sends the
// failed messages, which now succeed.
func TestDeactivationByDefaultRule(t *testing.T) {
	t.Parallel()
	e := start(t, nil)
	if e.Config.DisableAfterFailures != 10 || e.Config.DisableAfterPeriod != time.Hour {
		t.Fatalf("test configuration: rule %d / %s, want the default 10 / 1h", e.Config.DisableAfterFailures, e.Config.DisableAfterPeriod)
	}
	ops := newReceiver(t, nil)
	opSecret := e.opEndpoint(ops.URL)
	var healthy atomic.Bool
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep := e.endpoint(app, map[string]any{"url": rc.URL, "uid": "orders"})
	t0 := e.clock.Now()

	// Ten messages fail at once, then three rounds of retries fail: 40 failures within
	// 42 minutes (the fourth attempts are due at most 6 s + 6 min + 36 min after the first).
	var msgs []string
	for i := range 10 {
		msgs = append(msgs, e.send(app, "order.paid", map[string]any{"n": i}))
	}
	for round := 1; round <= 4; round++ {
		e.waitAttempts(app, ep, 10*round)
		if e.clock.Now().Sub(t0) >= time.Hour {
			t.Fatalf("round %d at %s after the first failure; the test needs it within the hour", round, e.clock.Now().Sub(t0))
		}
		if round == 4 {
			// Each message's fourth failure is announced after the deactivation rule was
			// applied to it, so once all ten are here the rule has had its say.
			pollUntil(t, 10*time.Second, "ten message.attempt.failing webhooks", func() bool {
				return countOpEvents(t, ops, opSecret, "message.attempt.failing", ep) == 10
			})
		}
		if e.endpointDisabled(app, ep) {
			t.Fatalf("disabled after %d failures spanning %s; the rule wants an hour", 10*round, e.clock.Now().Sub(t0))
		}
		if streak, since := e.health(app, ep); streak != 10*round || since == nil || !since.Equal(t0) {
			t.Fatalf("after round %d: failure streak %d since %v, want %d since %s", round, streak, since, 10*round, t0)
		}
		if round < 4 {
			e.advanceTo(latestNext(t, e.endpointMsgs(app, ep)))
		}
	}
	retriesDue := latestNext(t, e.endpointMsgs(app, ep))
	if retriesDue.Before(t0.Add(time.Hour)) {
		t.Fatalf("the fifth attempts are due at %s, within the hour", retriesDue.Sub(t0))
	}

	// An hour after the first failure, one more failure disables the endpoint.
	e.advanceTo(t0.Add(time.Hour))
	last := e.send(app, "order.paid", map[string]any{"n": "last"})
	msgs = append(msgs, last)
	e.waitAttempts(app, ep, 41)
	pollUntil(t, 10*time.Second, "the endpoint disabled", func() bool { return e.endpointDisabled(app, ep) })
	data := waitOpEvent(t, ops, opSecret, "endpoint.disabled", func(d map[string]any) bool { return d["endpointId"] == ep })
	checkData(t, "endpoint.disabled", data, map[string]any{"appId": app, "endpointId": ep, "endpointUid": "orders",
		"failSince": t0, "trigger": "automatic"})

	// The endpoint's other deliveries come due and end without a request.
	e.advanceTo(retriesDue.Add(time.Second))
	pollUntil(t, 10*time.Second, "every delivery failed", func() bool {
		for _, m := range e.endpointMsgs(app, ep) {
			if m.Status != 2 {
				return false
			}
		}
		return true
	})
	if n := rc.count(); n != 41 {
		t.Errorf("the disabled endpoint got %d requests, want the 41 made before", n)
	}
	if n := len(e.attempts(app, ep)); n != 41 {
		t.Errorf("%d attempts, want 41", n)
	}

	// One call enables it again, with a clean record.
	e.Op("PATCH", "/api/v1/app/"+app+"/endpoint/"+ep, map[string]any{"disabled": false}, 200)
	if e.endpointDisabled(app, ep) {
		t.Fatal("still disabled after PATCH {disabled: false}")
	}
	if streak, since := e.health(app, ep); streak != 0 || since != nil {
		t.Errorf("after enabling: failure streak %d since %v, want none", streak, since)
	}
	data = waitOpEvent(t, ops, opSecret, "endpoint.enabled", func(d map[string]any) bool { return d["endpointId"] == ep })
	checkData(t, "endpoint.enabled", data, map[string]any{"appId": app, "endpointId": ep, "endpointUid": "orders"})

	// Recover, through the Svix SDK, sends the failed messages again; now they succeed.
	healthy.Store(true)
	before := rc.count()
	out, err := newSDK(t, e.Instance).Endpoint.Recover(t.Context(), app, ep, &svix.RecoverIn{Since: t0.Add(-time.Second)})
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	if out.Id == "" || out.Task != "endpoint.recover" {
		t.Errorf("recover returned %+v", out)
	}
	pollUntil(t, 10*time.Second, "every recovered message delivered", func() bool {
		for _, m := range e.endpointMsgs(app, ep) {
			if m.Status != 0 {
				return false
			}
		}
		return true
	})
	var resent []string
	for _, r := range rc.requests()[before:] {
		resent = append(resent, r.ID())
	}
	slices.Sort(resent)
	slices.Sort(msgs)
	if !slices.Equal(resent, msgs) {
		t.Errorf("recover sent %v, want each of the 11 failed messages once: %v", resent, msgs)
	}
	for _, a := range e.attempts(app, ep)[:len(msgs)] {
		if a.Status != 0 || a.TriggerType != 1 {
			t.Errorf("recovered attempt %+v: want a manual (1) success", a)
		}
	}
	if e.endpointDisabled(app, ep) {
		t.Error("disabled again")
	}
}

// TestDeactivationByConfiguredRule uses a rule of 3 failures over any time: two failures, a
// success, two more failures leave the endpoint enabled (the success reset the streak); the
// third failure in a row disables it.
func TestDeactivationByConfiguredRule(t *testing.T) {
	t.Parallel()
	e := start(t, func(c *config.Config) {
		c.DisableAfterFailures = 3
		c.DisableAfterPeriod = 0
	})
	ops := newReceiver(t, nil)
	opSecret := e.opEndpoint(ops.URL)
	script := []int{500, 500, 200, 500, 500, 500}
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		w.WriteHeader(script[min(n, len(script))-1])
	})
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep := e.endpoint(app, map[string]any{"url": rc.URL})

	wantStreak := []int{1, 2, 0, 1, 2}
	for i, want := range wantStreak {
		e.send(app, "order.paid", map[string]any{"n": i})
		e.waitAttempts(app, ep, i+1)
		if streak, _ := e.health(app, ep); streak != want {
			t.Fatalf("after attempt %d (%d): failure streak %d, want %d", i+1, script[i], streak, want)
		}
		if e.endpointDisabled(app, ep) {
			t.Fatalf("disabled after attempt %d; the streak is %d", i+1, want)
		}
	}
	e.send(app, "order.paid", map[string]any{"n": "third failure"})
	e.waitAttempts(app, ep, len(script))
	pollUntil(t, 10*time.Second, "the endpoint disabled", func() bool { return e.endpointDisabled(app, ep) })
	first := e.attempts(app, ep)[2] // newest first: the attempt after the success
	data := waitOpEvent(t, ops, opSecret, "endpoint.disabled", func(d map[string]any) bool { return d["endpointId"] == ep })
	checkData(t, "endpoint.disabled", data, map[string]any{"appId": app, "endpointId": ep, "failSince": first.Timestamp, "trigger": "automatic"})
	if n := countOpEvents(t, ops, opSecret, "endpoint.disabled", ep); n != 1 {
		t.Errorf("%d endpoint.disabled webhooks, want 1", n)
	}
	if fmt.Sprint(rc.count()) != fmt.Sprint(len(script)) {
		t.Errorf("%d requests, want %d", rc.count(), len(script))
	}
}
