package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// sentTo creates a message of app created at at, with one pending delivery due now to ep.
func sentTo(t *testing.T, st hookline.Store, appID, epID string, at time.Time) *hookline.Message {
	t.Helper()
	m, _ := newMessage(t, st, appID, func(m *hookline.Message) { m.OnlyEndpointID, m.CreatedAt = epID, at })
	return m
}

func (suite) cancelPending(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	ep, ep2 := newEndpoint(t, st, app.ID, nil), newEndpoint(t, st, app.ID, nil)
	n := now()
	retrying := sentTo(t, st, app.ID, ep.ID, n.Add(-2*time.Hour))
	failed := sentTo(t, st, app.ID, ep.ID, n.Add(-time.Hour))
	other := sentTo(t, st, app.ID, ep2.ID, n.Add(-2*time.Hour))
	// The first two are attempted: one to be retried later, one failed for good.
	jobs := claim(t, st, "w", n, 10)
	var outs []hookline.Outcome
	for _, j := range jobs {
		switch j.Message.ID {
		case retrying.ID:
			outs = append(outs, outcome(j, false, n, ptr(n.Add(time.Hour))))
		case failed.ID:
			outs = append(outs, outcome(j, false, n, nil))
		default:
			must(t, st.ReleaseDeliveries(ctx, "w", []string{j.Delivery.ID}))
		}
	}
	if len(outs) != 2 {
		t.Fatalf("claimed %d jobs of the two messages, want 2", len(outs))
	}
	record(t, st, outs...)
	recent := sentTo(t, st, app.ID, ep.ID, n)

	got, err := st.CancelPending(ctx, app.ID, ep.ID, n.Add(-30*time.Minute), n)
	must(t, err)
	if got != 1 {
		t.Errorf("canceled %d deliveries, want 1 (the retry of a message from before the cut)", got)
	}
	d := deliveryTo(t, st, app.ID, retrying.ID, ep.ID)
	if d.Status != hookline.StatusCanceled || d.NextAttemptAt != nil {
		t.Errorf("canceled delivery = %+v", d)
	}
	for msg, want := range map[string]hookline.MessageStatus{failed.ID: hookline.StatusFail, recent.ID: hookline.StatusPending} {
		if d := deliveryTo(t, st, app.ID, msg, ep.ID); d.Status != want {
			t.Errorf("delivery of %s = %s, want %s", msg, d.Status, want)
		}
	}
	if d := deliveryTo(t, st, app.ID, other.ID, ep2.ID); d.Status != hookline.StatusPending {
		t.Errorf("the other endpoint's delivery = %s, want pending", d.Status)
	}
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Pending: 1, Fail: 1, Canceled: 1})
	// A canceled delivery is never claimed again.
	later := claim(t, st, "w2", n.Add(48*time.Hour), 10)
	var msgs []string
	for _, j := range later {
		msgs = append(msgs, j.Message.ID)
	}
	slices.Sort(msgs)
	want := []string{other.ID, recent.ID}
	slices.Sort(want)
	if !slices.Equal(msgs, want) {
		t.Errorf("claim after the cancel took %v, want %v", msgs, want)
	}

	_, err = st.CancelPending(ctx, app.ID, hookline.NewID(hookline.PrefixEndpoint), n, n)
	wantCode(t, err, hookline.ENOTFOUND)
}

func (suite) messagesNoDeliveryTo(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	ep, ep2 := newEndpoint(t, st, app.ID, nil), newEndpoint(t, st, app.ID, nil)
	n := now()
	m1 := sentTo(t, st, app.ID, ep.ID, n.Add(-3*time.Second))
	m2 := sentTo(t, st, app.ID, ep2.ID, n.Add(-2*time.Second))
	m3 := sentTo(t, st, app.ID, ep2.ID, n.Add(-time.Second))
	_, err := st.RequeueDelivery(ctx, app.ID, m3.ID, ep.ID, n)
	must(t, err)
	newMessage(t, st, app.ID, nil) // awaiting dispatch: its deliveries are not stored yet
	list := func(epID string) []string {
		page, err := st.ListMessages(ctx, app.ID, hookline.MessageListOptions{ListOptions: hookline.ListOptions{Limit: 10}, NoDeliveryTo: epID})
		must(t, err)
		var ids []string
		for _, m := range page.Data {
			ids = append(ids, m.ID)
		}
		return ids
	}
	if got := list(ep.ID); !slices.Equal(got, []string{m2.ID}) {
		t.Errorf("messages never sent to ep = %v, want %v", got, []string{m2.ID})
	}
	if got := list(ep2.ID); !slices.Equal(got, []string{m1.ID}) {
		t.Errorf("messages never sent to ep2 = %v, want %v", got, []string{m1.ID})
	}
}
