package delivery

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// secretOf reads an endpoint's signing secret.
func (e *env) secretOf(appID, epID string) string {
	e.T.Helper()
	var s struct {
		Key string `json:"key"`
	}
	e.Op("GET", "/api/v1/app/"+appID+"/endpoint/"+epID+"/secret", nil, 200).JSON(e.T, &s)
	return s.Key
}

// verifyAll checks every request of rc with the Standard Webhooks library.
func verifyAll(t *testing.T, rc *receiver, secret string) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rc.requests() {
		if err := wh.Verify(r.Body, r.Header); err != nil {
			t.Errorf("the Standard Webhooks library rejects delivery %d: %v", r.N, err)
		}
	}
}

// TestFilterAndThrottleOfBothGenerations: an endpoint created with eventTypes (current name)
// or filterTypes (1.x name) receives only those types; one created with throttleRate: 2 or
// rateLimit: 2 is throttled to two deliveries a second. The throttle is measured as in
// TestRateLimitHoldsAtTheReceiver: from the arrival times at the receiver, with an allowance
// for network jitter, never against a deadline.
func TestFilterAndThrottleOfBothGenerations(t *testing.T) {
	t.Parallel()
	for _, names := range [][2]string{{"eventTypes", "throttleRate"}, {"filterTypes", "rateLimit"}} {
		filter, rate := names[0], names[1]
		t.Run(filter+"+"+rate, func(t *testing.T) {
			t.Parallel()
			e := startReal(t, nil)
			e.eventType("order.paid", nil)
			e.eventType("order.created", nil)
			app := e.app("Acme")
			filtered := newReceiver(t, nil)
			throttled := newReceiver(t, nil)
			free := newReceiver(t, nil)
			filteredEp := e.endpoint(app, map[string]any{"url": filtered.URL, filter: []string{"order.paid"}})
			throttledEp := e.endpoint(app, map[string]any{"url": throttled.URL, rate: 2})
			e.endpoint(app, map[string]any{"url": free.URL})

			const total = 6
			var paid []string
			for i := range total {
				typ := "order.created"
				if i%2 == 0 {
					typ = "order.paid"
				}
				id := e.send(app, typ, map[string]any{"n": i})
				if typ == "order.paid" {
					paid = append(paid, id)
				}
			}
			pollUntil(t, 10*time.Second, "every message at the endpoint without filter or throttle", func() bool { return free.count() >= total })
			pollUntil(t, 10*time.Second, "the paid messages at the filtered endpoint", func() bool { return filtered.count() >= len(paid) })
			pollUntil(t, 20*time.Second, "every message at the throttled endpoint", func() bool { return throttled.count() >= total })

			// Fan-out decides every endpoint of a message at once: once the unfiltered endpoint
			// has all of them, the filtered endpoint has all it will ever get.
			var got []string
			for _, r := range filtered.requests() {
				got = append(got, r.ID())
				var body struct {
					N int `json:"n"`
				}
				json.Unmarshal(r.Body, &body)
				if body.N%2 != 0 {
					t.Errorf("%s [order.paid]: the endpoint got message %d, an order.created", filter, body.N)
				}
			}
			slices.Sort(got)
			slices.Sort(paid)
			if !slices.Equal(got, paid) {
				t.Errorf("%s [order.paid]: the endpoint got %v, want the order.paid messages %v", filter, got, paid)
			}
			verifyAll(t, filtered, e.secretOf(app, filteredEp))
			verifyAll(t, throttled, e.secretOf(app, throttledEp))

			// Requests leave 500 ms apart. An arrival may come late by the jitter of a busy
			// machine (up to 500 ms is allowed for here), which brings it closer to the next:
			// no window of 500 ms holds more than two, and the six span more than 2 s. Without
			// the throttle they arrive within milliseconds; at 3 a second they would span 1.67 s.
			reqs := throttled.requests()
			most := 0
			for i := range reqs {
				n := 0
				for j := i; j < len(reqs) && reqs[j].At.Sub(reqs[i].At) < 500*time.Millisecond; j++ {
					n++
				}
				most = max(most, n)
			}
			span := reqs[len(reqs)-1].At.Sub(reqs[0].At)
			t.Logf("%s 2: %d requests over %s, at most %d within 500 ms", rate, len(reqs), span, most)
			if most > 2 {
				t.Errorf("%s 2: %d requests within 500 ms", rate, most)
			}
			if span < time.Duration(total-1)*500*time.Millisecond-500*time.Millisecond {
				t.Errorf("%s 2: %d requests in %s, faster than 2 a second", rate, len(reqs), span)
			}
		})
	}
}

