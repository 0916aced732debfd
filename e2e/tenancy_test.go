package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testserver"
)

// tenant is one application with an endpoint and a message, and a token bound to it.
type tenant struct {
	appID, appUID, epID, epUID, msgID, eventID string
	tokenID, token                             string
}

func newTenant(t *testing.T, srv *testserver.Instance, name string) tenant {
	t.Helper()
	var tn tenant
	var app struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app", map[string]any{"name": name, "uid": name + "-uid"}, 201).JSON(t, &app)
	tn.appID, tn.appUID = app.ID, name+"-uid"
	var ep struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app/"+tn.appID+"/endpoint", map[string]any{"url": "https://" + name + ".example/hook", "uid": name + "-ep",
		"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, 201).JSON(t, &ep)
	tn.epID, tn.epUID = ep.ID, name+"-ep"
	srv.Op("PUT", "/api/v1/app/"+tn.appID+"/endpoint/"+tn.epID+"/headers", map[string]any{"headers": map[string]string{"X-Tenant": name}}, 204)
	var msg struct {
		ID string `json:"id"`
	}
	tn.eventID = name + "-evt-1"
	srv.Op("POST", "/api/v1/app/"+tn.appID+"/msg", map[string]any{"eventType": "order.created", "eventId": tn.eventID, "payload": orderCreated(1)}, 202).JSON(t, &msg)
	tn.msgID = msg.ID
	// The dispatcher fans the message out (and its first attempt fails: the host does not
	// resolve) shortly after the 202; wait for that, so snapshots see a settled state.
	pollUntil(t, 10*time.Second, name+"'s delivery stored", func() bool {
		var st struct{ Pending int }
		srv.Op("GET", "/api/v1/app/"+tn.appID+"/endpoint/"+tn.epID+"/stats", nil, 200).JSON(t, &st)
		return st.Pending == 1
	})
	tn.tokenID, tn.token = createToken(t, srv, map[string]any{"kind": "application", "appId": tn.appID, "name": name + " key"})
	return tn
}

// snapshot reads everything of an application with the operator token, to prove it unchanged.
func (tn tenant) snapshot(t *testing.T, srv *testserver.Instance) string {
	t.Helper()
	var b strings.Builder
	base := "/api/v1/app/" + tn.appID
	for _, p := range []string{"", "/endpoint?limit=250", "/msg?limit=250", "/endpoint/" + tn.epID, "/endpoint/" + tn.epID + "/secret",
		"/endpoint/" + tn.epID + "/headers", "/endpoint/" + tn.epID + "/stats", "/msg/" + tn.msgID} {
		b.Write(srv.Op("GET", base+p, nil, 200).Body)
	}
	b.Write(srv.Op("GET", "/api/v1/token?app_id="+tn.appID, nil, 200).Body)
	return b.String()
}

