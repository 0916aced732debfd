package signing

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/egress"
	"github.com/hookline/hookline/internal/testserver"
	"github.com/hookline/hookline/signature"
)

// production turns dev mode off, as in a real deployment, and sets the private networks that
// endpoints may still reach (none when allow is empty).
func production(allow ...string) func(*config.Config) {
	return func(cfg *config.Config) {
		cfg.Dev = false
		cfg.AllowNetworks = nil
		for _, a := range allow {
			cfg.AllowNetworks = append(cfg.AllowNetworks, netip.MustParsePrefix(a))
		}
	}
}

// onReceiverHost returns u with its host replaced by receiverHost, which the test DNS resolves
// to 127.0.0.1; the port stays.
func onReceiverHost(t *testing.T, u string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	parsed.Host = receiverHost + ":" + parsed.Port()
	return parsed.String()
}

func TestEndpointURLPolicy(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{Configure: production()})
	allowed := testserver.Start(t, testserver.Options{Configure: production("127.0.0.0/8")})

	tests := []struct {
		url string
		// want is the status without an allow-list, and with 127.0.0.0/8 allowed.
		want, wantAllowed int
	}{
		{"https://127.0.0.1/hook", 422, 201},
		{"https://127.0.0.1:8443/hook", 422, 201},
		{"https://10.0.0.1/hook", 422, 422},
		{"https://192.168.1.20/hook", 422, 422},
		{"https://169.254.169.254/latest/meta-data/", 422, 422},
		{"https://[::1]/hook", 422, 422},
		{"https://[::ffff:127.0.0.1]/hook", 422, 201},
		{"https://[fd00:ec2::254]/hook", 422, 422},
		{"https://localhost/hook", 422, 422},
		{"https://metadata.google.internal/hook", 422, 422},
		// Plain http is refused outside dev mode, whatever the network.
		{"http://hooks.example.com/hook", 422, 422},
		{"http://127.0.0.1/hook", 422, 422},
		// A public-looking name is accepted when saved; where it resolves is checked at dial
		// time (TestDialTimeRefusal).
		{"https://" + receiverHost + "/hook", 201, 201},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			srv  *testserver.Instance
			want int
			what string
		}{{srv, tt.want, "no allow-list"}, {allowed, tt.wantAllowed, "127.0.0.0/8 allowed"}} {
			appID := newApp(t, c.srv)
			r := c.srv.Do("POST", "/api/v1/app/"+appID+"/endpoint", c.srv.Token, map[string]any{"url": tt.url})
			if r.Status != c.want {
				t.Errorf("%s, %s: status %d, want %d: %s", c.what, tt.url, r.Status, c.want, r.Body)
				continue
			}
			if c.want == 422 && r.Code() != "url_not_allowed" {
				t.Errorf("%s, %s: code %q, want url_not_allowed: %s", c.what, tt.url, r.Code(), r.Body)
			}
		}
	}
}

// TestDialTimeRefusal saves an endpoint whose public-looking name resolves to 127.0.0.1, where
// an https receiver listens: the delivery is refused when it dials, the attempt says why, and
// the receiver never hears a thing.
func TestDialTimeRefusal(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{Configure: production()})
	rcv := newTLSReceiver(t)
	appID := newApp(t, srv, "order.paid")
	target := onReceiverHost(t, rcv.URL) + "/hook"
	epID := newEndpoint(t, srv, appID, map[string]any{"url": target})
	send(t, srv, appID, "order.paid", `{"orderId":"ord_1"}`)

	a := waitAttempt(t, srv, appID, epID)
	if a.Status == 0 || a.ResponseStatusCode != 0 {
		t.Errorf("attempt %+v, want a failure without a response", a)
	}
	if !strings.Contains(a.Response, "refused by egress policy") || !strings.Contains(a.Response, "127.0.0.1") {
		t.Errorf("attempt response %q, want it to say the egress policy refused 127.0.0.1", a.Response)
	}
	if n := rcv.Hits(); n != 0 {
		t.Errorf("the receiver got %d requests, want none", n)
	}
}

// TestAllowNetworksDelivers shows the explicit allow-list opening a private network outside
// dev mode: https deliveries to 127.0.0.1, by address and by name, arrive and verify.
func TestAllowNetworksDelivers(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{Configure: production("127.0.0.0/8")})
	rcv := newTLSReceiver(t)
	appID := newApp(t, srv, "order.paid")
	for _, target := range []string{rcv.URL + "/by-address", onReceiverHost(t, rcv.URL) + "/by-name"} {
		epID := newEndpoint(t, srv, appID, map[string]any{"url": target})
		secret := endpointSecret(t, srv, appID, epID)
		payload := `{"target":"` + target + `"}`
		send(t, srv, appID, "order.paid", payload)

		// Each message goes to every endpoint created so far; take the one for this endpoint.
		var d received
		for d.Body == nil || string(d.Body) != payload || signature.Verify(signature.Standard(), d.Header, d.Body, []string{secret}, time.Now(), 0) != nil {
			d = rcv.next(t)
		}
		if a := waitAttempt(t, srv, appID, epID); a.Status != 0 || a.ResponseStatusCode != 200 {
			t.Errorf("%s: attempt %+v, want success", target, a)
		}
	}
}

// TestSenderPolicy checks the dial-time check below the API: the Sender refuses a loopback
// name with the default policy, before any byte reaches the receiver, and delivers once the
// network is allowed.
func TestSenderPolicy(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	u, err := url.Parse(rcv.URL)
	if err != nil {
		t.Fatal(err)
	}
	target := "http://localhost:" + u.Port() + "/hook" // localhost comes from /etc/hosts
	header := http.Header{"Content-Type": {"application/json"}}

	res := delivery.NewSender(egress.Policy{}, 5*time.Second, 0).Send(t.Context(), target, header.Clone(), []byte(`{}`), time.Now())
	if res.Kind != delivery.FailPolicy || !strings.Contains(res.Body, "refused by egress policy") {
		t.Errorf("default policy: %+v, want FailPolicy", res)
	}
	if n := rcv.Hits(); n != 0 {
		t.Errorf("the receiver got %d requests under the default policy", n)
	}

	open := egress.Policy{AllowHTTP: true, AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	res = delivery.NewSender(open, 5*time.Second, 0).Send(t.Context(), target, header.Clone(), []byte(`{}`), time.Now())
	if !res.OK() {
		t.Errorf("allowed network: %+v, want a 2xx", res)
	}
	if n := rcv.Hits(); n != 1 {
		t.Errorf("the receiver got %d requests, want 1", n)
	}
}
