package service

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/auth"
	"github.com/hookline/hookline/secrets"
)

func newSigningSecret() string { return secrets.NewSigningSecret() }

// CreateToken makes a token and stores its hash. Application, portal and message tokens must
// name an existing application. It returns the token's text, which is never available again.
func (s *Service) CreateToken(ctx context.Context, kind hookline.TokenKind, appIDOrUID, name string, ttl time.Duration) (string, *hookline.Token, error) {
	return s.createToken(ctx, kind, appIDOrUID, name, ttl, false, nil, "")
}

// CreateSingleUseToken is CreateToken for a token that works once: a customer-portal link,
// which the dashboard exchanges for a session of its own when it is opened
// (hookline.TokenUseStore.UseToken).
func (s *Service) CreateSingleUseToken(ctx context.Context, kind hookline.TokenKind, appIDOrUID, name string, ttl time.Duration) (string, *hookline.Token, error) {
	return s.createToken(ctx, kind, appIDOrUID, name, ttl, true, nil, "")
}

// CreatePortalToken makes a portal token (a link, single-use or not, or the session a
// single-use link opens) scoped to endpointIDs, ids of endpoints of the application that the
// caller has checked; nil scopes it to none, so it sees every endpoint. sessionID is the
// caller's name for the session (Svix's sessionId, checked by the caller), "" for none.
func (s *Service) CreatePortalToken(ctx context.Context, appIDOrUID, name string, ttl time.Duration, singleUse bool, endpointIDs []string, sessionID string) (string, *hookline.Token, error) {
	return s.createToken(ctx, hookline.TokenPortal, appIDOrUID, name, ttl, singleUse, endpointIDs, sessionID)
}

func (s *Service) createToken(ctx context.Context, kind hookline.TokenKind, appIDOrUID, name string, ttl time.Duration, singleUse bool, endpointIDs []string, sessionID string) (string, *hookline.Token, error) {
	var f fieldErrors
	if len(name) > 256 {
		f.add("value", "must be at most 256 characters", "name")
	}
	if ttl < 0 {
		f.add("value", "must not be negative", "expiresIn")
	}
	appID := ""
	switch kind {
	case hookline.TokenOperator:
		if appIDOrUID != "" {
			f.add("value", "operator tokens are not bound to an application", "appId")
		}
	case hookline.TokenApplication, hookline.TokenPortal, hookline.TokenMessage:
		if kind == hookline.TokenPortal && ttl <= 0 {
			// A portal session that never ends would outlive every link it was made for.
			f.add("value", "a portal session must expire", "expiresIn")
		}
		if appIDOrUID == "" {
			f.add("missing", "is required for application tokens", "appId")
			break
		}
		app, err := s.store.GetApplication(ctx, appIDOrUID)
		if hookline.IsNotFound(err) {
			f.add("value", fmt.Sprintf("application %q does not exist", appIDOrUID), "appId")
		} else if err != nil {
			return "", nil, err
		} else {
			appID = app.ID
		}
	default:
		f.add("value", `must be "operator" or "application"`, "kind")
	}
	if err := f.err(); err != nil {
		return "", nil, err
	}
	text, tok := auth.New(kind, appID, name, s.clock.Now(), ttl)
	tok.SingleUse = singleUse
	tok.EndpointIDs, tok.SessionID = endpointIDs, sessionID
	if err := s.store.CreateToken(ctx, tok); err != nil {
		return "", nil, err
	}
	return text, tok, nil
}

// EnsureOperatorToken makes sure text is accepted as an operator token (HOOKLINE_OPERATOR_TOKEN).
func (s *Service) EnsureOperatorToken(ctx context.Context, text string) error {
	if len(text) < auth.MinTokenLength {
		return fmt.Errorf("HOOKLINE_OPERATOR_TOKEN must be at least %d characters", auth.MinTokenLength)
	}
	existing, err := s.store.GetTokenByHash(ctx, auth.Hash(text))
	if err == nil {
		if !existing.Valid(s.clock.Now()) {
			return fmt.Errorf("HOOKLINE_OPERATOR_TOKEN was revoked; set a new one")
		}
		return nil
	}
	if !hookline.IsNotFound(err) {
		return err
	}
	return s.store.CreateToken(ctx, auth.Record(hookline.TokenOperator, "", "from HOOKLINE_OPERATOR_TOKEN", text, s.clock.Now(), 0))
}

// FirstOperatorToken creates an operator token when none exists yet and returns its text, or ""
// when operator tokens exist already.
// Of processes starting together on a new shared database, one creates it.
func (s *Service) FirstOperatorToken(ctx context.Context) (string, error) {
	text, tok := auth.New(hookline.TokenOperator, "", "created on first start", s.clock.Now(), 0)
	created, err := s.store.CreateTokenIfNone(ctx, tok)
	if err != nil || !created {
		return "", err
	}
	return text, nil
}
