package sqlcodec

import (
	"time"

	"github.com/hookline/hookline"
)

// idSlack widens the id range of a stats query below its start: an attempt's id is made from
// the wall clock a moment before its creation time is taken.
const idSlack = time.Minute

// AttemptStatsFirstID refuses a query without a positive step or with until not after since,
// and returns the smallest attempt id the query's time range can hold (the start of the index
// range that AttemptStats reads).
func AttemptStatsFirstID(q hookline.AttemptStatsQuery) (string, error) {
	if q.Step <= 0 || !q.Until.After(q.Since) {
		return "", hookline.Errorf(hookline.EINVALID, "attempt stats need a positive step and until after since")
	}
	return hookline.FirstIDAt(hookline.PrefixAttempt, q.Since.Add(-idSlack)), nil
}

// OutcomeBuckets returns the bounds of q in microseconds and the width of its buckets: one
// bucket over the whole range when q.Step is not positive.
func OutcomeBuckets(q hookline.OutcomeQuery) (since, until, step int64) {
	since, until = q.Since.UnixMicro(), q.Until.UnixMicro()
	step = q.Step.Microseconds()
	if step <= 0 {
		step = max(until-since, 1)
	}
	return since, until, step
}

// ScanOutcomeCounts reads rows of (event type, bucket, status, count), as OutcomeCounts
// selects them.
func ScanOutcomeCounts(rows Rows) ([]hookline.OutcomeCount, error) {
	var out []hookline.OutcomeCount
	for rows.Next() {
		var c hookline.OutcomeCount
		var status int64
		if err := rows.Scan(&c.EventType, &c.Bucket, &status, &c.N); err != nil {
			return nil, err
		}
		c.Status = hookline.MessageStatus(status)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ScanAppCounts reads rows of (application id, count) into a map.
func ScanAppCounts(rows Rows) (map[string]int64, error) {
	out := map[string]int64{}
	for rows.Next() {
		var app string
		var n int64
		if err := rows.Scan(&app, &n); err != nil {
			return nil, err
		}
		out[app] = n
	}
	return out, rows.Err()
}

// ScanAttemptCounts reads rows of (endpoint id, bucket, status, duration in ms, count), as
// AttemptStats selects them.
func ScanAttemptCounts(rows Rows) ([]hookline.AttemptCount, error) {
	var out []hookline.AttemptCount
	for rows.Next() {
		var (
			c             hookline.AttemptCount
			bucket, n     int64
			status, durMs int64
		)
		if err := rows.Scan(&c.EndpointID, &bucket, &status, &durMs, &n); err != nil {
			return nil, err
		}
		c.Bucket, c.Status, c.DurationMs, c.N = int(bucket), hookline.MessageStatus(status), durMs, int(n)
		out = append(out, c)
	}
	return out, rows.Err()
}
