package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
)

// doWith sends a request like testserver's Do, with extra headers.
func doWith(t testing.TB, srv *testserver.Instance, method, path, token string, body any, header map[string]string) *testserver.Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return &testserver.Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// state is everything the API shows, read with the operator token: the counts, and the full
// JSON so that changes to existing records show too.
type state struct {
	apps, endpoints, messages, eventTypes, tokens int
	dump                                          string
}

func (s state) String() string {
	return fmt.Sprintf("%d apps, %d endpoints, %d messages, %d event types, %d tokens", s.apps, s.endpoints, s.messages, s.eventTypes, s.tokens)
}

func snapshot(t testing.TB, srv *testserver.Instance) state {
	t.Helper()
	var s state
	var dump strings.Builder
	add := func(items []json.RawMessage) int {
		for _, it := range items {
			dump.Write(it)
			dump.WriteByte('\n')
		}
		return len(items)
	}
	apps := listAll(t, srv, "/api/v1/app")
	s.apps = add(apps)
	for _, raw := range apps {
		var app struct {
			ID string `json:"id"`
		}
		json.Unmarshal(raw, &app)
		eps := listAll(t, srv, "/api/v1/app/"+app.ID+"/endpoint")
		s.endpoints += add(eps)
		for _, raw := range eps {
			var ep struct {
				ID string `json:"id"`
			}
			json.Unmarshal(raw, &ep)
			for _, sub := range []string{"/secret", "/headers"} {
				dump.Write(srv.Op("GET", "/api/v1/app/"+app.ID+"/endpoint/"+ep.ID+sub, nil, 200).Body)
			}
		}
		s.messages += add(listAll(t, srv, "/api/v1/app/"+app.ID+"/msg"))
	}
	s.eventTypes = add(listAll(t, srv, "/api/v1/event-type?include_archived=true"))
	s.tokens = add(listAll(t, srv, "/api/v1/token"))
	s.dump = dump.String()
	return s
}

