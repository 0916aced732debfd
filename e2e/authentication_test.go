package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testserver"
)

// TestWhoami answers, for each kind of token, Svix's WhoamiOut: the application a token is bound
// to, and where its permission comes from.
func TestWhoami(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	appID := createApp(t, srv, "Acme")
	_, key := createToken(t, srv, map[string]any{"kind": "application", "appId": appID})
	var portal struct{ Token string }
	srv.Op("POST", "/api/v1/auth/app-portal-access/"+appID, map[string]any{}, 200).JSON(t, &portal)

	for _, c := range []struct {
		what, token, want string
	}{
		{"operator token", srv.Token, `{"permissionSource":"GlobalAuthToken"}`},
		{"application API key", key, `{"appId":"` + appID + `","permissionSource":"SvixJwt"}`},
		{"portal session token", portal.Token, `{"appId":"` + appID + `","permissionSource":"SvixJwt"}`},
	} {
		r := srv.Do("GET", "/api/v1/auth/whoami", c.token, nil)
		if r.Status != 200 {
			t.Errorf("whoami with the %s: status %d %s", c.what, r.Status, r.Body)
			continue
		}
		sameJSON(t, "whoami with the "+c.what, json.RawMessage(r.Body), mustJSON(t, c.want))
	}
	if r := srv.Do("GET", "/api/v1/auth/whoami", "", nil); r.Status != 401 {
		t.Errorf("whoami without a token: status %d, want 401", r.Status)
	}
}

// TestLogoutEndsThePortalSession logs a portal session token out: it stops working at once,
// on the API and in the dashboard. Long-lived credentials (operator tokens, application API
// keys) are refused with 403 and keep working.
func TestLogoutEndsThePortalSession(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	appID := createApp(t, srv, "Acme")
	_, key := createToken(t, srv, map[string]any{"kind": "application", "appId": appID})
	var portal, other struct{ Token string }
	srv.Op("POST", "/api/v1/auth/app-portal-access/"+appID, map[string]any{}, 200).JSON(t, &portal)
	srv.Op("POST", "/api/v1/auth/app-portal-access/"+appID, map[string]any{}, 200).JSON(t, &other)

	for _, c := range []struct{ what, token string }{{"operator token", srv.Token}, {"application API key", key}} {
		if r := srv.Do("POST", "/api/v1/auth/logout", c.token, nil); r.Status != 403 || r.Code() != "forbidden" {
			t.Errorf("logout with the %s: %d %s, want 403 forbidden", c.what, r.Status, r.Body)
		}
	}
	if r := srv.Do("GET", "/api/v1/app/"+appID, key, nil); r.Status != 200 {
		t.Errorf("the API key after its refused logout: status %d, want 200", r.Status)
	}

	if r := srv.Do("POST", "/api/v1/auth/logout", portal.Token, nil); r.Status != 204 || len(r.Body) != 0 {
		t.Fatalf("logout with the portal token: %d %s, want 204 and no body", r.Status, r.Body)
	}
	for _, path := range []string{"/api/v1/auth/whoami"} {
		if r := srv.Do("GET", path, portal.Token, nil); r.Status != 401 {
			t.Errorf("GET %s with the logged-out portal token: status %d, want 401", path, r.Status)
		}
	}
	if r := srv.Do("POST", "/api/v1/auth/logout", portal.Token, nil); r.Status != 401 {
		t.Errorf("a second logout: status %d, want 401", r.Status)
	}
	// The dashboard refuses the ended session's link.
	resp := srv.Do("GET", "/dashboard/portal/login?token="+portal.Token, "", nil)
	if resp.Status != 401 {
		t.Errorf("the magic link of the logged-out session: status %d, want 401", resp.Status)
	}
	// Another session of the same application goes on.
	if r := srv.Do("GET", "/api/v1/auth/whoami", other.Token, nil); r.Status != 200 {
		t.Errorf("another portal session after the logout: status %d, want 200", r.Status)
	}
}

