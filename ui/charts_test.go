package ui

import (
	"testing"
	"time"

	"github.com/hookline/hookline"
)

func TestPercentiles(t *testing.T) {
	// 1..100 ms once each: nearest rank puts p50 at 50 and p95 at 95.
	var ds []durationCount
	for ms := int64(100); ms >= 1; ms-- {
		ds = append(ds, durationCount{ms, 1})
	}
	if got := percentiles(ds); got != (latency{P50: 50, P95: 95, Has: true}) {
		t.Errorf("1..100: %+v", got)
	}
	// Counted durations: 19 fast attempts and one slow one.
	if got := percentiles([]durationCount{{900, 1}, {3, 19}}); got != (latency{P50: 3, P95: 3, Has: true}) {
		t.Errorf("19 fast, 1 slow: %+v", got)
	}
	if got := percentiles([]durationCount{{900, 2}, {3, 18}}); got.P95 != 900 {
		t.Errorf("18 fast, 2 slow: p95 %d, want 900", got.P95)
	}
	if got := percentiles(nil); got.Has {
		t.Errorf("no attempts: %+v", got)
	}
}

func TestNiceMax(t *testing.T) {
	for v, want := range map[float64]float64{0: 1, 1: 1, 3: 5, 6: 10, 10: 10, 11: 20, 240: 500, 0.3: 0.5} {
		if got := niceMax(v); got != want {
			t.Errorf("niceMax(%g) = %g, want %g", v, got, want)
		}
	}
}

// TestDeliveryChartBuckets: a range's buckets fall on whole steps and end with the one that
// holds now; counts land in their buckets and add up.
func TestDeliveryChartBuckets(t *testing.T) {
	now := time.Date(2026, 12, 6, 14, 37, 0, 0, time.UTC)
	cr := rangeOf("24h")
	since, until := cr.bounds(now)
	if !since.Equal(time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC)) || !until.Equal(time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)) {
		t.Fatalf("24h at %s: %s to %s", now, since, until)
	}
	c := newDeliveryChart(printer(t, "en"), cr, now, []hookline.AttemptCount{
		{Bucket: 23, Status: hookline.StatusSuccess, DurationMs: 10, N: 3},
		{Bucket: 23, Status: hookline.StatusFail, DurationMs: 500, N: 1},
		{Bucket: 0, Status: hookline.StatusSuccess, DurationMs: 20, N: 2},
		{Bucket: 24, Status: hookline.StatusSuccess, N: 9}, // outside: ignored
	}, true)
	if len(c.Buckets) != 24 || len(c.Bars) != 24 || c.OK != 5 || c.Fail != 1 || c.Rate() != "83.3%" {
		t.Fatalf("chart: %d buckets, %d bars, %d ok, %d failed, rate %s", len(c.Buckets), len(c.Bars), c.OK, c.Fail, c.Rate())
	}
	last := c.Buckets[23]
	if last.OK != 3 || last.Fail != 1 || last.Latency != (latency{P50: 10, P95: 500, Has: true}) {
		t.Errorf("last bucket: %+v", last)
	}
	if c.Latency != (latency{P50: 10, P95: 500, Has: true}) {
		t.Errorf("overall latency %+v", c.Latency)
	}
	if got := c.Bars[23].Title; got != "6 Dec, 14:00–15:00 UTC: 3 delivered, 1 failed" {
		t.Errorf("last bar's title %q", got)
	}
	// The tallest bar reaches the top of the scale (5 is the nice maximum of 4).
	if c.YTicks[2].Label != "5" {
		t.Errorf("scale top %q, want 5", c.YTicks[2].Label)
	}
}
