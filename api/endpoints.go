package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

func (a *API) listEndpoints(w http.ResponseWriter, r *http.Request) error {
	app, err := a.application(r)
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
	writeJSON(w, http.StatusOK, listResponse(page, opts, func(e *hookline.Endpoint) string { return e.ID }, endpointOut))
	return nil
}

func (a *API) createEndpoint(w http.ResponseWriter, r *http.Request) error {
	app, err := a.application(r)
	if err != nil {
		return err
	}
	var in EndpointIn
	if err := decode(r, &in); err != nil {
		return err
	}
	types, rate, err := filterAndRate(in.EventTypes, in.FilterTypes, in.ThrottleRate, in.RateLimit)
	if err != nil {
		return err
	}
	ep := &hookline.Endpoint{AppID: app.ID, URL: in.URL, Description: in.Description, UID: deref(in.UID),
		Disabled: derefBool(in.Disabled), FilterTypes: types, Channels: in.Channels, RateLimit: rate,
		Metadata: in.Metadata, Secret: deref(in.Secret), Headers: in.Headers}
	if in.Version != nil {
		ep.Version = *in.Version
	}
	if err := a.svc.CreateEndpoint(r.Context(), ep); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, endpointOut(ep))
	return nil
}

func (a *API) getEndpoint(w http.ResponseWriter, r *http.Request) error {
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, endpointOut(ep))
	return nil
}

// updateEndpoint replaces an endpoint's settings, creating the endpoint (with the path's value as
// uid) when it does not exist, as Svix's PUT does.
func (a *API) updateEndpoint(w http.ResponseWriter, r *http.Request) error {
	var in EndpointUpdate
	if err := decode(r, &in); err != nil {
		return err
	}
	var err error
	if in.FilterTypes, in.RateLimit, err = filterAndRate(in.EventTypes, in.FilterTypes, in.ThrottleRate, in.RateLimit); err != nil {
		return err
	}
	app, err := a.application(r)
	if err != nil {
		return err
	}
	idOrUID := r.PathValue("endpoint_id")
	ep, err := a.store.GetEndpoint(r.Context(), app.ID, idOrUID)
	if hookline.IsNotFound(err) && !hookline.HasIDPrefix(idOrUID, hookline.PrefixEndpoint) {
		ep = &hookline.Endpoint{AppID: app.ID, UID: idOrUID}
		if in.UID != nil {
			ep.UID = *in.UID
		}
		applyEndpointUpdate(ep, &in)
		if err := a.svc.CreateEndpoint(r.Context(), ep); err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, endpointOut(ep))
		return nil
	}
	if err != nil {
		return err
	}
	ep.UID = deref(in.UID)
	applyEndpointUpdate(ep, &in)
	if err := a.svc.UpdateEndpoint(r.Context(), ep); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, endpointOut(ep))
	return nil
}

func applyEndpointUpdate(ep *hookline.Endpoint, in *EndpointUpdate) {
	ep.URL, ep.Description, ep.Disabled = in.URL, in.Description, derefBool(in.Disabled)
	ep.FilterTypes, ep.Channels, ep.RateLimit, ep.Metadata = in.FilterTypes, in.Channels, in.RateLimit, in.Metadata
	if in.Version != nil {
		ep.Version = *in.Version
	} else if ep.Version == 0 {
		ep.Version = 1
	}
}

func (a *API) patchEndpoint(w http.ResponseWriter, r *http.Request) error {
	var in EndpointPatch
	if err := decode(r, &in); err != nil {
		return err
	}
	types, err := alias(in.EventTypes, in.FilterTypes, sentNullable[[]string], "eventTypes", "filterTypes")
	if err != nil {
		return err
	}
	rate, err := alias(in.ThrottleRate, in.RateLimit, sentNullable[int], "throttleRate", "rateLimit")
	if err != nil {
		return err
	}
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	if in.URL != nil {
		ep.URL = *in.URL
	}
	if in.Description != nil {
		ep.Description = *in.Description
	}
	in.UID.apply(&ep.UID, "")
	if in.Version != nil {
		ep.Version = *in.Version
	}
	if in.Disabled != nil {
		ep.Disabled = *in.Disabled
	}
	types.apply(&ep.FilterTypes, nil)
	in.Channels.apply(&ep.Channels, nil)
	rate.applyPtr(&ep.RateLimit)
	if in.Metadata != nil {
		ep.Metadata = *in.Metadata
	}
	if in.Secret.Set && !in.Secret.Null && in.Secret.Value != ep.Secret {
		// A new secret through PATCH is a rotation: the old one keeps its grace period. It is
		// saved with the other fields below, only if all of them are valid.
		if err := a.svc.StageRotation(ep, in.Secret.Value, "secret"); err != nil {
			return err
		}
	}
	if err := a.svc.UpdateEndpoint(r.Context(), ep); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, endpointOut(ep))
	return nil
}

