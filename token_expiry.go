package hookline

import (
	"context"
	"time"
)

// TokenExpiryStore ends many tokens of one application at once (Svix's expire-all).
type TokenExpiryStore interface {
	// ExpireTokens makes every token of the application whose kind is one of kinds (and, when
	// sessionIDs is not empty, whose SessionID is one of them), and that is neither revoked nor
	// expiring before at, expire at at. It returns how many it changed.
	ExpireTokens(ctx context.Context, appID string, kinds []TokenKind, sessionIDs []string, at time.Time) (int, error)
}
