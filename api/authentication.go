package api

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/hookline/hookline"
)

// Svix's authentication routes beyond the portal link: logout, expire-all, whoami and
// create-message-token.

// expireAllKinds are the tokens expire-all ends: the ones the authentication routes hand out
// for an application (portal links, which are also the portal sessions they open, and message
// tokens). Application API keys, made and revoked one by one with /api/v1/token, stay.
var expireAllKinds = []hookline.TokenKind{hookline.TokenPortal, hookline.TokenMessage}

// maxExpireAllDelay is the longest expiry expire-all takes: 3 days, as Svix's.
const maxExpireAllDelay = 259200

// ApplicationTokenExpireIn says when expire-all ends the tokens (Svix's ApplicationTokenExpireIn).
type ApplicationTokenExpireIn struct {
	Expiry     *int64   `json:"expiry,omitempty" doc:"Seconds from now until the tokens stop working, 0 to 259200; absent or null: at once."`
	SessionIDs []string `json:"sessionIds,omitempty" doc:"Only the tokens of these sessions (the sessionId of app-portal-access), at most 1,000; empty or absent: every token."`
}

// WhoamiOut describes the token of the request (Svix's WhoamiOut).
type WhoamiOut struct {
	EnvID            *string `json:"envId,omitempty" doc:"Always absent: a Hookline server is one environment."`
	AppID            *string `json:"appId,omitempty" doc:"The application the token is limited to; absent for operator tokens."`
	StreamAppID      *string `json:"streamAppId,omitempty" doc:"Always absent: Hookline has no streams."`
	PermissionSource string  `json:"permissionSource" enum:"OidcJwt,SvixJwt,RegionalAuthToken,GlobalAuthToken,Unknown" doc:"GlobalAuthToken for operator tokens, SvixJwt for tokens bound to one application (API keys, portal sessions)."`
	SessionID        *string `json:"sessionId,omitempty" doc:"Always absent: Hookline's portal sessions carry no session id."`
}

// CreateTokenIn asks for a message token (Svix's CreateTokenIn).
type CreateTokenIn struct {
	Name   string `json:"name" required:"true" doc:"The token's name, to recognise it in the token list."`
	Expiry *int64 `json:"expiry,omitempty" doc:"Lifetime in seconds (at least 1); absent or null: no expiry."`
}

// ApiTokenOut is a new token with its text, shown this once (Svix's ApiTokenOut).
type ApiTokenOut struct {
	Token     string     `json:"token" doc:"The token's text (hlm_…); it is not shown again."`
	ID        string     `json:"id"`
	Name      *string    `json:"name,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	Scopes    []string   `json:"scopes,omitempty" doc:"What the token may do: [\"message.create\"]."`
}

// logout ends the portal session token that calls it. Other tokens are long-lived credentials
// (operator tokens, application API keys): one stray call must not end them, so they are
// refused; revoke them with DELETE /api/v1/token/{token_id}.
func (a *API) logout(w http.ResponseWriter, r *http.Request) error {
	tok := tokenFrom(r.Context())
	if tok.Kind != hookline.TokenPortal {
		return hookline.Errorf(hookline.EFORBIDDEN, "logout ends portal session tokens only; revoke other tokens with DELETE /api/v1/token/{token_id}")
	}
	if err := a.store.RevokeToken(r.Context(), tok.ID, a.svc.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// maxSessionIDs is how many sessions one expire-all may name (Svix's bound).
const maxSessionIDs = 1000

// expireAll ends every portal link and portal session, and every message token, of the
// application (or only those of the sessions named): at once, or after expiry seconds.
func (a *API) expireAll(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	var in ApplicationTokenExpireIn
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	delay := time.Duration(0)
	if in.Expiry != nil {
		if *in.Expiry < 0 || *in.Expiry > maxExpireAllDelay {
			return fieldError("body", "expiry", "value", "must be from 0 to 259200 seconds (3 days)")
		}
		delay = time.Duration(*in.Expiry) * time.Second
	}
	if len(in.SessionIDs) > maxSessionIDs {
		return fieldError("body", "sessionIds", "value", "may name at most 1000 sessions")
	}
	for i, id := range in.SessionIDs {
		if !sessionIDPattern.MatchString(id) {
			return indexError("sessionIds", i, "must be 1 to 64 characters of a-z, A-Z, 0-9, @, _ and -")
		}
	}
	app, err := a.application(r)
	if err != nil {
		return err
	}
	if _, err := a.store.ExpireTokens(r.Context(), app.ID, expireAllKinds, in.SessionIDs, a.svc.Now().Add(delay)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) whoami(w http.ResponseWriter, r *http.Request) error {
	tok := tokenFrom(r.Context())
	out := WhoamiOut{PermissionSource: "GlobalAuthToken"}
	if tok.Kind != hookline.TokenOperator {
		out.PermissionSource, out.AppID = "SvixJwt", optString(tok.AppID)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createMessageToken makes a token that can only create messages of one application.
func (a *API) createMessageToken(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	var in CreateTokenIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Name == "" {
		return fieldError("body", "name", "missing", "is required")
	}
	var ttl time.Duration
	if in.Expiry != nil {
		if *in.Expiry < 1 {
			return fieldError("body", "expiry", "value", "must be at least 1 second")
		}
		ttl = time.Duration(*in.Expiry) * time.Second
	}
	app, err := a.application(r)
	if err != nil {
		return err
	}
	text, tok, err := a.svc.CreateToken(r.Context(), hookline.TokenMessage, app.ID, in.Name, ttl)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ApiTokenOut{Token: text, ID: tok.ID, Name: &tok.Name, CreatedAt: tok.CreatedAt,
		ExpiresAt: tok.ExpiresAt, Scopes: []string{"message.create"}})
	return nil
}

// decodeOptional reads a JSON body into dst when there is one; an empty body leaves dst as is.
func decodeOptional(r *http.Request, dst any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return decode(r, dst) // reports the size limit the way every route does
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return decode(r, dst)
}
