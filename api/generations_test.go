package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testserver"
)

// legacyUA is the User-Agent of the Svix Go SDK v1.44, whose models refuse unknown fields.
const legacyUA = "svix-libs/1.44.0/go"

// as sends a request with the operator token and the given User-Agent.
func as(t *testing.T, srv *testserver.Instance, ua, method, path string, body any) *testserver.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", ua)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &testserver.Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// object decodes a JSON object body.
func object(t *testing.T, r *testserver.Response) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

func jsonEq(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	g, _ := json.Marshal(got)
	wb, _ := json.Marshal(w)
	if string(g) != string(wb) {
		t.Errorf("%s = %s, want %s", what, g, wb)
	}
}

// conflict reports whether r is a 422 naming both names of one field.
func conflict(t *testing.T, r *testserver.Response, cur, old string) bool {
	t.Helper()
	if r.Status != 422 {
		return false
	}
	var e validation422
	r.JSON(t, &e)
	var locs []string
	for _, d := range e.Detail {
		locs = append(locs, strings.Join(d.Loc, "."))
	}
	return slices.Contains(locs, "body."+cur) && slices.Contains(locs, "body."+old)
}

func TestEndpointFieldsOfBothGenerations(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "A", "uid": "a"}, 201)
	for _, n := range []string{"order.paid", "order.created"} {
		srv.Op("POST", "/api/v1/event-type", map[string]any{"name": n, "description": n}, 201)
	}
	const eps = "/api/v1/app/a/endpoint"

	// The current names: the answer carries both generations' names.
	ep := object(t, srv.Op("POST", eps, map[string]any{"url": "https://example.com/a", "eventTypes": []string{"order.paid"}, "throttleRate": 2}, 201))
	jsonEq(t, "eventTypes", ep["eventTypes"], `["order.paid"]`)
	jsonEq(t, "filterTypes", ep["filterTypes"], `["order.paid"]`)
	jsonEq(t, "throttleRate", ep["throttleRate"], `2`)
	jsonEq(t, "rateLimit", ep["rateLimit"], `2`)
	path := eps + "/" + ep["id"].(string)

	// The 1.x names do the same.
	old := object(t, srv.Op("POST", eps, map[string]any{"url": "https://example.com/b", "filterTypes": []string{"order.created"}, "rateLimit": 3}, 201))
	jsonEq(t, "eventTypes from filterTypes", old["eventTypes"], `["order.created"]`)
	jsonEq(t, "throttleRate from rateLimit", old["throttleRate"], `3`)

	// A 1.x SDK reads exactly its model: no eventTypes, no throttleRate.
	legacy := object(t, as(t, srv, legacyUA, "GET", path, nil))
	if _, ok := legacy["eventTypes"]; ok {
		t.Errorf("a 1.x SDK got eventTypes: %v", legacy)
	}
	if _, ok := legacy["throttleRate"]; ok {
		t.Errorf("a 1.x SDK got throttleRate: %v", legacy)
	}
	jsonEq(t, "1.x filterTypes", legacy["filterTypes"], `["order.paid"]`)
	jsonEq(t, "1.x rateLimit", legacy["rateLimit"], `2`)
	var page struct{ Data []map[string]any }
	as(t, srv, legacyUA, "GET", eps, nil).JSON(t, &page)
	for _, e := range page.Data {
		if _, ok := e["eventTypes"]; ok {
			t.Errorf("a 1.x SDK's list has eventTypes: %v", e)
		}
	}

	// PATCH: either name, null clears.
	p := object(t, srv.Op("PATCH", path, map[string]any{"rateLimit": 5}, 200))
	jsonEq(t, "PATCH rateLimit", p["throttleRate"], `5`)
	jsonEq(t, "PATCH keeps the filter", p["eventTypes"], `["order.paid"]`)
	p = object(t, srv.Op("PATCH", path, map[string]any{"eventTypes": nil, "throttleRate": nil}, 200))
	if p["eventTypes"] != nil || p["filterTypes"] != nil || p["throttleRate"] != nil || p["rateLimit"] != nil {
		t.Errorf("PATCH with nulls did not clear: %v", p)
	}
	p = object(t, srv.Op("PATCH", path, map[string]any{"filterTypes": []string{"order.created"}}, 200))
	jsonEq(t, "PATCH filterTypes", p["eventTypes"], `["order.created"]`)

	// PUT: either name.
	u := object(t, srv.Op("PUT", path, map[string]any{"url": "https://example.com/a", "eventTypes": []string{"order.paid"}, "throttleRate": 7}, 200))
	jsonEq(t, "PUT eventTypes", u["filterTypes"], `["order.paid"]`)
	jsonEq(t, "PUT throttleRate", u["rateLimit"], `7`)
	u = object(t, srv.Op("PUT", path, map[string]any{"url": "https://example.com/a", "filterTypes": []string{"order.created"}, "rateLimit": 8}, 200))
	jsonEq(t, "PUT filterTypes", u["eventTypes"], `["order.created"]`)
	jsonEq(t, "PUT rateLimit", u["throttleRate"], `8`)

	// Both names with one value is fine; with two, a 422 names both.
	srv.Op("POST", eps, map[string]any{"url": "https://example.com/c", "eventTypes": []string{"order.paid"}, "filterTypes": []string{"order.paid"}}, 201)
	for _, c := range []struct {
		method, path string
		body         map[string]any
		cur, old     string
	}{
		{"POST", eps, map[string]any{"url": "https://example.com/d", "eventTypes": []string{"order.paid"}, "filterTypes": []string{"order.created"}}, "eventTypes", "filterTypes"},
		{"POST", eps, map[string]any{"url": "https://example.com/d", "throttleRate": 1, "rateLimit": 2}, "throttleRate", "rateLimit"},
		{"PUT", path, map[string]any{"url": "https://example.com/d", "throttleRate": 1, "rateLimit": 2}, "throttleRate", "rateLimit"},
		{"PATCH", path, map[string]any{"eventTypes": []string{"order.paid"}, "filterTypes": nil}, "eventTypes", "filterTypes"},
		{"PATCH", path, map[string]any{"throttleRate": 4, "rateLimit": nil}, "throttleRate", "rateLimit"},
	} {
		if r := srv.Do(c.method, c.path, srv.Token, c.body); !conflict(t, r, c.cur, c.old) {
			t.Errorf("%s %v: %d %s; want 422 naming %s and %s", c.method, c.body, r.Status, r.Body, c.cur, c.old)
		}
	}
	after := object(t, srv.Op("GET", path, nil, 200))
	jsonEq(t, "a refused change changes nothing", after["rateLimit"], `8`)
}

