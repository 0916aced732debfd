package dashboard

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testserver"
)

// TestPortalScopedToEndpoints: a portal link scoped to one endpoint opens a session that lists
// that endpoint only, says so, answers 404 for the other endpoint's pages and attempts, omits
// the other endpoint's deliveries from the delivery history and the message log (whatever
// endpoint filter is asked for), hides the application's chart, and refuses (403) to add an
// endpoint or show API keys. An unscoped link sees everything, as before.
func TestPortalScopedToEndpoints(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	rc := newReceiver(t)
	createEventTypes(t, srv)
	appID := createApp(t, srv, "Cleartix", "cleartix")
	var mine, other struct{ ID string }
	srv.Op("POST", "/api/v1/app/"+appID+"/endpoint", map[string]any{"url": rc.URL + "/mine", "description": "Ticket sync",
		"uid": "ticket-sync", "filterTypes": []string{"order.paid"}}, 201).JSON(t, &mine)
	srv.Op("POST", "/api/v1/app/"+appID+"/endpoint", map[string]any{"url": rc.URL + "/other", "description": "Refund ledger",
		"filterTypes": []string{"order.refunded"}}, 201).JSON(t, &other)
	paid := sendMessage(t, srv, appID, "order.paid")         // to mine only
	refunded := sendMessage(t, srv, appID, "order.refunded") // to the other only
	attempts := map[string]string{}                          // endpoint id -> its attempt's id
	deadline := time.Now().Add(20 * time.Second)
	for _, ep := range []string{mine.ID, other.ID} {
		for {
			var list struct{ Data []struct{ ID string } }
			srv.Op("GET", "/api/v1/app/"+appID+"/attempt/endpoint/"+ep, nil, 200).JSON(t, &list)
			if len(list.Data) > 0 {
				attempts[ep] = list.Data[0].ID
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no attempt at %s", ep)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	home := "/dashboard/apps/" + appID

	// The link names the endpoint by its uid; the session it opens keeps the scope.
	link, _ := portalLink(t, srv, appID, map[string]any{"endpoints": []string{"ticket-sync"}})
	c := newClient(t, srv.URL)
	if p := c.get(link[len(srv.URL):]); p.Status != http.StatusSeeOther {
		t.Fatalf("opening the scoped link: %d %s", p.Status, p.Body)
	}
	p := c.get(home)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Ticket sync") || strings.Contains(p.Body, "Refund ledger") {
		t.Fatalf("the scoped portal's endpoints (%d):\n%s", p.Status, p.Body)
	}
	for _, want := range []string{"You see a limited set of this application", "Ticket sync"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the scoped portal's endpoints lack %q", want)
		}
	}
	for _, absent := range []string{"/endpoints/new", "/api-keys", `class="chart`} {
		if strings.Contains(p.Body, absent) {
			t.Errorf("the scoped portal's endpoints show %q", absent)
		}
	}
	notFound := c.get(home + "/endpoints/doesnotexist")
	if notFound.Status != http.StatusNotFound || errorPage(notFound.Body) == "" {
		t.Fatalf("an unknown endpoint in the scoped portal: %d", notFound.Status)
	}
	for _, path := range []string{
		"/endpoints/" + other.ID, "/endpoints/" + other.ID + "/history", "/endpoints/" + other.ID + "/edit",
		"/attempts/" + attempts[other.ID], "/messages/" + refunded,
	} {
		if p := c.get(home + path); p.Status != http.StatusNotFound || errorPage(p.Body) != errorPage(notFound.Body) {
			t.Errorf("GET %s in the scoped portal: %d, want the 404 of an unknown endpoint", path, p.Status)
		}
	}
	for _, path := range []string{"/endpoints/" + mine.ID, "/attempts/" + attempts[mine.ID], "/messages/" + paid} {
		if p := c.get(home + path); p.Status != http.StatusOK {
			t.Errorf("GET %s in the scoped portal: %d, want 200", path, p.Status)
		}
	}
	for _, path := range []string{"/attempts", "/attempts?endpoint=" + other.ID, "/messages", "/messages?endpoint=" + other.ID} {
		p := c.get(home + path)
		if p.Status != http.StatusOK || strings.Contains(p.Body, attempts[other.ID]) || strings.Contains(p.Body, refunded) ||
			strings.Contains(p.Body, "Refund ledger") {
			t.Errorf("GET %s in the scoped portal shows the other endpoint (%d):\n%s", path, p.Status, p.Body)
		}
		if !strings.Contains(p.Body, attempts[mine.ID]) && !strings.Contains(p.Body, paid) {
			t.Errorf("GET %s in the scoped portal lacks its own endpoint's delivery", path)
		}
	}
	for _, path := range []string{"/endpoints/new", "/api-keys"} {
		if p := c.get(home + path); p.Status != http.StatusForbidden {
			t.Errorf("GET %s in the scoped portal: %d, want 403", path, p.Status)
		}
	}
	csrf := c.csrf(home)
	if p := c.post(home+"/endpoints", url.Values{"csrf": {csrf}, "url": {rc.URL + "/new"}, "enabled": {"on"}}); p.Status != http.StatusForbidden {
		t.Errorf("creating an endpoint in the scoped portal: %d, want 403", p.Status)
	}
	if p := c.post(home+"/api-keys", url.Values{"csrf": {csrf}, "name": {"escape"}}); p.Status != http.StatusForbidden {
		t.Errorf("creating an API key in the scoped portal: %d, want 403", p.Status)
	}
	// Resending the other endpoint's attempt is refused; a message resends to scoped endpoints only.
	if p := c.post(home+"/resend", url.Values{"csrf": {csrf}, "attempt": {attempts[other.ID]}}); p.Status != http.StatusNotFound {
		t.Errorf("resending the other endpoint's attempt: %d, want 404", p.Status)
	}

	// An unscoped link sees both endpoints, the chart and the API keys.
	plain, _ := portalLink(t, srv, appID, map[string]any{})
	u := newClient(t, srv.URL)
	u.get(plain[len(srv.URL):])
	p = u.get(home)
	if !strings.Contains(p.Body, "Ticket sync") || !strings.Contains(p.Body, "Refund ledger") || strings.Contains(p.Body, "limited set") ||
		!strings.Contains(p.Body, "/api-keys") {
		t.Errorf("the unscoped portal's endpoints:\n%s", p.Body)
	}
	for _, path := range []string{"/endpoints/" + other.ID, "/attempts/" + attempts[other.ID], "/api-keys", "/endpoints/new"} {
		if p := u.get(home + path); p.Status != http.StatusOK {
			t.Errorf("GET %s in the unscoped portal: %d, want 200", path, p.Status)
		}
	}
	if p := u.get(home + "/attempts"); !strings.Contains(p.Body, attempts[other.ID]) || !strings.Contains(p.Body, attempts[mine.ID]) {
		t.Errorf("the unscoped portal's history lacks an endpoint's attempt")
	}
}

// errorPage is the error card of a page, without the layout around it (whose language links
// name the page's own address).
func errorPage(body string) string {
	_, after, _ := strings.Cut(body, `class="card card-pad errorpage"`)
	card, _, _ := strings.Cut(after, "</section>")
	return card
}