// TestMessageTokenOnlyCreatesMessages makes a token with create-message-token: it creates
// messages of its application, and every other route of the API (all of them, read from the
// server's OpenAPI document) answers 403; another application's messages answer 404, as for
// any application token. expire-all ends it.
func TestMessageTokenOnlyCreatesMessages(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.created", "description": "Order created"}, 201)
	var app struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme", "uid": "acme"}, 201).JSON(t, &app)
	other := createApp(t, srv, "Other")

	before := time.Now()
	var out struct {
		Token     string     `json:"token"`
		ID        string     `json:"id"`
		Name      *string    `json:"name"`
		CreatedAt time.Time  `json:"createdAt"`
		ExpiresAt *time.Time `json:"expiresAt"`
		Scopes    []string   `json:"scopes"`
	}
	srv.Op("POST", "/api/v1/auth/app/acme/create-message-token", map[string]any{"name": "order service", "expiry": 3600}, 200).JSON(t, &out)
	if !strings.HasPrefix(out.Token, "hlm_") || !strings.HasPrefix(out.ID, "tok_") || out.Name == nil || *out.Name != "order service" ||
		out.CreatedAt.IsZero() || out.ExpiresAt == nil || out.ExpiresAt.Before(before.Add(time.Hour-time.Minute)) || out.ExpiresAt.After(time.Now().Add(time.Hour+time.Minute)) ||
		len(out.Scopes) != 1 || out.Scopes[0] != "message.create" {
		t.Fatalf("create-message-token answered %+v", out)
	}
	tok := out.Token

	msg := map[string]any{"eventType": "order.created", "payload": orderCreated(1)}
	if r := srv.Do("POST", "/api/v1/app/acme/msg", tok, msg); r.Status != 202 {
		t.Fatalf("message with the message token: %d %s, want 202", r.Status, r.Body)
	}
	if r := srv.Do("POST", "/api/v1/app/"+app.ID+"/msg", tok, msg); r.Status != 202 {
		t.Errorf("message by application id with the message token: %d %s, want 202", r.Status, r.Body)
	}
	if r := srv.Do("POST", "/api/v1/app/"+other+"/msg", tok, msg); r.Status != 404 {
		t.Errorf("message to another application with the message token: %d %s, want 404", r.Status, r.Body)
	}

	// Every other route of the API, with path values of the token's own application.
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	srv.Op("GET", "/api/v1/openapi.json", nil, 200).JSON(t, &doc)
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	tried := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op.OperationID == "v1.message.create" || op.OperationID == "v1.health.get" {
				continue
			}
			p := param.ReplaceAllStringFunc(path, func(s string) string {
				if s == "{app_id}" {
					return app.ID
				}
				return "x"
			})
			r := srv.Do(strings.ToUpper(method), p, tok, map[string]any{})
			if r.Status != 403 || r.Code() != "forbidden" {
				t.Errorf("%s %s (%s) with the message token: %d %s, want 403", strings.ToUpper(method), p, op.OperationID, r.Status, r.Body)
			}
			tried++
		}
	}
	if tried < 40 {
		t.Errorf("tried %d routes, want every route of the document", tried)
	}

	// Bad requests are refused and make no token.
	_, key := createToken(t, srv, map[string]any{"kind": "application", "appId": app.ID})
	for _, c := range []struct {
		what, token, path string
		body              any
		want              int
	}{
		{"no name", srv.Token, "acme", map[string]any{}, 422},
		{"an expiry of 0", srv.Token, "acme", map[string]any{"name": "x", "expiry": 0}, 422},
		{"a negative expiry", srv.Token, "acme", map[string]any{"name": "x", "expiry": -5}, 422},
		{"no body", srv.Token, "acme", nil, 400},
		{"an unknown application", srv.Token, "nosuchapp", map[string]any{"name": "x"}, 404},
		{"the application's API key", key, "acme", map[string]any{"name": "x"}, 403},
	} {
		if r := srv.Do("POST", "/api/v1/auth/app/"+c.path+"/create-message-token", c.token, c.body); r.Status != c.want {
			t.Errorf("create-message-token with %s: %d %s, want %d", c.what, r.Status, r.Body, c.want)
		}
	}
	// The test's operator token, the API key and the message token.
	if n := len(listAll(t, srv, "/api/v1/token")); n != 3 {
		t.Errorf("%d tokens after the refused requests, want 3", n)
	}

	srv.Op("POST", "/api/v1/auth/app/acme/expire-all", map[string]any{}, 204)
	if r := srv.Do("POST", "/api/v1/app/acme/msg", tok, msg); r.Status != 401 {
		t.Errorf("message with the message token after expire-all: %d %s, want 401", r.Status, r.Body)
	}
	if r := srv.Do("POST", "/api/v1/app/acme/msg", key, msg); r.Status != 202 {
		t.Errorf("message with the API key after expire-all: %d %s, want 202", r.Status, r.Body)
	}
}