func TestApplicationsAndEventTypesOfBothGenerations(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	app := object(t, srv.Op("POST", "/api/v1/app", map[string]any{"name": "A", "uid": "a", "throttleRate": 20}, 201))
	jsonEq(t, "throttleRate", app["throttleRate"], `20`)
	jsonEq(t, "rateLimit", app["rateLimit"], `20`)
	app = object(t, srv.Op("PATCH", "/api/v1/app/a", map[string]any{"rateLimit": 7}, 200))
	jsonEq(t, "PATCH rateLimit", app["throttleRate"], `7`)
	app = object(t, srv.Op("PUT", "/api/v1/app/a", map[string]any{"name": "A", "throttleRate": 9}, 200))
	jsonEq(t, "PUT throttleRate", app["rateLimit"], `9`)
	if _, ok := object(t, as(t, srv, legacyUA, "GET", "/api/v1/app/a", nil))["throttleRate"]; ok {
		t.Error("a 1.x SDK got throttleRate")
	}
	if r := srv.Do("POST", "/api/v1/app", srv.Token, map[string]any{"name": "B", "throttleRate": 1, "rateLimit": 2}); !conflict(t, r, "throttleRate", "rateLimit") {
		t.Errorf("app with two rates: %d %s", r.Status, r.Body)
	}
	// A message that creates its application reads either name too.
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "x.y", "description": "x"}, 201)
	srv.Op("POST", "/api/v1/app/made-by-msg/msg", map[string]any{"eventType": "x.y", "payload": map[string]any{},
		"application": map[string]any{"name": "M", "throttleRate": 4}}, 202)
	jsonEq(t, "application.throttleRate", object(t, srv.Op("GET", "/api/v1/app/made-by-msg", nil, 200))["rateLimit"], `4`)

	// Event types: featureFlags (current, a list) and featureFlag (1.x).
	et := object(t, srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "a.b", "description": "d", "featureFlags": []string{"beta"}}, 201))
	jsonEq(t, "featureFlag", et["featureFlag"], `"beta"`)
	jsonEq(t, "featureFlags", et["featureFlags"], `["beta"]`)
	et = object(t, srv.Op("PATCH", "/api/v1/event-type/a.b", map[string]any{"featureFlag": "gamma"}, 200))
	jsonEq(t, "PATCH featureFlag", et["featureFlags"], `["gamma"]`)
	et = object(t, srv.Op("PATCH", "/api/v1/event-type/a.b", map[string]any{"featureFlags": []string{}}, 200))
	if et["featureFlag"] != nil || et["featureFlags"] != nil {
		t.Errorf("PATCH featureFlags [] did not clear: %v", et)
	}
	et = object(t, srv.Op("PUT", "/api/v1/event-type/a.b", map[string]any{"description": "d", "featureFlags": []string{"beta"}}, 200))
	jsonEq(t, "PUT featureFlags", et["featureFlag"], `"beta"`)
	if _, ok := object(t, as(t, srv, legacyUA, "GET", "/api/v1/event-type/a.b", nil))["featureFlags"]; ok {
		t.Error("a 1.x SDK got featureFlags")
	}
	r := srv.Do("POST", "/api/v1/event-type", srv.Token, map[string]any{"name": "c.d", "description": "d", "featureFlags": []string{"a", "b"}})
	if r.Status != 422 || !strings.Contains(string(r.Body), `"featureFlags"`) {
		t.Errorf("two feature flags: %d %s", r.Status, r.Body)
	}
	if r := srv.Do("POST", "/api/v1/event-type", srv.Token, map[string]any{"name": "c.d", "description": "d", "featureFlags": []string{"a"}, "featureFlag": "b"}); !conflict(t, r, "featureFlags", "featureFlag") {
		t.Errorf("featureFlags and featureFlag differ: %d %s", r.Status, r.Body)
	}
}

