package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/service"
	"github.com/hookline/hookline/transform"
)

// An endpoint's transformation (docs/transformations.md): Svix's get, patch and simulate.
// Svix's `variables` are not implemented: the patch and simulate refuse them (422,
// unsupported), as simulate refuses `channels`, which change nothing a transformation sees.

// EndpointTransformationOut is an endpoint's transformation.
type EndpointTransformationOut struct {
	Code      *string    `json:"code" doc:"The JavaScript function (null when none was set)."`
	Enabled   bool       `json:"enabled" doc:"Whether deliveries run it."`
	UpdatedAt *time.Time `json:"updatedAt" doc:"When it was last set (null when never)."`
}

// EndpointTransformationPatch changes an endpoint's transformation.
type EndpointTransformationPatch struct {
	Code    Nullable[string] `json:"code" doc:"The JavaScript function, declaring function handler(webhook); null removes it (and disables the transformation)."`
	Enabled *bool            `json:"enabled,omitempty" doc:"Whether deliveries run it; it needs code."`
}

// TransformationSimulateIn runs a transformation on a payload.
type TransformationSimulateIn struct {
	Code      string          `json:"code" doc:"The JavaScript function to run (not necessarily the endpoint's)."`
	EventType string          `json:"eventType" doc:"The event type's name, as webhook.eventType."`
	Payload   json.RawMessage `json:"payload" doc:"The message's payload, a JSON object, as webhook.payload."`
}

// TransformationSimulateOut is the request a delivery to the endpoint would send.
type TransformationSimulateOut struct {
	URL     string            `json:"url" doc:"Where the request goes."`
	Payload string            `json:"payload" doc:"The body, as signed and sent."`
	Method  string            `json:"method" enum:"POST,PUT,PATCH" doc:"The HTTP method."`
	Cancel  bool              `json:"cancel" doc:"True when the transformation cancels the delivery: nothing is sent."`
	Headers map[string]string `json:"headers" doc:"The headers the transformation adds over the endpoint's own (Hookline's addition to Svix's model)."`
}

func transformationOut(t *hookline.Transformation) EndpointTransformationOut {
	if t == nil {
		return EndpointTransformationOut{}
	}
	out := EndpointTransformationOut{Enabled: t.Enabled}
	if t.Code != "" {
		out.Code = &t.Code
	}
	if !t.UpdatedAt.IsZero() {
		at := t.UpdatedAt
		out.UpdatedAt = &at
	}
	return out
}

func (a *API) getEndpointTransformation(w http.ResponseWriter, r *http.Request) error {
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, transformationOut(ep.Transformation))
	return nil
}

func (a *API) patchEndpointTransformation(w http.ResponseWriter, r *http.Request) error {
	var in EndpointTransformationPatch
	if err := decode(r, &in); err != nil {
		return err
	}
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	var p service.TransformationPatch
	if in.Code.Set {
		code := in.Code.Value
		if in.Code.Null {
			code = ""
		}
		p.Code = &code
	}
	p.Enabled = in.Enabled
	if _, err := a.svc.SetTransformation(r.Context(), ep, p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// eventTypeNamePattern is Svix's pattern of TransformationSimulateIn.eventType.
var eventTypeNamePattern = regexp.MustCompile(`^[a-zA-Z0-9\-_.]+$`)

func (a *API) simulateEndpointTransformation(w http.ResponseWriter, r *http.Request) error {
	var in TransformationSimulateIn
	if err := decode(r, &in); err != nil {
		return err
	}
	switch {
	case in.Code == "":
		return fieldError("body", "code", "missing", "is required")
	case in.EventType == "":
		return fieldError("body", "eventType", "missing", "is required")
	case len(in.EventType) > 256 || !eventTypeNamePattern.MatchString(in.EventType):
		return fieldError("body", "eventType", "value", "must be 1 to 256 characters of a-z A-Z 0-9 - _ .")
	case len(in.Payload) == 0 || string(in.Payload) == "null":
		return fieldError("body", "payload", "missing", "is required")
	case in.Payload[0] != '{':
		return fieldError("body", "payload", "type", "must be a JSON object")
	}
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	res, err := a.svc.SimulateTransformation(r.Context(), ep, in.Code, in.EventType, in.Payload)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, simulateOut(res))
	return nil
}

func simulateOut(res transform.Result) TransformationSimulateOut {
	out := TransformationSimulateOut{URL: res.URL, Payload: string(res.Payload), Method: res.Method, Cancel: res.Cancel, Headers: res.Headers}
	if out.Headers == nil {
		out.Headers = map[string]string{}
	}
	return out
}