func TestTenancy(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.created", "description": "Order created"}, 201)
	a := newTenant(t, srv, "alpha")
	b := newTenant(t, srv, "bravo")
	before := b.snapshot(t, srv)

	// A nonexistent application with a nonexistent endpoint and message, for comparison.
	ghost := tenant{appID: "app_2zZZZZZZZZZZZZZZZZZZZZ", appUID: "ghost-uid", epID: "ep_2zZZZZZZZZZZZZZZZZZZZZ", epUID: "ghost-ep",
		msgID: "msg_2zZZZZZZZZZZZZZZZZZZZZ", eventID: "ghost-evt-1"}

	type call struct {
		method, path string
		body         any
	}
	routes := func(tn tenant, app, ep, msg string) []call {
		base := "/api/v1/app/" + app
		e := base + "/endpoint/" + ep
		return []call{
			{"GET", base, nil},
			{"PUT", base, map[string]any{"name": "taken over"}},
			{"PATCH", base, map[string]any{"name": "taken over"}},
			{"DELETE", base, nil},
			{"GET", base + "/endpoint", nil},
			{"POST", base + "/endpoint", map[string]any{"url": "https://evil.example/steal"}},
			{"GET", e, nil},
			{"PUT", e, map[string]any{"url": "https://evil.example/steal"}},
			{"PATCH", e, map[string]any{"url": "https://evil.example/steal"}},
			{"DELETE", e, nil},
			{"GET", e + "/secret", nil},
			{"POST", e + "/secret/rotate", map[string]any{}},
			{"GET", e + "/headers", nil},
			{"PUT", e + "/headers", map[string]any{"headers": map[string]string{"X-Evil": "1"}}},
			{"PATCH", e + "/headers", map[string]any{"headers": map[string]string{"X-Evil": "1"}}},
			{"GET", e + "/stats", nil},
			{"GET", base + "/msg", nil},
			{"POST", base + "/msg", map[string]any{"eventType": "order.created", "payload": orderCreated(9)}},
			{"POST", base + "/msg", map[string]any{"eventType": "order.created", "payload": orderCreated(9), "application": map[string]any{"name": "x"}}},
			{"GET", base + "/msg/" + msg, nil},
			{"GET", base + "/msg/" + tn.eventID, nil},
			{"GET", base + "/msg/" + msg + "/raw", nil},
			{"GET", base + "/msg?tag=vip", nil},
			{"POST", base + "/msg/search", map[string]any{"tag": "vip"}},
			{"POST", base + "/msg/precheck/active", map[string]any{"eventType": "order.created"}},
			{"GET", base + "/events", nil},
			{"POST", e + "/msg/test-attempt", map[string]any{"eventType": "order.created", "payload": orderCreated(8)}},
			{"GET", base + "/attempt/endpoint/" + ep + "?tag=vip&channel=eu", nil},
		}
	}
	// The routes that reach the application's data answer 404; the operator-only ones (PUT,
	// PATCH, DELETE of the application itself, messages that would create it) answer 403 before
	// looking. Either way, B's answer must be the ghost's answer.
	wantStatus := func(c call) int {
		if strings.Count(c.path, "/") == 4 && c.method != "GET" {
			return 403
		}
		if m, ok := c.body.(map[string]any); ok && m["application"] != nil {
			return 403
		}
		return 404
	}
	for _, ids := range []struct{ name, app, ep, ghostApp, ghostEp string }{
		{"by id", b.appID, b.epID, ghost.appID, ghost.epID},
		{"by uid", b.appUID, b.epUID, ghost.appUID, ghost.epUID},
	} {
		bCalls := routes(b, ids.app, ids.ep, b.msgID)
		gCalls := routes(ghost, ids.ghostApp, ids.ghostEp, ghost.msgID)
		for i, c := range bCalls {
			g := gCalls[i]
			got := srv.Do(c.method, c.path, a.token, c.body)
			ghostResp := srv.Do(g.method, g.path, a.token, g.body)
			if got.Status != wantStatus(c) {
				t.Errorf("%s: A's token on B: %s %s = %d %s, want %d", ids.name, c.method, c.path, got.Status, got.Body, wantStatus(c))
			}
			// Same answer as for an application that does not exist, up to the ids in the path.
			normalized := ghostResp.Body
			for _, r := range [][2]string{{ids.ghostApp, ids.app}, {ids.ghostEp, ids.ep}, {ghost.msgID, b.msgID}, {ghost.eventID, b.eventID}} {
				normalized = bytes.ReplaceAll(normalized, []byte(r[0]), []byte(r[1]))
			}
			if got.Status != ghostResp.Status || !bytes.Equal(got.Body, normalized) {
				t.Errorf("%s: %s %s: B answers %d %s\n but a nonexistent application answers %d %s", ids.name, c.method, c.path,
					got.Status, got.Body, ghostResp.Status, ghostResp.Body)
			}
			if wantStatus(c) == 404 && got.Code() != "not_found" {
				t.Errorf("%s %s: code %q, want not_found", c.method, c.path, got.Code())
			}
			if bytes.Contains(got.Body, []byte("bravo")) && !strings.Contains(c.path, "bravo") {
				t.Errorf("%s %s: the answer mentions B: %s", c.method, c.path, got.Body)
			}
		}
	}
	if after := b.snapshot(t, srv); after != before {
		t.Errorf("B changed after A's token tried its routes:\nbefore %s\nafter  %s", before, after)
	}

	// A's token lists only A, and B's token only B.
	for _, tn := range []tenant{a, b} {
		var list struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		r := srv.Do("GET", "/api/v1/app", tn.token, nil)
		r.JSON(t, &list)
		if r.Status != 200 || len(list.Data) != 1 || list.Data[0].ID != tn.appID {
			t.Errorf("app list with %s's token: %d %s", tn.appUID, r.Status, r.Body)
		}
	}

	// eventIds and endpoint uids are unique per application: B may reuse A's, and learns nothing
	// about A from doing so.
	if r := srv.Do("POST", "/api/v1/app/"+b.appID+"/msg", b.token, map[string]any{"eventType": "order.created", "eventId": a.eventID,
		"payload": orderCreated(7)}); r.Status != 202 {
		t.Errorf("B reusing A's eventId: %d %s, want 202", r.Status, r.Body)
	}
	if r := srv.Do("POST", "/api/v1/app/"+b.appID+"/endpoint", b.token, map[string]any{"url": "https://bravo.example/2", "uid": a.epUID}); r.Status != 201 {
		t.Errorf("B reusing A's endpoint uid: %d %s, want 201", r.Status, r.Body)
	}
	var mine struct {
		ID string `json:"id"`
	}
	srv.Do("GET", "/api/v1/app/"+a.appID+"/msg/"+a.eventID, a.token, nil).JSON(t, &mine)
	if mine.ID != a.msgID {
		t.Errorf("A's eventId resolves to %s after B reused it, want %s", mine.ID, a.msgID)
	}

	t.Run("own application", func(t *testing.T) {
		base := "/api/v1/app/" + a.appID
		e := base + "/endpoint/" + a.epID
		for _, c := range []struct {
			method, path string
			body         any
			want         int
		}{
			{"GET", base, nil, 200},
			{"GET", "/api/v1/app/" + a.appUID, nil, 200},
			{"GET", base + "/endpoint", nil, 200},
			{"GET", e, nil, 200},
			{"GET", base + "/endpoint/" + a.epUID, nil, 200},
			{"PATCH", e, map[string]any{"description": "changed by A"}, 200},
			{"GET", e + "/secret", nil, 200},
			{"POST", e + "/secret/rotate", nil, 204},
			{"GET", e + "/headers", nil, 200},
			{"PATCH", e + "/headers", map[string]any{"headers": map[string]string{"X-More": "1"}}, 204},
			{"GET", e + "/stats", nil, 200},
			{"POST", base + "/endpoint", map[string]any{"url": "https://alpha.example/second"}, 201},
			{"GET", base + "/msg", nil, 200},
			{"POST", base + "/msg", map[string]any{"eventType": "order.created", "payload": orderCreated(2)}, 202},
			{"GET", base + "/msg/" + a.msgID, nil, 200},
			{"GET", base + "/msg/" + a.eventID, nil, 200},
			{"GET", "/api/v1/event-type", nil, 200},
			{"GET", "/api/v1/event-type/order.created", nil, 200},
			{"GET", "/api/v1/event-type/order.created/retry-schedule", nil, 200},
			{"GET", "/api/v1/auth/whoami", nil, 200},
			{"GET", base + "/msg/" + a.msgID + "/raw", nil, 200},
			{"POST", base + "/msg/search", map[string]any{"tag": "vip"}, 200},
			{"POST", base + "/msg/precheck/active", map[string]any{"eventType": "order.created"}, 200},
			{"GET", base + "/events", nil, 200},
		} {
			if r := srv.Do(c.method, c.path, a.token, c.body); r.Status != c.want {
				t.Errorf("A's token: %s %s = %d %s, want %d", c.method, c.path, r.Status, r.Body, c.want)
			}
		}
		var ep struct {
			Description string `json:"description"`
		}
		srv.Op("GET", e, nil, 200).JSON(t, &ep)
		if ep.Description != "changed by A" {
			t.Errorf("A's patch did not stick: %q", ep.Description)
		}
	})

	t.Run("operator only", func(t *testing.T) {
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/app", map[string]any{"name": "new"}},
			{"PUT", "/api/v1/app/" + a.appID, map[string]any{"name": "renamed"}},
			{"DELETE", "/api/v1/app/" + a.appID, nil},
			{"POST", "/api/v1/event-type", map[string]any{"name": "a.new.type", "description": "x"}},
			{"PUT", "/api/v1/event-type/order.created", map[string]any{"description": "x"}},
			{"PATCH", "/api/v1/event-type/order.created", map[string]any{"description": "x"}},
			{"DELETE", "/api/v1/event-type/order.created", nil},
			{"POST", "/api/v1/token", map[string]any{"kind": "operator"}},
			{"POST", "/api/v1/token", map[string]any{"kind": "application", "appId": a.appID}},
			{"GET", "/api/v1/token", nil},
			{"DELETE", "/api/v1/token/" + b.tokenID, nil},
			{"PUT", "/api/v1/event-type/order.created/retry-schedule", map[string]any{"retrySchedule": []any{}}},
			{"POST", "/api/v1/event-type/import/openapi", map[string]any{"spec": map[string]any{"webhooks": map[string]any{"a.b": map[string]any{"post": map[string]any{}}}}, "replaceAll": true}},
			{"POST", "/api/v1/event-type/export/openapi", nil},
			{"POST", "/api/v1/auth/app/" + a.appID + "/expire-all", map[string]any{}},
			{"POST", "/api/v1/auth/app/" + b.appID + "/expire-all", map[string]any{}},
			{"POST", "/api/v1/auth/app/" + a.appID + "/create-message-token", map[string]any{"name": "x"}},
			{"POST", "/api/v1/auth/app/" + b.appID + "/create-message-token", map[string]any{"name": "x"}},
			// Logout ends portal sessions only; an API key is not ended by one stray call.
			{"POST", "/api/v1/auth/logout", nil},
			// Expunging content needs an operator token, as in Svix, in its own application too.
			{"DELETE", "/api/v1/app/" + a.appID + "/msg/" + a.msgID + "/content", nil},
			{"DELETE", "/api/v1/app/" + b.appID + "/msg/" + b.msgID + "/content", nil},
			{"POST", "/api/v1/app/" + a.appID + "/msg/bulk-expunge", map[string]any{"ids": []string{a.msgID}}},
			{"DELETE", "/api/v1/app/" + a.appID + "/msg/" + a.msgID + "/attempt/atmpt_2zZZZZZZZZZZZZZZZZZZZZ/content", nil},
			{"GET", "/api/v1/operational-webhook/endpoint/ep_2zZZZZZZZZZZZZZZZZZZZZ/headers", nil},
			{"PUT", "/api/v1/operational-webhook/endpoint/ep_2zZZZZZZZZZZZZZZZZZZZZ/headers", map[string]any{"headers": map[string]string{}}},
		} {
			r := srv.Do(c.method, c.path, a.token, c.body)
			if r.Status != 403 || r.Code() != "forbidden" {
				t.Errorf("A's token: %s %s = %d %s, want 403 forbidden", c.method, c.path, r.Status, r.Body)
			}
		}
		var apps, types, tokens []json.RawMessage
		apps, types, tokens = listAll(t, srv, "/api/v1/app"), listAll(t, srv, "/api/v1/event-type?include_archived=true"), listAll(t, srv, "/api/v1/token")
		// Two applications, one event type, the test operator token and the two application tokens.
		if len(apps) != 2 || len(types) != 1 || len(tokens) != 3 {
			t.Errorf("after refused operator actions: %d apps, %d event types, %d tokens; want 2, 1, 3", len(apps), len(types), len(tokens))
		}
		var et struct {
			Description string `json:"description"`
			Archived    bool   `json:"archived"`
		}
		srv.Op("GET", "/api/v1/event-type/order.created", nil, 200).JSON(t, &et)
		if et.Description != "Order created" || et.Archived {
			t.Errorf("event type changed by refused requests: %+v", et)
		}
		if r := srv.Do("GET", "/api/v1/app/"+b.appID, b.token, nil); r.Status != 200 {
			t.Errorf("B's token after A tried to revoke it: %d %s", r.Status, r.Body)
		}
	})
}

