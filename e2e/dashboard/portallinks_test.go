package dashboard

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/internal/testserver"
)

// TestPortalLinksInChromium: a portal link opens the portal once, in a real browser; opened
// again, there or in another browser, it says it has been used. The operator lists the
// application's open portal sessions (not another application's) and revokes one: that
// browser is signed out on its next page, while the other session goes on. Svix's fields that
// Hookline does not implement (capabilities, sessionId, featureFlags), and a scope to an
// endpoint that does not exist, are refused with a 422 that names them, and make no link.
func TestPortalLinksInChromium(t *testing.T) {
	chromium := findChromium(t)
	srv := testserver.Start(t, testserver.Options{})
	rc := newReceiver(t)
	appID := createApp(t, srv, "Cleartix", "cleartix")
	otherID := createApp(t, srv, "Other Corp", "other-corp")
	createEndpoint(t, srv, appID, rc.URL, "Ticket sync")
	home := srv.URL + "/dashboard/apps/" + appID

	link, _ := portalLink(t, srv, appID, map[string]any{})
	customer := newBrowser(t, chromium)
	if status := customer.open(link); status != http.StatusOK || customer.location() != home {
		t.Fatalf("the link led to %s (%d), want the portal", customer.location(), status)
	}
	if !strings.Contains(customer.body(), "Ticket sync") {
		t.Fatalf("the portal: %s", customer.body())
	}
	// Opened again: in the same browser, and in another, it has been used.
	intruder := newBrowser(t, chromium)
	for name, b := range map[string]*tab{"the same browser": customer, "another browser": intruder} {
		if status := b.open(link); status != http.StatusUnauthorized || !strings.Contains(b.body(), "This link has been used") || strings.Contains(b.body(), "Ticket sync") {
			t.Errorf("the link opened again in %s: %d\n%s", name, status, b.body())
		}
	}
	if status := intruder.open(home); status != http.StatusOK || !strings.Contains(intruder.location(), "/dashboard/login") {
		t.Errorf("the other browser reached %s (%d), want the sign-in page", intruder.location(), status)
	}
	// The customer's session goes on (its cookie holds a session, not the link).
	if customer.open(home); customer.location() != home {
		t.Fatalf("the customer after the replays is at %s", customer.location())
	}

	// A second, read-only session, and one of another application.
	second := newBrowser(t, chromium)
	roLink, _ := portalLink(t, srv, appID, map[string]any{"readOnly": true})
	second.open(roLink)
	theirLink, _ := portalLink(t, srv, otherID, map[string]any{})
	newBrowser(t, chromium).open(theirLink)
	portalLink(t, srv, appID, map[string]any{}) // made, never opened

	operator := newBrowser(t, chromium)
	operator.open(srv.URL + "/dashboard/login")
	operator.do(chromedp.SendKeys(chromedp.Search("#token"), srv.Token))
	operator.click(`//button[normalize-space()="Sign in"]`)
	operator.open(home)
	operator.click(`//a[normalize-space()="Portal sessions"]`)
	if n := operator.count("#portalsessions tbody tr"); n != 2 {
		t.Fatalf("the operator sees %d portal sessions, want 2:\n%s", n, operator.body())
	}
	rows := operator.text("#portalsessions tbody")
	if !strings.Contains(rows, "Full") || !strings.Contains(rows, "Read-only") || !strings.Contains(rows, "just now") {
		t.Errorf("the sessions: %s", rows)
	}
	if !strings.Contains(operator.body(), "1 portal link not opened yet") {
		t.Errorf("the page does not count the link never opened:\n%s", operator.body())
	}

	// Revoke the full session: the customer is signed out on the next page; the read-only
	// session goes on.
	operator.do(chromedp.Evaluate[chromedp.Void](`window.confirm = function () { return true; }`))
	operator.click(`//tr[td[normalize-space()="Full"]]//button[normalize-space()="Revoke"]`)
	if body := operator.body(); !strings.Contains(body, "Portal session revoked") || operator.count("#portalsessions tbody tr") != 1 {
		t.Errorf("after revoking: %s", body)
	}
	customer.open(home)
	if loc := customer.location(); !strings.Contains(loc, "/dashboard/login") || strings.Contains(customer.body(), "Ticket sync") {
		t.Errorf("the revoked session's browser is at %s, want the sign-in page", loc)
	}
	if second.open(home); second.location() != home {
		t.Errorf("the other session after the revoke is at %s", second.location())
	}

	// Another application's session is not revoked through this application's page.
	var theirs struct {
		Data []struct{ ID, Kind, Name string }
	}
	srv.Op("GET", "/api/v1/token?app_id="+otherID, nil, 200).JSON(t, &theirs)
	var theirSession string
	for _, tk := range theirs.Data {
		if tk.Name == "app-portal-session" {
			theirSession = tk.ID
		}
	}
	if theirSession == "" {
		t.Fatalf("no session of the other application among %+v", theirs.Data)
	}
	if st := operator.post("/dashboard/apps/"+appID+"/portal-sessions/"+theirSession+"/revoke", nil); st != http.StatusNotFound {
		t.Errorf("revoking another application's session through this one: %d, want 404", st)
	}
	// A portal session may not see the page at all.
	if st := second.open(home + "/portal-sessions"); st != http.StatusNotFound {
		t.Errorf("the portal-sessions page in a portal: %d, want 404", st)
	}

	// expire-all still ends what is left, and signing out of a portal ends its session.
	third := newBrowser(t, chromium)
	thirdLink, _ := portalLink(t, srv, appID, map[string]any{})
	third.open(thirdLink)
	third.click(`//button[normalize-space()="Sign out"]`)
	srv.Op("POST", "/api/v1/auth/app/"+appID+"/expire-all", map[string]any{}, 204)
	for name, b := range map[string]*tab{"the read-only session": second, "the signed-out session": third} {
		if b.open(home); !strings.Contains(b.location(), "/dashboard/login") {
			t.Errorf("%s after expire-all is at %s", name, b.location())
		}
	}
	operator.open(home + "/portal-sessions")
	if n := operator.count("#portalsessions tbody tr"); n != 0 || strings.Contains(operator.body(), "not opened yet") {
		t.Errorf("after expire-all the operator sees %d sessions:\n%s", n, operator.body())
	}

	// What Hookline does not implement, cannot find or cannot take (a session id out of Svix's
	// pattern) is refused, and makes no link.
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"capabilities": []string{"ViewBase"}}, "capabilities"},
		{map[string]any{"sessionId": "user 1FB8"}, "sessionId"},
		{map[string]any{"featureFlags": []string{"beta"}}, "featureFlags"},
		{map[string]any{"endpoints": []string{"ep_1"}}, "endpoints"},
		{map[string]any{"singleUse": "yes"}, "singleUse"},
	} {
		r := srv.Do("POST", "/api/v1/auth/app-portal-access/"+appID, srv.Token, c.body)
		if r.Status != 422 || !strings.Contains(string(r.Body), `"`+c.field+`"`) {
			t.Errorf("app-portal-access with %v: %d %s, want 422 naming %s", c.body, r.Status, r.Body, c.field)
		}
	}
	// A reusable link, asked for, opens the portal each time.
	reusable, _ := portalLink(t, srv, appID, map[string]any{"singleUse": false})
	for i := range 2 {
		b := newClient(t, srv.URL)
		if p := b.get(reusable[len(srv.URL):]); p.Status != http.StatusSeeOther {
			t.Errorf("a reusable link opened %d times: %d", i+1, p.Status)
		}
	}
}