func (a *API) deleteEndpoint(w http.ResponseWriter, r *http.Request) error {
	app, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	if err := a.store.DeleteEndpoint(r.Context(), app.ID, ep.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) getEndpointSecret(w http.ResponseWriter, r *http.Request) error {
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, EndpointSecretOut{Key: ep.Secret})
	return nil
}

func (a *API) rotateEndpointSecret(w http.ResponseWriter, r *http.Request) error {
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	var in EndpointSecretRotateIn
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	if err := in.rotate(r, a.svc, ep); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// appEndpoint is a.endpoint without the application.
func (a *API) appEndpoint(r *http.Request) (*hookline.Endpoint, error) {
	_, ep, err := a.endpoint(r)
	return ep, err
}

// writeHeaders answers the custom headers of the endpoint that find finds: an application's
// (appEndpoint) or an operational-webhook endpoint (operationalEndpoint).
func (a *API) writeHeaders(w http.ResponseWriter, r *http.Request, find func(*http.Request) (*hookline.Endpoint, error)) error {
	ep, err := find(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, endpointHeadersOut(ep.Headers))
	return nil
}

// replaceHeaders makes headers (required) the custom headers of the endpoint that find finds.
func (a *API) replaceHeaders(w http.ResponseWriter, r *http.Request, find func(*http.Request) (*hookline.Endpoint, error), headers map[string]string) error {
	if headers == nil {
		return fieldError("body", "headers", "missing", "is required")
	}
	ep, err := find(r)
	if err != nil {
		return err
	}
	ep.Headers = headers
	if err := a.svc.UpdateEndpoint(r.Context(), ep); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) getEndpointHeaders(w http.ResponseWriter, r *http.Request) error {
	return a.writeHeaders(w, r, a.appEndpoint)
}

func (a *API) updateEndpointHeaders(w http.ResponseWriter, r *http.Request) error {
	var in EndpointHeadersIn
	if err := decode(r, &in); err != nil {
		return err
	}
	return a.replaceHeaders(w, r, a.appEndpoint, in.Headers)
}

func (a *API) patchEndpointHeaders(w http.ResponseWriter, r *http.Request) error {
	var in EndpointHeadersPatchIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Headers == nil {
		return fieldError("body", "headers", "missing", "is required")
	}
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	if ep.Headers == nil {
		ep.Headers = map[string]string{}
	}
	for k, v := range in.Headers {
		if v == nil {
			delete(ep.Headers, k)
		} else {
			ep.Headers[k] = *v
		}
	}
	for _, k := range in.DeleteHeaders {
		for name := range ep.Headers {
			if strings.EqualFold(name, k) {
				delete(ep.Headers, name)
			}
		}
	}
	if err := a.svc.UpdateEndpoint(r.Context(), ep); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// EndpointStatsQuery limits an endpoint's stats to the deliveries created in a window.
type EndpointStatsQuery struct {
	Since time.Time `query:"since" doc:"Count only the deliveries created at or after this time (RFC 3339)."`
	Until time.Time `query:"until" doc:"Count only the deliveries created at or before this time (RFC 3339)."`
}

func (a *API) getEndpointStats(w http.ResponseWriter, r *http.Request) error {
	var window hookline.TimeWindow
	var err error
	if window.Since, err = timeQuery(r, "since"); err != nil {
		return err
	}
	if window.Until, err = timeQuery(r, "until"); err != nil {
		return err
	}
	app, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	s, err := a.store.EndpointStats(r.Context(), app.ID, ep.ID, window)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, EndpointStatsOut{Success: s.Success, Pending: s.Pending, Sending: s.Sending, Fail: s.Fail, Canceled: s.Canceled})
	return nil
}
