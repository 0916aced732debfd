package hookline

import (
	"context"
	"time"
)

// CancelStore cancels deliveries that have not been sent yet (Svix's cancel-msgs).
type CancelStore interface {
	// CancelPending moves every pending delivery to the endpoint of a message created before
	// createdBefore to StatusCanceled: it is not attempted any more. Deliveries being sent
	// finish their attempt; messages not fanned out yet are not touched. It returns how many
	// it canceled; an unknown endpoint is ENOTFOUND.
	CancelPending(ctx context.Context, appID, endpointID string, createdBefore, now time.Time) (int, error)
}
