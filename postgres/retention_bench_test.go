package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/clocktest"
	"github.com/hookline/hookline/internal/pgtest"
	"github.com/hookline/hookline/postgres"
	"github.com/jackc/pgx/v5"
)

// BenchmarkRetentionDay measures Purge of a day's worth of attempts: 100,000 messages, each
// delivered to 10 endpoints at the first try, so 1,000,000 deliveries and 1,000,000 attempts.
// "partitions": the day is a partition of messages and of attempts, which Purge drops; the
// deliveries (not partitioned) are deleted row by row. "rows": the same rows lie in the DEFAULT
// partitions, so Purge deletes them all row by row, as it did before the tables were
// partitioned. It reports the time of one Purge and the dead tuples it leaves in the tables of
// messages and attempts (which VACUUM must then clean) and in deliveries. Run with
//
//	go test -run '^$' -bench RetentionDay -benchtime 1x ./postgres/
func BenchmarkRetentionDay(b *testing.B) {
	for _, where := range []string{"partitions", "rows"} {
		b.Run(where, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				benchRetentionDay(b, where == "rows")
			}
		})
	}
}

func benchRetentionDay(b *testing.B, inDefault bool) {
	const (
		messages  = 100_000
		endpoints = 10
	)
	ctx := context.Background()
	day := time.Date(2031, 3, 10, 0, 0, 0, 0, time.UTC)
	clock := clocktest.New(day.Add(12 * time.Hour))
	db, err := postgres.Open(ctx, pgtest.URL(b), postgres.Options{SecretBox: testBox(b), Clock: clock,
		PartitionInterval: postgres.PartitionDaily, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))}) // the took of each drop and phase
	must(b, err)
	defer db.Close()
	_, err = db.Migrate(ctx)
	must(b, err)
	app, _ := newAppEndpoint(b, db, day)
	eps := make([]string, endpoints)
	for i := range eps {
		_, ep := newAppEndpointOf(b, db, app.ID, day)
		eps[i] = ep
	}
	// The ids' time: the day itself, or a year later (past every partition: DEFAULT).
	idDay := day
	if inDefault {
		idDay = day.AddDate(1, 0, 0)
	}
	copyDay(b, db, app.ID, eps, day, idDay, messages)
	// A day past the retention was vacuumed long ago; a fresh COPY makes autovacuum busy on
	// the new rows, and a DROP waits (deadlock_timeout, 1 s) before it cancels autovacuum.
	_, err = db.Pool().Exec(ctx, `VACUUM ANALYZE`)
	must(b, err)
	dead := func() (msgs, dlvs int64) {
		must(b, db.Pool().QueryRow(ctx, `SELECT
			coalesce(sum(n_dead_tup) FILTER (WHERE relname LIKE 'messages%' OR relname LIKE 'attempts%'), 0),
			coalesce(sum(n_dead_tup) FILTER (WHERE relname LIKE 'deliveries%'), 0)
			FROM pg_stat_user_tables WHERE schemaname = current_schema()`).Scan(&msgs, &dlvs))
		return msgs, dlvs
	}

	clock.Set(day.Add(3 * 24 * time.Hour))
	b.StartTimer()
	began := time.Now()
	n, err := db.Purge(ctx, day.Add(25*time.Hour))
	took := time.Since(began)
	b.StopTimer()
	must(b, err)
	if n != messages {
		b.Fatalf("purged %d messages, want %d", n, messages)
	}
	// The statistics of other sessions arrive within PostgreSQL's stats interval (10 s at most).
	var deadMsgs, deadDlvs int64
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		if deadMsgs, deadDlvs = dead(); deadDlvs > 0 {
			break
		}
	}
	b.ReportMetric(took.Seconds(), "purge-s")
	b.ReportMetric(float64(deadMsgs), "dead-tuples-messages+attempts")
	b.ReportMetric(float64(deadDlvs), "dead-tuples-deliveries")
	fmt.Printf("retention of %d attempts (%s): Purge took %v; dead tuples: %d in messages and attempts, %d in deliveries\n",
		messages*endpoints, map[bool]string{false: "partitions dropped", true: "rows deleted"}[inDefault], took.Round(time.Millisecond), deadMsgs, deadDlvs)
}

