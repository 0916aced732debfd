package service

import (
	"context"
	"time"

	"github.com/hookline/hookline"
)

// Throttling tells whether an endpoint's deliveries wait for its rate limit in this process
// (delivery.Dispatcher implements it).
type Throttling interface {
	Throttled(endpointID string) (since time.Time, ok bool)
}

// SetThrottling registers who knows the rate limiter's state.
func (s *Service) SetThrottling(t Throttling) { s.throttling = t }

// Throttled reports whether the endpoint's deliveries wait for its rate limit in this process,
// and since when: false when this process does not deliver (--role api).
func (s *Service) Throttled(endpointID string) (time.Time, bool) {
	if s.throttling == nil {
		return time.Time{}, false
	}
	return s.throttling.Throttled(endpointID)
}

// CancelPending cancels the endpoint's pending deliveries of messages created before
// createdBefore (Svix's cancel-msgs) and returns how many.
func (s *Service) CancelPending(ctx context.Context, ep *hookline.Endpoint, createdBefore time.Time) (int, error) {
	return s.store.CancelPending(ctx, ep.AppID, ep.ID, createdBefore, s.clock.Now())
}