// TestBadInput sends requests that must be refused, each with its documented status and error
// code, and checks after each that nothing was stored or changed. The server runs without dev
// mode, so the production URL rules apply, and with a small body limit.
func TestBadInput(t *testing.T) {
	t.Parallel()
	const maxBody = 4096
	srv := testserver.Start(t, testserver.Options{Configure: func(c *config.Config) {
		c.Dev = false
		c.MaxBodySize = maxBody
	}})

	// The existing state the bad requests run into.
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "ticket.sold", "description": "Ticket sold",
		"schemas": map[string]any{"1": json.RawMessage(ticketSoldSchema)}}, 201)
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.created", "description": "Order created"}, 201)
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme", "uid": "acme"}, 201)
	var ep struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app/acme/endpoint", map[string]any{"url": "https://hooks.acme.example/in", "uid": "main",
		"headers": map[string]string{"X-Tenant": "acme"}}, 201).JSON(t, &ep)
	var opEp struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/operational-webhook/endpoint", map[string]any{"url": "https://ops.acme.example/in"}, 201).JSON(t, &opEp)
	var orig struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app/acme/msg", map[string]any{"eventType": "order.created", "eventId": "evt-1", "payload": orderCreated(1)}, 202).JSON(t, &orig)
	// The first use of an Idempotency-Key, which one case reuses with another body.
	if r := doWith(t, srv, "POST", "/api/v1/app/acme/msg", srv.Token, map[string]any{"eventType": "order.created", "payload": orderCreated(2)},
		map[string]string{"Idempotency-Key": "key-1"}); r.Status != 202 {
		t.Fatalf("first idempotent request: %d %s", r.Status, r.Body)
	}

	msg := func(fields map[string]any) map[string]any {
		m := map[string]any{"eventType": "order.created", "payload": orderCreated(3)}
		for k, v := range fields {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	badTicket := ticketSold(4)
	badTicket["data"].(map[string]any)["ticketCount"] = -1
	delete(badTicket["data"].(map[string]any), "orderId")

	const (
		apps = "/api/v1/app"
		app  = "/api/v1/app/acme"
		eps  = app + "/endpoint"
		msgs = app + "/msg"
	)
	epPath := eps + "/" + ep.ID
	cases := []struct {
		name         string
		method, path string
		body         any // a string is sent as is
		header       map[string]string
		status       int
		code         string
	}{
		// Bodies that are not the JSON object the route takes.
		{"malformed JSON", "POST", apps, `{"name": "Acme"`, nil, 400, "invalid_json"},
		{"trailing garbage", "POST", apps, `{"name": "Acme"} x`, nil, 400, "invalid_json"},
		{"empty body", "POST", apps, "", nil, 400, "invalid_json"},
		{"whitespace body", "POST", eps, "  \n ", nil, 400, "invalid_json"},
		{"JSON array body", "POST", apps, `[{"name": "Acme"}]`, nil, 400, "invalid_json"},
		{"JSON string body", "POST", msgs, `"hello"`, nil, 400, "invalid_json"},
		{"not JSON at all", "POST", msgs, `eventType=order.created`, nil, 400, "invalid_json"},

		// Fields of the wrong type.
		{"name is a number", "POST", apps, `{"name": 5}`, nil, 422, "validation"},
		{"rateLimit is a string", "POST", apps, `{"name": "Acme 2", "rateLimit": "x"}`, nil, 422, "validation"},
		{"filterTypes is a string", "POST", eps, `{"url": "https://a.example/x", "filterTypes": "a"}`, nil, 422, "validation"},
		{"metadata value is a number", "POST", apps, `{"name": "Acme 2", "metadata": {"a": 1}}`, nil, 422, "validation"},
		{"channels is an object", "POST", msgs, `{"eventType": "order.created", "payload": {}, "channels": {"a": 1}}`, nil, 422, "validation"},
		{"eventType is a number", "POST", msgs, `{"eventType": 7, "payload": {}}`, nil, 422, "validation"},

		// Missing required fields.
		{"app without name", "POST", apps, `{}`, nil, 422, "validation"},
		{"app with blank name", "POST", apps, `{"name": "   "}`, nil, 422, "validation"},
		{"endpoint without url", "POST", eps, `{"description": "no url"}`, nil, 422, "validation"},
		{"message without eventType", "POST", msgs, msg(map[string]any{"eventType": nil}), nil, 422, "validation"},
		{"message without payload", "POST", msgs, msg(map[string]any{"payload": nil}), nil, 422, "validation"},
		{"message with null payload", "POST", msgs, `{"eventType": "order.created", "payload": null}`, nil, 422, "validation"},
		{"payload is an array", "POST", msgs, msg(map[string]any{"payload": []int{1, 2}}), nil, 422, "validation"},
		{"payload is a string", "POST", msgs, msg(map[string]any{"payload": "order"}), nil, 422, "validation"},
		{"event type without name", "POST", "/api/v1/event-type", `{"description": "x"}`, nil, 422, "validation"},
		{"headers PUT without headers", "PUT", epPath + "/headers", `{}`, nil, 422, "validation"},

		// Endpoint URLs outside dev mode.
		{"empty URL", "POST", eps, `{"url": ""}`, nil, 422, "validation"},
		{"ftp URL", "POST", eps, `{"url": "ftp://files.example.com/hook"}`, nil, 422, "url_not_allowed"},
		{"relative URL", "POST", eps, `{"url": "/hook"}`, nil, 422, "url_not_allowed"},
		{"private 10.0.0.1", "POST", eps, `{"url": "https://10.0.0.1/hook"}`, nil, 422, "url_not_allowed"},
		{"loopback 127.0.0.1", "POST", eps, `{"url": "https://127.0.0.1:8443/hook"}`, nil, 422, "url_not_allowed"},
		{"metadata 169.254.169.254", "POST", eps, `{"url": "https://169.254.169.254/latest/meta-data/"}`, nil, 422, "url_not_allowed"},
		{"loopback [::1]", "POST", eps, `{"url": "https://[::1]/hook"}`, nil, 422, "url_not_allowed"},
		{"loopback with a zone [::1%25lo]", "POST", eps, `{"url": "https://[::1%25lo]/hook"}`, nil, 422, "url_not_allowed"},
		{"link-local with a zone", "POST", eps, `{"url": "https://[fe80::1%25eth0]/hook"}`, nil, 422, "url_not_allowed"},
		{"localhost", "POST", eps, `{"url": "https://localhost/hook"}`, nil, 422, "url_not_allowed"},
		{"http outside dev mode", "POST", eps, `{"url": "http://hooks.example.com/hook"}`, nil, 422, "url_not_allowed"},
		{"URL with credentials", "POST", eps, `{"url": "https://user:pw@hooks.example.com/hook"}`, nil, 422, "url_not_allowed"},
		{"PATCH to a private URL", "PATCH", epPath, `{"url": "https://192.168.1.10/hook"}`, nil, 422, "url_not_allowed"},
		{"PUT to a loopback URL", "PUT", epPath, `{"url": "https://127.0.0.1/hook"}`, nil, 422, "url_not_allowed"},

		// Size.
		{"message over the body limit", "POST", msgs, msg(map[string]any{"payload": map[string]string{"blob": strings.Repeat("x", 2*maxBody)}}), nil, 413, "payload_too_large"},
		{"app over the body limit", "POST", apps, map[string]string{"name": strings.Repeat("n", maxBody+1)}, nil, 413, "payload_too_large"},
		{"idempotent message over the body limit", "POST", msgs, msg(map[string]any{"payload": map[string]string{"blob": strings.Repeat("x", 2*maxBody)}}),
			map[string]string{"Idempotency-Key": "big"}, 413, "payload_too_large"},

		// Messages.
		{"schema violation", "POST", msgs, map[string]any{"eventType": "ticket.sold", "payload": badTicket}, nil, 422, "schema_violation"},
		{"schema violation: wrong envelope", "POST", msgs, map[string]any{"eventType": "ticket.sold", "payload": orderCreated(5)}, nil, 422, "schema_violation"},
		{"duplicate eventId", "POST", msgs, msg(map[string]any{"eventId": "evt-1"}), nil, 409, "duplicate_event_id"},
		{"unknown event type", "POST", msgs, msg(map[string]any{"eventType": "ticket.teleported"}), nil, 422, "unknown_event_type"},
		{"too-long eventId", "POST", msgs, msg(map[string]any{"eventId": strings.Repeat("e", 257)}), nil, 422, "validation"},
		{"eventId with spaces", "POST", msgs, msg(map[string]any{"eventId": "evt 2"}), nil, 422, "validation"},
		{"too many channels", "POST", msgs, msg(map[string]any{"channels": []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}}), nil, 422, "validation"},
		{"channel with a space", "POST", msgs, msg(map[string]any{"channels": []string{"eu west"}}), nil, 422, "validation"},
		{"empty channel", "POST", msgs, msg(map[string]any{"channels": []string{""}}), nil, 422, "validation"},
		{"Idempotency-Key reused with another body", "POST", msgs, msg(nil), map[string]string{"Idempotency-Key": "key-1"}, 409, "idempotency_conflict"},
		{"Idempotency-Key too long", "POST", msgs, msg(nil), map[string]string{"Idempotency-Key": strings.Repeat("k", 300)}, 422, "validation"},

		// Unknown ids.
		{"unknown app", "GET", "/api/v1/app/app_2zZZZZZZZZZZZZZZZZZZZZ", nil, nil, 404, "not_found"},
		{"unknown app uid", "GET", "/api/v1/app/nobody", nil, nil, 404, "not_found"},
		{"message to an unknown app", "POST", "/api/v1/app/nobody/msg", msg(nil), nil, 404, "not_found"},
		{"endpoint of an unknown app", "POST", "/api/v1/app/nobody/endpoint", `{"url": "https://a.example/x"}`, nil, 404, "not_found"},
		{"unknown endpoint", "GET", eps + "/ep_2zZZZZZZZZZZZZZZZZZZZZ", nil, nil, 404, "not_found"},
		{"PATCH unknown endpoint", "PATCH", eps + "/ep_2zZZZZZZZZZZZZZZZZZZZZ", `{"description": "x"}`, nil, 404, "not_found"},
		{"secret of unknown endpoint", "GET", eps + "/ep_2zZZZZZZZZZZZZZZZZZZZZ/secret", nil, nil, 404, "not_found"},
		{"unknown message", "GET", msgs + "/msg_2zZZZZZZZZZZZZZZZZZZZZ", nil, nil, 404, "not_found"},
		{"unknown eventId", "GET", msgs + "/evt-404", nil, nil, 404, "not_found"},
		{"unknown event type", "GET", "/api/v1/event-type/no.such.type", nil, nil, 404, "not_found"},
		{"unknown token", "DELETE", "/api/v1/token/tok_2zZZZZZZZZZZZZZZZZZZZZ", nil, nil, 404, "not_found"},
		{"unknown route", "GET", "/api/v1/nothing-here", nil, nil, 404, "not_found"},

		// Query parameters.
		{"limit=0", "GET", msgs + "?limit=0", nil, nil, 422, "validation"},
		{"limit=10000", "GET", apps + "?limit=10000", nil, nil, 422, "validation"},
		{"limit=abc", "GET", eps + "?limit=abc", nil, nil, 422, "validation"},
		{"limit=-1", "GET", "/api/v1/event-type?limit=-1", nil, nil, 422, "validation"},
		{"bad order", "GET", apps + "?order=sideways", nil, nil, 422, "validation"},
		{"bad before", "GET", msgs + "?before=yesterday", nil, nil, 422, "validation"},
		{"bad with_content", "GET", msgs + "?with_content=maybe", nil, nil, 422, "validation"},

		// Identifiers, uniqueness and schemas.
		{"uid with spaces", "POST", apps, `{"name": "Acme 2", "uid": "acme two"}`, nil, 422, "validation"},
		{"uid with an id prefix", "POST", apps, `{"name": "Acme 2", "uid": "app_123"}`, nil, 422, "validation"},
		{"endpoint uid with spaces", "POST", eps, `{"url": "https://a.example/x", "uid": "my endpoint"}`, nil, 422, "validation"},
		{"duplicate app uid", "POST", apps, `{"name": "Acme again", "uid": "acme"}`, nil, 409, "conflict"},
		{"duplicate endpoint uid", "POST", eps, `{"url": "https://a.example/x", "uid": "main"}`, nil, 409, "conflict"},
		{"duplicate event type", "POST", "/api/v1/event-type", `{"name": "order.created", "description": "again"}`, nil, 409, "conflict"},
		{"event type name with spaces", "POST", "/api/v1/event-type", `{"name": "order created", "description": "x"}`, nil, 422, "validation"},
		{"invalid JSON schema", "POST", "/api/v1/event-type", `{"name": "ticket.refunded", "description": "x", "schemas": {"1": {"type": "strnig"}}}`, nil, 422, "validation"},
		{"schema with an external $ref", "POST", "/api/v1/event-type", `{"name": "ticket.refunded", "description": "x", "schemas": {"1": {"$ref": "https://example.com/s.json"}}}`, nil, 422, "validation"},
		{"invalid schema in PATCH", "PATCH", "/api/v1/event-type/ticket.sold", `{"schemas": {"2": {"required": "orderId"}}}`, nil, 422, "validation"},
		{"unknown filter type", "POST", eps, `{"url": "https://a.example/x", "filterTypes": ["no.such.type"]}`, nil, 422, "unknown_event_type"},
		{"rateLimit zero", "POST", apps, `{"name": "Acme 2", "rateLimit": 0}`, nil, 422, "validation"},

		// Headers and secrets.
		{"reserved header Content-Type", "POST", eps, `{"url": "https://a.example/x", "headers": {"Content-Type": "text/plain"}}`, nil, 422, "validation"},
		{"reserved header webhook-signature", "PUT", epPath + "/headers", `{"headers": {"webhook-signature": "v1,forged"}}`, nil, 422, "validation"},
		{"reserved header in PATCH", "PATCH", epPath + "/headers", `{"headers": {"Host": "evil.example"}}`, nil, 422, "validation"},
		{"header value with a line break", "PATCH", epPath + "/headers", `{"headers": {"X-A": "1\r\nX-B: 2"}}`, nil, 422, "validation"},
		{"bad secret format", "POST", eps, `{"url": "https://a.example/x", "secret": "not-a-secret"}`, nil, 422, "validation"},
		{"bad secret in rotation", "POST", epPath + "/secret/rotate", `{"key": "whsec_short"}`, nil, 422, "validation"},
		{"bad secret in PATCH", "PATCH", epPath, `{"secret": "whsec_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"}`, nil, 422, "validation"},
		// A valid new secret must not be stored when another field of the same PATCH is refused.
		{"PATCH with a new secret and a private URL", "PATCH", epPath, `{"url": "https://10.1.2.3/hook", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`, nil, 422, "url_not_allowed"},
		{"PATCH with a new secret and a reserved uid", "PATCH", epPath, `{"uid": "ep_taken", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`, nil, 422, "validation"},

		// Tokens.
		{"token of an unknown kind", "POST", "/api/v1/token", `{"kind": "superuser"}`, nil, 422, "validation"},
		{"application token without app", "POST", "/api/v1/token", `{"kind": "application"}`, nil, 422, "validation"},
		{"application token of an unknown app", "POST", "/api/v1/token", `{"kind": "application", "appId": "nobody"}`, nil, 422, "validation"},
		{"token with negative expiresIn", "POST", "/api/v1/token", `{"kind": "operator", "expiresIn": -5}`, nil, 422, "validation"},
		// A portal session is made by app-portal-access, with an expiry; never here.
		{"portal token", "POST", "/api/v1/token", `{"kind": "portal", "appId": "acme"}`, nil, 422, "validation"},
		// Internal addresses in the forms resolvers read (inet_aton), and ports out of range.
		{"loopback 127.1", "POST", eps, `{"url": "https://127.1/hook"}`, nil, 422, "url_not_allowed"},
		{"loopback 127.000.000.001", "POST", eps, `{"url": "https://127.000.000.001/hook"}`, nil, 422, "url_not_allowed"},
		{"loopback in octal", "POST", eps, `{"url": "https://0177.0.0.1/hook"}`, nil, 422, "url_not_allowed"},
		{"loopback in hex", "POST", eps, `{"url": "https://0x7f.1/hook"}`, nil, 422, "url_not_allowed"},
		{"loopback as one number", "POST", eps, `{"url": "https://2130706433/hook"}`, nil, 422, "url_not_allowed"},
		{"metadata as one hex number", "POST", eps, `{"url": "https://0xa9fea9fe/latest/meta-data/"}`, nil, 422, "url_not_allowed"},
		{"loopback with a trailing dot", "POST", eps, `{"url": "https://127.0.0.1./hook"}`, nil, 422, "url_not_allowed"},
		{"IPv4-mapped loopback", "POST", eps, `{"url": "https://[::ffff:127.0.0.1]/hook"}`, nil, 422, "url_not_allowed"},
		{"five-part address", "POST", eps, `{"url": "https://1.2.3.4.5/hook"}`, nil, 422, "url_not_allowed"},
		{"port 0", "POST", eps, `{"url": "https://hooks.example.com:0/hook"}`, nil, 422, "url_not_allowed"},
		{"port 65536", "POST", eps, `{"url": "https://hooks.example.com:65536/hook"}`, nil, 422, "url_not_allowed"},
		{"PATCH to loopback in hex", "PATCH", epPath, `{"url": "https://0x7f.0.0.1/hook"}`, nil, 422, "url_not_allowed"},
		{"operational endpoint on loopback 127.1", "POST", "/api/v1/operational-webhook/endpoint", `{"url": "https://127.1/hook"}`, nil, 422, "url_not_allowed"},
		// Header values and names net/http would refuse to send.
		{"header value with \\x01", "POST", eps, `{"url": "https://a.example/x", "headers": {"X-Ctl": "a\u0001b"}}`, nil, 422, "validation"},
		{"header value with DEL", "PUT", epPath + "/headers", `{"headers": {"X-Del": "a\u007fb"}}`, nil, 422, "validation"},
		{"header value with a bare LF", "PATCH", epPath + "/headers", `{"headers": {"X-Lf": "a\nb"}}`, nil, 422, "validation"},
		{"header value with an escape", "PATCH", epPath + "/headers", `{"headers": {"X-Esc": "\u001b[31m"}}`, nil, 422, "validation"},
		{"header value with a NUL", "PUT", epPath + "/headers", `{"headers": {"X-Nul": "a\u0000"}}`, nil, 422, "validation"},
		{"header name with a space", "PATCH", epPath + "/headers", `{"headers": {"X Bad": "v"}}`, nil, 422, "validation"},
		{"header name with a colon", "PATCH", epPath + "/headers", `{"headers": {"X-Bad:": "v"}}`, nil, 422, "validation"},
		{"operational endpoint header with \\x01", "PUT", "/api/v1/operational-webhook/endpoint/" + opEp.ID + "/headers", `{"headers": {"X-Op": "a\u0001"}}`, nil, 422, "validation"},
	}

	// What the error of these cases must name.
	names := map[string]string{
		"portal token":                           `"kind"`,
		"header value with \\x01":                `"X-Ctl"`,
		"header value with DEL":                  `"X-Del"`,
		"header value with a bare LF":            `"X-Lf"`,
		"header value with an escape":            `"X-Esc"`,
		"header value with a NUL":                `"X-Nul"`,
		"header name with a space":               `"X Bad"`,
		"operational endpoint header with \\x01": `"X-Op"`,
		"port 65536":                             "65536",
		"loopback in hex":                        "127.0.0.1",
	}
	for _, c := range cases {
		// Sequential: each case compares the whole state before and after itself.
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, srv)
			r := doWith(t, srv, c.method, c.path, srv.Token, c.body, c.header)
			if r.Status != c.status || r.Code() != c.code {
				t.Errorf("%s %s: %d %q, want %d %q; body %s", c.method, c.path, r.Status, r.Code(), c.status, c.code, r.Body)
			}
			if field, ok := names[c.name]; ok && !strings.Contains(string(r.Body), field) {
				t.Errorf("%s %s: the error does not name %q: %s", c.method, c.path, field, r.Body)
			}
			checkErrorBody(t, r)
			if after := snapshot(t, srv); after.dump != before.dump {
				t.Errorf("the refused request changed the state: before %s, after %s\nbefore:\n%s\nafter:\n%s", before, after, before.dump, after.dump)
			}
		})
	}

	// The duplicate's 409 carries the original message.
	r := srv.Do("POST", msgs, srv.Token, msg(map[string]any{"eventId": "evt-1"}))
	var dup struct {
		Code     string `json:"code"`
		Existing *struct {
			ID        string          `json:"id"`
			EventID   string          `json:"eventId"`
			EventType string          `json:"eventType"`
			Payload   json.RawMessage `json:"payload"`
		} `json:"existing"`
	}
	r.JSON(t, &dup)
	if dup.Existing == nil || dup.Existing.ID != orig.ID || dup.Existing.EventID != "evt-1" || dup.Existing.EventType != "order.created" {
		t.Errorf("duplicate eventId: body %s; want the original %s under existing", r.Body, orig.ID)
	} else {
		sameJSON(t, "existing payload", json.RawMessage(dup.Existing.Payload), orderCreated(1))
	}

	// Validation errors name the field.
	r = srv.Do("POST", apps, srv.Token, `{"name": "Acme 2", "rateLimit": "x"}`)
	if !strings.Contains(string(r.Body), "rateLimit") {
		t.Errorf("type error does not name the field: %s", r.Body)
	}
	r = srv.Do("POST", msgs, srv.Token, map[string]any{"eventType": "ticket.sold", "payload": badTicket})
	if !strings.Contains(string(r.Body), "ticketCount") || !strings.Contains(string(r.Body), "orderId") {
		t.Errorf("schema violation does not name the failing paths: %s", r.Body)
	}

	if len(cases) < 25 {
		t.Fatalf("only %d cases", len(cases))
	}
}
