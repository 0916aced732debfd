package api

import (
	"net/http"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/destination"
)

// An endpoint's destination (a Hookline extension, docs/destinations.md): the endpoint's type,
// http (requests to its url) or a message broker, with the broker's connection URL and target.
// The Svix-shaped endpoint models are unchanged; these routes set and read the rest.

// EndpointDestinationIn sets an endpoint's type and, for a broker, where its deliveries go.
type EndpointDestinationIn struct {
	Type    string            `json:"type" required:"true" doc:"http (deliveries are HTTP requests to the endpoint's url: the default) or a broker type: redis, rabbitmq, nats, mqtt, kafka."`
	URL     string            `json:"url,omitempty" doc:"The broker's connection URL, credentials included (redis://user:pass@host:6379/0, amqp://user:pass@host:5672/vhost, kafka://user:pass@broker1:9092,broker2:9092). Stored sealed; answered without its password."`
	Options map[string]string `json:"options,omitempty" doc:"The type's target and settings: redis: stream (required), maxLen; rabbitmq: exchange, routingKey (one of them required), mandatory; nats: subject (required), stream; mqtt: topic (required), qos, version (5 or 3.1.1); kafka: topic (required), key (webhook-id, event-type or none), sasl (plain, scram-sha-256 or scram-sha-512)."`
}

// EndpointDestinationOut is an endpoint's type and destination, without the URL's password.
type EndpointDestinationOut struct {
	Type    string            `json:"type"`
	URL     *string           `json:"url" doc:"The broker's connection URL without its password; null for http."`
	Options map[string]string `json:"options"`
}

func destinationOut(ep *hookline.Endpoint) EndpointDestinationOut {
	d := ep.Destination
	if d == nil {
		return EndpointDestinationOut{Type: hookline.EndpointTypeHTTP, Options: map[string]string{}}
	}
	u := destination.Redacted(*d)
	out := EndpointDestinationOut{Type: d.Type, URL: &u, Options: d.Options}
	if out.Options == nil {
		out.Options = map[string]string{}
	}
	return out
}

func (a *API) getEndpointDestination(w http.ResponseWriter, r *http.Request) error {
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, destinationOut(ep))
	return nil
}

func (a *API) setEndpointDestination(w http.ResponseWriter, r *http.Request) error {
	var in EndpointDestinationIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Type == "" {
		return fieldError("body", "type", "missing", "is required")
	}
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	d := &hookline.Destination{Type: in.Type, URL: in.URL, Options: in.Options}
	if err := a.svc.SetEndpointDestination(r.Context(), ep, d); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, destinationOut(ep))
	return nil
}
