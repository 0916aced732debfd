package sqlite

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
	args := []any{micros(q.Since), q.Step.Microseconds(),
		appID, firstID, micros(q.Since), micros(q.Until)}
	conds := []string{"app_id = ?", "id >= ?", "created_at >= ?", "created_at < ?"}
	if q.EndpointID != "" {
		// One endpoint's attempts by the (endpoint_id, id) index: "+app_id" keeps the planner
		// from ranging over the whole application's (app_id, id) instead.
		conds[0] = "+app_id = ?"
		conds, args = append(conds, "endpoint_id = ?"), append(args, q.EndpointID)
	}
	duration := "0"
	if q.Latency {
		duration = "response_duration_ms"
	}
	rows, err := db.r.QueryContext(ctx, `SELECT endpoint_id, (created_at - ?) / ?, status, `+duration+`, count(*)
		FROM attempts`+where(conds)+` GROUP BY 1, 2, 3, 4`, args...)
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
