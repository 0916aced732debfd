package hookline

import (
	"context"
	"time"
)

// AttemptStatsStore counts attempts over time, for the dashboard's delivery charts. The counts
// come from the attempts table itself, through its (app_id, id) and (endpoint_id, id) indexes:
// attempt ids begin with their creation time, so a time range is an id range.
type AttemptStatsStore interface {
	// AttemptStats counts the application's attempts made in [q.Since, q.Until), by endpoint,
	// bucket and outcome (and response duration with q.Latency). Buckets with no attempts are
	// left out.
	AttemptStats(ctx context.Context, appID string, q AttemptStatsQuery) ([]AttemptCount, error)
}

// AttemptStatsQuery selects the attempts AttemptStats counts.
type AttemptStatsQuery struct {
	// EndpointID counts one endpoint's attempts; "" counts the whole application's.
	EndpointID string
	// Since and Until bound the attempts' creation times; Step is the width of a bucket:
	// bucket i holds the attempts made in [Since + i*Step, Since + (i+1)*Step).
	Since, Until time.Time
	Step         time.Duration
	// Latency also groups the counts by response duration, for percentiles.
	Latency bool
}

// AttemptCount is the number of attempts to one endpoint in one bucket with one outcome, and
// with Latency one response duration.
type AttemptCount struct {
	EndpointID string
	Bucket     int
	Status     MessageStatus
	DurationMs int64
	N          int
}

// FirstIDAt returns the smallest id with the prefix that NewID can make at t or later, the
// lower bound of an id range that starts at t.
func FirstIDAt(prefix string, t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	return prefix + encodeID(b)
}
