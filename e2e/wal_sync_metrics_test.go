package e2e

import (
	"testing"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
)

// TestWALSyncMetrics: with synchronous=FULL, every accepted message waits for an fsync of the
// WAL, and /metrics times them; with NORMAL there are none, and the histogram is left out.
func TestWALSyncMetrics(t *testing.T) {
	t.Parallel()
	const count = "hookline_sqlite_wal_sync_duration_seconds_count"
	full := testserver.Start(t, testserver.Options{Configure: func(c *config.Config) { c.SQLiteSynchronous = "FULL" }})
	full.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "Order paid"}, 201)
	var app struct {
		ID string `json:"id"`
	}
	full.Op("POST", "/api/v1/app", map[string]any{"name": "acme"}, 201).JSON(t, &app)
	before := metricValue(t, full, count)
	if before < 1 {
		t.Fatalf("%s = %v after three durable writes, want at least 1", count, before)
	}
	for range 3 {
		full.Op("POST", "/api/v1/app/"+app.ID+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"n": 1}}, 202)
	}
	// Each message is answered after an fsync that started after its commit: one each, as the
	// requests come one after the other.
	if after := metricValue(t, full, count); after < before+3 {
		t.Errorf("%s went from %v to %v over three messages, want at least 3 more", count, before, after)
	}
	if sum := metricValue(t, full, "hookline_sqlite_wal_sync_duration_seconds_sum"); !(sum > 0) {
		t.Errorf("fsyncs took %v s in all, want > 0", sum)
	}

	normal := testserver.Start(t, testserver.Options{})
	if got := metricValue(t, normal, count); got != -1 {
		t.Errorf("with synchronous=NORMAL %s = %v, want no such series", count, got)
	}
}
