package sqlcodec

import (
	"github.com/hookline/hookline"
)

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
