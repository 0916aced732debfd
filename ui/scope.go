package ui

import (
	"slices"

	"github.com/hookline/hookline"
)

// Portal sessions scoped to chosen endpoints (a portal link made with "endpoints"): they see
// those endpoints only. Every page of another endpoint, and every attempt or message that only
// concerns others, answers as one that does not exist; the histories and the message log are
// filtered to one scoped endpoint at a time; the application-wide charts are hidden; creating
// endpoints and API keys is refused, since either would escape the scope.

// Scoped reports whether the session sees only some of its application's endpoints.
func (s *session) Scoped() bool { return s != nil && s.Scope != nil }

// Sees reports whether the session may see the endpoint epID.
func (s *session) Sees(epID string) bool {
	return !s.Scoped() || slices.Contains(s.Scope, epID)
}

// scopedEndpoint is the endpoint filter a session may use: the one asked for when the session
// sees it, else (a scoped session asking for all endpoints or another's) its first endpoint.
func (s *session) scopedEndpoint(asked string) string {
	switch {
	case !s.Scoped() || slices.Contains(s.Scope, asked):
		return asked
	case len(s.Scope) == 0:
		return "-" // a scope of no endpoint (the API makes none) matches no endpoint id
	}
	return s.Scope[0]
}

// errScoped refuses what would reach beyond a scoped portal's endpoints.
var errScoped = hookline.Errorf(hookline.EFORBIDDEN, "This portal shows only some endpoints of the application: it cannot add endpoints or API keys.")

// requireUnscoped refuses, in a scoped portal, what would escape its scope.
func requireUnscoped(s *session) error {
	if s.Scoped() {
		return errScoped
	}
	return nil
}

// scopeEndpoints keeps the endpoints the session sees.
func scopeEndpoints(s *session, eps []hookline.Endpoint) []hookline.Endpoint {
	if !s.Scoped() {
		return eps
	}
	return slices.DeleteFunc(slices.Clone(eps), func(ep hookline.Endpoint) bool { return !s.Sees(ep.ID) })
}
