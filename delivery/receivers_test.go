package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// TestReceiverRoutesByVersion: a plain endpoint's delivery does not touch the receiver cache;
// an endpoint with settings gets one route per version: the same route while its UpdatedAt
// stays, a new one for a later UpdatedAt, and the newer one still for a job that carries an
// older copy of the endpoint.
func TestReceiverRoutesByVersion(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	s := testSender(5 * time.Second)
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	plain := &hookline.Endpoint{ID: "ep_plain", URL: srv.URL, UpdatedAt: at}
	if res := s.SendEndpoint(ctx, plain, http.MethodPost, plain.URL, http.Header{}, []byte(`{}`), at); !res.OK() {
		t.Fatalf("plain endpoint: %+v", res)
	}
	if s.receivers.routes != nil {
		t.Fatalf("a plain endpoint's delivery made receiver routes: %v", s.receivers.routes)
	}

	ep := &hookline.Endpoint{ID: "ep_ca", URL: srv.URL, UpdatedAt: at,
		Receiver: hookline.Receiver{ServerCA: &hookline.ServerCA{PEM: "not a certificate"}}}
	res := s.SendEndpoint(ctx, ep, http.MethodPost, ep.URL, http.Header{}, []byte(`{}`), at)
	if res.OK() || res.Body != "server CA: the server CA bundle holds no certificate" {
		t.Fatalf("an endpoint whose CA does not build: %+v; want a failure saying why", res)
	}
	first := s.route(ep)
	if again := s.route(ep); again != first {
		t.Fatal("the same version of the endpoint built a second route")
	}
	newer := *ep
	newer.UpdatedAt = at.Add(time.Second)
	newer.Receiver = hookline.Receiver{OAuth: &hookline.OAuthClient{TokenURL: srv.URL, ClientID: "c"}}
	second := s.route(&newer)
	if second == first || second.tokens == nil || second.err != nil {
		t.Fatalf("a newer version kept the old route (%p, %p) or did not build: %+v", first, second, second)
	}
	if older := s.route(ep); older != second {
		t.Fatal("a job with an older copy of the endpoint rebuilt the route")
	}
}
