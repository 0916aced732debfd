package ui

import (
	"net/http"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/auth"
)

// renderBadPortalLink answers a magic link that does not open the portal, and says why: a
// link that never was one (mistyped, cut short, or a token of another kind) is "not valid", one
// that was revoked "no longer works", only one past its expiry "has expired", and a single-use
// link opened before "has been used".
func (d *Dashboard) renderBadPortalLink(w http.ResponseWriter, r *http.Request, text string) error {
	data := errorData{Title: "This link is not valid", HideActions: true,
		Message: "The address may be incomplete or mistyped. Open the webhooks page of your platform again to get a working link."}
	if text != "" {
		tok, err := d.store.GetTokenByHash(r.Context(), auth.Hash(text))
		switch {
		case err != nil && !hookline.IsNotFound(err):
			return err
		case err != nil || tok.Kind != hookline.TokenPortal:
		case tok.RevokedAt != nil:
			data.Title = "This link no longer works"
			data.Message = "It was withdrawn by the platform that made it. Open the webhooks page of your platform again to get a fresh one."
		case tok.ExpiresAt != nil && !d.svc.Now().Before(*tok.ExpiresAt):
			data.Title = "This link has expired"
			data.Message = "Portal links work for a limited time. Open the webhooks page of your platform again to get a fresh one."
		case tok.SingleUse && tok.UsedAt != nil:
			data.Title = "This link has been used"
			data.Message = "A portal link opens the portal once, so nobody can use it again. Open the webhooks page of your platform again to get a fresh one."
		}
	}
	return d.render(w, r, http.StatusUnauthorized, pageError, &view{Title: data.Title, Data: data})
}