// TestRawPayload: a message sent as raw JSON text (payload {} and
// transformationsParams.rawPayload, as the Svix SDKs' messageInRaw sends it) is stored,
// signed and delivered byte for byte, shown by the API as its payload, and checked like any
// payload: by its event type's schema, and by the payload checks every payload passes.
func TestRawPayload(t *testing.T) {
	t.Parallel()
	e := startReal(t, nil)
	e.eventType("order.paid", map[string]any{"type": "object", "required": []string{"orderId"},
		"properties": map[string]any{"orderId": map[string]any{"type": "string"}}})
	app := e.app("Acme")
	rc := newReceiver(t, nil)
	ep := e.endpoint(app, map[string]any{"url": rc.URL})
	secret := e.secretOf(app, ep)
	msgs := "/api/v1/app/" + app + "/msg"

	const text = "{\n  \"orderId\" : \"ord_raw\",\t\"total\": 45.000, \"big\": 12345678901234567890, \"e\": \"\\u00e9\"\n}"
	var out struct {
		ID      string          `json:"id"`
		Payload json.RawMessage `json:"payload"`
	}
	e.Op("POST", msgs, map[string]any{"eventType": "order.paid", "payload": map[string]any{},
		"transformationsParams": map[string]any{"rawPayload": text}}, 202).JSON(t, &out)
	d := rc.next(t, 10*time.Second)
	if string(d.Body) != text {
		t.Errorf("delivered %q, want the raw text %q", d.Body, text)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(d.Body, d.Header); err != nil {
		t.Errorf("the Standard Webhooks library rejects the raw delivery: %v", err)
	}
	if d.ID() != out.ID {
		t.Errorf("webhook-id %q, want %q", d.ID(), out.ID)
	}
	var got struct {
		Payload json.RawMessage `json:"payload"`
	}
	e.Op("GET", msgs+"/"+out.ID, nil, 200).JSON(t, &got)
	var compact bytes.Buffer
	json.Compact(&compact, []byte(text))
	if string(got.Payload) != compact.String() {
		t.Errorf("the API shows the payload as %s, want %s", got.Payload, compact.String())
	}

	// Without payload at all, too.
	e.Op("POST", msgs, map[string]any{"eventType": "order.paid", "transformationsParams": map[string]any{"rawPayload": `{"orderId":"b"}`}}, 202)
	if d := rc.next(t, 10*time.Second); string(d.Body) != `{"orderId":"b"}` {
		t.Errorf("delivered %q", d.Body)
	}

	// Checked like any payload, and named where it came from.
	raw := func(text string, extra map[string]any) map[string]any {
		b := map[string]any{"eventType": "order.paid", "payload": map[string]any{}, "transformationsParams": map[string]any{"rawPayload": text}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	for _, c := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
		loc    string
	}{
		{"fails the schema", raw(`{"orderId": 7}`, nil), 422, "schema_violation", `"loc":["body","transformationsParams","rawPayload","orderId"]`},
		{"is not JSON", raw(`{"orderId": "a"`, nil), 400, "invalid_json", `"transformationsParams.rawPayload`},
		{"is not an object", raw(`["a"]`, nil), 422, "validation", `"loc":["body","transformationsParams","rawPayload"]`},
		{"has a key twice", raw(`{"orderId": "a", "orderId": "b"}`, nil), 400, "duplicate_key", "transformationsParams.rawPayload"},
		{"comes with a payload too", raw(`{"orderId": "a"}`, map[string]any{"payload": map[string]any{"orderId": "b"}}), 422, "validation", `"loc":["body","payload"]`},
		{"comes with another transformation parameter", map[string]any{"eventType": "order.paid", "payload": map[string]any{"orderId": "a"},
			"transformationsParams": map[string]any{"headers": map[string]any{"x": "y"}}}, 422, "validation", `"loc":["body","transformationsParams","headers"]`},
	} {
		r := e.Do("POST", msgs, e.Token, c.body)
		if r.Status != c.status || r.Code() != c.code || !strings.Contains(string(r.Body), c.loc) {
			t.Errorf("a raw payload that %s: %d %s; want %d %s naming %s", c.name, r.Status, r.Body, c.status, c.code, c.loc)
		}
	}
	var page struct{ Data []json.RawMessage }
	e.Op("GET", msgs, nil, 200).JSON(t, &page)
	if len(page.Data) != 2 {
		t.Errorf("%d messages stored, want the 2 accepted", len(page.Data))
	}
}
