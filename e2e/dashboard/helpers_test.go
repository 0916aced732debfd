package dashboard

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/testserver"
)

// receiver is a real webhook receiver on loopback that answers 200 and remembers requests.
// It answers under a random path of its own, which ends URL; the requests it remembers show
// the path below it. A request for any other path is a stray, answered 404 and forgotten: the
// port is an ephemeral one that may have been, a moment before, another test's receiver's, to
// which that test's server may still send.
type receiver struct {
	*httptest.Server
	URL      string // the server's URL and the receiver's own path
	mu       sync.Mutex
	requests []*http.Request
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	prefix := "/r" + strings.TrimPrefix(hookline.NewID(""), "_")
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok || rest != "" && !strings.HasPrefix(rest, "/") {
			http.NotFound(w, r)
			return
		}
		if rest == "" {
			rest = "/"
		}
		r.URL.Path, r.URL.RawPath = rest, ""
		io.Copy(io.Discard, r.Body)
		rc.mu.Lock()
		rc.requests = append(rc.requests, r)
		rc.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(rc.Close)
	rc.URL = rc.Server.URL + prefix
	return rc
}

func (rc *receiver) received() []*http.Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*http.Request(nil), rc.requests...)
}

func createApp(t *testing.T, srv *testserver.Instance, name, uid string) string {
	var app struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": name, "uid": uid}, 201).JSON(t, &app)
	return app.ID
}

func createEndpoint(t *testing.T, srv *testserver.Instance, appID, u, description string) string {
	var ep struct{ ID string }
	srv.Op("POST", "/api/v1/app/"+appID+"/endpoint", map[string]any{"url": u, "description": description}, 201).JSON(t, &ep)
	return ep.ID
}

func createEventTypes(t *testing.T, srv *testserver.Instance) {
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "A customer paid for tickets",
		"schemas": map[string]any{"1": map[string]any{"type": "object", "required": []string{"action"},
			"examples": []any{map[string]any{"action": "order.paid", "eventable": map[string]any{"id": "abc123def456", "total_amount": "45.00", "currency": "EUR"}}}}}}, 201)
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.refunded", "description": "An order was refunded"}, 201)
}

// portalLink asks the API for a magic link to the application's portal.
func portalLink(t *testing.T, srv *testserver.Instance, appID string, body any) (link, token string) {
	var out struct {
		URL   string `json:"url"`
		Token string `json:"token"`
	}
	srv.Op("POST", "/api/v1/auth/app-portal-access/"+appID, body, 200).JSON(t, &out)
	if !strings.Contains(out.URL, "/dashboard/portal/login?token=") || !strings.HasPrefix(out.Token, "hlp_") {
		t.Fatalf("portal access: url %q token %q", out.URL, out.Token)
	}
	return out.URL, out.Token
}

// client is a plain HTTP client with cookies that does not follow redirects.
type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	Status int
	Header http.Header
	Body   string
}

func (c *client) do(method, path string, form url.Values, header http.Header) response {
	c.t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = c.base + path
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

func (c *client) get(path string) response { c.t.Helper(); return c.do("GET", path, nil, nil) }

func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	return c.do("POST", path, form, nil)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of a page's forms.
func (c *client) csrf(path string) string {
	c.t.Helper()
	p := c.get(path)
	m := csrfField.FindStringSubmatch(p.Body)
	if m == nil {
		c.t.Fatalf("GET %s (%d): no CSRF field", path, p.Status)
	}
	return m[1]
}

func (c *client) signIn(token string) {
	c.t.Helper()
	p := c.post("/dashboard/login", url.Values{"csrf": {c.csrf("/dashboard/login")}, "token": {token}})
	if p.Status != http.StatusSeeOther {
		c.t.Fatalf("sign in: %d %s", p.Status, p.Body)
	}
}
