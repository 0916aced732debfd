package delivery

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testproc"
)

// needBroker skips the test when nothing listens at addr (127.0.0.1 and the broker's default
// port), and fails it under CI=true, where .ci/run starts the brokers.
func needBroker(t *testing.T, name, addr string) {
	t.Helper()
	testproc.NeedListener(t, name, addr)
}

// uniqueName is a stream, queue or topic name no other test run uses.
func uniqueName(t *testing.T) string {
	return fmt.Sprintf("hookline-test-%s-%d", strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-"), time.Now().UnixNano())
}

// brokerEndpoint creates an endpoint and makes it publish to the destination, returning its id
// and signing secret.
func (e *env) brokerEndpoint(appID string, dest map[string]any) (id, secret string) {
	e.T.Helper()
	// The placeholder url docs/destinations.md tells API users to give, as the dashboard does.
	id = e.endpoint(appID, map[string]any{"url": fmt.Sprintf("https://%s.destination.invalid/", dest["type"])})
	var out struct {
		Type    string            `json:"type"`
		URL     *string           `json:"url"`
		Options map[string]string `json:"options"`
	}
	e.Op("PUT", "/api/v1/app/"+appID+"/endpoint/"+id+"/destination", dest, 200).JSON(e.T, &out)
	if out.Type != dest["type"] {
		e.T.Fatalf("destination answered type %q, want %q", out.Type, dest["type"])
	}
	var s struct {
		Key string `json:"key"`
	}
	e.Op("GET", "/api/v1/app/"+appID+"/endpoint/"+id+"/secret", nil, 200).JSON(e.T, &s)
	return id, s.Key
}

// verifyBrokerMessage checks that body and headers, as a consumer read them from the broker,
// are the message's payload byte for byte and verify with the Standard Webhooks library.
func verifyBrokerMessage(t *testing.T, secret, msgID, eventType string, payload any, body []byte, headers map[string]string) {
	t.Helper()
	want, _ := json.Marshal(payload)
	if string(body) != string(want) {
		t.Fatalf("body %q, want the payload %q", body, want)
	}
	if headers["webhook-id"] != msgID {
		t.Fatalf("webhook-id %q, want the message id %s (headers %v)", headers["webhook-id"], msgID, headers)
	}
	if headers["event-type"] != eventType {
		t.Fatalf("event-type %q, want %s", headers["event-type"], eventType)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}
	if err := wh.Verify(body, h); err != nil {
		t.Fatalf("the Standard Webhooks library does not verify the message: %v (headers %v)", err, headers)
	}
}

// TestDestinationSettings: the destination routes answer an endpoint's type (http by default),
// refuse what a type does not know with a 422 naming the field, never answer the URL's
// password, and go back to http.
func TestDestinationSettings(t *testing.T) {
	t.Parallel()
	e := start(t, nil)
	app := e.app("Acme")
	ep := e.endpoint(app, map[string]any{"url": "https://example.com/hook"})
	path := "/api/v1/app/" + app + "/endpoint/" + ep + "/destination"
	r := e.Op("GET", path, nil, 200)
	if !strings.Contains(string(r.Body), `"type":"http"`) || !strings.Contains(string(r.Body), `"url":null`) {
		t.Fatalf("a new endpoint's destination: %s", r.Body)
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"type": "kafka2", "url": "x://y"}, "type"},
		{map[string]any{"type": "redis", "url": "http://127.0.0.1:6379", "options": map[string]string{"stream": "s"}}, "url"},
		{map[string]any{"type": "redis", "url": "redis://127.0.0.1:6379"}, "stream"},
		{map[string]any{"type": "redis", "url": "redis://127.0.0.1:6379", "options": map[string]string{"stream": "s", "topic": "t"}}, "topic"},
		{map[string]any{"type": "redis", "url": "redis://127.0.0.1:6379", "options": map[string]string{"stream": "s", "maxLen": "-1"}}, "maxLen"},
		{map[string]any{"type": "http", "url": "redis://127.0.0.1:6379"}, "url"},
		{map[string]any{"type": "rabbitmq", "url": "amqp://127.0.0.1:5672/"}, "routingKey"},
		{map[string]any{"type": "rabbitmq", "url": "amqp://127.0.0.1:5672/", "options": map[string]string{"routingKey": "q", "mandatory": "maybe"}}, "mandatory"},
		{map[string]any{"type": "rabbitmq", "url": "redis://127.0.0.1:5672/", "options": map[string]string{"routingKey": "q"}}, "url"},
		{map[string]any{"type": "nats", "url": "nats://127.0.0.1:4222"}, "subject"},
		{map[string]any{"type": "mqtt", "url": "mqtt://127.0.0.1:1883", "options": map[string]string{"topic": "a/#"}}, "topic"},
		{map[string]any{"type": "mqtt", "url": "mqtt://127.0.0.1:1883", "options": map[string]string{"topic": "a", "qos": "0"}}, "qos"},
		{map[string]any{"type": "redis", "url": "redis://127.0.0.1:6379", "options": map[string]string{"stream": "s"}, "extra": 1}, "extra"},
	} {
		r := e.Do("PUT", path, e.Token, c.body)
		if r.Status != 422 || !strings.Contains(string(r.Body), `"`+c.field+`"`) {
			t.Errorf("PUT %v: %d %s; want 422 naming %s", c.body, r.Status, r.Body, c.field)
		}
	}
	r = e.Op("PUT", path, map[string]any{"type": "redis", "url": "redis://hookline:s3cret@127.0.0.1:6379/2",
		"options": map[string]string{"stream": "orders", "maxLen": "1000"}}, 200)
	for _, r := range []string{string(r.Body), string(e.Op("GET", path, nil, 200).Body)} {
		if strings.Contains(r, "s3cret") || !strings.Contains(r, `"url":"redis://hookline:xxxxx@127.0.0.1:6379/2"`) ||
			!strings.Contains(r, `"stream":"orders"`) {
			t.Fatalf("destination answered %s; want the URL without its password, and the options", r)
		}
	}
	e.Op("PUT", path, map[string]any{"type": "http"}, 200)
	if r := e.Op("GET", path, nil, 200); !strings.Contains(string(r.Body), `"type":"http"`) {
		t.Fatalf("after PUT type http: %s", r.Body)
	}
}

