package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// CountAttempts counts the attempts ListAttempts would list with opts's filters, at most max.
func (db *DB) CountAttempts(ctx context.Context, appID string, opts hookline.AttemptListOptions, max int) (int, bool, error) {
	conds, args := attemptFilters([]string{"app_id = ?"}, []any{appID}, opts)
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM attempts`+where(conds)+
		fmt.Sprintf(` LIMIT %d)`, max+1), args...).Scan(&n)
	if err != nil {
		return 0, false, dbErr(err, "count attempts")
	}
	if n > max {
		return max, true, nil
	}
	return n, false, nil
}

// OutcomeCounts counts attempts and canceled deliveries by event type, bucket and status.
func (db *DB) OutcomeCounts(ctx context.Context, appID string, q hookline.OutcomeQuery) ([]hookline.OutcomeCount, error) {
	since, until, step := sqlcodec.OutcomeBuckets(q)
	types, typeArgs := "", []any{}
	if len(q.EventTypes) > 0 {
		types = " AND m.event_type IN (?" + strings.Repeat(", ?", len(q.EventTypes)-1) + ")"
		for _, t := range q.EventTypes {
			typeArgs = append(typeArgs, t)
		}
	}
	args := append([]any{since, step, appID, since, until}, typeArgs...)
	args = append(append(args, since, step, appID, since, until), typeArgs...)
	rows, err := db.r.QueryContext(ctx, `SELECT m.event_type, (a.created_at - ?) / ?, a.status, count(*)
		FROM attempts a JOIN messages m ON m.id = a.msg_id
		WHERE a.app_id = ? AND a.created_at >= ? AND a.created_at < ? AND a.status IN (0, 2)`+types+`
		GROUP BY 1, 2, 3
		UNION ALL
		SELECT m.event_type, (d.updated_at - ?) / ?, 4, count(*)
		FROM deliveries d JOIN messages m ON m.id = d.msg_id
		WHERE d.app_id = ? AND d.status = 4 AND d.updated_at >= ? AND d.updated_at < ?`+types+`
		GROUP BY 1, 2`, args...)
	if err != nil {
		return nil, dbErr(err, "count outcomes")
	}
	defer rows.Close()
	out, err := sqlcodec.ScanOutcomeCounts(rows)
	if err != nil {
		return nil, dbErr(err, "count outcomes")
	}
	return out, nil
}

// endpointCountConds are the conditions on endpoints (e) and their application (a) of q.
func endpointCountConds(q hookline.EndpointCountQuery) ([]string, []any) {
	conds, args := []string{"a.internal = 0"}, []any{}
	if q.ExcludeURL != "" {
		conds, args = append(conds, "instr(e.url, ?) = 0"), append(args, q.ExcludeURL)
	}
	if q.EnabledOnly {
		conds = append(conds, "e.disabled = 0")
	}
	return conds, args
}

// CountEndpoints counts endpoints by state.
func (db *DB) CountEndpoints(ctx context.Context, q hookline.EndpointCountQuery) (hookline.EndpointCounts, error) {
	conds, args := endpointCountConds(q)
	var c hookline.EndpointCounts
	err := db.r.QueryRowContext(ctx, `SELECT coalesce(sum(e.disabled = 0), 0), coalesce(sum(e.disabled <> 0), 0)
		FROM endpoints e JOIN applications a ON a.id = e.app_id`+where(conds), args...).Scan(&c.Active, &c.Disabled)
	if err != nil {
		return c, dbErr(err, "count endpoints")
	}
	return c, nil
}

// CountActiveApps counts applications with an endpoint q counts.
func (db *DB) CountActiveApps(ctx context.Context, q hookline.EndpointCountQuery) (int, error) {
	conds, args := endpointCountConds(q)
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(DISTINCT e.app_id)
		FROM endpoints e JOIN applications a ON a.id = e.app_id`+where(conds), args...).Scan(&n)
	if err != nil {
		return 0, dbErr(err, "count active applications")
	}
	return n, nil
}

// CountDeliveries counts deliveries of messages created in [since, until) by application.
func (db *DB) CountDeliveries(ctx context.Context, since, until time.Time, appIDs []string) (map[string]int64, error) {
	conds := []string{"m.created_at >= ?", "m.created_at < ?"}
	args := []any{micros(since), micros(until)}
	if len(appIDs) > 0 {
		conds, args = inList(conds, args, "d.app_id", appIDs)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT d.app_id, count(*) FROM deliveries d JOIN messages m ON m.id = d.msg_id`+
		where(conds)+` GROUP BY d.app_id`, args...)
	if err != nil {
		return nil, dbErr(err, "count deliveries")
	}
	defer rows.Close()
	out, err := sqlcodec.ScanAppCounts(rows)
	if err != nil {
		return nil, dbErr(err, "count deliveries")
	}
	return out, nil
}
