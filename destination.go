package hookline

import (
	"context"
	"time"
)

// EndpointTypeHTTP is the type of an endpoint whose deliveries are HTTP requests to its URL:
// every endpoint without a Destination.
const EndpointTypeHTTP = "http"

// Destination is where an endpoint's deliveries go when they are not HTTP requests: a message
// broker of the given Type (a name the destination package registers, such as "redis" or
// "rabbitmq"). Stores keep it sealed under the main key, since its URL may hold credentials.
type Destination struct {
	// Type names the broker type.
	Type string `json:"type"`
	// URL is the broker's connection URL, credentials included (redis://user:pass@host:6379/0,
	// amqp://user:pass@host:5672/vhost).
	URL string `json:"url"`
	// Options are the type's other settings: the target (a stream, an exchange and a routing
	// key, a subject, a topic) and its knobs. Each type checks its own.
	Options map[string]string `json:"options,omitempty"`
}

// DestinationStore keeps endpoints' destinations. Endpoint reads (GetEndpoint, ListEndpoints,
// the fan-out) return them in Endpoint.Destination; UpdateEndpoint leaves them alone.
type DestinationStore interface {
	// SetEndpointDestination makes d the endpoint's destination (nil: back to HTTP) and sets
	// its UpdatedAt to the clock's time, which it returns. An unknown endpoint is ENOTFOUND.
	SetEndpointDestination(ctx context.Context, appID, endpointID string, d *Destination) (updatedAt time.Time, err error)
}