func TestOperationalEndpointFieldsOfBothGenerations(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	const eps = "/api/v1/operational-webhook/endpoint"
	ep := object(t, srv.Op("POST", eps, map[string]any{"url": "https://example.com/ops", "eventTypes": []string{"endpoint.disabled"}, "throttleRate": 3}, 201))
	jsonEq(t, "eventTypes", ep["eventTypes"], `["endpoint.disabled"]`)
	jsonEq(t, "filterTypes", ep["filterTypes"], `["endpoint.disabled"]`)
	jsonEq(t, "throttleRate", ep["throttleRate"], `3`)
	path := eps + "/" + ep["id"].(string)
	u := object(t, srv.Op("PUT", path, map[string]any{"url": "https://example.com/ops", "filterTypes": []string{"endpoint.enabled"}, "rateLimit": 4}, 200))
	jsonEq(t, "PUT filterTypes", u["eventTypes"], `["endpoint.enabled"]`)
	jsonEq(t, "PUT rateLimit", u["throttleRate"], `4`)
	legacy := object(t, as(t, srv, legacyUA, "GET", path, nil))
	if _, ok := legacy["eventTypes"]; ok {
		t.Errorf("a 1.x SDK got eventTypes: %v", legacy)
	}
	r := srv.Do("POST", eps, srv.Token, map[string]any{"url": "https://example.com/x", "eventTypes": []string{"order.paid"}})
	if r.Status != 422 || !strings.Contains(string(r.Body), `"eventTypes"`) {
		t.Errorf("a non-operational event type: %d %s", r.Status, r.Body)
	}
	if r := srv.Do("POST", eps, srv.Token, map[string]any{"url": "https://example.com/x", "eventTypes": []string{"endpoint.enabled"}, "filterTypes": []string{"endpoint.disabled"}}); !conflict(t, r, "eventTypes", "filterTypes") {
		t.Errorf("eventTypes and filterTypes differ: %d %s", r.Status, r.Body)
	}
	// PUT keeps the secret: one sent is refused, not ignored.
	if r := srv.Do("PUT", path, srv.Token, map[string]any{"url": "https://example.com/ops", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}); !unsupported(t, r, "body", "secret") {
		t.Errorf("PUT with a secret: %d %s", r.Status, r.Body)
	}
}

