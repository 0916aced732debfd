package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookline/hookline/config"
)

// simulated is the answer of the simulate route.
type simulated struct {
	URL     string            `json:"url"`
	Payload string            `json:"payload"`
	Method  string            `json:"method"`
	Cancel  bool              `json:"cancel"`
	Headers map[string]string `json:"headers"`
}

// setTransformation sets and enables an endpoint's transformation through the Svix Go SDK,
// and checks that it reads back.
func setTransformation(t *testing.T, e *env, appID, epID, code string) {
	t.Helper()
	sdk := newSDK(t, e.Instance)
	ctx := context.Background()
	if err := sdk.Endpoint.TransformationPartialUpdate(ctx, appID, epID, &svix.EndpointTransformationIn{Code: &code, Enabled: ptr(true)}); err != nil {
		t.Fatalf("patch transformation: %v", err)
	}
	got, err := sdk.Endpoint.TransformationGet(ctx, appID, epID)
	if err != nil {
		t.Fatalf("get transformation: %v", err)
	}
	if got.Code == nil || *got.Code != code || got.Enabled == nil || !*got.Enabled {
		t.Fatalf("transformation reads back as %+v", got)
	}
}

func ptr[T any](v T) *T { return &v }

// TestTransformationReshapesDeliveries: an endpoint's transformation changes the body, method,
// URL and headers of real deliveries; what simulate shows is what the receiver gets, and the
// receiver verifies the signature over the transformed body with the Standard Webhooks
// library. A transformation that cancels leaves the delivery canceled, with nothing sent.
func TestTransformationReshapesDeliveries(t *testing.T) {
	t.Parallel()
	// A budget no loaded CI machine runs out of: the budget has tests of its own.
	e := startReal(t, func(c *config.Config) { c.TransformationBudget = 2 * time.Second })
	original := newReceiver(t, nil) // the endpoint's own URL: nothing may arrive there
	moved := newReceiver(t, nil)    // where the transformation sends it
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	epID := e.endpoint(app, map[string]any{"url": original.URL + "/hooks", "headers": map[string]string{"X-Tenant": "acme", "X-Order": "endpoint"}})
	var sec struct {
		Key string `json:"key"`
	}
	e.Op("GET", "/api/v1/app/"+app+"/endpoint/"+epID+"/secret", nil, 200).JSON(t, &sec)

	code := fmt.Sprintf(`function handler(webhook) {
		if (webhook.payload.test) { webhook.cancel = true; return webhook; }
		webhook.payload = {order: webhook.payload.id, kind: webhook.eventType, total: webhook.payload.cents / 100};
		webhook.method = "PUT";
		webhook.url = %q + "/orders/" + webhook.payload.order;
		webhook.headers = {"X-Order": String(webhook.payload.order), "X-Source": webhook.url.length > 0 ? "hookline" : ""};
		return webhook;
	}`, moved.URL)
	setTransformation(t, e, app, epID, code)

	payload := map[string]any{"id": "ord_1", "cents": 4550, "card": "4242"}
	var sim simulated
	e.Op("POST", "/api/v1/app/"+app+"/endpoint/"+epID+"/transformation/simulate",
		map[string]any{"code": code, "eventType": "order.paid", "payload": payload}, 200).JSON(t, &sim)
	if sim.Cancel || sim.Method != "PUT" || sim.URL != moved.URL+"/orders/ord_1" ||
		sim.Payload != `{"order":"ord_1","kind":"order.paid","total":45.5}` || sim.Headers["X-Order"] != "ord_1" {
		t.Fatalf("simulate = %+v", sim)
	}

	msgID := e.send(app, "order.paid", payload)
	got := moved.next(t, 10*time.Second)
	if got.ID() != msgID {
		t.Fatalf("message %s arrived, want %s", got.ID(), msgID)
	}
	if string(got.Body) != sim.Payload || got.Path != "/orders/ord_1" {
		t.Fatalf("arrived %s %q, simulate showed %s %q", got.Path, got.Body, sim.URL, sim.Payload)
	}
	// The transformation's header wins over the endpoint's of the same name; the others stay.
	if got.Header.Get("X-Order") != "ord_1" || got.Header.Get("X-Source") != "hookline" || got.Header.Get("X-Tenant") != "acme" {
		t.Fatalf("headers %v", got.Header)
	}
	wh, err := standardwebhooks.NewWebhook(sec.Key)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(got.Body, got.Header); err != nil {
		t.Fatalf("the Standard Webhooks library refuses the transformed delivery: %v", err)
	}
	if original.count() != 0 {
		t.Fatalf("%d requests arrived at the endpoint's own URL", original.count())
	}
	atts := e.waitAttempts(app, epID, 1)
	if atts[0].URL != sim.URL || atts[0].Status != 0 {
		t.Fatalf("attempt %+v, want a success at %s", atts[0], sim.URL)
	}

	// A cancel: the delivery ends canceled (status 4), nothing is sent, no attempt is logged.
	canceled := e.send(app, "order.paid", map[string]any{"id": "ord_2", "cents": 1, "test": true})
	pollUntil(t, 10*time.Second, "the canceled delivery", func() bool {
		for _, m := range e.endpointMsgs(app, epID) {
			if m.ID == canceled {
				return m.Status == 4
			}
		}
		return false
	})
	var sim2 simulated
	e.Op("POST", "/api/v1/app/"+app+"/endpoint/"+epID+"/transformation/simulate",
		map[string]any{"code": code, "eventType": "order.paid", "payload": map[string]any{"test": true}}, 200).JSON(t, &sim2)
	if !sim2.Cancel {
		t.Fatalf("simulate of a canceled delivery = %+v", sim2)
	}
	// A later message still goes out, after the canceled one: so the canceled one was never sent.
	third := e.send(app, "order.paid", map[string]any{"id": "ord_3", "cents": 100})
	if r := moved.next(t, 10*time.Second); r.ID() != third {
		t.Fatalf("message %s arrived, want %s (the canceled %s must not)", r.ID(), third, canceled)
	}
	if n := moved.count(); n != 2 {
		t.Fatalf("%d requests arrived, want 2", n)
	}
	if atts := e.waitAttempts(app, epID, 2); len(atts) != 2 {
		t.Fatalf("%d attempts, want 2 (none for the canceled delivery)", len(atts))
	}
	if st := e.stats(app, epID); st["canceled"] != 1 || st["fail"] != 0 {
		t.Fatalf("endpoint stats %v, want one canceled and none failed", st)
	}

	// Disabled, the transformation keeps its code and deliveries go out unchanged.
	e.Op("PATCH", "/api/v1/app/"+app+"/endpoint/"+epID+"/transformation", map[string]any{"enabled": false}, 204)
	var tr struct {
		Code    *string `json:"code"`
		Enabled bool    `json:"enabled"`
	}
	e.Op("GET", "/api/v1/app/"+app+"/endpoint/"+epID+"/transformation", nil, 200).JSON(t, &tr)
	if tr.Enabled || tr.Code == nil || *tr.Code != code {
		t.Fatalf("disabled transformation reads %+v", tr)
	}
	e.send(app, "order.paid", payload)
	plain := original.next(t, 10*time.Second)
	if want, _ := json.Marshal(payload); string(plain.Body) != string(want) || plain.Path != "/hooks" || plain.Header.Get("X-Order") != "endpoint" {
		t.Fatalf("untransformed delivery %s %q %v", plain.Path, plain.Body, plain.Header)
	}
}

