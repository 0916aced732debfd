package ui

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

// An application's API keys: application tokens, which call the API for that application only.
// Operators and customers in a portal that is not read-only make and revoke them; a key's text
// is shown once, on the page that answers its creation.

// apiKeyExpiries are the lifetimes the form offers, by form value ("" never expires), with
// the message id of their words.
var apiKeyExpiries = []struct {
	Value, Label string
	TTL          time.Duration
}{
	{"", "apikeys.expiresNever", 0},
	{"30d", "apikeys.expires30Days", 30 * 24 * time.Hour},
	{"90d", "apikeys.expires90Days", 90 * 24 * time.Hour},
	{"365d", "apikeys.expiresYear", 365 * 24 * time.Hour},
}

// maxListedKeys bounds the keys the page lists.
const maxListedKeys = 500

type apiKeysData struct {
	Keys     []hookline.Token
	More     bool
	Expiries []choice
	// NewKey is the text of the key just made, shown this once; NewName its name.
	NewKey, NewName string
	Curl            string
	Now             time.Time
}

func (d *Dashboard) listAPIKeys(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	if err := requireUnscoped(s); err != nil {
		return err
	}
	return d.renderAPIKeys(w, r, s, app, http.StatusOK, apiKeysData{}, nil)
}

func (d *Dashboard) renderAPIKeys(w http.ResponseWriter, r *http.Request, s *session, app *hookline.Application, status int, data apiKeysData, errs map[string]string) error {
	keys, more, err := d.apiKeys(r, app.ID)
	if err != nil {
		return err
	}
	data.Keys, data.More, data.Now = keys, more, d.svc.Now()
	for _, e := range apiKeyExpiries {
		data.Expiries = append(data.Expiries, choice{e.Value, d.tr(r).T(e.Label)})
	}
	data.Curl = fmt.Sprintf("curl %s/api/v1/app/%s/endpoint \\\n  -H \"Authorization: Bearer $API_KEY\"", d.publicBase(r), app.ID)
	v := &view{Title: d.tr(r).T("common.apiKeys"), Session: s, App: app, Nav: "api-keys", Data: data, Errors: errs}
	if errs != nil {
		v.Form = r.PostForm
	}
	return d.render(w, r, status, pageAPIKeys, v)
}

// apiKeys lists the application's unrevoked API keys, newest first.
func (d *Dashboard) apiKeys(r *http.Request, appID string) ([]hookline.Token, bool, error) {
	var keys []hookline.Token
	opts := hookline.ListOptions{Limit: 100, Descending: true}
	for {
		page, err := d.store.ListTokens(r.Context(), appID, opts)
		if err != nil {
			return nil, false, err
		}
		for _, t := range page.Data {
			if t.Kind == hookline.TokenApplication && t.RevokedAt == nil {
				if len(keys) == maxListedKeys {
					return keys, true, nil
				}
				keys = append(keys, t)
			}
		}
		if page.Done || len(page.Data) == 0 {
			return keys, false, nil
		}
		opts.Iterator = page.Data[len(page.Data)-1].ID
	}
}

func (d *Dashboard) createAPIKey(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	if err := requireUnscoped(s); err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	errs := map[string]string{}
	switch {
	case name == "":
		errs["name"] = d.tr(r).T("apikeys.nameMissing")
	case len(name) > 256:
		errs["name"] = d.tr(r).T("apikeys.nameTooLong")
	}
	var ttl time.Duration
	found := false
	for _, e := range apiKeyExpiries {
		if e.Value == r.PostFormValue("expires") {
			ttl, found = e.TTL, true
		}
	}
	if !found {
		errs["expires"] = d.tr(r).T("apikeys.expiresUnknown")
	}
	if len(errs) > 0 {
		return d.renderAPIKeys(w, r, s, app, http.StatusUnprocessableEntity, apiKeysData{}, errs)
	}
	text, _, err := d.svc.CreateToken(r.Context(), hookline.TokenApplication, app.ID, name, ttl)
	if err != nil {
		return err
	}
	// The key's text is on this page only: no redirect, and the page is never cached.
	return d.renderAPIKeys(w, r, s, app, http.StatusCreated, apiKeysData{NewKey: text, NewName: name}, nil)
}

func (d *Dashboard) revokeAPIKey(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	if err := requireUnscoped(s); err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	tok, err := d.store.GetToken(r.Context(), r.PathValue("key"))
	if hookline.IsNotFound(err) || (err == nil && (tok.AppID != app.ID || tok.Kind != hookline.TokenApplication)) {
		// Another application's keys, and tokens of other kinds, answer as if they did not exist.
		return notFound("no such API key")
	}
	if err != nil {
		return err
	}
	if err := d.store.RevokeToken(r.Context(), tok.ID, d.svc.Now()); err != nil {
		return err
	}
	return d.done(w, r, s, appURL(app.ID)+"/api-keys", d.tr(r).T("apikeys.revoked", "name", tok.Name))
}
