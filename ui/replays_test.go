package ui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testserver"
)

// TestReplayMissingFromTheEndpointPage: two messages sent before an endpoint existed reach it
// with "Send missing messages"; the form opens the task's page, which ends with the two counted,
// and the task of one application is not found under another. An end before the start is
// refused next to its field.
func TestReplayMissingFromTheEndpointPage(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	var got atomic.Int32
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
		io.WriteString(w, "ok")
	}))
	defer rc.Close()
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "paid"}, 201)
	var app, other, ep struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Other"}, 201).JSON(t, &other)
	for i := 0; i < 2; i++ {
		srv.Op("POST", "/api/v1/app/"+app.ID+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"i": i}}, 202)
	}
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": rc.URL}, 201).JSON(t, &ep)
	b := newBrowser(t, srv.URL)
	b.signIn(srv.Token)
	epURL := "/dashboard/apps/" + app.ID + "/endpoints/" + ep.ID
	csrf := csrfOf(t, b.get(epURL))
	since := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")

	p := b.post(epURL+"/replay-missing", url.Values{"csrf": {csrf}, "since": {since}, "until": {"2000-01-01T00:00"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="until-error"`) {
		t.Fatalf("replay-missing with the end before the start: %d", p.Status)
	}
	p = b.post(epURL+"/replay-missing", url.Values{"csrf": {csrf}, "since": {since}})
	loc := p.Header.Get("Location")
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/dashboard/apps/"+app.ID+"/tasks/qtask_") {
		t.Fatalf("replay-missing: %d to %q, want the task's page", p.Status, loc)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		p = b.get(loc)
		if strings.Contains(p.Body, `<strong id="task-sent">2</strong> messages were sent again`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the task's page never said 2 messages were sent:\n%s", p.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for got.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := got.Load(); n != 2 {
		t.Fatalf("the receiver got %d requests, want the 2 missing messages", n)
	}
	taskID := loc[strings.LastIndex(loc, "/")+1:]
	if p := b.get("/dashboard/apps/" + other.ID + "/tasks/" + taskID); p.Status != http.StatusNotFound {
		t.Fatalf("the task under another application: %d", p.Status)
	}
}
