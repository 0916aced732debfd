package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/postgres"
)

// BenchmarkClaimAndRecord measures the delivery engine's retry path, as the SQLite benchmark
// of the same name does: one op claims 100 due stored deliveries and records 100 successful
// attempts (one transaction). Between ops, with the timer stopped, the claimed deliveries are made due
// again, so the table keeps its size while the attempt log grows as it would in production.
func BenchmarkClaimAndRecord(b *testing.B) {
	const (
		batch     = 100
		endpoints = 10
		messages  = 1000 // 10,000 deliveries in the table
	)
	ctx := context.Background()
	db := openDB(b)
	seed(b, db, endpoints, messages, time.Now().UTC().Add(-time.Hour+time.Second))
	storeFanOut(b, db)
	// Statistics, as autovacuum keeps them in production: without any the planner guesses a
	// handful of due rows and sorts them all instead of walking the due index.
	if _, err := db.Pool().Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}

	now := time.Now().UTC()
	outcomes := make([]hookline.Outcome, 0, batch)
	ids := make([]string, 0, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		jobs, err := db.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: "bench", Now: now, LeaseUntil: now.Add(time.Minute), Limit: batch})
		if err != nil {
			b.Fatal(err)
		}
		if len(jobs) != batch {
			b.Fatalf("claimed %d, want %d", len(jobs), batch)
		}
		outcomes = outcomes[:0]
		for _, j := range jobs {
			outcomes = append(outcomes, hookline.Outcome{
				DeliveryID: j.Delivery.ID, AppID: j.Delivery.AppID, EndpointID: j.Delivery.EndpointID,
				Status: hookline.StatusSuccess,
				Attempt: &hookline.Attempt{URL: j.Endpoint.URL, ResponseStatusCode: 200, Response: `{"ok":true}`,
					ResponseDurationMs: 12, Status: hookline.StatusSuccess, CreatedAt: now,
					RequestHeaders: map[string]string{"webhook-id": j.Message.ID}},
			})
		}
		if _, err := db.RecordAttempts(ctx, outcomes); err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		ids = ids[:0]
		for _, j := range jobs {
			ids = append(ids, j.Delivery.ID)
		}
		// Due again, after every other delivery: the next op claims the next 100.
		now = now.Add(time.Millisecond)
		if _, err := db.Pool().Exec(ctx, `UPDATE deliveries SET status = 1, next_attempt_at = $1 WHERE id = ANY($2)`,
			now.UnixMicro(), ids); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	if b.Elapsed() > 0 {
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "deliveries/s")
	}
}

// storeFanOut fans every due message out and stores its deliveries as pending, due at the
// message's creation, as a dispatcher that cannot send them at once does. Stored deliveries a
// claim takes along are handed back.
func storeFanOut(b *testing.B, db *postgres.DB) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for {
		jobs, err := db.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: "seed", Now: now, LeaseUntil: now.Add(time.Hour), Limit: 1000})
		if err != nil {
			b.Fatal(err)
		}
		var stored []string
		var outcomes []hookline.Outcome
		for _, j := range jobs {
			if !j.Fresh {
				stored = append(stored, j.Delivery.ID)
				continue
			}
			outcomes = append(outcomes, hookline.Outcome{DeliveryID: j.Delivery.ID, Owner: "seed", AppID: j.Delivery.AppID,
				MessageID: j.Delivery.MessageID, EndpointID: j.Delivery.EndpointID, Fresh: true, CompletesDispatch: true,
				Status: hookline.StatusPending, NextAttemptAt: &j.Message.CreatedAt})
		}
		if err := db.ReleaseDeliveries(ctx, "seed", stored); err != nil {
			b.Fatal(err)
		}
		if len(outcomes) == 0 {
			return
		}
		if _, err := db.RecordAttempts(ctx, outcomes); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFanOutAndRecord measures the delivery engine's hot path for new messages: one op
// claims 100 Fresh jobs (10 messages leased and fanned out to 10 endpoints each) and records
// 100 successful attempts, which inserts each delivery once, already successful. Messages are
// added with the timer stopped whenever fewer than an op's are left.
func BenchmarkFanOutAndRecord(b *testing.B) {
	const (
		batch     = 100
		endpoints = 10
		messages  = 1000 // added at a time
	)
	ctx := context.Background()
	db := openDB(b)
	start := time.Now().UTC().Add(-time.Hour)
	app := seed(b, db, endpoints, 0, start.Add(-time.Hour))
	added := 0
	left := 0
	more := func() {
		addMessages(b, db, app.ID, messages, start.Add(time.Duration(added+messages)*time.Millisecond))
		added += messages
		left += messages
	}
	more()

	now := time.Now().UTC()
	outcomes := make([]hookline.Outcome, 0, batch)
	op := func() {
		if left < batch/endpoints {
			b.StopTimer()
			more()
			b.StartTimer()
		}
		jobs, err := db.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: "bench", Now: now, LeaseUntil: now.Add(time.Minute), Limit: batch})
		if err != nil {
			b.Fatal(err)
		}
		if len(jobs) != batch {
			b.Fatalf("claimed %d, want %d", len(jobs), batch)
		}
		outcomes = outcomes[:0]
		for k, j := range jobs {
			if !j.Fresh {
				b.Fatalf("claimed a stored delivery; every message should fit a claim whole")
			}
			last := k == len(jobs)-1 || jobs[k+1].Message != j.Message
			outcomes = append(outcomes, hookline.Outcome{
				DeliveryID: j.Delivery.ID, Owner: "bench", AppID: j.Delivery.AppID, EndpointID: j.Delivery.EndpointID,
				Fresh: true, MessageID: j.Message.ID, CompletesDispatch: last, Status: hookline.StatusSuccess,
				Attempt: &hookline.Attempt{URL: j.Endpoint.URL, ResponseStatusCode: 200, Response: `{"ok":true}`,
					ResponseDurationMs: 12, Status: hookline.StatusSuccess, CreatedAt: now,
					RequestHeaders: map[string]string{"webhook-id": j.Message.ID}},
			})
		}
		if _, err := db.RecordAttempts(ctx, outcomes); err != nil {
			b.Fatal(err)
		}
		left -= batch / endpoints
	}
	// A history of deliveries and attempts before the statistics, as autovacuum keeps them in
	// production: statistics of an empty deliveries table make the attempts' foreign key check
	// scan the table, slower with every op.
	for range 20 {
		op()
	}
	if _, err := db.Pool().Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op()
	}
	b.StopTimer()
	if b.Elapsed() > 0 {
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "deliveries/s")
	}
}
