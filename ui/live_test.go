package ui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/testserver"
)

// TestLiveRoute: the live route of a history answers 204 while no attempt finished since the
// time it is given, then the rows of the new attempts (marked as its answer, with the history's
// filters), and refuses a "finished" that is not a time.
func TestLiveRoute(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer rc.Close()
	var app, ep struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": rc.URL}, 201).JSON(t, &ep)
	b := newBrowser(t, srv.URL)
	b.signIn(srv.Token)
	epURL := "/dashboard/apps/" + app.ID + "/endpoints/" + ep.ID
	page := b.get(epURL + "/history")
	live := `data-live="` + epURL + `/history/live"`
	if !strings.Contains(page.Body, live) || !strings.Contains(page.Body, `data-since="`) {
		t.Fatalf("history page names no live route (%s):\n%s", live, page.Body)
	}
	since := page.Body[strings.Index(page.Body, `data-since="`)+len(`data-since="`):]
	since = since[:strings.Index(since, `"`)]
	if p := b.get(epURL + "/history/live?finished=" + since); p.Status != http.StatusNoContent || p.Header.Get("X-Hookline-Now") == "" {
		t.Fatalf("live route with nothing new: %d %s", p.Status, p.Body)
	}
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "paid"}, 201)
	var msg struct{ ID string }
	srv.Op("POST", "/api/v1/app/"+app.ID+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"a": 1}}, 202).JSON(t, &msg)
	waitAttempt(t, srv, app.ID, ep.ID)
	p := b.get(epURL + "/history/live?finished=" + since)
	if p.Status != http.StatusOK || p.Header.Get("X-Hookline-Live") != "rows" || strings.Count(p.Body, "<tr ") != 1 ||
		!strings.Contains(p.Body, `data-msg="`+msg.ID+`"`) || !strings.Contains(p.Body, `form="bulk-resend"`) {
		t.Fatalf("live route after a delivery: %d %v\n%s", p.Status, p.Header, p.Body)
	}
	if p := b.get(epURL + "/history/live?select=0&finished=" + since); strings.Contains(p.Body, `type="checkbox"`) {
		t.Fatalf("live rows for the endpoint page carry checkboxes:\n%s", p.Body)
	}
	if p := b.get("/dashboard/apps/" + app.ID + "/attempts/live?event_type=order.shipped&finished=" + since); p.Status != http.StatusNoContent {
		t.Fatalf("live route filtered to another event type: %d %s", p.Status, p.Body)
	}
	if p := b.get("/dashboard/apps/" + app.ID + "/attempts/live?finished=" + since); p.Status != http.StatusOK || !strings.Contains(p.Body, `data-label="Endpoint"`) {
		t.Fatalf("application live route: %d %s", p.Status, p.Body)
	}
	if p := b.get(epURL + "/history/live?finished=soon"); p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("live route with a bad finished: %d", p.Status)
	}
}
