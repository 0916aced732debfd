package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookline/hookline/internal/testserver"
)

// TestFormWithoutCSRFTokenIsRejected posts the create-endpoint form of a signed-in operator
// without the form's token, with a wrong one, and from another origin: each is refused with 403
// and changes nothing; the same form with its token works.
func TestFormWithoutCSRFTokenIsRejected(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	rc := newReceiver(t)
	appID := createApp(t, srv, "Acme", "acme")
	c := newClient(t, srv.URL)
	c.signIn(srv.Token)
	path := "/dashboard/apps/" + appID + "/endpoints"
	token := c.csrf(path + "/new")
	form := func(csrf string) url.Values {
		v := url.Values{"url": {rc.URL}, "description": {"Forged"}, "enabled": {"on"}}
		if csrf != "" {
			v.Set("csrf", csrf)
		}
		return v
	}
	cases := []struct {
		name   string
		form   url.Values
		header http.Header
	}{
		{"no token", form(""), nil},
		{"wrong token", form("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), nil},
		{"truncated token", form(token[:10]), nil},
		{"right token, cross-site request", form(token), http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}},
	}
	for _, tc := range cases {
		p := c.do("POST", path, tc.form, tc.header)
		if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Form not accepted") {
			t.Errorf("%s: status %d, want 403 with the explanation page", tc.name, p.Status)
		}
	}
	if n := countEndpoints(t, srv, appID); n != 0 {
		t.Fatalf("rejected forms created %d endpoints", n)
	}
	if p := c.post(path, form(token)); p.Status != http.StatusSeeOther {
		t.Fatalf("form with its token: status %d: %s", p.Status, p.Body)
	}
	if n := countEndpoints(t, srv, appID); n != 1 {
		t.Fatalf("endpoints after the valid form: %d, want 1", n)
	}
	// A token from another session does not work either.
	other := newClient(t, srv.URL)
	other.signIn(srv.Token)
	if p := other.post(path, form(token)); p.Status != http.StatusForbidden {
		t.Errorf("another session's token: status %d, want 403", p.Status)
	}
}

func countEndpoints(t *testing.T, srv *testserver.Instance, appID string) int {
	var list struct{ Data []any }
	srv.Op("GET", "/api/v1/app/"+appID+"/endpoint", nil, 200).JSON(t, &list)
	return len(list.Data)
}

