package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// attemptStats records attempts at known times, outcomes and durations, and checks that
// AttemptStats counts them by endpoint, bucket, outcome and duration, within its time range
// and application only.
func attemptStats(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	since := now().Add(-3 * time.Hour).Truncate(time.Hour)
	app := newApp(t, st, "acme")
	ep1 := newEndpoint(t, st, app.ID, nil)
	ep2 := newEndpoint(t, st, app.ID, nil)
	other := newApp(t, st, "other")
	newEndpoint(t, st, other.ID, nil)
	// Five messages: each gets one attempt per endpoint.
	for i := 0; i < 5; i++ {
		newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = since })
	}
	newMessage(t, st, other.ID, func(m *hookline.Message) { m.CreatedAt = since })

	// Attempt k of an endpoint: made k*25 minutes after since (k = 0..4: buckets 0, 0, 0, 1,
	// 1 of an hour; the one at 100 minutes is in bucket 1), the 5th of ep2 before since.
	type key struct {
		ep     string
		bucket int
		status hookline.MessageStatus
		ms     int64
	}
	want := map[key]int{}
	n := map[string]int{}
	for _, j := range claim(t, st, "w", since.Add(time.Minute), 100) {
		if j.Delivery.AppID != app.ID {
			record(t, st, outcome(j, true, since.Add(time.Minute), nil))
			continue
		}
		k := n[j.Delivery.EndpointID]
		n[j.Delivery.EndpointID]++
		at := since.Add(time.Duration(k) * 25 * time.Minute)
		ok := j.Delivery.EndpointID == ep1.ID || k%2 == 0
		if j.Delivery.EndpointID == ep2.ID && k == 4 {
			at = since.Add(-time.Minute) // before the range
		}
		o := outcome(j, ok, at, nil)
		o.Attempt.ResponseDurationMs = int64(10 * (k + 1))
		record(t, st, o)
		if at.Before(since) {
			continue
		}
		want[key{j.Delivery.EndpointID, int(at.Sub(since) / time.Hour), o.Attempt.Status, o.Attempt.ResponseDurationMs}]++
	}

	q := hookline.AttemptStatsQuery{Since: since, Until: since.Add(3 * time.Hour), Step: time.Hour, Latency: true}
	counts, err := st.AttemptStats(ctx, app.ID, q)
	must(t, err)
	got := map[key]int{}
	for _, c := range counts {
		got[key{c.EndpointID, c.Bucket, c.Status, c.DurationMs}] += c.N
	}
	if len(got) != len(want) {
		t.Errorf("AttemptStats with latency: %d groups %v, want %d %v", len(got), got, len(want), want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("AttemptStats with latency, %+v: %d, want %d", k, got[k], w)
		}
	}

	// Without latency, one endpoint, a range that ends before the last attempt.
	q = hookline.AttemptStatsQuery{EndpointID: ep2.ID, Since: since, Until: since.Add(100 * time.Minute), Step: time.Hour}
	counts, err = st.AttemptStats(ctx, app.ID, q)
	must(t, err)
	type short struct {
		bucket int
		status hookline.MessageStatus
		n      int
	}
	var gotShort []short
	for _, c := range counts {
		if c.EndpointID != ep2.ID || c.DurationMs != 0 {
			t.Errorf("endpoint stats: %+v", c)
		}
		gotShort = append(gotShort, short{c.Bucket, c.Status, c.N})
	}
	slices.SortFunc(gotShort, func(a, b short) int { return (a.bucket*10 + int(a.status)) - (b.bucket*10 + int(b.status)) })
	// ep2: k=0 ok at 0 min, k=1 fail at 25, k=2 ok at 50, k=3 fail at 75; k=4 is before since.
	wantShort := []short{{0, hookline.StatusSuccess, 2}, {0, hookline.StatusFail, 1}, {1, hookline.StatusFail, 1}}
	slices.SortFunc(wantShort, func(a, b short) int { return (a.bucket*10 + int(a.status)) - (b.bucket*10 + int(b.status)) })
	if !slices.Equal(gotShort, wantShort) {
		t.Errorf("endpoint stats: %v, want %v", gotShort, wantShort)
	}

	if _, err := st.AttemptStats(ctx, app.ID, hookline.AttemptStatsQuery{Since: since, Until: since}); hookline.ErrorCode(err) != hookline.EINVALID {
		t.Errorf("AttemptStats without a step or range: %v, want EINVALID", err)
	}
}