// TestPortalLinkNamesItsLanguage: the Hookline extension lang puts the portal's language on the
// magic link; a language Hookline does not have is refused with a 422 that names the field.
func TestPortalLinkNamesItsLanguage(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	appID := createApp(t, srv, "Acme")
	var link struct{ URL string }
	srv.Op("POST", "/api/v1/auth/app-portal-access/"+appID, map[string]any{"lang": "de"}, 200).JSON(t, &link)
	if !strings.HasSuffix(link.URL, "&lang=de") {
		t.Errorf("link with lang de: %s", link.URL)
	}
	srv.Op("POST", "/api/v1/auth/app-portal-access/"+appID, map[string]any{}, 200).JSON(t, &link)
	if strings.Contains(link.URL, "lang=") {
		t.Errorf("link without lang: %s", link.URL)
	}
	r := srv.Do("POST", "/api/v1/auth/app-portal-access/"+appID, srv.Token, map[string]any{"lang": "fr"})
	if r.Status != 422 || !strings.Contains(string(r.Body), `"lang"`) {
		t.Errorf("lang fr: %d %s, want a 422 naming lang", r.Status, r.Body)
	}
}

// TestPortalLinkScopedToEndpoints: the Hookline extension endpoints scopes a portal link to
// endpoints of the application, named by id or uid, duplicates folded; an empty list, more than
// 50, and an endpoint that is not the application's are refused with a 422 that names the item.
func TestPortalLinkScopedToEndpoints(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	appID := createApp(t, srv, "Acme")
	otherApp := createApp(t, srv, "Other")
	var ep, theirs struct{ ID string }
	srv.Op("POST", "/api/v1/app/"+appID+"/endpoint", map[string]any{"url": "https://example.com/hook", "uid": "billing"}, 201).JSON(t, &ep)
	srv.Op("POST", "/api/v1/app/"+otherApp+"/endpoint", map[string]any{"url": "https://example.com/hook"}, 201).JSON(t, &theirs)

	var link struct{ URL, Token string }
	srv.Op("POST", "/api/v1/auth/app-portal-access/"+appID, map[string]any{"endpoints": []string{ep.ID, "billing", ep.ID}}, 200).JSON(t, &link)
	if !strings.Contains(link.URL, "/dashboard/portal/login?token=") {
		t.Errorf("a scoped link: %s", link.URL)
	}

	many := make([]string, 51)
	for i := range many {
		many[i] = ep.ID
	}
	for _, c := range []struct {
		what      string
		endpoints []string
		loc       string
	}{
		{"an empty list", []string{}, `["body","endpoints"]`},
		{"51 endpoints", many, `["body","endpoints"]`},
		{"an endpoint that does not exist", []string{ep.ID, "ep_doesnotexist"}, `["body","endpoints","1"]`},
		{"another application's endpoint", []string{theirs.ID}, `["body","endpoints","0"]`},
	} {
		r := srv.Do("POST", "/api/v1/auth/app-portal-access/"+appID, srv.Token, map[string]any{"endpoints": c.endpoints})
		if r.Status != 422 || !strings.Contains(string(r.Body), `"loc":`+c.loc) || !strings.Contains(string(r.Body), `"code":"validation"`) {
			t.Errorf("%s: %d %s, want a 422 at %s", c.what, r.Status, r.Body, c.loc)
		}
	}
}
