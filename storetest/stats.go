package storetest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

func (suite) stats(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	n := now()
	base := n.Add(-3 * time.Hour).Truncate(time.Second)
	a, b := newApp(t, st, "a"), newApp(t, st, "b")
	newApp(t, st, "no endpoints")
	ep1 := newEndpoint(t, st, a.ID, nil)
	newEndpoint(t, st, a.ID, func(e *hookline.Endpoint) { e.Disabled = true })
	newEndpoint(t, st, b.ID, func(e *hookline.Endpoint) { e.URL = "https://play.svix.com/in/e_x/" })
	internal, err := hookline.EnsureOperationalApp(ctx, st, n)
	must(t, err)
	newEndpoint(t, st, internal.ID, nil) // never counted

	paid := func(m *hookline.Message) { m.EventType = "order.paid" }
	refunded := func(m *hookline.Message) { m.EventType = "order.refunded" }
	msg := func(edit func(*hookline.Message), at time.Time) *hookline.Message {
		m, _ := newMessage(t, st, a.ID, func(m *hookline.Message) { edit(m); m.OnlyEndpointID, m.CreatedAt = ep1.ID, at })
		return m
	}
	m1, m2, m3 := msg(paid, base), msg(paid, base.Add(time.Minute)), msg(refunded, base.Add(2*time.Minute))
	var outs []hookline.Outcome
	for _, j := range claim(t, st, "w", n, 10) {
		switch j.Message.ID {
		case m1.ID: // success in the first hour
			outs = append(outs, outcome(j, true, base.Add(10*time.Minute), nil))
		case m2.ID: // a final failure (410) in the second
			outs = append(outs, outcome(j, false, base.Add(70*time.Minute), nil))
		case m3.ID: // a failure (500) to retry, then canceled, in the second
			outs = append(outs, outcome(j, false, base.Add(70*time.Minute), ptr(n.Add(time.Hour))))
		}
	}
	if len(outs) != 3 {
		t.Fatalf("claimed %d of the 3 messages", len(outs))
	}
	record(t, st, outs...)
	canceled, err := st.CancelPending(ctx, a.ID, ep1.ID, n, base.Add(90*time.Minute))
	must(t, err)
	if canceled != 1 {
		t.Fatalf("canceled %d", canceled)
	}

	// Attempt counts, with the list's filters.
	count := func(opts hookline.AttemptListOptions, max int) (int, bool) {
		t.Helper()
		n, more, err := st.CountAttempts(ctx, a.ID, opts, max)
		must(t, err)
		return n, more
	}
	fail, class4 := hookline.StatusFail, 400
	for _, c := range []struct {
		what string
		opts hookline.AttemptListOptions
		max  int
		n    int
		more bool
	}{
		{"all", hookline.AttemptListOptions{EndpointID: ep1.ID}, 10, 3, false},
		{"capped", hookline.AttemptListOptions{EndpointID: ep1.ID}, 2, 2, true},
		{"exactly the cap", hookline.AttemptListOptions{EndpointID: ep1.ID}, 3, 3, false},
		{"failed", hookline.AttemptListOptions{EndpointID: ep1.ID, Status: &fail}, 10, 2, false},
		{"4xx", hookline.AttemptListOptions{EndpointID: ep1.ID, CodeClass: &class4}, 10, 1, false},
		{"order.paid", hookline.AttemptListOptions{EventTypes: []string{"order.paid"}}, 10, 2, false},
		{"after the first hour", hookline.AttemptListOptions{After: ptr(base.Add(time.Hour))}, 10, 2, false},
		{"other endpoint", hookline.AttemptListOptions{EndpointID: hookline.NewID(hookline.PrefixEndpoint)}, 10, 0, false},
	} {
		if n, more := count(c.opts, c.max); n != c.n || more != c.more {
			t.Errorf("count %s = %d (more %v), want %d (%v)", c.what, n, more, c.n, c.more)
		}
	}

	// Outcomes by event type, hour and status.
	outcomes := func(q hookline.OutcomeQuery) []hookline.OutcomeCount {
		t.Helper()
		got, err := st.OutcomeCounts(ctx, a.ID, q)
		must(t, err)
		slices.SortFunc(got, func(x, y hookline.OutcomeCount) int {
			if x.EventType != y.EventType {
				return map[bool]int{true: -1, false: 1}[x.EventType < y.EventType]
			}
			if x.Bucket != y.Bucket {
				return x.Bucket - y.Bucket
			}
			return int(x.Status - y.Status)
		})
		return got
	}
	q := hookline.OutcomeQuery{Since: base, Until: base.Add(2 * time.Hour), Step: time.Hour}
	want := []hookline.OutcomeCount{
		{EventType: "order.paid", Bucket: 0, Status: hookline.StatusSuccess, N: 1},
		{EventType: "order.paid", Bucket: 1, Status: hookline.StatusFail, N: 1},
		{EventType: "order.refunded", Bucket: 1, Status: hookline.StatusFail, N: 1},
		{EventType: "order.refunded", Bucket: 1, Status: hookline.StatusCanceled, N: 1},
	}
	if got := outcomes(q); !slices.Equal(got, want) {
		t.Errorf("outcomes by hour = %+v\nwant %+v", got, want)
	}
	q.EventTypes = []string{"order.paid"}
	if got := outcomes(q); !slices.Equal(got, want[:2]) {
		t.Errorf("outcomes of order.paid = %+v, want %+v", got, want[:2])
	}
	if got := outcomes(hookline.OutcomeQuery{Since: base, Until: base.Add(time.Hour)}); !slices.Equal(got, want[:1]) {
		t.Errorf("outcomes of the first hour, one bucket = %+v, want %+v", got, want[:1])
	}

	// Endpoints and active applications, the internal one aside.
	for _, c := range []struct {
		q      hookline.EndpointCountQuery
		counts hookline.EndpointCounts
		apps   int
	}{
		{hookline.EndpointCountQuery{}, hookline.EndpointCounts{Active: 2, Disabled: 1}, 2},
		{hookline.EndpointCountQuery{ExcludeURL: "play.svix.com"}, hookline.EndpointCounts{Active: 1, Disabled: 1}, 1},
		{hookline.EndpointCountQuery{EnabledOnly: true}, hookline.EndpointCounts{Active: 2}, 2},
	} {
		got, err := st.CountEndpoints(ctx, c.q)
		must(t, err)
		if got != c.counts {
			t.Errorf("endpoints %+v = %+v, want %+v", c.q, got, c.counts)
		}
		apps, err := st.CountActiveApps(ctx, c.q)
		must(t, err)
		if apps != c.apps {
			t.Errorf("active applications %+v = %d, want %d", c.q, apps, c.apps)
		}
	}

	// Deliveries of the messages created in a range, by application.
	for _, c := range []struct {
		since, until time.Time
		apps         []string
		want         map[string]int64
	}{
		{base, n, nil, map[string]int64{a.ID: 3}},
		{base.Add(time.Minute), n, []string{a.ID, b.ID}, map[string]int64{a.ID: 2}},
		{base, n, []string{b.ID}, map[string]int64{}},
		{n, n.Add(time.Hour), nil, map[string]int64{}},
	} {
		got, err := st.CountDeliveries(ctx, c.since, c.until, c.apps)
		must(t, err)
		if !maps.Equal(got, c.want) {
			t.Errorf("deliveries from %s for %v = %v, want %v", c.since.Sub(base), c.apps, got, c.want)
		}
	}
}
