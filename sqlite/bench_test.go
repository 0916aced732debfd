package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/sqlite"
)

// BenchmarkClaimAndRecord measures the delivery engine's hot path: one op claims 100 due
// deliveries and records 100 successful attempts (one group-committed transaction). Between
// ops, with the timer stopped, the claimed deliveries are made due again, so the table keeps
// its size while the attempt log grows as it would in production.
func BenchmarkClaimAndRecord(b *testing.B) {
	for _, sync := range []string{"NORMAL", "FULL"} {
		b.Run("synchronous="+sync, func(b *testing.B) { benchClaimAndRecord(b, sync) })
	}
}

func benchClaimAndRecord(b *testing.B, synchronous string) {
	const (
		batch     = 100
		endpoints = 10
		messages  = 1000 // 10,000 deliveries in the table
	)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{SecretBox: testBox(b), Synchronous: synchronous})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "bench"}
	if err := db.CreateApplication(ctx, app); err != nil {
		b.Fatal(err)
	}
	for range endpoints {
		ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID,
			URL: "https://example.com/hook", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
		if err := db.CreateEndpoint(ctx, ep); err != nil {
			b.Fatal(err)
		}
	}
	payload := []byte(`{"type":"order.paid","data":{"id":"ord_1","amount":4200,"currency":"EUR"}}`)
	base := time.Now().UTC().Add(-time.Hour)
	for i := range messages {
		if err := db.CreateMessage(ctx, &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID,
			EventType: "order.paid", Payload: payload, CreatedAt: base.Add(time.Duration(i) * time.Millisecond)}); err != nil {
			b.Fatal(err)
		}
	}

	now := time.Now().UTC()
	outcomes := make([]hookline.Outcome, 0, batch)
	ids := make([]any, 0, batch)
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
				MessageID: j.Delivery.MessageID, Fresh: j.Fresh, Status: hookline.StatusSuccess,
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
		args := append([]any{now.UnixMicro()}, ids...)
		if _, err := db.WriteDB().ExecContext(ctx, `UPDATE deliveries SET status = 1, next_attempt_at = ?
			WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	if b.Elapsed() > 0 {
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "deliveries/s")
	}
}
