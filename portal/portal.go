// Package portal holds the rules of the customer portal that the API (which makes portal
// links) and the dashboard (which turns a link into a session and shows the portal) share:
// the names of portal tokens, which carry the portal's mode, and the shape of a portal link.
package portal

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Portal tokens carry their mode in their name, so the dashboard knows a read-only portal
// without another column in the token table.
const (
	// TokenName names the tokens of customer-portal links.
	TokenName = "app-portal-access"
	// ReadOnlyTokenName names the tokens of read-only customer-portal links.
	ReadOnlyTokenName = "app-portal-access (read-only)"
	// SessionName and ReadOnlySessionName name the session tokens the dashboard makes when a
	// single-use link is opened.
	SessionName         = "app-portal-session"
	ReadOnlySessionName = "app-portal-session (read-only)"
)

// ReadOnly reports whether a portal token's name makes its portal read-only.
func ReadOnly(name string) bool {
	return name == ReadOnlyTokenName || name == ReadOnlySessionName
}

// IsSession reports whether a portal token is a session the dashboard made from a single-use
// link (rather than a link).
func IsSession(name string) bool {
	return name == SessionName || name == ReadOnlySessionName
}

// SessionNameFor is the name of the session token the dashboard makes from the link token
// named linkName: read-only when the link is.
func SessionNameFor(linkName string) string {
	if ReadOnly(linkName) {
		return ReadOnlySessionName
	}
	return SessionName
}

// LinkNameFor is the name of a new link's token: read-only or not.
func LinkNameFor(readOnly bool) string {
	if readOnly {
		return ReadOnlyTokenName
	}
	return TokenName
}

// LoginURL is the magic link of a portal token: the dashboard's portal sign-in, which sets the
// session cookie and redirects, so the token leaves the address bar at once. It needs no
// JavaScript, unlike a token in the URL fragment. A lang (a language tag, "" for none) names
// the portal's language for the session the link opens.
func LoginURL(base, token, lang string) string {
	u := strings.TrimRight(base, "/") + "/dashboard/portal/login?token=" + url.QueryEscape(token)
	if lang != "" {
		u += "&lang=" + url.QueryEscape(lang)
	}
	return u
}

// BaseURL is the externally visible base URL that portal links (and the dashboard's curl
// examples) start with: publicURL when configured, otherwise the scheme and the local address
// the request came in on (the listen address, made concrete).
func BaseURL(r *http.Request, publicURL string) string {
	if publicURL != "" {
		return strings.TrimRight(publicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if tcp, ok := addr.(*net.TCPAddr); ok {
			return scheme + "://" + net.JoinHostPort(tcp.IP.String(), strconv.Itoa(tcp.Port))
		}
	}
	return scheme + "://" + r.Host
}
