package ui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
)

// browser is a cookie-keeping HTTP client that does not follow redirects, so tests see them.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	Status int
	Header http.Header
	Body   string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no CSRF field in page (status %d)", p.Status)
	}
	return m[1]
}

// signIn signs the browser in with the operator token.
func (b *browser) signIn(token string) {
	b.t.Helper()
	login := b.get("/dashboard/login")
	p := b.post("/dashboard/login", url.Values{"csrf": {csrfOf(b.t, login)}, "token": {token}})
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("sign in: status %d: %s", p.Status, p.Body)
	}
}

func TestEveryPageRenders(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"received":true}`)
	}))
	defer receiver.Close()

	var app, ep struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Cool Events GmbH", "uid": "cool-events"}, 201).JSON(t, &app)
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "An order was paid",
		"schemas": map[string]any{"1": map[string]any{"type": "object", "examples": []any{map[string]any{"orderId": "o1"}}}}}, 201)
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": receiver.URL, "description": "Billing <sync>", "filterTypes": []string{"order.paid"},
		"headers": map[string]string{"X-Api-Key": "s3cret", "X-Team": "billing"}}, 201).JSON(t, &ep)
	var msg struct{ ID string }
	srv.Op("POST", "/api/v1/app/"+app.ID+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"orderId": "o2"}}, 202).JSON(t, &msg)
	attemptID := waitAttempt(t, srv, app.ID, ep.ID)

	b := newBrowser(t, srv.URL)
	b.signIn(srv.Token)
	appURL := "/dashboard/apps/" + app.ID
	epURL := appURL + "/endpoints/" + ep.ID
	pages := []struct{ path, want string }{
		{"/dashboard/apps", "Cool Events GmbH"},
		{appURL, "Billing &lt;sync&gt;"},
		{appURL + "/endpoints/new", "Add endpoint"},
		{epURL, "Signing secret"},
		{epURL + "/edit", "Save changes"},
		{epURL + "/delete", "Delete this endpoint?"},
		{epURL + "/rotate", "Rotate the signing secret?"},
		{epURL + "/history", "order.paid"},
		{epURL + "/history?status=failed", "No attempts match"},
		{appURL + "/attempts", "order.paid"},
		{appURL + "/attempts?code=5xx&q=nothing", "No attempts match"},
		{appURL + "/messages?since=not-a-date", "Enter a date and time such as"},
		{appURL + "/attempts/" + attemptID, "received"},
		{appURL + "/messages", msg.ID},
		{appURL + "/messages/" + msg.ID, "o2"},
		{"/dashboard/event-types", "order.paid"},
		{"/dashboard/event-types/new", "New event type"},
		{"/dashboard/event-types/order.paid/edit", "orderId"},
		{appURL + "/api-keys", "No API keys yet"},
		{appURL + "/portal-sessions", "No open portal sessions"},
		{"/dashboard/catalogue", "order.paid"},
		{"/dashboard/catalogue?q=orderId", "event types match"},
		{"/dashboard/nowhere", "Not found"},
	}
	for _, pg := range pages {
		p := b.get(pg.path)
		want := http.StatusOK
		if pg.path == "/dashboard/nowhere" {
			want = http.StatusNotFound
		}
		if p.Status != want {
			t.Errorf("GET %s: status %d, want %d: %s", pg.path, p.Status, want, p.Body)
			continue
		}
		if !strings.Contains(p.Body, pg.want) {
			t.Errorf("GET %s: page lacks %q", pg.path, pg.want)
		}
		if strings.Contains(p.Body, "ZgotmplZ") {
			t.Errorf("GET %s: template produced an unsafe value (ZgotmplZ)", pg.path)
		}
		checkHeaders(t, pg.path, p.Header, "'none'")
	}
	// The sensitive header's value never reaches the page.
	if p := b.get(epURL); strings.Contains(p.Body, "s3cret") {
		t.Error("endpoint page shows the value of a sensitive custom header")
	}

	// Portal link page for operators.
	p := b.get(appURL)
	link := b.post(appURL+"/portal-link", url.Values{"csrf": {csrfOf(t, p)}})
	if link.Status != http.StatusOK || !strings.Contains(link.Body, "/dashboard/portal/login?token=hlp_") {
		t.Errorf("portal link page: status %d", link.Status)
	}
}

func checkHeaders(t *testing.T, path string, h http.Header, ancestors string) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors " + ancestors} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", path, csp, want)
		}
	}
	if h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
		t.Errorf("%s: headers %v", path, h)
	}
	if ancestors == "'none'" && h.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%s: X-Frame-Options %q, want DENY", path, h.Get("X-Frame-Options"))
	}
}

func waitAttempt(t *testing.T, srv *testserver.Instance, appID, epID string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var list struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		r := srv.Op("GET", "/api/v1/app/"+appID+"/attempt/endpoint/"+epID, nil, 200)
		if err := json.Unmarshal(r.Body, &list); err == nil && len(list.Data) > 0 {
			return list.Data[0].ID
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no attempt within 10s")
	return ""
}

func TestSignInAndOut(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	b := newBrowser(t, srv.URL)

	if p := b.get("/dashboard/apps"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/dashboard/login") {
		t.Fatalf("signed out: status %d to %q, want a redirect to the sign-in page", p.Status, p.Header.Get("Location"))
	}
	if p := b.get("/"); p.Status != http.StatusFound || p.Header.Get("Location") != "/dashboard/" {
		t.Errorf("GET /: %d to %q", p.Status, p.Header.Get("Location"))
	}
	login := b.get("/dashboard/login")
	if p := b.post("/dashboard/login", url.Values{"csrf": {csrfOf(t, login)}, "token": {"hlo_wrong"}}); p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "not valid") {
		t.Errorf("wrong token: status %d", p.Status)
	}
	if p := b.post("/dashboard/login", url.Values{"csrf": {"forged"}, "token": {srv.Token}}); p.Status != http.StatusForbidden {
		t.Errorf("sign-in without the form's CSRF token: status %d, want 403", p.Status)
	}

	b.signIn(srv.Token)
	var cookie *http.Cookie
	for _, c := range b.c.Jar.Cookies(mustURL(t, srv.URL+"/dashboard/")) {
		if c.Name == "hookline_session" {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value == srv.Token || !strings.HasPrefix(cookie.Value, "hlo_") {
		t.Fatalf("session cookie %v: want a new short-lived operator token, not the one typed in", cookie)
	}
	apps := b.get("/dashboard/apps")
	if apps.Status != http.StatusOK {
		t.Fatalf("apps: %d", apps.Status)
	}
	if p := b.post("/dashboard/logout", url.Values{"csrf": {csrfOf(t, apps)}}); p.Status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", p.Status)
	}
	// The session token is revoked, not just forgotten by this browser.
	if r := srv.Do("GET", "/api/v1/app", cookie.Value, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("session token after sign-out: API status %d, want 401", r.Status)
	}
}

// TestPortalBesideOperator: an operator who opens a customer's portal link in the same browser
// sees that portal (one application, no operator pages) until leaving it, and is then still
// signed in as the operator: the portal link does not overwrite the operator's session.
func TestPortalBesideOperator(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	var app struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	var access struct{ Token string }
	srv.Op("POST", "/api/v1/auth/app-portal-access/"+app.ID, map[string]any{"expiry": 3600}, 200).JSON(t, &access)

	b := newBrowser(t, srv.URL)
	b.signIn(srv.Token)
	if p := b.get("/dashboard/apps"); p.Status != http.StatusOK {
		t.Fatalf("operator's apps page: %d", p.Status)
	}
	if p := b.get("/dashboard/portal/login?token=" + url.QueryEscape(access.Token)); p.Status != http.StatusSeeOther {
		t.Fatalf("magic link: %d", p.Status)
	}
	portal := b.get("/dashboard/apps/" + app.ID)
	if portal.Status != http.StatusOK {
		t.Fatalf("portal's application page: %d", portal.Status)
	}
	if p := b.get("/dashboard/apps"); p.Status == http.StatusOK {
		t.Error("the portal session sees the operator's list of applications")
	}
	if p := b.post("/dashboard/logout", url.Values{"csrf": {csrfOf(t, portal)}}); p.Status != http.StatusOK || !strings.Contains(p.Body, "left the webhook portal") {
		t.Fatalf("leaving the portal: %d", p.Status)
	}
	// The link opened the portal once: it cannot be replayed, in this browser or another.
	if p := newBrowser(t, srv.URL).get("/dashboard/portal/login?token=" + url.QueryEscape(access.Token)); p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "This link has been used") {
		t.Errorf("the single-use portal link opened again: status %d, want 401 saying it has been used", p.Status)
	}
	// A reusable link (singleUse false) still works until it expires; leaving only forgot it in
	// this browser.
	var reusable struct{ Token string }
	srv.Op("POST", "/api/v1/auth/app-portal-access/"+app.ID, map[string]any{"expiry": 3600, "singleUse": false}, 200).JSON(t, &reusable)
	other := newBrowser(t, srv.URL)
	for i := range 2 {
		if p := other.get("/dashboard/portal/login?token=" + url.QueryEscape(reusable.Token)); p.Status != http.StatusSeeOther {
			t.Errorf("a reusable portal link opened %d times: status %d, want 303", i+1, p.Status)
		}
	}
	if p := b.get("/dashboard/apps"); p.Status != http.StatusOK || !strings.Contains(p.Body, "Acme") {
		t.Errorf("operator's apps page after leaving the portal: %d, want 200 without signing in again", p.Status)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestEmbeddablePortal checks the headers and cookies of a portal that may be framed.
func TestEmbeddablePortal(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Configure: func(c *config.Config) {
		c.PublicURL = "https://hooks.example.com"
		c.FrameAncestors = "https://app.example.com"
	}})
	var app struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	var access struct{ URL, Token string }
	srv.Op("POST", "/api/v1/auth/app-portal-access/"+app.ID, map[string]any{"expiry": 3600}, 200).JSON(t, &access)
	if !strings.HasPrefix(access.URL, "https://hooks.example.com/dashboard/portal/login?token=hlp_") {
		t.Fatalf("portal URL %q does not use the public URL", access.URL)
	}
	b := newBrowser(t, srv.URL)
	p := b.get("/dashboard/portal/login?token=" + url.QueryEscape(access.Token))
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/dashboard/apps/"+app.ID {
		t.Fatalf("magic link: %d to %q", p.Status, p.Header.Get("Location"))
	}
	set := p.Header.Get("Set-Cookie")
	for _, want := range []string{"hookline_portal=", "Path=/dashboard", "HttpOnly", "Secure", "SameSite=None", "Partitioned"} {
		if !strings.Contains(set, want) {
			t.Errorf("portal cookie %q lacks %s", set, want)
		}
	}
	if p.Header.Get("X-Frame-Options") != "" || !strings.Contains(p.Header.Get("Content-Security-Policy"), "frame-ancestors https://app.example.com") {
		t.Errorf("portal headers: XFO %q CSP %q", p.Header.Get("X-Frame-Options"), p.Header.Get("Content-Security-Policy"))
	}
	// The operator pages stay unframable.
	login := newBrowser(t, srv.URL).get("/dashboard/login")
	checkHeaders(t, "/dashboard/login", login.Header, "'none'")
	if c := login.Header.Get("Set-Cookie"); !strings.Contains(c, "Secure") || !strings.Contains(c, "SameSite=Lax") {
		t.Errorf("operator cookie %q: want Secure and SameSite=Lax", c)
	}
}
