package transform

import (
	"context"
	"net/http"

	"github.com/hookline/hookline"
)

// Input is the webhook a transformation of the endpoint receives for a message: the request
// Hookline would send without it.
func Input(ep *hookline.Endpoint, eventType string, payload []byte) Webhook {
	return Webhook{Method: http.MethodPost, URL: ep.URL, EventType: eventType, Payload: payload}
}

// Apply runs the endpoint's transformation (compiled once per endpoint and version) on a
// message and returns the request to send (Result.Payload is the body, to be signed as it is). The delivery engine calls it for every delivery of
// an endpoint whose transformation is active; the simulate route calls Simulate, which runs
// the same steps.
func (e *Engine) Apply(ctx context.Context, ep *hookline.Endpoint, eventType string, payload []byte) (Result, error) {
	tr := ep.Transformation
	p, err := e.Program(ep.ID, tr.UpdatedAt, tr.Code)
	if err != nil {
		return Result{}, err
	}
	return e.Run(ctx, p, Input(ep, eventType, payload))
}

// Simulate runs code as the endpoint's transformation on a payload and returns the request a
// delivery would then send.
func (e *Engine) Simulate(ctx context.Context, ep *hookline.Endpoint, code, eventType string, payload []byte) (Result, error) {
	p, err := Compile(code)
	if err != nil {
		return Result{}, err
	}
	return e.Run(ctx, p, Input(ep, eventType, payload))
}