func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	appID := createApp(t, srv, "Acme")
	path := "/api/v1/app/" + appID

	expect401 := func(t *testing.T, what, token string) {
		t.Helper()
		r := srv.Do("GET", path, token, nil)
		if r.Status != 401 || r.Code() != "unauthorized" {
			t.Errorf("%s: %d %s, want 401 unauthorized", what, r.Status, r.Body)
		}
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", what, r.Header.Get("WWW-Authenticate"))
		}
		checkErrorBody(t, r)
	}

	t.Run("no token", func(t *testing.T) {
		t.Parallel()
		expect401(t, "no token", "")
		for _, p := range []string{"/api/v1/app", "/api/v1/event-type", "/api/v1/token", path + "/msg"} {
			if r := srv.Do("GET", p, "", nil); r.Status != 401 || r.Code() != "unauthorized" {
				t.Errorf("GET %s without a token: %d %s", p, r.Status, r.Body)
			}
		}
		if r := srv.Do("POST", "/api/v1/app", "", map[string]any{"name": "x"}); r.Status != 401 || r.Code() != "unauthorized" {
			t.Errorf("POST /api/v1/app without a token: %d %s", r.Status, r.Body)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		t.Parallel()
		expect401(t, "wrong token", "hlo_this_token_was_never_issued_0123456789")
		expect401(t, "almost the operator token", testserver.OperatorToken+"x")
	})
	t.Run("revoked token", func(t *testing.T) {
		t.Parallel()
		for _, body := range []map[string]any{{"kind": "application", "appId": appID}, {"kind": "operator", "name": "ci"}} {
			id, tok := createToken(t, srv, body)
			if r := srv.Do("GET", path, tok, nil); r.Status != 200 {
				t.Fatalf("new %s token: %d %s", body["kind"], r.Status, r.Body)
			}
			srv.Op("DELETE", "/api/v1/token/"+id, nil, 204)
			expect401(t, fmt.Sprintf("revoked %s token", body["kind"]), tok)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		t.Parallel()
		// 3 s, not 1: on a busy machine the first request may come more than a second after
		// the token was made.
		_, tok := createToken(t, srv, map[string]any{"kind": "application", "appId": appID, "expiresIn": 3})
		created := time.Now()
		if r := srv.Do("GET", path, tok, nil); r.Status != 200 {
			t.Fatalf("fresh token with expiresIn 3: %d %s", r.Status, r.Body)
		}
		pollUntil(t, 15*time.Second, "the token to expire", func() bool {
			return srv.Do("GET", path, tok, nil).Status == 401
		})
		if d := time.Since(created); d > 8*time.Second {
			t.Errorf("a token with expiresIn 3 lasted %s", d)
		}
		expect401(t, "expired token", tok)
	})
}
