package api

import (
	"net/http"
)

// An operational-webhook endpoint's custom headers, like an ordinary endpoint's: sent with every
// operational webhook delivered to it (the dispatcher sends every endpoint's headers), and read
// back with the values of credentials left out.

// OperationalWebhookEndpointHeadersIn replaces an operational-webhook endpoint's custom headers
// (Svix's OperationalWebhookEndpointHeadersIn).
type OperationalWebhookEndpointHeadersIn struct {
	Headers map[string]string `json:"headers" doc:"Sent with every operational webhook to this endpoint."`
}

// OperationalWebhookEndpointHeadersOut lists an operational-webhook endpoint's custom headers
// (Svix's OperationalWebhookEndpointHeadersOut): the values of sensitive ones (credentials) are
// not returned, only their names.
type OperationalWebhookEndpointHeadersOut = EndpointHeadersOut

func (a *API) getOperationalEndpointHeaders(w http.ResponseWriter, r *http.Request) error {
	return a.writeHeaders(w, r, a.operationalEndpoint)
}

func (a *API) updateOperationalEndpointHeaders(w http.ResponseWriter, r *http.Request) error {
	var in OperationalWebhookEndpointHeadersIn
	if err := decode(r, &in); err != nil {
		return err
	}
	return a.replaceHeaders(w, r, a.operationalEndpoint, in.Headers)
}
