package ui

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/auth"
	"github.com/hookline/hookline/portal"
)

// Customer-portal links in the dashboard: an operator makes one for an application
// (createPortalLink; the API's app-portal-access makes the same), and a link that does not open
// the portal gets a page that says why (renderBadPortalLink). Opening a good one is portalLogin,
// in session.go; the sessions it opens are listed in portalsessions.go.

// renderBadPortalLink answers a magic link that does not open the portal, and says why: a
// link that never was one (mistyped, cut short, or a token of another kind) is "not valid", one
// that was revoked "no longer works", only one past its expiry "has expired", and a single-use
// link opened before "has been used".
func (d *Dashboard) renderBadPortalLink(w http.ResponseWriter, r *http.Request, text string) error {
	p := d.tr(r)
	data := errorData{Title: p.T("portal.linkInvalid"), HideActions: true, Message: p.T("portal.linkInvalidText")}
	if text != "" {
		tok, err := d.store.GetTokenByHash(r.Context(), auth.Hash(text))
		switch {
		case err != nil && !hookline.IsNotFound(err):
			return err
		case err != nil || tok.Kind != hookline.TokenPortal:
		case tok.RevokedAt != nil:
			data.Title, data.Message = p.T("portal.linkRevoked"), p.T("portal.linkRevokedText")
		case tok.ExpiresAt != nil && !d.svc.Now().Before(*tok.ExpiresAt):
			data.Title, data.Message = p.T("portal.linkExpired"), p.T("portal.linkExpiredText")
		case tok.SingleUse && tok.UsedAt != nil:
			data.Title = "This link has been used"
			data.Message = "A portal link opens the portal once, so nobody can use it again. Open the webhooks page of your platform again to get a fresh one."
		}
	}
	return d.render(w, r, http.StatusUnauthorized, pageError, &view{Title: data.Title, Data: data})
}

type portalLinkData struct {
	URL      string
	ReadOnly bool
	Expires  time.Time
	Curl     string
}

// createPortalLink makes a magic link to the application's portal, for an operator to open or
// hand over; platforms make them with POST /api/v1/auth/app-portal-access/{app_id}.
func (d *Dashboard) createPortalLink(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	readOnly := r.PostFormValue("readOnly") == "on"
	name := portal.LinkNameFor(readOnly)
	const ttl = 24 * time.Hour
	text, tok, err := d.svc.CreateSingleUseToken(r.Context(), hookline.TokenPortal, app.ID, name, ttl)
	if err != nil {
		return err
	}
	base := d.publicBase(r)
	data := portalLinkData{URL: portal.LoginURL(base, text, ""), ReadOnly: readOnly, Expires: *tok.ExpiresAt,
		Curl: fmt.Sprintf("curl -X POST %s/api/v1/auth/app-portal-access/%s \\\n  -H \"Authorization: Bearer $HOOKLINE_TOKEN\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\"expiry\": 3600}'", base, app.ID)}
	return d.render(w, r, http.StatusOK, pagePortalLink, &view{Title: d.tr(r).T("portallink.title"), Session: s, App: app, Nav: "endpoints", Data: data})
}
