package dashboard

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/internal/testserver"
)

// TestAPIKeysInThePortal walks a customer through API keys in the portal, in Chromium: create a
// named key, copy it with the copy button, see it listed (name, prefix, created, last used),
// call the API with it, revoke it and see the API refuse it. A read-only portal sees the list
// but cannot create or revoke, and no portal sees or touches another application's keys.
func TestAPIKeysInThePortal(t *testing.T) {
	chromium := findChromium(t)
	srv := testserver.Start(t, testserver.Options{})
	rc := newReceiver(t)
	appID := createApp(t, srv, "Cleartix", "cleartix")
	otherID := createApp(t, srv, "Other Corp", "other-corp")
	createEndpoint(t, srv, appID, rc.URL, "Ticket sync")
	var other struct{ ID, Token string }
	srv.Op("POST", "/api/v1/token", map[string]any{"kind": "application", "appId": otherID, "name": "Other's key"}, 201).JSON(t, &other)
	keysURL := srv.URL + "/dashboard/apps/" + appID + "/api-keys"

	b := newBrowser(t, chromium)
	link, _ := portalLink(t, srv, appID, map[string]any{})
	b.open(link)
	b.click(`//a[normalize-space()="API keys"]`)
	if loc := b.location(); loc != keysURL {
		t.Fatalf("the API keys tab is at %s, want %s", loc, keysURL)
	}
	if body := b.body(); !strings.Contains(body, "No API keys yet") || strings.Contains(body, "Other's key") {
		t.Fatalf("the portal's API keys before any: %s", body)
	}

	// An empty name is refused next to the field, and nothing is made.
	b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("name").removeAttribute("required")`))
	if status := b.click(`//button[normalize-space()="Create API key"]`); status != http.StatusUnprocessableEntity {
		t.Errorf("an unnamed key: status %d, want 422", status)
	}
	if got := b.text("#name-error"); !strings.Contains(got, "Give the key a name") {
		t.Errorf("an unnamed key: the field says %q", got)
	}

	b.do(chromedp.SendKeys(chromedp.Search("#name"), "CRM sync"))
	if status := b.click(`//button[normalize-space()="Create API key"]`); status != http.StatusCreated {
		t.Errorf("create: status %d, want 201", status)
	}
	key := b.attr("#newkey", "value")
	if !strings.HasPrefix(key, "hla_") || !strings.Contains(b.body(), "it is not shown again") {
		t.Fatalf("the new key is %q; page: %s", key, b.body())
	}
	// The copy button works under the strict CSP (the dashboard's own script).
	// (The clipboard itself is the browser's; the test records what the page's script hands it.)
	b.do(chromedp.Evaluate[chromedp.Void](`navigator.clipboard.writeText = function (t) { window.copied = t; return Promise.resolve(); }`))
	b.do(chromedp.Click(chromedp.Search(`//button[@data-copy="newkey"]`), chromedp.NodeVisible))
	copied, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`window.copied || ""`))
	if err != nil || copied != key {
		t.Errorf("the copy button copied %q (%v), want the key", copied, err)
	}
	b.shot("api-keys-created")

	// The key calls the API for its application only.
	if r := srv.Do("GET", "/api/v1/app/"+appID+"/endpoint", key, nil); r.Status != 200 || !strings.Contains(string(r.Body), "Ticket sync") {
		t.Fatalf("the new key against the API: %d %s", r.Status, r.Body)
	}
	if r := srv.Do("GET", "/api/v1/app/"+otherID+"/endpoint", key, nil); r.Status != 403 && r.Status != 404 {
		t.Errorf("the new key against another application: %d, want 403 or 404", r.Status)
	}

	// Listed with its name, prefix, creation and last use; never with its text.
	b.open(keysURL)
	row := b.text(`//table[@id="apikeys"]//tr[td[normalize-space()="CRM sync"]]`)
	if !strings.Contains(row, key[:8]+"…") || !strings.Contains(row, "just now") || strings.Contains(row, "Never\tNever") {
		t.Errorf("the key's row: %q", row)
	}
	if strings.Contains(b.body(), key) {
		t.Error("the list shows the key's text")
	}
	var listed struct {
		Data []struct {
			ID, Name   string
			LastUsedAt *string `json:"lastUsedAt"`
		}
	}
	srv.Op("GET", "/api/v1/token?app_id="+appID, nil, 200).JSON(t, &listed)
	if len(listed.Data) == 0 || listed.Data[0].LastUsedAt == nil {
		b, _ := json.Marshal(listed)
		t.Errorf("the token list does not say when the key was last used: %s", b)
	}

	// Another application's key cannot be revoked through this portal, even by its id.
	for _, action := range []string{"/dashboard/apps/" + appID + "/api-keys/" + other.ID + "/revoke", "/dashboard/apps/" + otherID + "/api-keys/" + other.ID + "/revoke"} {
		if st := b.post(action, nil); st != http.StatusNotFound {
			t.Errorf("POST %s from the portal: %d, want 404", action, st)
		}
	}
	if r := srv.Do("GET", "/api/v1/app/"+otherID+"/endpoint", other.Token, nil); r.Status != 200 {
		t.Errorf("another application's key after a portal tried to revoke it: %d, want 200", r.Status)
	}
	b.open(keysURL)

	// Revoke, after the confirmation prompt.
	b.do(chromedp.Evaluate[chromedp.Void](`window.confirm = function () { return true; }`))
	b.click(`//button[@aria-label="Revoke CRM sync"]`)
	if body := b.body(); !strings.Contains(body, `API key "CRM sync" revoked`) || strings.Contains(b.text("main"), "hla_") {
		t.Errorf("after revoke: %s", body)
	}
	if r := srv.Do("GET", "/api/v1/app/"+appID+"/endpoint", key, nil); r.Status != 401 {
		t.Errorf("the revoked key against the API: %d, want 401", r.Status)
	}

	// A read-only portal lists keys but offers no form, and refuses the actions.
	srv.Op("POST", "/api/v1/token", map[string]any{"kind": "application", "appId": appID, "name": "Reporting"}, 201)
	ro := newBrowser(t, chromium)
	roLink, _ := portalLink(t, srv, appID, map[string]any{"readOnly": true})
	ro.open(roLink)
	ro.open(keysURL)
	if body := ro.body(); !strings.Contains(body, "Reporting") || strings.Contains(body, "Create API key") || strings.Contains(body, "Revoke") {
		t.Errorf("a read-only portal's API keys: %s", body)
	}
	if st := ro.post("/dashboard/apps/"+appID+"/api-keys", map[string]string{"name": "sneaky"}); st != http.StatusForbidden {
		t.Errorf("a read-only portal creating a key: %d, want 403", st)
	}
}

// post submits a form to action from the current page, as the page's own forms do (with its
// CSRF token), and returns the status of the page it leads to.
func (b *tab) post(action string, fields map[string]string) int64 {
	b.t.Helper()
	js := `(function(){var f=document.createElement("form");f.method="post";f.action=` + jsString(action) + `;` +
		`function add(n,v){var i=document.createElement("input");i.type="hidden";i.name=n;i.value=v;f.appendChild(i);}` +
		`add("csrf",document.querySelector('input[name="csrf"]').value);`
	for k, v := range fields {
		js += `add(` + jsString(k) + `,` + jsString(v) + `);`
	}
	js += `document.body.appendChild(f);f.submit();})()`
	ctx, cancel := b.timeout()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Evaluate[chromedp.Void](js))
	if err != nil || resp == nil {
		b.t.Fatalf("POST %s: %v", action, err)
	}
	return resp.Status
}
