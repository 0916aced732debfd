package api

import (
	"net/http"

	"github.com/hookline/hookline"
)

// requireOperator refuses application tokens.
func requireOperator(r *http.Request) error {
	if tok := tokenFrom(r.Context()); tok == nil || tok.Kind != hookline.TokenOperator {
		return hookline.Errorf(hookline.EFORBIDDEN, "this action needs an operator token")
	}
	return nil
}

// application resolves the {app_id} path value (an id or uid). An application token sees only
// its own application; any other answers not found, exactly as if it did not exist.
func (a *API) application(r *http.Request) (*hookline.Application, error) {
	idOrUID := r.PathValue("app_id")
	app, err := a.store.GetApplication(r.Context(), idOrUID)
	if err != nil {
		return nil, err
	}
	if app.Internal || !canSee(r, app.ID) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "application %q not found", idOrUID)
	}
	return app, nil
}

func canSee(r *http.Request, appID string) bool {
	tok := tokenFrom(r.Context())
	return tok != nil && (tok.Kind == hookline.TokenOperator || tok.AppID == appID)
}

// endpoint resolves {app_id} and {endpoint_id}.
func (a *API) endpoint(r *http.Request) (*hookline.Application, *hookline.Endpoint, error) {
	app, err := a.application(r)
	if err != nil {
		return nil, nil, err
	}
	ep, err := a.store.GetEndpoint(r.Context(), app.ID, r.PathValue("endpoint_id"))
	if err != nil {
		return nil, nil, err
	}
	return app, ep, nil
}

// message finds the message, of the application, that the request names.
func (a *API) message(r *http.Request) (*hookline.Application, *hookline.Message, error) {
	app, err := a.application(r)
	if err != nil {
		return nil, nil, err
	}
	msg, err := a.store.GetMessage(r.Context(), app.ID, r.PathValue("msg_id"))
	if err != nil {
		return nil, nil, err
	}
	return app, msg, nil
}

// idempotencyScope names whose keys a request's key is among: each application token's keys are
// its own, operator keys are shared by all operator tokens.
func idempotencyScope(r *http.Request) string {
	tok := tokenFrom(r.Context())
	if tok == nil || tok.Kind == hookline.TokenOperator {
		return "operator"
	}
	return tok.AppID
}
