package hookline

import (
	"context"
	"time"
)

// TouchInterval is how often at most a token's LastUsedAt is written: a token used all the time
// costs one write a minute, not one per request.
const TouchInterval = time.Minute

// TokenUseStore records the use of tokens: when a token last authenticated a request, and the
// one use of a single-use token (a customer-portal link).
type TokenUseStore interface {
	// TouchToken sets the token's LastUsedAt to at, unless it is already within TouchInterval
	// before at.
	TouchToken(ctx context.Context, id string, at time.Time) error
	// UseToken marks a single-use token used at at and reports whether this call did: false when
	// it was used before, or is revoked or expired at at. Of concurrent calls, from any number of
	// processes sharing the store, at most one reports true. A token that is not single-use is
	// ENOTFOUND.
	UseToken(ctx context.Context, id string, at time.Time) (bool, error)
}
