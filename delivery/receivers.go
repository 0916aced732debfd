package delivery

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/delivery/mtls"
	"github.com/hookline/hookline/delivery/oauth"
	"github.com/hookline/hookline/delivery/serverca"
)

// maxReceiverRoutes bounds how many endpoints' clients the sender keeps; beyond it the cache
// starts again (the clients are rebuilt on their next delivery).
// receiverRoute is how the deliveries of one endpoint with receiver settings are made, built
// from the endpoint as it was at its UpdatedAt (kept in Sender.receivers).
type receiverRoute struct {
	client    *http.Client    // its own transport when it has TLS settings, else the shared client
	transport *http.Transport // nil when it shares the sender's
	tokens    *oauth.Source   // nil without OAuth
	err       error           // settings that do not build: every attempt fails with this reason
}

// route returns the route of ep, building it when ep is newer than the cached one.
func (s *Sender) route(ep *hookline.Endpoint) *receiverRoute {
	return s.receivers.get(ep, func() *receiverRoute { return s.buildRoute(ep) })
}

func (rt *receiverRoute) close() {
	if rt.transport != nil {
		rt.transport.CloseIdleConnections()
	}
}

// buildRoute makes the client of an endpoint's receiver settings: a transport of its own with
// the client certificate and the server CA when it has either, and a token source when it has
// an OAuth client. Token requests use the shared client: the system's roots, no client
// certificate, the egress policy, no redirects.
func (s *Sender) buildRoute(ep *hookline.Endpoint) *receiverRoute {
	r := ep.Receiver
	rt := &receiverRoute{client: s.client}
	if r.MTLS != nil || r.ServerCA != nil {
		cfg := s.transport.TLSClientConfig.Clone()
		if r.MTLS != nil {
			cert, err := mtls.Certificate(*r.MTLS)
			if err != nil {
				rt.err = errors.New("client certificate: " + err.Error())
				return rt
			}
			// Presented whatever CAs the receiver says it accepts: the receiver decides.
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
		}
		if r.ServerCA != nil {
			pool, err := serverca.Pool(*r.ServerCA)
			if err != nil {
				rt.err = errors.New("server CA: " + err.Error())
				return rt
			}
			cfg.RootCAs = pool
		}
		rt.transport = s.transport.Clone()
		rt.transport.TLSClientConfig = cfg
		client := *s.client
		client.Transport = rt.transport
		rt.client = &client
	}
	if r.OAuth != nil {
		rt.tokens = oauth.New(*r.OAuth, s.client, nil)
		if s.refreshed != nil {
			rt.tokens.OnRotate(func(ctx context.Context, old, new string) { s.refreshed(ctx, ep, old, new) })
		}
	}
	return rt
}

// SendEndpoint sends body to url with method (the endpoint's URL and POST, or what its
// transformation chose), as SendMethod does, with the endpoint's receiver settings:
// its client certificate and server CA, and its OAuth 2.0 access token (fetched when needed, and
// once more when the receiver answers 401). A plain endpoint costs nothing more than Send. The
// timeout covers the whole attempt, token request included. header gets the Authorization the
// request carried.
func (s *Sender) SendEndpoint(ctx context.Context, ep *hookline.Endpoint, method, url string, header http.Header, body []byte, now time.Time) Result {
	if ep.Receiver.IsZero() {
		return s.SendMethod(ctx, method, url, header, body, now)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	start := time.Now()
	rt := s.route(ep)
	if rt.err != nil {
		return Result{Kind: FailConnection, Body: rt.err.Error()}
	}
	if rt.tokens == nil {
		return s.do(ctx, rt.client, method, url, header, body, now, start)
	}
	token, res, ok := s.token(ctx, rt, start)
	if !ok {
		return res
	}
	header.Set("Authorization", "Bearer "+token)
	res = s.do(ctx, rt.client, method, url, header, body, now, start)
	if res.Kind != FailNone || res.StatusCode != http.StatusUnauthorized {
		return res
	}
	// The receiver refused the token (revoked, or expired early): one new token, one more try.
	rt.tokens.Invalidate(token)
	if token, res, ok = s.token(ctx, rt, start); !ok {
		return res
	}
	header.Set("Authorization", "Bearer "+token)
	return s.do(ctx, rt.client, method, url, header, body, now, start)
}

// token gets the route's access token; when it cannot, the attempt's Result says why.
func (s *Sender) token(ctx context.Context, rt *receiverRoute, start time.Time) (string, Result, bool) {
	token, err := rt.tokens.Token(ctx)
	if err == nil {
		return token, Result{}, true
	}
	reason := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		reason = s.describe(err)
	}
	return "", Result{Kind: classify(err), Body: "OAuth 2.0 token request failed: " + reason, Duration: time.Since(start)}, false
}
