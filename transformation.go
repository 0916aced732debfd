package hookline

import (
	"context"
	"time"
)

// Transformation is an endpoint's JavaScript function (Svix's `function handler(webhook) { …
// return webhook; }`) that may change each delivery's payload, method and URL, add headers, or
// cancel it. The transform package runs it.
type Transformation struct {
	Code string
	// Enabled says deliveries run it; a disabled transformation keeps its code.
	Enabled bool
	// UpdatedAt is when it was last set: with the endpoint's id, the version compiled programs
	// are cached by.
	UpdatedAt time.Time
}

// Active reports whether deliveries run the transformation: it is set, enabled and has code.
func (t *Transformation) Active() bool { return t != nil && t.Enabled && t.Code != "" }

// TransformationStore keeps endpoints' transformations. Endpoint reads (GetEndpoint,
// ListEndpoints, the jobs of claims and fan-outs) return them in Endpoint.Transformation;
// UpdateEndpoint leaves them alone.
type TransformationStore interface {
	// SetEndpointTransformation replaces the endpoint's transformation, stamping its UpdatedAt
	// with the clock's time, which it returns. An unknown endpoint is ENOTFOUND.
	SetEndpointTransformation(ctx context.Context, appID, endpointID string, t Transformation) (updatedAt time.Time, err error)
}
