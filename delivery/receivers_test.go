package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/egress"
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

// TestTokenURLCheckedAtDial: the token request goes through the egress policy at dial time, as
// deliveries do: a token URL on loopback is refused when the policy does not allow private
// addresses, the attempt fails as a policy failure that says so, and the receiver gets nothing.
func TestTokenURLCheckedAtDial(t *testing.T) {
	tokens := 0
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokens++
		w.Write([]byte(`{"access_token":"t","token_type":"Bearer"}`))
	}))
	defer tokenSrv.Close()
	s := NewSender(egress.Policy{AllowHTTP: true}, 5*time.Second, 0)
	ep := &hookline.Endpoint{ID: "ep_oauth", URL: "http://198.51.100.7/in", UpdatedAt: time.Now(),
		Receiver: hookline.Receiver{OAuth: &hookline.OAuthClient{TokenURL: tokenSrv.URL + "/token", ClientID: "c",
			AuthMethod: hookline.OAuthClientSecretBasic}}}
	res := s.SendEndpoint(context.Background(), ep, http.MethodPost, ep.URL, http.Header{}, []byte(`{}`), time.Now())
	if res.Kind != FailPolicy || !strings.HasPrefix(res.Body, "OAuth 2.0 token request failed: refused by egress policy") {
		t.Fatalf("result = %+v; want a policy failure of the token request", res)
	}
	if tokens != 0 {
		t.Fatalf("the token server got %d requests", tokens)
	}
}

// BenchmarkRouteLookup is what an endpoint with receiver settings costs per delivery beyond a
// plain one: finding its client and token source in the cache (a plain endpoint skips even that).
func BenchmarkRouteLookup(b *testing.B) {
	s := testSender(5 * time.Second)
	ep := &hookline.Endpoint{ID: "ep_oauth", UpdatedAt: time.Now(),
		Receiver: hookline.Receiver{OAuth: &hookline.OAuthClient{TokenURL: "https://auth.example.com/token", ClientID: "c"}}}
	s.route(ep)
	b.ReportAllocs()
	for b.Loop() {
		s.route(ep)
	}
}