// TestTransformationRoutesRefuse: bad code, unsupported fields and bad simulate input are 422s
// that name the field.
func TestTransformationRoutesRefuse(t *testing.T) {
	t.Parallel()
	// A budget that a function that throws at once cannot reach on a loaded machine, so each
	// case fails for its own reason; the looping one runs to it.
	e := startReal(t, func(c *config.Config) { c.TransformationBudget = time.Second })
	app := e.app("Acme")
	epID := e.endpoint(app, map[string]any{"url": "https://example.com/hook"})
	path := "/api/v1/app/" + app + "/endpoint/" + epID + "/transformation"
	for _, c := range []struct {
		path string
		body map[string]any
		want string
	}{
		{path, map[string]any{"code": "function handler(w) { return w"}, "does not compile"},
		{path, map[string]any{"code": "x"}, `"code"`},
		{path, map[string]any{"enabled": true}, "without code cannot be enabled"},
		{path, map[string]any{"code": "function handler(w) { return w; }", "variables": map[string]string{"a": "b"}}, `"variables"`},
		{path + "/simulate", map[string]any{"code": "function handler(w) { throw new Error('boom'); }", "eventType": "a", "payload": map[string]any{}}, "threw: Error: boom"},
		{path + "/simulate", map[string]any{"code": "function handler(w) { while (true) {} }", "eventType": "a", "payload": map[string]any{}}, "longer than its budget of 1s"},
		{path + "/simulate", map[string]any{"code": "function handler(w) { return w; }", "eventType": "a b", "payload": map[string]any{}}, `"eventType"`},
		{path + "/simulate", map[string]any{"code": "function handler(w) { return w; }", "eventType": "a", "payload": []int{1}}, `"payload"`},
		{path + "/simulate", map[string]any{"code": "function handler(w) { return w; }", "eventType": "a", "payload": map[string]any{}, "channels": []string{"x"}}, `"channels"`},
	} {
		r := e.Do(http.MethodPatch, c.path, e.Token, c.body)
		if strings.HasSuffix(c.path, "/simulate") {
			r = e.Do(http.MethodPost, c.path, e.Token, c.body)
		}
		if r.Status != 422 || !strings.Contains(string(r.Body), c.want) {
			t.Errorf("%s %v: %d %s, want 422 naming %s", c.path, c.body, r.Status, r.Body, c.want)
		}
	}
	var tr struct {
		Code *string `json:"code"`
	}
	e.Op("GET", path, nil, 200).JSON(t, &tr)
	if tr.Code != nil {
		t.Fatalf("a refused patch stored code %q", *tr.Code)
	}
}

