// Package auth makes API tokens and recognises them. A token is shown once, when it is made;
// only its SHA-256 hash is stored. Tokens carry 256 random bits, so a fast hash is enough: there
// is nothing to brute-force.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

// Token text prefixes, so a leaked token says what it is (and secret scanners can find it).
const (
	prefixOperator    = "hlo_"
	prefixApplication = "hla_"
	prefixPortal      = "hlp_"
	prefixMessage     = "hlm_"
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// MinTokenLength is the shortest operator token accepted from configuration.
const MinTokenLength = 24

// Hash returns the stored form of a token.
func Hash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// New makes a token of the given kind: its text (to show once) and the record to store.
func New(kind hookline.TokenKind, appID, name string, now time.Time, ttl time.Duration) (string, *hookline.Token) {
	var prefix string
	switch kind {
	case hookline.TokenOperator:
		prefix = prefixOperator
	case hookline.TokenApplication:
		prefix = prefixApplication
	case hookline.TokenMessage:
		prefix = prefixMessage
	default:
		prefix = prefixPortal
	}
	text := prefix + randomString(43)
	return text, Record(kind, appID, name, text, now, ttl)
}

// Record builds the stored record for a given token text (used for HOOKLINE_OPERATOR_TOKEN).
func Record(kind hookline.TokenKind, appID, name, text string, now time.Time, ttl time.Duration) *hookline.Token {
	t := &hookline.Token{
		ID:        hookline.NewID(hookline.PrefixToken),
		Name:      name,
		Kind:      kind,
		AppID:     appID,
		Hash:      Hash(text),
		Prefix:    text[:min(len(text), 8)],
		CreatedAt: now,
	}
	if ttl > 0 {
		exp := now.Add(ttl)
		t.ExpiresAt = &exp
	}
	return t
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	// 62 does not divide 256; rejection sampling would be exact, but the bias of a byte mod 62
	// costs under 0.1 bit of 256, which does not matter for a bearer token.
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Authenticate finds the valid token for the text of an Authorization header value
// ("Bearer <token>"). Any failure is EUNAUTHORIZED with a message that does not say which
// tokens exist.
func Authenticate(ctx context.Context, store hookline.TokenStore, header string, now time.Time) (*hookline.Token, error) {
	text, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		text, ok = strings.CutPrefix(header, "bearer ")
	}
	text = strings.TrimSpace(text)
	if !ok || text == "" {
		return nil, hookline.Errorf(hookline.EUNAUTHORIZED, "missing bearer token: send Authorization: Bearer <token>")
	}
	tok, err := store.GetTokenByHash(ctx, Hash(text))
	if hookline.IsNotFound(err) {
		return nil, hookline.Errorf(hookline.EUNAUTHORIZED, "invalid token")
	}
	if err != nil {
		return nil, fmt.Errorf("auth: look up token: %w", err)
	}
	if !tok.Valid(now) {
		return nil, hookline.Errorf(hookline.EUNAUTHORIZED, "token revoked or expired")
	}
	return tok, nil
}

// Touch records that tok authenticated a request at now, at most once per
// hookline.TouchInterval: the token's LastUsedAt as read tells whether a write is due, and the
// store's condition keeps concurrent requests from writing more.
func Touch(ctx context.Context, store hookline.TokenUseStore, tok *hookline.Token, now time.Time) error {
	if tok.LastUsedAt != nil && now.Sub(*tok.LastUsedAt) < hookline.TouchInterval {
		return nil
	}
	if err := store.TouchToken(ctx, tok.ID, now); err != nil {
		return fmt.Errorf("auth: record the use of token %s: %w", tok.ID, err)
	}
	return nil
}
