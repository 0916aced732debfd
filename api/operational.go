package api

import (
	"net/http"

	"github.com/hookline/hookline"
)

// The operator's operational-webhook endpoints are endpoints of Hookline's internal
// application, so they are signed, retried and logged like any other; these routes manage them.

// OperationalWebhookEndpointIn creates an operational-webhook endpoint.
type OperationalWebhookEndpointIn struct {
	OperationalWebhookEndpointUpdate
	Secret *string `json:"secret,omitempty"`
}

// OperationalWebhookEndpointUpdate replaces an operational-webhook endpoint's settings (its
// secret is kept).
type OperationalWebhookEndpointUpdate struct {
	URL          string            `json:"url"`
	Description  *string           `json:"description,omitempty"`
	UID          *string           `json:"uid,omitempty"`
	Disabled     *bool             `json:"disabled,omitempty"`
	EventTypes   []string          `json:"eventTypes,omitempty" enum:"endpoint.disabled,endpoint.enabled,message.attempt.exhausted,message.attempt.failing,message.attempt.recovered" doc:"Operational events to receive; empty: all."`
	FilterTypes  []string          `json:"filterTypes,omitempty" enum:"endpoint.disabled,endpoint.enabled,message.attempt.exhausted,message.attempt.failing,message.attempt.recovered" doc:"The 1.x name of eventTypes."`
	ThrottleRate *int              `json:"throttleRate,omitempty"`
	RateLimit    *int              `json:"rateLimit,omitempty" doc:"The 1.x name of throttleRate."`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

// filterAndRate returns the event types and rate, each sent under either name, once the event
// types are known to be operational ones.
func (in *OperationalWebhookEndpointUpdate) filterAndRate() ([]string, *int, error) {
	types, rate, err := filterAndRate(in.EventTypes, in.FilterTypes, in.ThrottleRate, in.RateLimit)
	if err != nil {
		return nil, nil, err
	}
	name := "eventTypes"
	if in.EventTypes == nil {
		name = "filterTypes"
	}
	return types, rate, checkOperationalTypes(types, name)
}

// OperationalWebhookEndpointOut is an operational-webhook endpoint.
type OperationalWebhookEndpointOut struct {
	ID           string            `json:"id"`
	UID          *string           `json:"uid,omitempty"`
	URL          string            `json:"url"`
	Description  string            `json:"description"`
	Disabled     bool              `json:"disabled"`
	EventTypes   []string          `json:"eventTypes,omitempty" svix:"v2"`
	FilterTypes  []string          `json:"filterTypes,omitempty" doc:"The 1.x name of eventTypes."`
	ThrottleRate *int              `json:"throttleRate,omitempty" svix:"v2"`
	RateLimit    *int              `json:"rateLimit,omitempty" doc:"The 1.x name of throttleRate."`
	Metadata     map[string]string `json:"metadata"`
	CreatedAt    string            `json:"createdAt"`
	UpdatedAt    string            `json:"updatedAt"`
}

// OperationalEventTypes are the event types of operational webhooks.
var OperationalEventTypes = []string{"endpoint.disabled", "endpoint.enabled", "message.attempt.exhausted",
	"message.attempt.failing", "message.attempt.recovered"}

func opEndpointOut(e *hookline.Endpoint) OperationalWebhookEndpointOut {
	return OperationalWebhookEndpointOut{ID: e.ID, UID: optString(e.UID), URL: e.URL, Description: e.Description,
		Disabled: e.Disabled, EventTypes: e.FilterTypes, FilterTypes: e.FilterTypes, ThrottleRate: e.RateLimit, RateLimit: e.RateLimit,
		Metadata:  nonNilMap(e.Metadata),
		CreatedAt: e.CreatedAt.Format(timeFormat), UpdatedAt: e.UpdatedAt.Format(timeFormat)}
}

const timeFormat = "2006-01-02T15:04:05.999999Z07:00"

func (a *API) operationalApp(r *http.Request) (*hookline.Application, error) {
	if err := requireOperator(r); err != nil {
		return nil, err
	}
	return hookline.EnsureOperationalApp(r.Context(), a.store, a.svc.Now())
}

func (a *API) operationalEndpoint(r *http.Request) (*hookline.Endpoint, error) {
	app, err := a.operationalApp(r)
	if err != nil {
		return nil, err
	}
	return a.store.GetEndpoint(r.Context(), app.ID, r.PathValue("endpoint_id"))
}

func checkOperationalTypes(types []string, field string) error {
	for _, t := range types {
		found := false
		for _, o := range OperationalEventTypes {
			found = found || o == t
		}
		if !found {
			return &hookline.Error{Code: hookline.EUNKNOWNEVENTTYPE, Message: field + ": " + t + " is not an operational event type",
				Fields: []hookline.FieldError{{Loc: []string{"body", field}, Msg: "unknown operational event type " + t, Type: "unknown_event_type"}}}
		}
	}
	return nil
}

func (a *API) listOperationalEndpoints(w http.ResponseWriter, r *http.Request) error {
	app, err := a.operationalApp(r)
	if err != nil {
		return err
	}
	opts, err := listOptions(r, false)
	if err != nil {
		return err
	}
	page, err := a.store.ListEndpoints(r.Context(), app.ID, opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listResponse(page, opts, func(e *hookline.Endpoint) string { return e.ID }, opEndpointOut))
	return nil
}

func (a *API) createOperationalEndpoint(w http.ResponseWriter, r *http.Request) error {
	var in OperationalWebhookEndpointIn
	if err := decode(r, &in); err != nil {
		return err
	}
	app, err := a.operationalApp(r)
	if err != nil {
		return err
	}
	types, rate, err := in.filterAndRate()
	if err != nil {
		return err
	}
	// Operational event types are not in the catalogue, so the filter is checked here and
	// set after the service's validation.
	ep := &hookline.Endpoint{AppID: app.ID, URL: in.URL, Description: deref(in.Description), UID: deref(in.UID),
		Disabled: derefBool(in.Disabled), RateLimit: rate, Metadata: in.Metadata, Secret: deref(in.Secret)}
	if err := a.svc.CreateEndpoint(r.Context(), ep); err != nil {
		return err
	}
	if len(types) > 0 {
		ep.FilterTypes = types
		if err := a.store.UpdateEndpoint(r.Context(), ep); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusCreated, opEndpointOut(ep))
	return nil
}

func (a *API) getOperationalEndpoint(w http.ResponseWriter, r *http.Request) error {
	ep, err := a.operationalEndpoint(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, opEndpointOut(ep))
	return nil
}

func (a *API) updateOperationalEndpoint(w http.ResponseWriter, r *http.Request) error {
	var in OperationalWebhookEndpointUpdate
	if err := decode(r, &in); err != nil {
		return err
	}
	ep, err := a.operationalEndpoint(r)
	if err != nil {
		return err
	}
	types, rate, err := in.filterAndRate()
	if err != nil {
		return err
	}
	ep.URL, ep.Description, ep.UID, ep.Disabled = in.URL, deref(in.Description), deref(in.UID), derefBool(in.Disabled)
	ep.RateLimit, ep.Metadata, ep.FilterTypes = rate, in.Metadata, nil
	if err := a.svc.UpdateEndpoint(r.Context(), ep); err != nil {
		return err
	}
	if len(types) > 0 {
		ep.FilterTypes = types
		if err := a.store.UpdateEndpoint(r.Context(), ep); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, opEndpointOut(ep))
	return nil
}

func (a *API) deleteOperationalEndpoint(w http.ResponseWriter, r *http.Request) error {
	ep, err := a.operationalEndpoint(r)
	if err != nil {
		return err
	}
	if err := a.store.DeleteEndpoint(r.Context(), ep.AppID, ep.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) getOperationalEndpointSecret(w http.ResponseWriter, r *http.Request) error {
	ep, err := a.operationalEndpoint(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, EndpointSecretOut{Key: ep.Secret})
	return nil
}

func (a *API) rotateOperationalEndpointSecret(w http.ResponseWriter, r *http.Request) error {
	var in EndpointSecretRotateIn
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	ep, err := a.operationalEndpoint(r)
	if err != nil {
		return err
	}
	if err := in.rotate(r, a.svc, ep); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
