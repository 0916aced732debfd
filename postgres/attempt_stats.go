package postgres

import (
	"context"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// idSlack widens the id range of a stats query below its start: an attempt's id is made from
// the wall clock a moment before its creation time is taken.
const idSlack = time.Minute

// AttemptStats counts attempts by endpoint, time bucket and outcome in one grouped scan of
// the (app_id, id) or (endpoint_id, id) index range that the time range maps to.
func (db *DB) AttemptStats(ctx context.Context, appID string, q hookline.AttemptStatsQuery) ([]hookline.AttemptCount, error) {
	if q.Step <= 0 || !q.Until.After(q.Since) {
		return nil, hookline.Errorf(hookline.EINVALID, "attempt stats need a positive step and until after since")
	}
	var a args
	bucket := "(created_at - " + a.add(micros(q.Since)) + "::bigint) / " + a.add(q.Step.Microseconds()) + "::bigint"
	conds := []string{"app_id = " + a.add(appID), "id >= " + a.add(hookline.FirstIDAt(hookline.PrefixAttempt, q.Since.Add(-idSlack))),
		"created_at >= " + a.add(micros(q.Since)), "created_at < " + a.add(micros(q.Until))}
	if q.EndpointID != "" {
		conds = append(conds, "endpoint_id = "+a.add(q.EndpointID))
	}
	duration := "0::bigint"
	if q.Latency {
		duration = "response_duration_ms::bigint"
	}
	rows, err := db.pool.Query(ctx, `SELECT endpoint_id, `+bucket+`, status, `+duration+`, count(*)
		FROM attempts`+where(conds...)+` GROUP BY 1, 2, 3, 4`, a...)
	if err != nil {
		return nil, dbErr(err, "count attempts")
	}
	defer rows.Close()
	out, err := sqlcodec.ScanAttemptCounts(rows)
	if err != nil {
		return nil, dbErr(err, "count attempts")
	}
	return out, nil
}