// brokerTargets are a destination of each kind of client whose broker is at addr, each with a
// target of the test's own.
func brokerTargets(t *testing.T, addr string) map[string]map[string]any {
	return map[string]map[string]any{
		"redis": {"type": "redis", "url": "redis://" + addr, "options": map[string]string{"stream": uniqueName(t)}},
		"kafka": {"type": "kafka", "url": "kafka://" + addr, "options": map[string]string{"topic": uniqueName(t)}},
	}
}

// TestEgressPolicyAppliesToBrokers: outside dev mode a broker on loopback is refused when the
// connection is made; the attempt says so and is retried on the schedule like any failure.
func TestEgressPolicyAppliesToBrokers(t *testing.T) {
	t.Parallel()
	for typ, dest := range brokerTargets(t, "127.0.0.1:6379") {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			e := start(t, func(c *config.Config) { c.Dev = false })
			e.eventType("order.paid", nil)
			app := e.app("Acme")
			ep, _ := e.brokerEndpoint(app, dest)
			msg := e.send(app, "order.paid", map[string]any{"order": 1})
			a := e.waitAttempts(app, ep, 1)[0]
			if a.Status != 2 || a.ResponseStatusCode != 0 || !strings.Contains(a.Response, "egress policy") {
				t.Fatalf("attempt %+v; want a failure refused by the egress policy", a)
			}
			if st := e.endpointMsgState(app, ep, msg); st.Status != 1 || st.NextAttempt == nil {
				t.Fatalf("after the refused attempt: %+v; want pending with a next attempt", st)
			}
		})
	}
}

// TestDeadBrokerIsAFailedAttempt: nothing listens at the destination's address: each attempt
// fails with the reason and is retried on the schedule, and the endpoint is disabled under the
// same rule as an HTTP endpoint (here: three failed attempts in a row).
func TestDeadBrokerIsAFailedAttempt(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a port nothing listens on
	for typ, dest := range brokerTargets(t, addr) {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			e := start(t, func(c *config.Config) {
				c.DisableAfterFailures = 3
				c.DisableAfterPeriod = 0
			})
			e.eventType("order.paid", nil)
			app := e.app("Acme")
			ep, _ := e.brokerEndpoint(app, dest)
			msg := e.send(app, "order.paid", map[string]any{"order": 1})
			for i := 1; i <= 3; i++ {
				a := e.waitAttempts(app, ep, i)[0]
				if a.Status != 2 || a.ResponseStatusCode != 0 || !strings.Contains(a.Response, "refused") || a.URL != dest["url"] {
					t.Fatalf("attempt %d: %+v; want a failure saying the connection was refused", i, a)
				}
				if i == 3 {
					break
				}
				if e.endpointDisabled(app, ep) {
					t.Fatalf("disabled after %d failed attempts; the rule says 3", i)
				}
				st := e.endpointMsgState(app, ep, msg)
				if st.Status != 1 || st.NextAttempt == nil {
					t.Fatalf("after attempt %d: %+v; want pending with a next attempt", i, st)
				}
				e.advanceTo(*st.NextAttempt)
			}
			pollUntil(t, 10*time.Second, "the endpoint disabled after three failed attempts", func() bool { return e.endpointDisabled(app, ep) })
		})
	}
}
