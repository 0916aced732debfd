package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hookline/hookline"
)

// TokenListQuery are the query parameters of the token list.
type TokenListQuery struct {
	ListQuery
	AppID string `query:"app_id" doc:"Only tokens of this application."`
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	var in TokenIn
	if err := decode(r, &in); err != nil {
		return err
	}
	// Portal tokens are sessions of the customer portal, made (expiring) by
	// POST /api/v1/auth/app-portal-access/{app_id}; they are not created here.
	if kind := hookline.TokenKind(in.Kind); kind != hookline.TokenOperator && kind != hookline.TokenApplication {
		return fieldError("body", "kind", "value", `must be "operator" or "application"`)
	}
	var ttl time.Duration
	if in.ExpiresIn != nil {
		if *in.ExpiresIn <= 0 {
			return fieldError("body", "expiresIn", "value", "must be a positive number of seconds")
		}
		ttl = time.Duration(*in.ExpiresIn) * time.Second
	}
	text, tok, err := a.svc.CreateToken(r.Context(), hookline.TokenKind(in.Kind), deref(in.AppID), in.Name, ttl)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, TokenCreatedOut{TokenOut: tokenOut(tok), Token: text})
	return nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	opts, err := listOptions(r, true)
	if err != nil {
		return err
	}
	appID := r.URL.Query().Get("app_id")
	if appID != "" {
		app, err := a.store.GetApplication(r.Context(), appID)
		if err != nil {
			return err
		}
		appID = app.ID
	}
	page, err := a.store.ListTokens(r.Context(), appID, opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listResponse(page, opts, func(t *hookline.Token) string { return t.ID }, tokenOut))
	return nil
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	if err := a.store.RevokeToken(r.Context(), r.PathValue("token_id"), a.svc.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) health(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.Ping(r.Context()); err != nil {
		return fmt.Errorf("%w: %v", hookline.ErrUnavailable, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
