package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/i18n"
	"github.com/hookline/hookline/portal"
)

// Portal link lifetimes, as Svix's: one hour to seven days, seven days by default.
const (
	minPortalExpiry     = time.Hour
	maxPortalExpiry     = 7 * 24 * time.Hour
	defaultPortalExpiry = maxPortalExpiry
)

// AppPortalAccessIn asks for a customer-portal link to one application.
type AppPortalAccessIn struct {
	Application  *ApplicationIn `json:"application,omitempty" doc:"Creates the application, with the path's app_id as its uid, when it does not exist."`
	Expiry       *int64         `json:"expiry,omitempty" doc:"How long the link (and the portal session it opens) lasts, in seconds: 3600 to 604800 (default 7 days)."`
	ReadOnly     *bool          `json:"readOnly,omitempty" doc:"The portal shows everything but changes nothing."`
	SingleUse    *bool          `json:"singleUse,omitempty" doc:"Hookline extension. true (the default): the link opens the portal once; opening it sets the session cookie, and the link cannot be replayed. false: the link works until it expires, each opening a session, for a page that must load the same link again."`
	Lang         *string        `json:"lang,omitempty" doc:"Hookline extension. The portal's language for the session the link opens: en or de. Without it the portal follows the browser's Accept-Language, then the installation's --language."`
	Endpoints    []string       `json:"endpoints,omitempty" doc:"Hookline extension. Scopes the portal to these endpoints of the application (ids or uids, 1 to 50): it lists only them, shows only their deliveries and messages, and cannot add endpoints or API keys. Without it the portal shows every endpoint."`
	Capabilities []string       `json:"capabilities,omitempty" doc:"Svix's capabilities, of which Hookline's portal has two sets: [ViewBase, ViewEndpointSecret] is the read-only portal (readOnly true), and all six (ViewBase, ViewEndpointSecret, ManageEndpointSecret, ManageTransformations, CreateAttempts, ManageEndpoint) the full one. Any other set is refused with 422."`
	SessionID    *string        `json:"sessionId,omitempty" doc:"Your name for the session (1 to 64 of a-z, A-Z, 0-9, @, _ and -), kept by the portal session the link opens: expire-all with sessionIds ends only the tokens of those sessions."`
}

// sessionIDPattern is what a portal session id may hold (Svix's pattern, 1 to 64 characters).
var sessionIDPattern = regexp.MustCompile(`^[a-zA-Z0-9@_-]{1,64}$`)

// maxPortalEndpoints is how many endpoints a scoped portal link may name.
const maxPortalEndpoints = 50

// AppPortalAccessOut is a customer-portal magic link.
type AppPortalAccessOut struct {
	URL   string `json:"url" doc:"Open it (or put it in an iframe) to sign in to the portal of the application; it works once (unless singleUse was false), before the token expires."`
	Token string `json:"token" doc:"The portal session token inside the link."`
}

func (a *API) appPortalAccess(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	var in AppPortalAccessIn
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return decode(r, &in) // reports the size limit the way every route does
	}
	if len(bytes.TrimSpace(body)) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	if in.Endpoints != nil && len(in.Endpoints) == 0 {
		return fieldError("body", "endpoints", "value", "must name at least one endpoint; leave it out for a portal of every endpoint")
	}
	if len(in.Endpoints) > maxPortalEndpoints {
		return fieldError("body", "endpoints", "value", fmt.Sprintf("may name at most %d endpoints", maxPortalEndpoints))
	}
	lang := ""
	if in.Lang != nil {
		if lang = *in.Lang; !slices.Contains(i18n.Languages, lang) {
			return fieldError("body", "lang", "value", "must be one of "+strings.Join(i18n.Languages, ", "))
		}
	}
	ttl := defaultPortalExpiry
	if in.Expiry != nil {
		ttl = time.Duration(*in.Expiry) * time.Second
		if ttl < minPortalExpiry || ttl > maxPortalExpiry {
			return fieldError("body", "expiry", "value", "must be from 3600 (1 hour) to 604800 (7 days) seconds")
		}
	}
	app, err := a.application(r)
	if hookline.IsNotFound(err) && in.Application != nil {
		var rate *int
		if rate, err = in.Application.rate(); err != nil {
			return err
		}
		app = &hookline.Application{Name: in.Application.Name, UID: r.PathValue("app_id"),
			RateLimit: rate, Metadata: in.Application.Metadata}
		app, _, err = a.svc.GetOrCreateApplication(r.Context(), app)
	}
	if err != nil {
		return err
	}
	scope, err := a.portalScope(r, app, in.Endpoints)
	if err != nil {
		return err
	}
	sessionID := deref(in.SessionID)
	if in.SessionID != nil && !sessionIDPattern.MatchString(sessionID) {
		return fieldError("body", "sessionId", "value", "must be 1 to 64 characters of a-z, A-Z, 0-9, @, _ and -")
	}
	readOnly, err := portalMode(in.Capabilities, in.ReadOnly)
	if err != nil {
		return err
	}
	name := portal.LinkNameFor(readOnly)
	singleUse := in.SingleUse == nil || *in.SingleUse
	text, _, err := a.svc.CreatePortalToken(r.Context(), app.ID, name, ttl, singleUse, scope, sessionID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AppPortalAccessOut{URL: portal.LoginURL(portal.BaseURL(r, a.cfg.PublicURL), text, lang), Token: text})
	return nil
}

// The portal's two sets of Svix capabilities: read-only sees everything, the endpoint secret
// included, and changes nothing; full does everything.
var (
	readOnlyCapabilities = []string{"ViewBase", "ViewEndpointSecret"}
	fullCapabilities     = []string{"CreateAttempts", "ManageEndpoint", "ManageEndpointSecret", "ManageTransformations", "ViewBase", "ViewEndpointSecret"}
)

// portalMode returns whether a portal link is read-only, from Svix's capabilities (one of the
// two sets the portal has) and readOnly, which must agree when both are sent.
func portalMode(capabilities []string, readOnly *bool) (bool, error) {
	if capabilities == nil {
		return derefBool(readOnly), nil
	}
	set := slices.Compact(slices.Sorted(slices.Values(capabilities)))
	var ro bool
	switch {
	case slices.Equal(set, readOnlyCapabilities):
		ro = true
	case slices.Equal(set, fullCapabilities):
	default:
		return false, fieldError("body", "capabilities", "value", "Hookline's portal is read-only ("+
			strings.Join(readOnlyCapabilities, ", ")+") or full (all six capabilities); other sets are not supported")
	}
	if readOnly != nil && *readOnly != ro {
		return false, fieldError("body", "readOnly", "conflict", "disagrees with capabilities; send one of them")
	}
	return ro, nil
}

// portalScope resolves a portal link's endpoints (ids or uids) to the ids of endpoints of app,
// duplicates folded; nil for none (every endpoint).
func (a *API) portalScope(r *http.Request, app *hookline.Application, endpoints []string) ([]string, error) {
	if endpoints == nil {
		return nil, nil
	}
	ids := make([]string, 0, len(endpoints))
	for i, idOrUID := range endpoints {
		ep, err := a.store.GetEndpoint(r.Context(), app.ID, idOrUID)
		if hookline.IsNotFound(err) || (err == nil && ep.AppID != app.ID) {
			return nil, indexError("endpoints", i, fmt.Sprintf("endpoint %q does not exist in this application", idOrUID))
		}
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ids, ep.ID) {
			ids = append(ids, ep.ID)
		}
	}
	return ids, nil
}
