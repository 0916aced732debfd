package hookline

import (
	"context"
	"time"
)

// RetryScheduleStore keeps the retry schedules of event types (Svix's per-event-type retry
// schedule): a delivery of a message of an event type with a schedule follows it instead of
// the installation's default.
type RetryScheduleStore interface {
	// GetRetrySchedule returns the event type's schedule: the delays before the 1st, 2nd, ...
	// retry. Nil means the event type has none (the default applies); an empty, non-nil schedule
	// means no retries. An unknown event type is ENOTFOUND.
	GetRetrySchedule(ctx context.Context, eventType string) ([]time.Duration, error)
	// SetRetrySchedule stores the event type's schedule; nil removes it. An unknown event type
	// is ENOTFOUND.
	SetRetrySchedule(ctx context.Context, eventType string, schedule []time.Duration) error
}
