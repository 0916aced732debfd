package hookline

import (
	"context"
	"time"
)

// StatsStore answers the statistics routes: counts computed from the stored messages,
// deliveries, attempts and endpoints.
type StatsStore interface {
	// CountAttempts counts the application's attempts that opts selects (its filters, not its
	// page), counting at most max: beyond that it answers max and true.
	CountAttempts(ctx context.Context, appID string, opts AttemptListOptions, max int) (n int, more bool, err error)
	// OutcomeCounts counts the application's outcomes in [q.Since, q.Until) by the message's
	// event type, bucket and status: attempts by the time they were made (StatusSuccess and
	// StatusFail), and deliveries canceled (StatusCanceled) by the time they were. Groups with
	// no outcome are left out.
	OutcomeCounts(ctx context.Context, appID string, q OutcomeQuery) ([]OutcomeCount, error)
	// CountEndpoints counts the endpoints of every application but the internal one, enabled
	// and disabled, leaving out those whose URL contains q.ExcludeURL (when set).
	CountEndpoints(ctx context.Context, q EndpointCountQuery) (EndpointCounts, error)
	// CountActiveApps counts the applications (the internal one aside) with at least one
	// endpoint that q counts, an enabled one when q.EnabledOnly.
	CountActiveApps(ctx context.Context, q EndpointCountQuery) (int, error)
	// CountDeliveries counts, by application, the deliveries (Svix's message destinations) of
	// messages created in [since, until); appIDs, when not empty, limits it to those.
	CountDeliveries(ctx context.Context, since, until time.Time, appIDs []string) (map[string]int64, error)
}

// OutcomeQuery selects what OutcomeCounts counts.
type OutcomeQuery struct {
	Since, Until time.Time
	// Step is the width of a bucket: bucket i holds [Since + i*Step, Since + (i+1)*Step). Zero
	// makes one bucket of the whole range.
	Step time.Duration
	// EventTypes keeps only messages of these types; empty keeps all.
	EventTypes []string
}

// OutcomeCount is the number of outcomes of one status, for messages of one event type, in
// one bucket.
type OutcomeCount struct {
	EventType string
	Bucket    int
	Status    MessageStatus
	N         int64
}

// EndpointCountQuery says which endpoints count.
type EndpointCountQuery struct {
	// ExcludeURL leaves out endpoints whose URL contains it ("" leaves none out).
	ExcludeURL string
	// EnabledOnly counts only enabled endpoints (CountActiveApps).
	EnabledOnly bool
}

// EndpointCounts counts endpoints by state.
type EndpointCounts struct {
	Active   int64
	Disabled int64
}