// TestBadTransformationsFailTheirAttempts: a function that never returns, one that allocates
// without end and one that throws each fail their attempt with a readable reason in the attempt
// log (and are retried on schedule), while another endpoint of the same application keeps
// delivering. The healthy endpoint's latency is logged without and with the bad ones.
func TestBadTransformationsFailTheirAttempts(t *testing.T) {
	t.Parallel()
	// A 300 ms budget: a throwing function cannot reach it even on a loaded machine, so each
	// bad function fails for its own reason.
	e := startReal(t, func(c *config.Config) {
		c.TransformationMemory = 8 << 20
		c.TransformationBudget = 300 * time.Millisecond
	})
	healthy := newReceiver(t, nil)
	bad := newReceiver(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	e.endpoint(app, map[string]any{"url": healthy.URL})

	const perPhase = 40
	measure := func(phase string) {
		t.Helper()
		start := healthy.count()
		accepted := map[string]time.Time{}
		for i := range perPhase {
			accepted[e.send(app, "order.paid", map[string]any{"n": i, "phase": phase})] = time.Now()
			// One at a time, so each message's latency is its own.
			healthy.next(t, 10*time.Second)
		}
		var lat []time.Duration
		for _, r := range healthy.requests()[start:] {
			if at, ok := accepted[r.ID()]; ok {
				lat = append(lat, max(r.At.Sub(at), 0))
			}
		}
		if len(lat) != perPhase {
			t.Fatalf("%s: %d of %d messages arrived at the healthy endpoint", phase, len(lat), perPhase)
		}
		slices.Sort(lat)
		pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		t.Logf("healthy endpoint latency %s, %d messages one at a time: p50 %s, p90 %s, max %s",
			phase, len(lat), pct(0.5), pct(0.9), lat[len(lat)-1])
	}
	measure("without bad endpoints")

	bads := map[string]struct{ code, reason string }{
		"loop":  {`function handler(webhook) { while (true) {} }`, "ran longer than its budget of 300ms"},
		"alloc": {`function handler(webhook) { var s = "y".repeat(1 << 12), a = []; while (true) { a.push(s.repeat(1 << 8)); } }`, "allocated more than its memory cap of 8 MiB"},
		"throw": {`function handler(webhook) { throw new TypeError("no customer for " + webhook.eventType); }`, "transformation threw: TypeError: no customer for"},
	}
	ids := map[string]string{}
	for name, b := range bads {
		ids[name] = e.endpoint(app, map[string]any{"url": bad.URL + "/" + name})
		setTransformation(t, e, app, ids[name], b.code)
	}
	measure("with a looping, an allocating and a throwing endpoint")

	for name, b := range bads {
		// The looping and allocating transformations each run up to their budget (longer on a
		// loaded machine; an allocating one stopped beside others runs again alone, and their
		// retries come in between): the 3 × 40 first attempts may take well over
		// waitAttempts' 10 s.
		var atts []attempt
		pollUntil(t, 90*time.Second, fmt.Sprintf("%d attempts at the %s endpoint", perPhase, name), func() bool {
			atts = e.attempts(app, ids[name])
			return len(atts) >= perPhase
		})
		reasons := map[string]int{}
		var longest int64
		for _, a := range atts {
			ok := strings.Contains(a.Response, b.reason)
			// The watchdog stops the looping and the allocating functions, whichever of its two
			// bounds they pass first. On a loaded machine the allocating function may be slower
			// than its budget; and the allocations it counts are the whole process's (see the
			// transform package), so the looping one, which allocates nothing, is stopped at the
			// memory cap when the other tests of this process allocate 8 MiB within its budget.
			// transform.TestRunFailures and TestRunMemoryCap prove each bound alone.
			watchdog := strings.Contains(a.Response, bads["loop"].reason) || strings.Contains(a.Response, bads["alloc"].reason)
			if (name == "alloc" || name == "loop") && watchdog {
				ok = true
			}
			if a.Status != 2 || a.ResponseStatusCode != 0 || !ok {
				t.Fatalf("%s: attempt %+v, want a failure saying %q", name, a, b.reason)
			}
			reasons[a.Response]++
			longest = max(longest, a.ResponseDurationMs)
		}
		t.Logf("%s: %d failed attempts, by reason %v; the longest ran %d ms", name, len(atts), reasons, longest)
		// The newest message waits for its retry, unless the retry is being sent right now
		// (status sending, no next attempt): then it is pending again once that attempt fails.
		var msgs []endpointMsg
		pollUntil(t, 30*time.Second, name+": the newest message pending with a retry", func() bool {
			msgs = e.endpointMsgs(app, ids[name])
			return len(msgs) > 0 && msgs[0].Status == 1 && msgs[0].NextAttempt != nil
		})
	}
	if bad.count() != 0 {
		t.Fatalf("%d requests of failed transformations were sent", bad.count())
	}
}
