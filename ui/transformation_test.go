package ui_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/testserver"
)

// TestTransformationEditor: the endpoint page's editor simulates code on a payload and shows the
// request a delivery would send (the same as the API's simulate), saves and enables the code,
// and refuses code that does not compile on the page with its reason, storing nothing.
func TestTransformationEditor(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	var app, ep struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": "https://example.com/hook"}, 201).JSON(t, &ep)
	b := newBrowser(t, srv.URL)
	b.signIn(srv.Token)
	base := "/dashboard/apps/" + app.ID + "/endpoints/" + ep.ID
	post := func(path string, form url.Values, want int) page {
		t.Helper()
		form.Set("csrf", csrfOf(t, b.get(base)))
		p := b.post(base+path, form)
		if p.Status != want {
			t.Fatalf("POST %s: status %d, want %d: %s", path, p.Status, want, p.Body)
		}
		return p
	}
	code := `function handler(webhook) { webhook.payload = {order: webhook.payload.id}; webhook.method = "PUT"; webhook.headers["X-Order"] = webhook.payload.order; return webhook; }`
	p := post("/transformation/simulate", url.Values{"transformCode": {code}, "transformEventType": {"order.paid"}, "transformPayload": {`{"id": "ord_9"}`}}, http.StatusOK)
	body := html.UnescapeString(p.Body)
	for _, want := range []string{"PUT https://example.com/hook", `{"order":"ord_9"}`, "X-Order: ord_9"} {
		if !strings.Contains(body, want) {
			t.Errorf("the simulation does not show %q", want)
		}
	}
	var api struct {
		Payload string `json:"payload"`
		Method  string `json:"method"`
	}
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint/"+ep.ID+"/transformation/simulate",
		map[string]any{"code": code, "eventType": "order.paid", "payload": map[string]any{"id": "ord_9"}}, 200).JSON(t, &api)
	if !strings.Contains(body, api.Method+" https://example.com/hook") || !strings.Contains(body, api.Payload) {
		t.Errorf("the page's simulation differs from the API's %+v", api)
	}

	p = post("/transformation", url.Values{"transformCode": {"function handler(webhook) { return webhook"}, "transformEnabled": {"on"}}, http.StatusUnprocessableEntity)
	if !strings.Contains(p.Body, "does not compile") {
		t.Fatalf("code that does not compile: the page does not say why")
	}
	if stored, _ := srv.Server.Store().GetEndpoint(context.Background(), app.ID, ep.ID); stored.Transformation != nil {
		t.Fatalf("a refused transformation was stored: %+v", stored.Transformation)
	}
	post("/transformation", url.Values{"transformCode": {code}, "transformEnabled": {"on"}}, http.StatusSeeOther)
	stored, err := srv.Server.Store().GetEndpoint(context.Background(), app.ID, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tr := stored.Transformation; tr == nil || tr.Code != code || !tr.Enabled {
		t.Fatalf("stored transformation %+v", tr)
	}
	if page := b.get(base); !strings.Contains(html.UnescapeString(page.Body), code) {
		t.Error("the endpoint page does not show the saved code")
	}
}
