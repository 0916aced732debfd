package egress

import (
	"net/netip"
	"strings"
)

// HostAddr reads a URL's host the way resolvers do, so that the address an endpoint's URL names
// is checked whatever form it is written in. It reports:
//   - an IPv6 literal (with or without brackets, with or without a zone: [::1%25lo]);
//   - an IPv4 address in every form the C library's inet_aton accepts, which getaddrinfo (and
//     so curl, and Go's cgo resolver) hands to the kernel without asking DNS: 1 to 4 parts
//     separated by dots, each decimal, octal (a leading 0) or hexadecimal (0x), the last part
//     filling the remaining bytes: 127.1, 127.000.000.001, 0177.0.0.1, 0x7f.1, 2130706433;
//   - numeric: whether the host ends in a number (its last label is decimal digits or 0x and
//     hex digits), as a browser's URL parser decides it is an IPv4 address. A numeric host that
//     is not a valid address (1.2.3.4.5, 256.1.1.1) is no name either: no top-level domain is
//     a number.
//
// One trailing dot is ignored (127.0.0.1. is the same host).
func HostAddr(host string) (addr netip.Addr, numeric, ok bool) {
	h := strings.TrimPrefix(strings.TrimSuffix(host, "]"), "[")
	if strings.Contains(h, ":") {
		a, err := netip.ParseAddr(h)
		return a, true, err == nil
	}
	h = strings.TrimSuffix(h, ".")
	labels := strings.Split(h, ".")
	if !isNumberLabel(labels[len(labels)-1]) {
		return netip.Addr{}, false, false
	}
	a, ok := parseInetAton(labels)
	return a, true, ok
}

// isNumberLabel reports whether a label is a number: decimal digits, or 0x followed by hex
// digits (possibly none).
func isNumberLabel(s string) bool {
	if s == "" {
		return false
	}
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return strings.Trim(s[2:], "0123456789abcdefABCDEF") == ""
	}
	return strings.Trim(s, "0123456789") == ""
}

// parseInetAton parses the dot-separated parts of an IPv4 address as inet_aton does.
func parseInetAton(parts []string) (netip.Addr, bool) {
	if len(parts) < 1 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, ok := parseAtonPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			// Every part but the last is one byte.
			if n > 0xff {
				return netip.Addr{}, false
			}
			v = v<<8 | n
			continue
		}
		// The last part fills the bytes that are left.
		rest := uint(8 * (4 - i))
		if n >= 1<<rest {
			return netip.Addr{}, false
		}
		v = v<<rest | n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseAtonPart reads one part: 0x hex, 0 octal, or decimal. Values beyond 32
// bits are refused.
func parseAtonPart(p string) (uint64, bool) {
	base, digits := uint64(10), p
	switch {
	case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		base, digits = 16, p[2:]
		if digits == "" {
			return 0, false // as glibc; a browser would read 0
		}
	case len(p) >= 2 && p[0] == '0':
		base, digits = 8, p[1:]
	case p == "":
		return 0, false
	}
	var n uint64
	for i := range len(digits) {
		c := digits[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		n = n*base + d
		if n > 0xffffffff {
			return 0, false
		}
	}
	return n, true
}
