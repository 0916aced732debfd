package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/sqlite"
)

// BenchmarkAttemptStats measures the dashboard's chart queries on an attempt log of 300,000
// attempts spread evenly over 30 days across 10 endpoints (10,000 a day, 1,000 a day per
// endpoint), with durations of 1 to 500 ms. Each op is one chart: the application's (all
// endpoints, no latency) or one endpoint's (with latency, grouped by duration) over a range.
func BenchmarkAttemptStats(b *testing.B) {
	const (
		endpoints = 10
		attempts  = 300_000
		span      = 30 * 24 * time.Hour
	)
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{SecretBox: testBox(b)})
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
	var eps []string
	for range endpoints {
		ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID,
			URL: "https://example.com/hook", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
		if err := db.CreateEndpoint(ctx, ep); err != nil {
			b.Fatal(err)
		}
		eps = append(eps, ep.ID)
	}
	msg := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID, EventType: "order.paid",
		Payload: []byte(`{}`), CreatedAt: time.Now()}
	if err := db.CreateMessage(ctx, msg); err != nil {
		b.Fatal(err)
	}
	// The attempt rows are written directly: the delivery engine would take minutes to make
	// this many. Ids carry their time, as the engine's do.
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	tx, err := raw.Begin()
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.Prepare(`INSERT INTO attempts (id, app_id, msg_id, endpoint_id, delivery_id, url, response_status_code,
		response_duration_ms, status, created_at) VALUES (?, ?, ?, ?, 'dlv_x', 'https://example.com/hook', ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	start := now.Add(-span)
	for i := range attempts {
		at := start.Add(time.Duration(i) * (span / attempts))
		status, code := hookline.StatusSuccess, 200
		if i%10 == 0 {
			status, code = hookline.StatusFail, 503
		}
		if _, err := stmt.Exec(hookline.FirstIDAt(hookline.PrefixAttempt, at), app.ID, msg.ID, eps[i%endpoints], code, 1+i%500,
			status, at.UnixMicro()); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	for _, r := range []struct {
		name string
		span time.Duration
		step time.Duration
	}{{"1h", time.Hour, 5 * time.Minute}, {"24h", 24 * time.Hour, time.Hour}, {"7d", 7 * 24 * time.Hour, 6 * time.Hour}, {"30d", span, 24 * time.Hour}} {
		for _, one := range []bool{false, true} {
			name := fmt.Sprintf("range=%s/application", r.name)
			q := hookline.AttemptStatsQuery{Since: now.Add(-r.span), Until: now, Step: r.step}
			if one {
				name = fmt.Sprintf("range=%s/endpoint+latency", r.name)
				q.EndpointID, q.Latency = eps[3], true
			}
			b.Run(name, func(b *testing.B) {
				rows := 0
				for b.Loop() {
					counts, err := db.AttemptStats(ctx, app.ID, q)
					if err != nil {
						b.Fatal(err)
					}
					rows = len(counts)
				}
				b.ReportMetric(float64(rows), "rows")
			})
		}
	}
}
