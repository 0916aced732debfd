package ui

import (
	"net/http"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/portal"
)

// An application's open customer-portal sessions, for operators: the sessions single-use links
// opened and the reusable links, while they work; each can be revoked, which signs its browser
// out on its next request.

// maxListedSessions bounds the sessions the page lists.
const maxListedSessions = 500

type portalSessionRow struct {
	Token    hookline.Token
	Session  bool // made by opening a single-use link; else a reusable link
	ReadOnly bool
}

type portalSessionsData struct {
	Sessions []portalSessionRow
	More     bool
	// Unopened counts the single-use links not opened yet.
	Unopened int
}

func (d *Dashboard) listPortalSessions(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	now := d.svc.Now()
	var data portalSessionsData
	opts := hookline.ListOptions{Limit: 100, Descending: true}
	for done := false; !done; {
		page, err := d.store.ListTokens(r.Context(), app.ID, opts)
		if err != nil {
			return err
		}
		for _, t := range page.Data {
			switch {
			case t.Kind != hookline.TokenPortal || !t.Valid(now):
			case t.SingleUse:
				data.Unopened++
			case len(data.Sessions) == maxListedSessions:
				data.More = true
			default:
				data.Sessions = append(data.Sessions, portalSessionRow{Token: t, Session: portal.IsSession(t.Name), ReadOnly: portal.ReadOnly(t.Name)})
			}
		}
		done = page.Done || len(page.Data) == 0
		if !done {
			opts.Iterator = page.Data[len(page.Data)-1].ID
		}
	}
	return d.render(w, r, http.StatusOK, pagePortalSessions, &view{Title: d.tr(r).T("common.portalSessions"), Session: s, App: app, Nav: "portal-sessions", Data: data})
}

func (d *Dashboard) revokePortalSession(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	tok, err := d.store.GetToken(r.Context(), r.PathValue("session"))
	if hookline.IsNotFound(err) || (err == nil && (tok.AppID != app.ID || tok.Kind != hookline.TokenPortal)) {
		return notFound("no such portal session")
	}
	if err != nil {
		return err
	}
	if err := d.store.RevokeToken(r.Context(), tok.ID, d.svc.Now()); err != nil {
		return err
	}
	return d.done(w, r, s, appURL(app.ID)+"/portal-sessions", d.tr(r).T("portalsessions.revoked"))
}
