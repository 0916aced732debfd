package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/testserver"
)

// ticketSoldDataSchema is the JSON Schema of the data of Cleartix's ticket.sold webhook, as the
// Cleartix docs publish it (shared seed 001), without its "$schema" keyword so that it can sit
// inside the envelope schema below.
const ticketSoldDataSchema = `{
  "title": "ticket.sold · data",
  "type": "object",
  "additionalProperties": false,
  "required": ["orderId", "ticketCount", "totalAmount"],
  "properties": {
    "orderId": { "type": "string" },
    "ticketCount": { "type": "integer", "minimum": 0 },
    "totalAmount": { "type": "string", "description": "Decimal total as a string, e.g. \"50.00\" (\"0\" for free orders)" }
  }
}`

// ticketSoldSchema is the whole Cleartix ticket.sold payload: the envelope every Cleartix
// webhook uses, with the ticket.sold data inside.
var ticketSoldSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["id", "event", "created_at", "organization_id", "data"],
  "properties": {
    "id": { "type": "string" },
    "event": { "const": "ticket.sold" },
    "created_at": { "type": "string", "format": "date-time" },
    "organization_id": { "type": "string" },
    "data": ` + ticketSoldDataSchema + `
  }
}`

// ticketSold returns a Cleartix ticket.sold payload that matches ticketSoldSchema.
func ticketSold(n int) map[string]any {
	return map[string]any{
		"id":              fmt.Sprintf("evt_%016x", n),
		"event":           "ticket.sold",
		"created_at":      "2026-06-12T14:05:00.000Z",
		"organization_id": "org_abc123",
		"data":            map[string]any{"orderId": fmt.Sprintf("ord_%08d", n), "ticketCount": 2, "totalAmount": "50.00"},
	}
}

// orderCreated returns a Cleartix order.created payload.
func orderCreated(n int) map[string]any {
	return map[string]any{
		"id":              fmt.Sprintf("evt_%016x", n),
		"event":           "order.created",
		"created_at":      "2026-06-12T14:05:00.000Z",
		"organization_id": "org_abc123",
		"data":            map[string]any{"orderId": fmt.Sprintf("ord_%08d", n), "status": "paid"},
	}
}

// mustJSON decodes a JSON literal of the test into a generic value.
func mustJSON(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON in test: %v", err)
	}
	return v
}

// normJSON brings a value to what encoding/json decodes it to (numbers as float64, structs and
// typed maps as map[string]any), so values from different sources compare with DeepEqual.
func normJSON(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

// sameJSON fails the test unless got and want are the same JSON value.
func sameJSON(t testing.TB, what string, got, want any) {
	t.Helper()
	g, w := normJSON(t, got), normJSON(t, want)
	if !reflect.DeepEqual(g, w) {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		t.Errorf("%s:\n got  %s\n want %s", what, gb, wb)
	}
}

// newSDK returns the official Svix client pointed at the test server.
func newSDK(t testing.TB, srv *testserver.Instance, token string) *svix.Svix {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatalf("parse server URL: %v", err)
	}
	return svix.New(token, &svix.SvixOptions{ServerUrl: u})
}

// sdkStatus returns the HTTP status of an SDK error, or 0 when err is not an API error.
func sdkStatus(err error) int {
	if e, ok := err.(*svix.Error); ok {
		return e.Status()
	}
	return 0
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// pollUntil is testserver.PollUntil: it calls cond until it returns true, failing the test
// after timeout.
func pollUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testserver.PollUntil(t, timeout, what, cond)
}

// createApp creates an application with the operator token and returns its id.
func createApp(t testing.TB, srv *testserver.Instance, name string) string {
	t.Helper()
	var app struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app", map[string]any{"name": name}, 201).JSON(t, &app)
	return app.ID
}

// createToken creates an API token with the operator token and returns its id and text.
func createToken(t testing.TB, srv *testserver.Instance, body map[string]any) (id, token string) {
	t.Helper()
	var out struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	srv.Op("POST", "/api/v1/token", body, 201).JSON(t, &out)
	if out.ID == "" || out.Token == "" {
		t.Fatalf("token response without id or token: %+v", out)
	}
	return out.ID, out.Token
}

// listAll follows a list route page by page (limit 250) with the operator token and returns
// every item as raw JSON.
func listAll(t testing.TB, srv *testserver.Instance, path string) []json.RawMessage {
	t.Helper()
	var all []json.RawMessage
	iterator := ""
	for range 1000 {
		p := path + sep(path) + "limit=250"
		if iterator != "" {
			p += "&iterator=" + url.QueryEscape(iterator)
		}
		var page struct {
			Data     []json.RawMessage `json:"data"`
			Iterator *string           `json:"iterator"`
			Done     bool              `json:"done"`
		}
		srv.Op("GET", p, nil, 200).JSON(t, &page)
		all = append(all, page.Data...)
		if page.Done || len(page.Data) == 0 || page.Iterator == nil {
			return all
		}
		iterator = *page.Iterator
	}
	t.Fatalf("list %s did not end", path)
	return nil
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

// leakMarkers are pieces of Go error text, stack traces or SQL that an error body must never
// show a client.
var leakMarkers = []string{"sql:", "SQL", "sqlite", "runtime", "goroutine", "panic", ".go:", "json: cannot", "reflect", "<nil>"}

// checkErrorBody fails the test unless r is a proper error body: JSON with a non-empty code and
// detail, and no internals.
func checkErrorBody(t testing.TB, r *testserver.Response) {
	t.Helper()
	var e struct {
		Code   string          `json:"code"`
		Detail json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Errorf("error body is not JSON: %d %s", r.Status, r.Body)
		return
	}
	// A 422's detail is Svix's list of {loc, msg, type}; any other error's is a sentence.
	var detail string
	var items []struct {
		Loc  []string `json:"loc"`
		Msg  string   `json:"msg"`
		Type string   `json:"type"`
	}
	if r.Status == http.StatusUnprocessableEntity {
		if err := json.Unmarshal(e.Detail, &items); err != nil || len(items) == 0 {
			t.Errorf("422 detail is not a list of {loc, msg, type}: %s", r.Body)
		}
		for _, it := range items {
			if len(it.Loc) == 0 || it.Msg == "" || it.Type == "" {
				t.Errorf("422 detail item without loc, msg or type: %s", r.Body)
			}
		}
	} else if err := json.Unmarshal(e.Detail, &detail); err != nil || detail == "" {
		t.Errorf("%d detail is not a non-empty string: %s", r.Status, r.Body)
	}
	if e.Code == "" {
		t.Errorf("error body without code: %s", r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q", ct)
	}
	for _, m := range leakMarkers {
		if strings.Contains(string(r.Body), m) {
			t.Errorf("error body shows internals (%q): %s", m, r.Body)
		}
	}
}

// hookServer starts a webhook receiver on a loopback port, closed when the test ends, and
// returns the URL of a random path of its own: h gets only the requests for that path. Any
// other request is a stray, answered 404: the port is an ephemeral one that may have been, a
// moment before, another test's receiver's, to which that test's server may still send.
func hookServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	path := "/hook-" + hookline.NewID("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + path
}