// copyDay writes with COPY, from day on, messages of appID 10 ms apart, each delivered to every
// endpoint of eps at the first try, with one attempt per delivery; ids are made from the same
// offsets from idDay.
func copyDay(b *testing.B, db *postgres.DB, appID string, eps []string, day, idDay time.Time, messages int) {
	b.Helper()
	ctx := context.Background()
	app := struct{ ID string }{appID}
	endpoints := len(eps)
	msgRows := make([][]any, 0, messages)
	dlvRows := make([][]any, 0, messages*endpoints)
	atRows := make([][]any, 0, messages*endpoints)
	for i := range messages {
		at := time.Duration(i) * 10 * time.Millisecond
		made := day.Add(at).UnixMicro()
		msg := hookline.FirstIDAt(hookline.PrefixMessage, idDay.Add(at))
		msgRows = append(msgRows, []any{msg, app.ID, "order.paid", []byte(`{"n":1}`), made})
		for j, ep := range eps {
			t := idDay.Add(at + time.Duration(j)*time.Millisecond)
			dlv := hookline.FirstIDAt(hookline.PrefixDelivery, t)
			dlvRows = append(dlvRows, []any{dlv, app.ID, msg, ep, int32(0), int32(1), made, made})
			atRows = append(atRows, []any{hookline.FirstIDAt(hookline.PrefixAttempt, t), app.ID, msg, ep, dlv,
				"https://hooks.example/x", int32(200), []byte(`{"ok":true}`), int32(0), made})
		}
	}
	for _, c := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"messages", []string{"id", "app_id", "event_type", "payload", "created_at"}, msgRows},
		{"deliveries", []string{"id", "app_id", "msg_id", "endpoint_id", "status", "attempt_count", "created_at", "updated_at"}, dlvRows},
		{"attempts", []string{"id", "app_id", "msg_id", "endpoint_id", "delivery_id", "url", "response_status_code", "response", "status", "created_at"}, atRows},
	} {
		if _, err := db.Pool().CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
			b.Fatalf("copy %s: %v", c.table, err)
		}
	}
}

// newAppEndpointOf adds a disabled endpoint to the application appID.
func newAppEndpointOf(t testing.TB, db *postgres.DB, appID string, at time.Time) (string, string) {
	t.Helper()
	ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: appID, URL: "https://hooks.example/x",
		Version: 1, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Disabled: true, CreatedAt: at, UpdatedAt: at}
	must(t, db.CreateEndpoint(context.Background(), ep))
	return appID, ep.ID
}

// BenchmarkMigratePartitions measures migrations 0016 and 0017 on a database holding a day of traffic
// written by the unpartitioned schema (100,000 messages, 1,000,000 deliveries and 1,000,000
// attempts): they copy no row, so their time is reading each table once and building the
// legacy deliveries' new primary key. Run with
//
//	go test -run '^$' -bench MigratePartitions -benchtime 1x ./postgres/
func BenchmarkMigratePartitions(b *testing.B) {
	for range b.N {
		b.StopTimer()
		ctx := context.Background()
		day := time.Now().UTC().Add(-24 * time.Hour)
		db := openAt(b, pgtest.URL(b), clocktest.New(time.Now()), postgres.PartitionDaily)
		migrateBefore(b, db, "0016")
		app, _ := newAppEndpoint(b, db, day)
		eps := make([]string, 10)
		for i := range eps {
			_, eps[i] = newAppEndpointOf(b, db, app.ID, day)
		}
		copyDay(b, db, app.ID, eps, day, day, 100_000)
		_, err := db.Pool().Exec(ctx, `ANALYZE`)
		must(b, err)
		b.StartTimer()
		began := time.Now()
		_, err = db.Migrate(ctx)
		took := time.Since(began)
		b.StopTimer()
		must(b, err)
		b.ReportMetric(took.Seconds(), "migrate-s")
		fmt.Printf("migrations 0016 and 0017 of 100000 messages, 1000000 deliveries, 1000000 attempts: %v\n", took.Round(time.Millisecond))
	}
}
