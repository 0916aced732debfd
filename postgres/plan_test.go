package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/clocktest"
	"github.com/hookline/hookline/internal/pgtest"
	"github.com/hookline/hookline/postgres"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestDeliveryInsertGenericPlan checks the plan PostgreSQL keeps for the delivery inserts'
// existence check once it switches a prepared statement to its generic plan (as it does after
// five executions): each message and endpoint found by its primary key. With the application's
// id in both conditions the generic plan once scanned every message of the application for
// each inserted delivery, which was half of PostgreSQL's CPU in `hookline bench`.
func TestDeliveryInsertGenericPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now().UTC()
	db := migratedAt(t, pgtest.URL(t), clocktest.New(now), postgres.PartitionDaily)
	app, ep := newAppEndpoint(t, db, now)
	s := seedRows(t, db, app.ID, ep.ID, now, 200)
	_, err := db.Pool().Exec(ctx, `ANALYZE messages; ANALYZE endpoints`)
	must(t, err)
	conn, err := db.Pool().Acquire(ctx)
	must(t, err)
	defer conn.Release()
	// A few hundred rows fit in a page or two, where a sequential scan is as cheap as any: with
	// those off, the plan shows which index the planner would take for a larger table.
	_, err = conn.Exec(ctx, `SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off`)
	must(t, err)
	defer conn.Exec(ctx, `RESET plan_cache_mode; RESET enable_seqscan`)
	plan := explain(t, conn, `SELECT 1
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
			AS u (app_id, msg_id, endpoint_id, owner, floor, until)
		WHERE `+postgres.DeliveryTargetExists,
		[]string{app.ID, app.ID}, []string{s.msgs[0], s.msgs[1]}, []string{ep.ID, ep.ID}, []string{"w", "w"}, []string{"", ""},
		[]int64{1, 1})
	t.Logf("generic plan:\n%s", plan)
	if strings.Contains(plan, "app_id") {
		t.Errorf("the generic plan looks rows up by application, not by id:\n%s", plan)
	}
	for _, table := range []string{"messages", "endpoints"} {
		if !strings.Contains(plan, "_pkey on "+table) {
			t.Errorf("the generic plan does not read %s by its primary key:\n%s", table, plan)
		}
	}
}

// explain returns the plan PostgreSQL makes on conn for query with args, without costs.
func explain(t *testing.T, conn *pgxpool.Conn, query string, args ...any) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `EXPLAIN (COSTS OFF) `+query, args...)
	must(t, err)
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var l string
		must(t, rows.Scan(&l))
		lines = append(lines, l)
	}
	must(t, rows.Err())
	return strings.Join(lines, "\n")
}
