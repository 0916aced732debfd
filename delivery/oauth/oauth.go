// Package oauth fetches and keeps the access token of an endpoint's OAuth 2.0 client
// credentials grant (RFC 6749 section 4.4), which deliveries to the endpoint carry as
// "Authorization: Bearer". A token is reused until shortly before it expires; a receiver that
// refuses it (a 401) makes the next request fetch a new one.
//
// The token request goes through the HTTP client it is given: the delivery engine's, whose
// dialer applies the egress policy to every address after DNS resolution and which follows no
// redirect. Its response is bounded: MaxResponseBytes of body, within the caller's context.
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

// MaxResponseBytes bounds the token endpoint's response body.
const MaxResponseBytes = 64 << 10

// earlyRefresh is how long before its expiry a token is replaced, at most: a tenth of its
// lifetime when that is shorter, so a token that lives 10 seconds is still reused.
const earlyRefresh = 30 * time.Second

// maxLifetime caps the lifetime a token response claims.
const maxLifetime = 30 * 24 * time.Hour

// Source gives the current access token of one OAuth client. It is safe for concurrent use:
// one token request at a time, which the requests waiting for it share.
type Source struct {
	cfg    hookline.OAuthClient
	client *http.Client
	now    func() time.Time
	sem    chan struct{} // held while the token is read or fetched

	token   string
	renewAt time.Time // zero: until a receiver refuses it

	// refresh is the refresh token of the refreshToken grant: the configured one, then the
	// last one the token server rotated it to. onRotate, when set, is told of each rotation.
	refresh  string
	onRotate func(ctx context.Context, old, new string)
}

// OnRotate makes the Source call f, during the token request, when the token server answers a
// new refresh token (which the Source uses from then on): so that it can be stored.
func (s *Source) OnRotate(f func(ctx context.Context, old, new string)) { s.onRotate = f }

// New returns a Source for cfg whose token requests go through client. now is the clock
// (time.Now when nil).
func New(cfg hookline.OAuthClient, client *http.Client, now func() time.Time) *Source {
	if now == nil {
		now = time.Now
	}
	return &Source{cfg: cfg, client: client, now: now, sem: make(chan struct{}, 1), refresh: cfg.RefreshToken}
}

// Token returns the access token, fetching one when there is none or it is about to expire.
func (s *Source) Token(ctx context.Context) (string, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for the token request: %w", ctx.Err())
	}
	defer func() { <-s.sem }()
	if s.token != "" && (s.renewAt.IsZero() || s.now().Before(s.renewAt)) {
		return s.token, nil
	}
	tok, lifetime, err := s.fetch(ctx)
	if err != nil {
		return "", err
	}
	s.token, s.renewAt = tok, time.Time{}
	if lifetime > 0 {
		s.renewAt = s.now().Add(lifetime - min(earlyRefresh, lifetime/10))
	}
	return tok, nil
}

// Invalidate drops token, which a receiver refused, so the next Token fetches a new one. A
// token already replaced (by another request that was refused too) is left alone.
func (s *Source) Invalidate(token string) {
	s.sem <- struct{}{}
	defer func() { <-s.sem }()
	if s.token == token {
		s.token, s.renewAt = "", time.Time{}
	}
}

// tokenResponse is RFC 6749 section 5.1's successful response.
type tokenResponse struct {
	AccessToken  string          `json:"access_token"`
	RefreshToken string          `json:"refresh_token"`
	TokenType    string          `json:"token_type"`
	ExpiresIn    json.RawMessage `json:"expires_in"` // a number; some servers send a string
}

