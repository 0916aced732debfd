package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// BenchmarkClaimAndRecord measures the delivery engine's hot path, as the SQLite benchmark of
// the same name does: one op claims 100 due deliveries and records 100 successful attempts
// (one transaction). Between ops, with the timer stopped, the claimed deliveries are made due
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