// TestPortalSeesOneApplication follows a magic link and then edits URLs: every page and action
// of another application, and every operator page, answers 404 as if it did not exist.
func TestPortalSeesOneApplication(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	rc := newReceiver(t)
	mine := createApp(t, srv, "Mine", "mine")
	theirs := createApp(t, srv, "Theirs", "theirs")
	myEp := createEndpoint(t, srv, mine, rc.URL, "My endpoint")
	theirEp := createEndpoint(t, srv, theirs, rc.URL, "Their endpoint")
	var msg struct{ ID string }
	srv.Op("POST", "/api/v1/app/"+theirs+"/endpoint/"+theirEp+"/send-example", map[string]any{"eventType": "test.webhook"}, 202).JSON(t, &msg)

	link, token := portalLink(t, srv, mine, map[string]any{})
	c := newClient(t, srv.URL)
	p := c.get(link)
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/dashboard/apps/"+mine {
		t.Fatalf("magic link: %d to %q, want a redirect to the application (and away from the token)", p.Status, p.Header.Get("Location"))
	}
	home := c.get("/dashboard/apps/" + mine)
	if home.Status != http.StatusOK || !strings.Contains(home.Body, "My endpoint") || strings.Contains(home.Body, "Their endpoint") {
		t.Fatalf("portal home: %d", home.Status)
	}
	csrf := c.csrf("/dashboard/apps/" + mine + "/endpoints/" + myEp)

	their := "/dashboard/apps/" + theirs
	for _, path := range []string{
		their, "/dashboard/apps/theirs", their + "/endpoints/new", their + "/endpoints/" + theirEp,
		their + "/endpoints/" + theirEp + "/history", their + "/endpoints/" + theirEp + "/edit",
		their + "/messages", their + "/messages/" + msg.ID, their + "/attempts",
		// Their endpoint through my application's URL.
		"/dashboard/apps/" + mine + "/endpoints/" + theirEp,
		"/dashboard/apps/" + mine + "/messages/" + msg.ID,
		their + "/api-keys",
		// Operator pages.
		"/dashboard/apps", "/dashboard/event-types/new", "/dashboard/apps/" + mine + "/portal-sessions",
	} {
		if p := c.get(path); p.Status != http.StatusNotFound || strings.Contains(p.Body, "Their endpoint") {
			t.Errorf("GET %s as a portal session: status %d, want 404", path, p.Status)
		}
	}
	for _, path := range []string{
		their + "/endpoints", their + "/endpoints/" + theirEp + "/status", their + "/endpoints/" + theirEp + "/delete",
		their + "/endpoints/" + theirEp + "/rotate", their + "/endpoints/" + theirEp + "/test", their + "/messages/" + msg.ID + "/resend",
		"/dashboard/apps/" + mine + "/endpoints/" + theirEp + "/delete", "/dashboard/apps", "/dashboard/event-types",
		their + "/api-keys", their + "/portal-sessions/tok_x/revoke", "/dashboard/apps/" + mine + "/portal-sessions/tok_x/revoke",
	} {
		form := url.Values{"csrf": {csrf}, "url": {rc.URL}, "enabled": {"false"}, "endpoint": {theirEp}}
		if p := c.post(path, form); p.Status != http.StatusNotFound && p.Status != http.StatusMethodNotAllowed {
			t.Errorf("POST %s as a portal session: status %d, want 404", path, p.Status)
		}
	}
	// Filters and searches that name another application's endpoint or message find nothing.
	for _, path := range []string{
		"/dashboard/apps/" + mine + "/attempts?endpoint=" + theirEp, "/dashboard/apps/" + mine + "/attempts?q=" + msg.ID,
		"/dashboard/apps/" + mine + "/messages?endpoint=" + theirEp, "/dashboard/apps/" + mine + "/messages?q=" + msg.ID,
		"/dashboard/apps/" + mine + "/endpoints/" + myEp + "?range=30d", "/dashboard/apps/" + mine + "?range=30d",
	} {
		if p := c.get(path); p.Status != http.StatusOK || strings.Contains(p.Body, "Their endpoint") || strings.Contains(p.Body, "/messages/"+msg.ID) {
			t.Errorf("GET %s as a portal session: status %d, or it shows the other application's message", path, p.Status)
		}
	}
	var ep struct{ Disabled bool }
	srv.Op("GET", "/api/v1/app/"+theirs+"/endpoint/"+theirEp, nil, 200).JSON(t, &ep)
	if ep.Disabled || countEndpoints(t, srv, theirs) != 1 {
		t.Error("a portal session changed another application's endpoint")
	}
	// The portal token is a dashboard session, not an API key.
	if r := srv.Do("GET", "/api/v1/app/"+mine+"/endpoint", token, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("portal token on the API: status %d, want 401", r.Status)
	}
	// A read-only link shows everything and changes nothing.
	roLink, _ := portalLink(t, srv, mine, map[string]any{"readOnly": true, "expiry": 3600})
	ro := newClient(t, srv.URL)
	ro.get(roLink)
	page := ro.get("/dashboard/apps/" + mine + "/endpoints/" + myEp)
	if page.Status != http.StatusOK || strings.Contains(page.Body, "Rotate secret") || !strings.Contains(page.Body, "Read-only") {
		t.Errorf("read-only portal endpoint page: status %d", page.Status)
	}
	roCSRF := csrfField.FindStringSubmatch(page.Body)
	if roCSRF == nil {
		t.Fatal("read-only page has no sign-out form")
	}
	if p := ro.post("/dashboard/apps/"+mine+"/endpoints/"+myEp+"/status", url.Values{"csrf": {roCSRF[1]}, "enabled": {"false"}}); p.Status != http.StatusForbidden {
		t.Errorf("read-only portal toggling an endpoint: status %d, want 403", p.Status)
	}
}

// TestPortalAccessWithSvixSDK asks for a portal link with the official Svix Go SDK.
func TestPortalAccessWithSvixSDK(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	appID := createApp(t, srv, "Acme", "acme")
	u, _ := url.Parse(srv.URL)
	sdk := svix.New(srv.Token, &svix.SvixOptions{ServerUrl: u})
	out, err := sdk.Authentication.AppPortalAccess(context.Background(), "acme", &svix.AppPortalAccessIn{})
	if err != nil {
		t.Fatalf("AppPortalAccess: %v", err)
	}
	c := newClient(t, srv.URL)
	if p := c.get(out.Url); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/dashboard/apps/"+appID {
		t.Fatalf("SDK's portal link %s: %d to %q", out.Url, p.Status, p.Header.Get("Location"))
	}
}
