package egress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestCheckURL(t *testing.T) {
	strict := Policy{}
	dev := Policy{AllowHTTP: true, AllowPrivate: true}
	tests := []struct {
		url      string
		strictOK bool
		devOK    bool
	}{
		{"https://example.com/hook", true, true},
		{"https://93.184.216.34/hook", true, true},
		{"http://example.com/hook", false, true},
		{"ftp://example.com/hook", false, false},
		{"", false, false},
		{"example.com/hook", false, false},
		{"https://127.0.0.1/hook", false, true},
		{"https://10.0.0.1/hook", false, true},
		{"https://169.254.169.254/latest/meta-data", false, true},
		{"https://[::1]:8443/hook", false, true},
		{"https://[::ffff:127.0.0.1]/hook", false, true},
		{"https://[::127.0.0.1]/hook", false, true},
		{"https://[::ffff:0:127.0.0.1]/hook", false, true},
		{"https://[fd00:ec2::254]/", false, true},
		{"https://192.168.1.10/", false, true},
		{"https://localhost/hook", false, true},
		{"https://metadata.google.internal/", false, true},
		{"https://user:pass@example.com/", false, false},
	}
	for _, tc := range tests {
		if err := strict.CheckURL(tc.url); (err == nil) != tc.strictOK {
			t.Errorf("strict CheckURL(%q) = %v, want ok=%v", tc.url, err, tc.strictOK)
		}
		if err := dev.CheckURL(tc.url); (err == nil) != tc.devOK {
			t.Errorf("dev CheckURL(%q) = %v, want ok=%v", tc.url, err, tc.devOK)
		}
	}
}

func TestAllowNets(t *testing.T) {
	p := Policy{AllowNets: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
	if !p.AddrAllowed(netip.MustParseAddr("10.1.2.3")) {
		t.Error("allow-listed address refused")
	}
	if p.AddrAllowed(netip.MustParseAddr("10.2.0.1")) {
		t.Error("address outside the allow-list accepted")
	}
}

// TestDialTimeRefusal connects through a real transport to a real loopback server: the policy
// must refuse the connection after resolution, even though the URL names a host, not an address.
func TestDialTimeRefusal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	client := &http.Client{Transport: &http.Transport{DialContext: Policy{}.DialContext(&net.Dialer{Timeout: time.Second})}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost:"+port+"/", nil)
	_, err := client.Do(req)
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("request to localhost: got %v, want a policy error", err)
	}

	devClient := &http.Client{Transport: &http.Transport{DialContext: Policy{AllowPrivate: true}.DialContext(&net.Dialer{})}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost:"+port+"/", nil)
	resp, err := devClient.Do(req)
	if err != nil {
		t.Fatalf("dev mode request: %v", err)
	}
	resp.Body.Close()
}

// TestZonedAddressesRefused: an IPv6 zone (fe80::1%eth0, [::1%25lo] in a URL) must not hide an
// internal address from the blocked ranges; netip.Prefix.Contains is false for zoned addresses.
func TestZonedAddressesRefused(t *testing.T) {
	p := Policy{}
	for _, s := range []string{"::1%lo", "fe80::1%eth0", "::ffff:127.0.0.1%lo", "fd00:ec2::254%eth0"} {
		if p.AddrAllowed(netip.MustParseAddr(s)) {
			t.Errorf("AddrAllowed(%s) = true, want false", s)
		}
		ap := netip.AddrPortFrom(netip.MustParseAddr(s), 443)
		if err := p.Control("tcp6", ap.String(), nil); err == nil {
			t.Errorf("Control(%s) allowed an internal address", ap)
		}
	}
	for _, u := range []string{"https://[::1%25lo]/hook", "https://[fe80::1%25eth0]:8443/", "https://[::ffff:7f00:1%25lo]/"} {
		if err := p.CheckURL(u); err == nil {
			t.Errorf("CheckURL(%q) allowed an internal address", u)
		}
	}
	allow := Policy{AllowNets: []netip.Prefix{netip.MustParsePrefix("fd00::/8")}}
	if !allow.AddrAllowed(netip.MustParseAddr("fd00::1%eth0")) {
		t.Error("allow-listed zoned address refused")
	}
}
