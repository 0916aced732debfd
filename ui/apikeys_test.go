package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/testserver"
)

var newKeyField = regexp.MustCompile(`id="newkey" class="mono" readonly value="(hla_[0-9A-Za-z]+)"`)

// TestAPIKeysWithoutJavaScript: an operator makes, uses and revokes an application's API key
// with plain forms, as a browser without scripts does; bad input is named next to its field and
// makes nothing.
func TestAPIKeysWithoutJavaScript(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	var app struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Cleartix", "uid": "cleartix"}, 201).JSON(t, &app)
	b := newBrowser(t, srv.URL)
	b.signIn(srv.Token)
	keys := "/dashboard/apps/" + app.ID + "/api-keys"
	csrf := csrfOf(t, b.get(keys))

	for _, bad := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"name": {"  "}, "expires": {""}}, "name-error"},
		{url.Values{"name": {strings.Repeat("n", 257)}, "expires": {""}}, "name-error"},
		{url.Values{"name": {"CRM"}, "expires": {"5y"}}, "expires-error"},
	} {
		bad.form.Set("csrf", csrf)
		if p := b.post(keys, bad.form); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="`+bad.field+`"`) {
			t.Errorf("create with %v: status %d, want 422 with %s", bad.form, p.Status, bad.field)
		}
	}
	p := b.post(keys, url.Values{"csrf": {csrf}, "name": {"CRM sync"}, "expires": {"30d"}})
	m := newKeyField.FindStringSubmatch(p.Body)
	if p.Status != http.StatusCreated || m == nil {
		t.Fatalf("create: status %d, no key on the page", p.Status)
	}
	key := m[1]
	if p.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the page with the new key is cacheable: %q", p.Header.Get("Cache-Control"))
	}
	if r := srv.Do("GET", "/api/v1/app/cleartix/endpoint", key, nil); r.Status != 200 {
		t.Fatalf("the key on the API: %d", r.Status)
	}
	list := b.get(keys)
	if strings.Contains(list.Body, key) || !strings.Contains(list.Body, "CRM sync") || !strings.Contains(list.Body, key[:8]+"…") {
		t.Errorf("the list shows the key's text, or not its name and prefix")
	}
	if strings.Contains(list.Body, `<span class="muted">Never</span>`) {
		t.Errorf("the list says the used, expiring key was never used or never expires")
	}
	var listed struct{ Data []struct{ ID string } }
	srv.Op("GET", "/api/v1/token?app_id="+app.ID, nil, 200).JSON(t, &listed)
	if len(listed.Data) != 1 {
		t.Fatalf("%d tokens, want the one key", len(listed.Data))
	}
	if p := b.post(keys+"/"+listed.Data[0].ID+"/revoke", url.Values{"csrf": {csrf}}); p.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", p.Status)
	}
	if r := srv.Do("GET", "/api/v1/app/cleartix/endpoint", key, nil); r.Status != 401 {
		t.Errorf("the revoked key on the API: %d, want 401", r.Status)
	}
	if p := b.get(keys); !strings.Contains(p.Body, "No API keys yet") {
		t.Error("the revoked key is still listed")
	}
	// The operator's own session is not an API key of the application, and cannot be revoked here.
	if p := b.post(keys+"/tok_doesnotexist/revoke", url.Values{"csrf": {csrf}}); p.Status != http.StatusNotFound {
		t.Errorf("revoke of an unknown key: %d, want 404", p.Status)
	}
}
