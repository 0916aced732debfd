package service

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/delivery/mtls"
	"github.com/hookline/hookline/delivery/oauth"
	"github.com/hookline/hookline/delivery/serverca"
)

// The receiver settings of an endpoint (hookline.Receiver): each is checked here when it is
// saved, so a delivery never finds one it cannot use. Each change replaces one part of the
// settings and keeps the others, as they are stored at the time of the change.

// SetEndpointMTLS checks identity (a PEM private key and certificate) and makes it the client
// certificate the endpoint's deliveries present.
func (s *Service) SetEndpointMTLS(ctx context.Context, ep *hookline.Endpoint, identity string) error {
	id, err := mtls.ParseIdentity(identity, s.clock.Now())
	if err != nil {
		var f fieldErrors
		f.add("value", err.Error(), "identity")
		return f.err()
	}
	return s.changeReceiver(ctx, ep, func(r *hookline.Receiver) { r.MTLS = &id })
}

// DeleteEndpointMTLS removes the endpoint's client certificate.
func (s *Service) DeleteEndpointMTLS(ctx context.Context, ep *hookline.Endpoint) error {
	return s.changeReceiver(ctx, ep, func(r *hookline.Receiver) { r.MTLS = nil })
}

// SetEndpointServerCA makes the PEM bundle what the receiver's certificate must chain to,
// with the system's roots or without them; nil goes back to the system's roots alone.
func (s *Service) SetEndpointServerCA(ctx context.Context, ep *hookline.Endpoint, bundle *string, withSystemRoots bool) error {
	var ca *hookline.ServerCA
	if bundle != nil {
		text, err := serverca.ParseBundle(*bundle)
		if err != nil {
			var f fieldErrors
			f.add("value", err.Error(), "cert")
			return f.err()
		}
		ca = &hookline.ServerCA{PEM: text, WithSystemRoots: withSystemRoots}
	}
	return s.changeReceiver(ctx, ep, func(r *hookline.Receiver) { r.ServerCA = ca })
}

