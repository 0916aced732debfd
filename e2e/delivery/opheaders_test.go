package delivery

import (
	"net/http"
	"reflect"
	"testing"
	"time"
)

// TestOperationalEndpointHeadersAreSent sets custom headers on an operational-webhook endpoint
// through its headers route, reads them back (a credential's value is not returned), and checks
// that the operational webhook a 410 Gone causes reaches a real receiver with them.
func TestOperationalEndpointHeadersAreSent(t *testing.T) {
	t.Parallel()
	e := start(t, nil)
	ops := newReceiver(t, nil)
	var opEp struct {
		ID string `json:"id"`
	}
	e.Op("POST", "/api/v1/operational-webhook/endpoint", map[string]any{"url": ops.URL}, 201).JSON(t, &opEp)
	path := "/api/v1/operational-webhook/endpoint/" + opEp.ID + "/headers"

	var empty struct {
		Headers   map[string]string `json:"headers"`
		Sensitive []string          `json:"sensitive"`
	}
	e.Op("GET", path, nil, 200).JSON(t, &empty)
	if empty.Headers == nil || len(empty.Headers) != 0 || empty.Sensitive == nil || len(empty.Sensitive) != 0 {
		t.Errorf("headers of a new endpoint: %+v, want {} and [] (both present)", empty)
	}

	headers := map[string]string{"X-Ops-Team": "payments", "Authorization": "Bearer ops-receiver-key"}
	e.Op("PUT", path, map[string]any{"headers": headers}, 204)
	var got struct {
		Headers   map[string]string `json:"headers"`
		Sensitive []string          `json:"sensitive"`
	}
	e.Op("GET", path, nil, 200).JSON(t, &got)
	if !reflect.DeepEqual(got.Headers, map[string]string{"X-Ops-Team": "payments"}) || !reflect.DeepEqual(got.Sensitive, []string{"Authorization"}) {
		t.Errorf("headers read back: %+v; want X-Ops-Team shown and Authorization named as sensitive", got)
	}

	// Bad input is refused and changes nothing.
	for _, c := range []struct {
		name string
		body any
		want int
	}{
		{"no headers field", map[string]any{}, 422},
		{"a signature header", map[string]any{"headers": map[string]string{"webhook-signature": "v1,forged"}}, 422},
		{"an invalid name", map[string]any{"headers": map[string]string{"Bad Header": "x"}}, 422},
		{"not JSON", "{", 400},
	} {
		if r := e.Do("PUT", path, e.Token, c.body); r.Status != c.want {
			t.Errorf("PUT headers with %s: status %d, want %d: %s", c.name, r.Status, c.want, r.Body)
		}
	}
	if r := e.Do("PUT", "/api/v1/operational-webhook/endpoint/ep_nosuchendpoint/headers", e.Token, map[string]any{"headers": map[string]string{}}); r.Status != 404 {
		t.Errorf("PUT headers of an unknown endpoint: status %d, want 404", r.Status)
	}

	// A 410 Gone disables an endpoint; the operational webhook about it carries the headers.
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	gone := newReceiver(t, status(http.StatusGone))
	e.endpoint(app, map[string]any{"url": gone.URL})
	e.send(app, "order.paid", map[string]any{"n": 1})
	req := ops.next(t, 10*time.Second)
	for k, v := range headers {
		if req.Header.Get(k) != v {
			t.Errorf("operational webhook header %s = %q, want %q", k, req.Header.Get(k), v)
		}
	}
	if req.Header.Get("webhook-signature") == "" {
		t.Error("the operational webhook is not signed")
	}

	// The application's own token reaches none of it.
	var tok struct {
		Token string `json:"token"`
	}
	e.Op("POST", "/api/v1/token", map[string]any{"kind": "application", "appId": app}, 201).JSON(t, &tok)
	if r := e.Do("GET", path, tok.Token, nil); r.Status != 403 {
		t.Errorf("GET headers with an application token: status %d, want 403", r.Status)
	}
	if r := e.Do("PUT", path, tok.Token, map[string]any{"headers": map[string]string{}}); r.Status != 403 {
		t.Errorf("PUT headers with an application token: status %d, want 403", r.Status)
	}
}
