package postgres

import (
	"context"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// AttemptStats counts attempts by endpoint, time bucket and outcome in one grouped scan of
// the (app_id, id) or (endpoint_id, id) index range that the time range maps to.
func (db *DB) AttemptStats(ctx context.Context, appID string, q hookline.AttemptStatsQuery) ([]hookline.AttemptCount, error) {
	firstID, err := sqlcodec.AttemptStatsFirstID(q)
	if err != nil {
		return nil, err
	}
	var a args
	bucket := "(created_at - " + a.add(micros(q.Since)) + "::bigint) / " + a.add(q.Step.Microseconds()) + "::bigint"
	conds := []string{"app_id = " + a.add(appID), "id >= " + a.add(firstID),
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