// SetEndpointOAuth checks c and makes it the OAuth 2.0 client whose token the endpoint's
// deliveries carry.
func (s *Service) SetEndpointOAuth(ctx context.Context, ep *hookline.Endpoint, c hookline.OAuthClient) error {
	var f fieldErrors
	if strings.TrimSpace(c.TokenURL) == "" {
		f.add("missing", "is required", "tokenUrl")
	} else if u, err := url.Parse(c.TokenURL); err != nil || u.Host == "" {
		f.add("value", "must be an absolute URL", "tokenUrl")
	} else if err := s.cfg.Egress.CheckURL(c.TokenURL); err != nil {
		f.add("url", err.Error(), "tokenUrl")
	} else if len(c.TokenURL) > 2048 {
		f.add("value", "must be at most 2048 characters", "tokenUrl")
	}
	switch {
	case c.ClientID == "":
		f.add("missing", "is required", "clientId")
	case len(c.ClientID) > 1024 || strings.ContainsAny(c.ClientID, "\r\n"):
		f.add("value", "must be at most 1024 characters on one line", "clientId")
	}
	if len(c.ClientSecret) > 4096 || strings.ContainsAny(c.ClientSecret, "\r\n") {
		f.add("value", "must be at most 4096 characters on one line", "clientSecret")
	}
	switch {
	case c.GrantType == hookline.OAuthRefreshTokenGrant && c.RefreshToken == "":
		f.add("missing", "is required by the refreshToken grant", "refreshToken")
	case c.GrantType == hookline.OAuthRefreshTokenGrant && (len(c.RefreshToken) > 4096 || strings.ContainsAny(c.RefreshToken, "\r\n")):
		f.add("value", "must be at most 4096 characters on one line", "refreshToken")
	case c.GrantType != hookline.OAuthRefreshTokenGrant && c.RefreshToken != "":
		f.add("conflict", "is used by the refreshToken grant only", "refreshToken")
	}
	switch c.AuthMethod {
	case hookline.OAuthClientSecretBasic, hookline.OAuthClientSecretPost:
		if c.JWT != nil {
			f.add("conflict", "are used by clientSecretJwt only", "jwtParams")
		}
	case hookline.OAuthClientSecretJWT:
		switch {
		case c.JWT == nil:
			f.add("missing", "are required by clientSecretJwt", "jwtParams")
		case c.ClientSecret != "":
			f.add("conflict", "is not used by clientSecretJwt, which signs with jwtParams.secretBase64", "clientSecret")
		default:
			if _, err := oauth.ParseJWTKey(c.JWT.Key); err != nil {
				f.add("value", err.Error(), "jwtParams", "secretBase64")
			}
			if len(c.JWT.KeyID) > 256 || strings.ContainsAny(c.JWT.KeyID, "\r\n") {
				f.add("value", "must be at most 256 characters on one line", "jwtParams", "secretId")
			}
			if c.JWT.ExpirySecs < 0 || c.JWT.ExpirySecs > 3600 {
				f.add("value", "must be 1 to 3600 seconds (0 or absent: 300)", "jwtParams", "tokenExpirySecs")
			}
		}
	case "":
		f.add("missing", "is required", "authMethod")
	default:
		f.add("value", "must be clientSecretBasic, clientSecretPost or clientSecretJwt", "authMethod")
	}
	if len(c.Scopes) > 50 {
		f.add("value", "may list at most 50 scopes", "scopes")
	}
	for i, sc := range c.Scopes {
		// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
		if sc == "" || len(sc) > 256 || strings.ContainsFunc(sc, func(r rune) bool { return r <= 0x20 || r == '"' || r == '\\' || r > 0x7e }) {
			f.add("value", "must be 1 to 256 printable ASCII characters, without spaces, quotes or backslashes", "scopes", strconv.Itoa(i))
		}
	}
	if len(c.ExtraParams) > 20 {
		f.add("value", "may hold at most 20 parameters", "extraParams")
	}
	for k, v := range c.ExtraParams {
		switch k {
		case "grant_type", "client_id", "client_secret", "scope", "client_assertion", "client_assertion_type", "refresh_token":
			f.add("value", "is set by Hookline from the other fields", "extraParams", k)
		}
		if k == "" || len(k) > 256 || len(v) > 4096 {
			f.add("value", "names and values must be 1 to 256 and at most 4096 characters", "extraParams", k)
		}
	}
	if len(c.ExtraHeaders) > 20 {
		f.add("value", "may hold at most 20 headers", "extraHeaders")
	}
	for k, v := range c.ExtraHeaders {
		switch {
		case !headerNamePattern.MatchString(k):
			f.add("value", "is not a valid header name", "extraHeaders", k)
		case strings.EqualFold(k, "authorization") || slices.Contains(reservedHeaders, strings.ToLower(k)):
			f.add("value", "is set by Hookline for the token request", "extraHeaders", k)
		case !validHeaderValue(v):
			f.add("value", "is not a valid header value", "extraHeaders", k)
		}
	}
	if err := f.err(); err != nil {
		return err
	}
	return s.changeReceiver(ctx, ep, func(r *hookline.Receiver) { r.OAuth = &c })
}

// DeleteEndpointOAuth removes the endpoint's OAuth 2.0 client.
func (s *Service) DeleteEndpointOAuth(ctx context.Context, ep *hookline.Endpoint) error {
	return s.changeReceiver(ctx, ep, func(r *hookline.Receiver) { r.OAuth = nil })
}

// changeReceiver applies change to the stored settings (not to ep's copy, which a concurrent
// change of another part may have made stale) and updates ep with the result.
func (s *Service) changeReceiver(ctx context.Context, ep *hookline.Endpoint, change func(r *hookline.Receiver)) error {
	r, at, err := s.store.UpdateEndpointReceiver(ctx, ep.AppID, ep.ID, func(r *hookline.Receiver) error {
		change(r)
		return nil
	})
	if err != nil {
		return err
	}
	ep.Receiver, ep.UpdatedAt = r, at
	return nil
}
