// Package egress decides which URLs Hookline may send webhooks to. By default only https URLs
// whose addresses are public: no loopback, private, link-local (cloud metadata), shared or
// reserved ranges. The same Policy checks a URL when an endpoint is saved (for literal
// addresses and obviously internal names) and every address at dial time, after DNS resolution,
// so a name that resolves (or rebinds) to an internal address is refused too.
package egress

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
)

// Policy is the outbound network policy.
type Policy struct {
	// AllowHTTP permits plain http:// URLs (dev mode).
	AllowHTTP bool
	// AllowPrivate permits every address, internal ones included (dev mode).
	AllowPrivate bool
	// AllowNets lists internal networks that are permitted anyway (an explicit allow-list, for a
	// receiver inside the operator's own network).
	AllowNets []netip.Prefix
}

// blockedNets are the ranges no webhook may reach unless allowed: everything that is not the
// public Internet.
var blockedNets = mustPrefixes(
	"0.0.0.0/8",       // "this" network
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // carrier-grade NAT (also Alibaba's metadata address)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, including 169.254.169.254 cloud metadata
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation
	"192.88.99.0/24",  // 6to4 relay
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation
	"203.0.113.0/24",  // documentation
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, and broadcast
	"::/128",          // unspecified
	"::/96",           // IPv4-compatible (deprecated): ::a.b.c.d embeds any IPv4 address
	"::ffff:0:0:0/96", // IPv4-translated: ::ffff:0:a.b.c.d embeds any IPv4 address
	"::1/128",         // loopback
	"64:ff9b::/96",    // NAT64: can embed any IPv4 address
	"64:ff9b:1::/48",  // local-use NAT64
	"100::/64",        // discard
	"2001::/23",       // IETF protocol assignments
	"2001:db8::/32",   // documentation
	"2002::/16",       // 6to4: can embed any IPv4 address
	"fc00::/7",        // unique local, including fd00:ec2::254 metadata
	"fe80::/10",       // link-local
	"ff00::/8",        // multicast
)

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// Error is a URL or address the policy refuses. Its message is safe to show to API clients.
type Error struct{ Reason string }

func (e *Error) Error() string { return e.Reason }

// AddrAllowed reports whether the policy lets webhooks reach addr.
func (p Policy) AddrAllowed(addr netip.Addr) bool {
	if p.AllowPrivate {
		return true
	}
	// A zone (fe80::1%eth0) would make every Prefix.Contains below false; the zone does not
	// change which host the address is.
	addr = addr.Unmap().WithZone("")
	for _, n := range p.AllowNets {
		if n.Contains(addr) {
			return true
		}
	}
	for _, n := range blockedNets {
		if n.Contains(addr) {
			return false
		}
	}
	return true
}

// CheckURL validates an endpoint URL when it is saved: absolute, http(s) as the policy allows,
// with a host, and not a literal internal address or an internal-only name. Names that resolve
// to internal addresses are caught at dial time by Control.
func (p Policy) CheckURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return &Error{"url is required"}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return &Error{"url must be an absolute http(s) URL"}
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !p.AllowHTTP {
			return &Error{"url must use https (plain http is allowed only in dev mode)"}
		}
	default:
		return &Error{fmt.Sprintf("url scheme %q is not allowed; use https", u.Scheme)}
	}
	host := u.Hostname()
	if host == "" {
		return &Error{"url must have a host"}
	}
	if u.User != nil {
		return &Error{"url must not contain credentials; use endpoint headers instead"}
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return &Error{fmt.Sprintf("url port %q is not a port from 1 to 65535", port)}
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return &Error{"url has an empty port"}
	}
	if addr, numeric, ok := HostAddr(host); numeric {
		if !ok {
			return &Error{fmt.Sprintf("url host %q is neither an IP address nor a name", host)}
		}
		if !p.AddrAllowed(addr) {
			return &Error{fmt.Sprintf("url points to %s, an internal address; webhooks may only go to public addresses", addr.WithZone(""))}
		}
		return nil
	}
	if p.AllowPrivate {
		return nil
	}
	lower := strings.ToLower(strings.TrimSuffix(host, "."))
	if lower == "localhost" || strings.HasSuffix(lower, ".localhost") || strings.HasSuffix(lower, ".local") ||
		strings.HasSuffix(lower, ".internal") || !strings.Contains(lower, ".") {
		return &Error{fmt.Sprintf("url host %q is an internal name; webhooks may only go to public hosts", host)}
	}
	return nil
}

// Control is a net.Dialer Control function that refuses connections to addresses the policy
// does not allow. It runs after DNS resolution, once per address tried, so it also stops DNS
// rebinding.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &Error{fmt.Sprintf("cannot check address %q", address)}
	}
	if !p.AddrAllowed(ap.Addr()) {
		return &Error{fmt.Sprintf("connection to %s refused: internal address", ap.Addr())}
	}
	return nil
}

// DialContext returns a dial function for http.Transport that enforces the policy.
func (p Policy) DialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	dd := *d
	dd.Control = p.Control
	return dd.DialContext
}