// TestStatusesAndAnswersOfTheCurrentModels: statusText on attempts and message statuses,
// canceled in stats, updatedAt in recover's answer, {} from resend, deleteHeaders; and the
// 1.x SDKs get none of the new fields unless they ask (expanded_statuses=true).
func TestStatusesAndAnswersOfTheCurrentModels(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(rcv.Close)
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "A", "uid": "a"}, 201)
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "d"}, 201)
	ep := object(t, srv.Op("POST", "/api/v1/app/a/endpoint", map[string]any{"url": rcv.URL, "headers": map[string]string{"X-A": "1", "X-B": "2"}}, 201))
	epPath := "/api/v1/app/a/endpoint/" + ep["id"].(string)
	msg := object(t, srv.Op("POST", "/api/v1/app/a/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"n": 1}}, 202))
	msgPath := "/api/v1/app/a/msg/" + msg["id"].(string)

	var attempts struct{ Data []map[string]any }
	deadline := time.Now().Add(10 * time.Second)
	for len(attempts.Data) == 0 && time.Now().Before(deadline) {
		srv.Op("GET", "/api/v1/app/a/attempt/msg/"+msg["id"].(string), nil, 200).JSON(t, &attempts)
		time.Sleep(20 * time.Millisecond)
	}
	if len(attempts.Data) == 0 {
		t.Fatal("no attempt recorded")
	}
	jsonEq(t, "attempt statusText", attempts.Data[0]["statusText"], `"success"`)
	attemptPath := msgPath + "/attempt/" + attempts.Data[0]["id"].(string)
	jsonEq(t, "get attempt statusText", object(t, srv.Op("GET", attemptPath, nil, 200))["statusText"], `"success"`)
	var dests struct{ Data []map[string]any }
	srv.Op("GET", msgPath+"/endpoint", nil, 200).JSON(t, &dests)
	jsonEq(t, "destination statusText", dests.Data[0]["statusText"], `"success"`)
	var epMsgs struct{ Data []map[string]any }
	srv.Op("GET", epPath+"/msg", nil, 200).JSON(t, &epMsgs)
	jsonEq(t, "endpoint message statusText", epMsgs.Data[0]["statusText"], `"success"`)

	if _, ok := object(t, as(t, srv, legacyUA, "GET", attemptPath, nil))["statusText"]; ok {
		t.Error("a 1.x SDK got statusText without asking")
	}
	jsonEq(t, "1.x SDK with expanded_statuses", object(t, as(t, srv, legacyUA, "GET", attemptPath+"?expanded_statuses=true", nil))["statusText"], `"success"`)
	var legacyDests struct{ Data []map[string]any }
	as(t, srv, legacyUA, "GET", msgPath+"/endpoint", nil).JSON(t, &legacyDests)
	if _, ok := legacyDests.Data[0]["statusText"]; ok {
		t.Error("a 1.x SDK got statusText in a destination")
	}

	stats := object(t, srv.Op("GET", epPath+"/stats", nil, 200))
	jsonEq(t, "stats", stats, `{"success": 1, "pending": 0, "sending": 0, "fail": 0, "canceled": 0}`)
	if _, ok := object(t, as(t, srv, legacyUA, "GET", epPath+"/stats", nil))["canceled"]; ok {
		t.Error("a 1.x SDK got canceled")
	}

	r := srv.Op("POST", msgPath+"/endpoint/"+ep["id"].(string)+"/resend", nil, 202)
	if strings.TrimSpace(string(r.Body)) != "{}" {
		t.Errorf("resend answered %q, want {}", r.Body)
	}
	rec := object(t, srv.Op("POST", epPath+"/recover", map[string]any{"since": time.Now().Add(-time.Hour).Format(time.RFC3339)}, 202))
	for _, f := range []string{"id", "status", "task", "updatedAt"} {
		if _, ok := rec[f]; !ok {
			t.Errorf("recover's answer lacks %s: %v", f, rec)
		}
	}
	if _, err := time.Parse(time.RFC3339, rec["updatedAt"].(string)); err != nil {
		t.Errorf("recover updatedAt %v", rec["updatedAt"])
	}
	if _, ok := object(t, as(t, srv, legacyUA, "POST", epPath+"/recover", map[string]any{"since": time.Now().Add(-time.Hour).Format(time.RFC3339)}))["updatedAt"]; ok {
		t.Error("a 1.x SDK got updatedAt")
	}

	srv.Op("PATCH", epPath+"/headers", map[string]any{"headers": map[string]any{}, "deleteHeaders": []string{"x-a"}}, 204)
	jsonEq(t, "headers after deleteHeaders", object(t, srv.Op("GET", epPath+"/headers", nil, 200))["headers"], `{"X-B": "2"}`)
}

// TestRotationGracePeriodAndDestinationPages: gracePeriodSeconds (current models) sets how
// long the old secret still signs: 0 not at all; the endpoints a message went to page with
// limit and iterator.
func TestRotationGracePeriodAndDestinationPages(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	sigs := make(chan string, 100)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sigs <- r.Header.Get("webhook-signature")
	}))
	t.Cleanup(rcv.Close)
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "A", "uid": "a"}, 201)
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "d"}, 201)
	ep := object(t, srv.Op("POST", "/api/v1/app/a/endpoint", map[string]any{"url": rcv.URL}, 201))
	epPath := "/api/v1/app/a/endpoint/" + ep["id"].(string)
	signatures := func() int {
		t.Helper()
		srv.Op("POST", "/api/v1/app/a/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{}}, 202)
		select {
		case s := <-sigs:
			return len(strings.Fields(s))
		case <-time.After(10 * time.Second):
			t.Fatal("no delivery")
		}
		return 0
	}
	srv.Op("POST", epPath+"/secret/rotate", map[string]any{"gracePeriodSeconds": 3600}, 204)
	if n := signatures(); n != 2 {
		t.Errorf("with a grace period of an hour, a delivery has %d signatures, want 2 (new and old)", n)
	}
	srv.Op("POST", epPath+"/secret/rotate", map[string]any{"gracePeriodSeconds": 0}, 204)
	if n := signatures(); n != 2 {
		// The secret before last is still in its hour; the one just replaced is not.
		t.Errorf("after a rotation without grace, a delivery has %d signatures, want 2 (new, and the one still in its hour)", n)
	}
	r := srv.Do("POST", epPath+"/secret/rotate", srv.Token, map[string]any{"gracePeriodSeconds": 604801})
	if r.Status != 422 || !strings.Contains(string(r.Body), `"gracePeriodSeconds"`) {
		t.Errorf("gracePeriodSeconds over 7 days: %d %s", r.Status, r.Body)
	}

	// Three more endpoints; one message goes to all four.
	for i := range 3 {
		srv.Op("POST", "/api/v1/app/a/endpoint", map[string]any{"url": rcv.URL + "/" + string(rune('b'+i))}, 201)
	}
	msg := object(t, srv.Op("POST", "/api/v1/app/a/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{}}, 202))
	for range 4 {
		<-sigs
	}
	// The deliveries are recorded just after they are sent: wait for all four.
	dests := "/api/v1/app/a/msg/" + msg["id"].(string) + "/endpoint"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var all struct{ Data []map[string]any }
		srv.Op("GET", dests, nil, 200).JSON(t, &all)
		if len(all.Data) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d destinations recorded, want 4", len(all.Data))
		}
	}
	var seen []string
	iterator := ""
	for {
		var page struct {
			Data     []map[string]any
			Iterator *string
			Done     bool
		}
		path := dests + "?limit=3"
		if iterator != "" {
			path += "&iterator=" + iterator
		}
		srv.Op("GET", path, nil, 200).JSON(t, &page)
		for _, d := range page.Data {
			seen = append(seen, d["id"].(string))
		}
		if page.Done || page.Iterator == nil {
			break
		}
		iterator = *page.Iterator
	}
	if len(seen) != 4 || !slices.IsSorted(seen) {
		t.Errorf("pages of 3 listed %v, want the 4 endpoints once each", seen)
	}
}