// errorResponse is RFC 6749 section 5.2's error response.
type errorResponse struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func (s *Source) fetch(ctx context.Context) (token string, lifetime time.Duration, err error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if s.cfg.GrantType == hookline.OAuthRefreshTokenGrant {
		form = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.refresh}}
	}
	if len(s.cfg.Scopes) > 0 {
		form.Set("scope", strings.Join(s.cfg.Scopes, " "))
	}
	for k, v := range s.cfg.ExtraParams {
		form.Set(k, v)
	}
	switch s.cfg.AuthMethod {
	case hookline.OAuthClientSecretPost:
		form.Set("client_id", s.cfg.ClientID)
		if s.cfg.ClientSecret != "" {
			form.Set("client_secret", s.cfg.ClientSecret)
		}
	case hookline.OAuthClientSecretJWT:
		if s.cfg.JWT == nil {
			return "", 0, errors.New("clientSecretJwt without jwtParams")
		}
		key, err := ParseJWTKey(s.cfg.JWT.Key)
		if err != nil {
			return "", 0, fmt.Errorf("the client's JWT key %s", err)
		}
		assertion, err := clientAssertion(s.cfg, key, s.now())
		if err != nil {
			return "", 0, err
		}
		form.Set("client_id", s.cfg.ClientID)
		form.Set("client_assertion_type", clientAssertionType)
		form.Set("client_assertion", assertion)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("token URL: %w", err)
	}
	for k, v := range s.cfg.ExtraHeaders {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if s.cfg.AuthMethod == hookline.OAuthClientSecretBasic || s.cfg.AuthMethod == "" {
		// RFC 6749 section 2.3.1: both form-encoded before they are joined.
		req.SetBasicAuth(url.QueryEscape(s.cfg.ClientID), url.QueryEscape(s.cfg.ClientSecret))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return "", 0, err // a *url.Error: the caller describes transport failures
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return "", 0, fmt.Errorf("reading the token response: %w", err)
	}
	if len(body) > MaxResponseBytes {
		return "", 0, fmt.Errorf("the token response is larger than %d bytes", MaxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e errorResponse
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg := fmt.Sprintf("the token endpoint answered %d: %s", resp.StatusCode, e.Error)
			if e.Description != "" {
				msg += " (" + e.Description + ")"
			}
			return "", 0, errors.New(msg)
		}
		return "", 0, fmt.Errorf("the token endpoint answered %d: %s", resp.StatusCode, excerpt(body))
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", 0, fmt.Errorf("the token response is not JSON: %s", excerpt(body))
	}
	if tr.AccessToken == "" {
		return "", 0, errors.New("the token response has no access_token")
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", 0, fmt.Errorf("the token response's token_type is %q, not Bearer", tr.TokenType)
	}
	if strings.ContainsAny(tr.AccessToken, "\r\n") {
		return "", 0, errors.New("the token response's access_token holds a line break")
	}
	if s.cfg.GrantType == hookline.OAuthRefreshTokenGrant && tr.RefreshToken != "" && tr.RefreshToken != s.refresh {
		if strings.ContainsAny(tr.RefreshToken, "\r\n") || len(tr.RefreshToken) > 4096 {
			return "", 0, errors.New("the token response's refresh_token is not one line of at most 4096 characters")
		}
		old := s.refresh
		s.refresh = tr.RefreshToken
		if s.onRotate != nil {
			s.onRotate(ctx, old, tr.RefreshToken)
		}
	}
	if len(tr.ExpiresIn) > 0 && string(tr.ExpiresIn) != "null" {
		text := strings.Trim(string(tr.ExpiresIn), `"`)
		secs, err := strconv.ParseFloat(text, 64)
		if err != nil || secs < 0 {
			return "", 0, fmt.Errorf("the token response's expires_in is not a number of seconds: %s", excerpt(tr.ExpiresIn))
		}
		lifetime = time.Duration(min(secs, maxLifetime.Seconds()) * float64(time.Second))
		if lifetime == 0 {
			lifetime = time.Nanosecond // expired at once: used for this request only
		}
	}
	return tr.AccessToken, lifetime, nil
}

// excerpt is the start of a response body for an error message.
func excerpt(b []byte) string {
	const n = 200
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "(empty body)"
	}
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strconv.Quote(s)
}
