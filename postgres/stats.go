package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// CountAttempts counts the attempts ListAttempts would list with opts's filters, at most max.
func (db *DB) CountAttempts(ctx context.Context, appID string, opts hookline.AttemptListOptions, max int) (int, bool, error) {
	var a args
	conds := attemptFilters([]string{"app_id = " + a.add(appID)}, &a, opts)
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM attempts`+where(conds...)+
		fmt.Sprintf(` LIMIT %d) AS matching`, max+1), a...).Scan(&n)
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
	var a args
	s, st, app, lo, hi := a.add(since), a.add(step), a.add(appID), a.add(since), a.add(until)
	types := ""
	if len(q.EventTypes) > 0 {
		types = " AND m.event_type = ANY(" + a.add(q.EventTypes) + "::text[])"
	}
	rows, err := db.pool.Query(ctx, `SELECT m.event_type, ((a.created_at - `+s+`) / `+st+`)::int, a.status, count(*)
		FROM attempts a JOIN messages m ON m.id = a.msg_id
		WHERE a.app_id = `+app+` AND a.created_at >= `+lo+` AND a.created_at < `+hi+` AND a.status IN (0, 2)`+types+`
		GROUP BY 1, 2, 3
		UNION ALL
		SELECT m.event_type, ((d.updated_at - `+s+`) / `+st+`)::int, 4, count(*)
		FROM deliveries d JOIN messages m ON m.id = d.msg_id
		WHERE d.app_id = `+app+` AND d.status = 4 AND d.updated_at >= `+lo+` AND d.updated_at < `+hi+types+`
		GROUP BY 1, 2`, a...)
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
func endpointCountConds(a *args, q hookline.EndpointCountQuery) []string {
	conds := []string{"NOT a.internal"}
	if q.ExcludeURL != "" {
		conds = append(conds, "strpos(e.url, "+a.add(q.ExcludeURL)+") = 0")
	}
	if q.EnabledOnly {
		conds = append(conds, "NOT e.disabled")
	}
	return conds
}

// CountEndpoints counts endpoints by state.
func (db *DB) CountEndpoints(ctx context.Context, q hookline.EndpointCountQuery) (hookline.EndpointCounts, error) {
	var a args
	conds := endpointCountConds(&a, q)
	var c hookline.EndpointCounts
	err := db.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT e.disabled), count(*) FILTER (WHERE e.disabled)
		FROM endpoints e JOIN applications a ON a.id = e.app_id`+where(conds...), a...).Scan(&c.Active, &c.Disabled)
	if err != nil {
		return c, dbErr(err, "count endpoints")
	}
	return c, nil
}

// CountActiveApps counts applications with an endpoint q counts.
func (db *DB) CountActiveApps(ctx context.Context, q hookline.EndpointCountQuery) (int, error) {
	var a args
	conds := endpointCountConds(&a, q)
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(DISTINCT e.app_id)
		FROM endpoints e JOIN applications a ON a.id = e.app_id`+where(conds...), a...).Scan(&n)
	if err != nil {
		return 0, dbErr(err, "count active applications")
	}
	return n, nil
}

// CountDeliveries counts deliveries of messages created in [since, until) by application.
func (db *DB) CountDeliveries(ctx context.Context, since, until time.Time, appIDs []string) (map[string]int64, error) {
	var a args
	conds := []string{"m.created_at >= " + a.add(micros(since)), "m.created_at < " + a.add(micros(until))}
	if len(appIDs) > 0 {
		conds = append(conds, "d.app_id = ANY("+a.add(appIDs)+"::text[])")
	}
	rows, err := db.pool.Query(ctx, `SELECT d.app_id, count(*) FROM delivery_rows d JOIN messages m ON m.id = d.msg_id`+
		where(conds...)+` GROUP BY d.app_id`, a...)
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
