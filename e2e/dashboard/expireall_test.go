package dashboard

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/testserver"
)

// jarClient is a browser-like client: a cookie jar, and redirects followed.
type jarClient struct {
	t *testing.T
	c *http.Client
}

func newJarClient(t *testing.T) *jarClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &jarClient{t: t, c: &http.Client{Jar: jar}}
}

// open GETs u, following redirects, and returns the path it ended at, the status and the body.
func (b *jarClient) open(u string) (path string, status int, body string) {
	b.t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.Request.URL.Path, resp.StatusCode, string(data)
}

// TestExpireAllEndsOpenPortalSessions opens the portal of an application in two browser-like
// clients through magic links, and of another application in a third; expire-all on the first
// application sends both its browsers to the sign-in page on their next request and makes its
// links dead, while the other application's session and the application's API key go on working.
func TestExpireAllEndsOpenPortalSessions(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	rc := newReceiver(t)
	mine := createApp(t, srv, "Mine", "mine")
	theirs := createApp(t, srv, "Theirs", "theirs")
	createEndpoint(t, srv, mine, rc.URL, "My endpoint")
	createEndpoint(t, srv, theirs, rc.URL, "Their endpoint")
	var key struct{ Token string }
	srv.Op("POST", "/api/v1/token", map[string]any{"kind": "application", "appId": mine}, 201).JSON(t, &key)

	home := "/dashboard/apps/" + mine
	link1, _ := portalLink(t, srv, mine, map[string]any{})
	link2, _ := portalLink(t, srv, mine, map[string]any{"readOnly": true})
	otherLink, _ := portalLink(t, srv, theirs, map[string]any{})
	b1, b2, other := newJarClient(t), newJarClient(t), newJarClient(t)
	for _, c := range []struct {
		b          *jarClient
		link, home string
		content    string
	}{{b1, link1, home, "My endpoint"}, {b2, link2, home, "My endpoint"}, {other, otherLink, "/dashboard/apps/" + theirs, "Their endpoint"}} {
		path, status, body := c.b.open(c.link)
		if path != c.home || status != 200 || !strings.Contains(body, c.content) {
			t.Fatalf("magic link ended at %s with %d, want the portal home %s", path, status, c.home)
		}
		if path, status, _ := c.b.open(srv.URL + c.home); path != c.home || status != 200 {
			t.Fatalf("second portal request ended at %s with %d", path, status)
		}
	}

	// A bad body changes nothing.
	for _, bad := range []struct {
		body any
		want int
	}{
		{map[string]any{"expiry": -1}, 422},
		{map[string]any{"expiry": 259201}, 422},
		{map[string]any{"sessionIds": []string{"user 1"}}, 422},
		{map[string]any{"sessionIds": []string{""}}, 422},
		{"[1]", 400},
	} {
		if r := srv.Do("POST", "/api/v1/auth/app/mine/expire-all", srv.Token, bad.body); r.Status != bad.want {
			t.Errorf("expire-all with %v: status %d, want %d: %s", bad.body, r.Status, bad.want, r.Body)
		}
	}
	if path, status, _ := b1.open(srv.URL + home); path != home || status != 200 {
		t.Fatalf("after refused expire-alls the portal request ended at %s with %d", path, status)
	}

	srv.Op("POST", "/api/v1/auth/app/mine/expire-all", map[string]any{}, 204)

	for i, b := range []*jarClient{b1, b2} {
		path, status, body := b.open(srv.URL + home)
		if path != "/dashboard/login" || strings.Contains(body, "My endpoint") {
			t.Errorf("browser %d after expire-all ended at %s with %d, want the sign-in page", i+1, path, status)
		}
	}
	for _, link := range []string{link1, link2} {
		if path, status, body := newJarClient(t).open(link); status != http.StatusUnauthorized || strings.Contains(body, "My endpoint") {
			t.Errorf("a magic link after expire-all ended at %s with %d, want 401", path, status)
		}
	}
	if path, status, body := other.open(srv.URL + "/dashboard/apps/" + theirs); status != 200 || !strings.Contains(body, "Their endpoint") {
		t.Errorf("another application's portal after expire-all ended at %s with %d, want it still open", path, status)
	}
	if r := srv.Do("GET", "/api/v1/app/mine/endpoint", key.Token, nil); r.Status != 200 {
		t.Errorf("the application's API key after expire-all: status %d, want 200 (API keys stay)", r.Status)
	}

	// With an expiry, a new session goes on until then.
	link3, _ := portalLink(t, srv, mine, map[string]any{})
	b3 := newJarClient(t)
	b3.open(link3)
	srv.Op("POST", "/api/v1/auth/app/mine/expire-all", map[string]any{"expiry": 3600, "sessionIds": []string{}}, 204)
	if path, status, _ := b3.open(srv.URL + home); path != home || status != 200 {
		t.Errorf("a session expiring in an hour ended at %s with %d, want it still open", path, status)
	}

	// Sessions named by the links (Svix's sessionId): expire-all with sessionIds ends only
	// those; a session id breaking Svix's pattern is refused.
	if r := srv.Do("POST", "/api/v1/auth/app-portal-access/mine", srv.Token, map[string]any{"sessionId": "user 1"}); r.Status != 422 {
		t.Errorf("app-portal-access with sessionId %q: status %d, want 422", "user 1", r.Status)
	}
	link4, _ := portalLink(t, srv, mine, map[string]any{"sessionId": "user_1"})
	link5, _ := portalLink(t, srv, mine, map[string]any{"sessionId": "user_2"})
	b4, b5 := newJarClient(t), newJarClient(t)
	b4.open(link4)
	b5.open(link5)
	srv.Op("POST", "/api/v1/auth/app/mine/expire-all", map[string]any{"sessionIds": []string{"user_1", "user_9"}}, 204)
	if path, _, _ := b4.open(srv.URL + home); path != "/dashboard/login" {
		t.Errorf("the session of user_1 after its expire-all ended at %s, want the sign-in page", path)
	}
	for name, b := range map[string]*jarClient{"user_2": b5, "the one without a session id": b3} {
		if path, status, _ := b.open(srv.URL + home); path != home || status != 200 {
			t.Errorf("the session of %s after user_1's expire-all ended at %s with %d, want it still open", name, path, status)
		}
	}

	// Only operators may, and only applications that exist.
	if r := srv.Do("POST", "/api/v1/auth/app/mine/expire-all", key.Token, map[string]any{}); r.Status != 403 {
		t.Errorf("expire-all with the application's API key: status %d, want 403", r.Status)
	}
	if r := srv.Do("POST", "/api/v1/auth/app/nosuchapp/expire-all", srv.Token, map[string]any{}); r.Status != 404 {
		t.Errorf("expire-all of an unknown application: status %d, want 404", r.Status)
	}
}

// TestPortalCapabilities: Svix's capabilities choose between the portal's two modes: the
// read-only set shows the endpoint's secret and no change, the full set lets the customer
// rotate it; another set, or a readOnly that disagrees, is refused naming the field.
func TestPortalCapabilities(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	rc := newReceiver(t)
	app := createApp(t, srv, "Caps", "caps")
	ep := createEndpoint(t, srv, app, rc.URL, "My endpoint")
	page := "/dashboard/apps/" + app + "/endpoints/" + ep
	for _, c := range []struct {
		caps   []string
		rotate bool
	}{
		{[]string{"ViewEndpointSecret", "ViewBase"}, false},
		{[]string{"ViewBase", "ViewEndpointSecret", "ManageEndpointSecret", "ManageTransformations", "CreateAttempts", "ManageEndpoint", "ViewBase"}, true},
	} {
		link, _ := portalLink(t, srv, app, map[string]any{"capabilities": c.caps})
		b := newJarClient(t)
		b.open(link)
		path, status, body := b.open(srv.URL + page)
		if path != page || status != 200 || !strings.Contains(body, "Reveal secret") || strings.Contains(body, "Rotate secret") != c.rotate {
			t.Errorf("capabilities %v: endpoint page at %s (%d), secret shown %v, rotation offered %v; want rotation %v",
				c.caps, path, status, strings.Contains(body, "Reveal secret"), strings.Contains(body, "Rotate secret"), c.rotate)
		}
	}
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"capabilities": []string{"ViewBase"}}, "capabilities"},
		{map[string]any{"capabilities": []string{"ViewBase", "CreateAttempts"}}, "capabilities"},
		{map[string]any{"capabilities": []string{"ViewBase", "ViewEndpointSecret"}, "readOnly": false}, "readOnly"},
	} {
		r := srv.Do("POST", "/api/v1/auth/app-portal-access/"+app, srv.Token, bad.body)
		if r.Status != 422 || !strings.Contains(string(r.Body), `"`+bad.field+`"`) {
			t.Errorf("app-portal-access with %v: %d %s, want 422 naming %s", bad.body, r.Status, r.Body, bad.field)
		}
	}
}
