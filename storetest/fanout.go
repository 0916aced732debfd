package storetest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// createWaiting creates a message awaiting dispatch (no fan-out yet), created at at.
func createWaiting(t *testing.T, st DeliveryStore, appID string, at time.Time, edit func(*hookline.Message)) *hookline.Message {
	t.Helper()
	m := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: appID, EventType: "order.paid",
		Payload: []byte(`{"ok":true}`), CreatedAt: at}
	if edit != nil {
		edit(m)
	}
	must(t, st.CreateMessage(context.Background(), m))
	return m
}

// createLeased creates a message at at whose dispatch is leased to owner until until, as an API
// that hands its messages to its own dispatcher does.
func createLeased(t *testing.T, st DeliveryStore, appID string, at time.Time, owner string, until time.Time) *hookline.Message {
	t.Helper()
	return createWaiting(t, st, appID, at, func(m *hookline.Message) {
		m.Lease = &hookline.DispatchLease{Owner: owner, Until: until}
	})
}

func wantDeliveries(t *testing.T, st DeliveryStore, appID, msgID string, want map[string]hookline.MessageStatus) {
	t.Helper()
	ds, err := st.ListDeliveries(context.Background(), appID, msgID)
	must(t, err)
	got := map[string]hookline.MessageStatus{}
	for _, d := range ds {
		got[d.EndpointID] = d.Status
	}
	if len(got) != len(want) {
		t.Fatalf("deliveries of %s = %v, want %v", msgID, got, want)
	}
	for ep, s := range want {
		if g, ok := got[ep]; !ok || g != s {
			t.Fatalf("deliveries of %s = %v, want %v", msgID, got, want)
		}
	}
}

func wantNextDue(t *testing.T, st DeliveryStore, want *time.Time) {
	t.Helper()
	next, err := st.NextDueAt(context.Background())
	must(t, err)
	if !sameTimePtr(next, want) {
		t.Fatalf("NextDueAt = %v, want %v", next, want)
	}
}

func wantBacklog(t *testing.T, st DeliveryStore, want hookline.Backlog) {
	t.Helper()
	got, err := st.Backlog(context.Background())
	must(t, err)
	if got != want {
		t.Fatalf("Backlog = %+v, want %+v", got, want)
	}
}

func endpointIDs(jobs []hookline.Job) []string {
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.Delivery.EndpointID)
	}
	return ids
}

// fanOutLazy: a message is stored without deliveries; the claim fans it out to the endpoints
// that accept it and existed when it was created; recording a Fresh outcome stores the
// delivery and, with CompletesDispatch, ends the message's dispatch.
func fanOutLazy(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	a := newEndpoint(t, st, app.ID, nil)
	b := newEndpoint(t, st, app.ID, nil)
	newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) { ep.FilterTypes = []string{"other.type"} })
	newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) { ep.Disabled = true })
	newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) { ep.CreatedAt = base.Add(time.Second) }) // created after the message
	quietApp := newApp(t, st, "quiet")                                                               // no endpoints
	quiet := createWaiting(t, st, quietApp.ID, base, nil)
	m := createWaiting(t, st, app.ID, base, nil)

	wantDeliveries(t, st, app.ID, m.ID, nil)
	wantNextDue(t, st, &base)
	wantBacklog(t, st, hookline.Backlog{MessagesAwaitingDispatch: 1}) // the quiet one has nobody to wait for
	if jobs := claim(t, st, "w", base.Add(-time.Second), 10); len(jobs) != 0 {
		t.Fatalf("claimed %d jobs before the message was due", len(jobs))
	}

	jobs := claim(t, st, "w", base, 10)
	if got, want := endpointIDs(jobs), []string{a.ID, b.ID}; !slices.Equal(got, want) {
		t.Fatalf("fan-out to %v, want %v (accepting endpoints that existed, in creation order)", got, want)
	}
	for _, j := range jobs {
		if !j.Fresh || j.Delivery.ID == "" || j.Delivery.MessageID != m.ID || j.Delivery.AppID != app.ID ||
			j.Delivery.Status != hookline.StatusSending || j.Delivery.AttemptCount != 0 {
			t.Fatalf("fresh job %+v", j.Delivery)
		}
		if j.Message == nil || j.Message.ID != m.ID || string(j.Message.Payload) != `{"ok":true}` || j.Endpoint == nil || j.Endpoint.Secret == "" {
			t.Fatalf("fresh job lacks its message or endpoint: %+v", j)
		}
	}
	if jobs[0].Message != jobs[1].Message {
		t.Fatal("jobs of one message do not share its *Message")
	}
	// Leased: not claimed again, and nothing is due until the lease ends (a day in claim).
	if again := claim(t, st, "w2", base.Add(time.Minute), 10); len(again) != 0 {
		t.Fatalf("claimed a leased message again: %v", endpointIDs(again))
	}
	leaseEnd := base.Add(24 * time.Hour)
	wantNextDue(t, st, &leaseEnd)
	wantBacklog(t, st, hookline.Backlog{MessagesAwaitingDispatch: 1}) // being fanned out
	wantDeliveries(t, st, app.ID, m.ID, nil)
	wantDeliveries(t, st, quietApp.ID, quiet.ID, nil)

	// The first outcome stores its delivery; the dispatch goes on until the last.
	ok := outcome(jobs[0], true, base, nil)
	ok.Owner = "w"
	record(t, st, ok)
	wantDeliveries(t, st, app.ID, m.ID, map[string]hookline.MessageStatus{a.ID: hookline.StatusSuccess})
	retry := base.Add(time.Minute)
	again := outcome(jobs[1], false, base, &retry)
	again.Owner, again.CompletesDispatch = "w", true
	record(t, st, again)
	wantDeliveries(t, st, app.ID, m.ID, map[string]hookline.MessageStatus{a.ID: hookline.StatusSuccess, b.ID: hookline.StatusPending})
	d := deliveryTo(t, st, app.ID, m.ID, b.ID)
	if d.ID != jobs[1].Delivery.ID || d.AttemptCount != 1 || !sameTimePtr(d.NextAttemptAt, &retry) {
		t.Fatalf("stored delivery %+v, want id %s, 1 attempt, due %v", d, jobs[1].Delivery.ID, retry)
	}
	p, err := st.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{ListOptions: hookline.ListOptions{Limit: 10}, MessageID: m.ID})
	must(t, err)
	if len(p.Data) != 2 {
		t.Fatalf("attempts of the message = %d, want 2", len(p.Data))
	}
	for _, at := range p.Data {
		if at.AppID != app.ID || at.MessageID != m.ID || at.DeliveryID == "" {
			t.Fatalf("attempt %+v", at)
		}
	}
	// Dispatch over: the retry is the next thing due, and the message is not fanned out again.
	wantNextDue(t, st, &retry)
	wantBacklog(t, st, hookline.Backlog{DeliveriesPending: 1})
	later := claim(t, st, "w", retry, 10)
	if len(later) != 1 || later[0].Fresh || later[0].Delivery.ID != d.ID {
		t.Fatalf("claim after the dispatch = %+v, want the stored retry only", later)
	}
	wantStats(t, st, app.ID, a.ID, hookline.EndpointStats{Success: 1})
}

// fanOutSpill: a fan-out larger than the claim's room returns what fits and stores the rest as
// pending deliveries, due now.
func fanOutSpill(t *testing.T, st DeliveryStore) {
	base := now()
	app := newApp(t, st, "acme")
	var eps []string
	for range 4 {
		eps = append(eps, newEndpoint(t, st, app.ID, nil).ID)
	}
	m := createWaiting(t, st, app.ID, base.Add(-time.Minute), nil)
	jobs := claim(t, st, "w", base, 1)
	if len(jobs) != 1 || !jobs[0].Fresh || jobs[0].Delivery.EndpointID != eps[0] {
		t.Fatalf("claim with room for one = %v, want a fresh job to %s", endpointIDs(jobs), eps[0])
	}
	wantDeliveries(t, st, app.ID, m.ID, map[string]hookline.MessageStatus{
		eps[1]: hookline.StatusPending, eps[2]: hookline.StatusPending, eps[3]: hookline.StatusPending})
	o := outcome(jobs[0], true, base, nil)
	o.CompletesDispatch = true
	record(t, st, o)
	rest := claim(t, st, "w", base, 10)
	if got := endpointIDs(rest); !slices.Equal(got, eps[1:]) {
		t.Fatalf("claim after the spill = %v, want %v", got, eps[1:])
	}
	for _, j := range rest {
		if j.Fresh {
			t.Fatalf("spilled delivery claimed as fresh: %+v", j.Delivery)
		}
	}
}

// fanOutExpiredDispatch: when the process that fanned a message out dies, the message is
// fanned out again once its dispatch lease ends, to the endpoints that have no delivery yet;
// a late outcome of the first process for the same endpoint is dropped whole.
func fanOutExpiredDispatch(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	a := newEndpoint(t, st, app.ID, nil)
	b := newEndpoint(t, st, app.ID, nil)
	m := createWaiting(t, st, app.ID, base, nil)
	first, err := st.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: "w1", Now: base, LeaseUntil: base.Add(time.Minute), Limit: 10})
	must(t, err)
	if len(first) != 2 {
		t.Fatalf("claimed %d, want 2", len(first))
	}
	o := outcome(first[0], true, base, nil)
	o.Owner = "w1"
	record(t, st, o) // w1 dies before recording its second outcome

	later := base.Add(2 * time.Minute)
	wantNextDue(t, st, ptr(base.Add(time.Minute)))
	second := claim(t, st, "w2", later, 10)
	if len(second) != 1 || !second[0].Fresh || second[0].Delivery.EndpointID != b.ID {
		t.Fatalf("second fan-out = %v, want a fresh job to %s only", endpointIDs(second), b.ID)
	}
	o2 := outcome(second[0], true, later, nil)
	o2.Owner, o2.CompletesDispatch = "w2", true
	record(t, st, o2)
	late := outcome(first[1], false, later, nil)
	late.Owner, late.CompletesDispatch = "w1", true
	record(t, st, late)
	wantDeliveries(t, st, app.ID, m.ID, map[string]hookline.MessageStatus{a.ID: hookline.StatusSuccess, b.ID: hookline.StatusSuccess})
	p, err := st.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{ListOptions: hookline.ListOptions{Limit: 10}, EndpointID: b.ID})
	must(t, err)
	if len(p.Data) != 1 || p.Data[0].Status != hookline.StatusSuccess {
		t.Fatalf("attempts to %s = %+v, want only w2's success", b.ID, p.Data)
	}
	wantNextDue(t, st, nil)
}

// fanOutRelease: ReleaseExpiredLeases makes messages whose dispatch lease ends before the given
// time due again; Purge keeps messages awaiting dispatch.
func fanOutRelease(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	old := base.Add(-72 * time.Hour)
	waiting := createWaiting(t, st, app.ID, old, nil)
	if n, err := st.Purge(ctx, base); err != nil || n != 0 {
		t.Fatalf("Purge = %d, %v; want 0 (the message awaits dispatch)", n, err)
	}
	if jobs := claim(t, st, "w", base, 10); len(jobs) != 1 {
		t.Fatalf("claimed %d, want 1", len(jobs))
	}
	if n, err := st.Purge(ctx, base); err != nil || n != 0 {
		t.Fatalf("Purge = %d, %v; want 0 (the message is being dispatched)", n, err)
	}
	n, err := st.ReleaseExpiredLeases(ctx, base.Add(100*365*24*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("released %d, want 1", n)
	}
	wantNextDue(t, st, &old)
	jobs := claim(t, st, "w", base, 10)
	if len(jobs) != 1 || !jobs[0].Fresh || jobs[0].Delivery.EndpointID != ep.ID {
		t.Fatalf("claim after the release = %+v", jobs)
	}
	o := outcome(jobs[0], true, base, nil)
	o.CompletesDispatch = true
	record(t, st, o)
	if n, err := st.Purge(ctx, base); err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1", n, err)
	}
	_, err = st.GetMessage(ctx, app.ID, waiting.ID)
	wantCode(t, err, hookline.ENOTFOUND)
}

// fanOutGone: a Fresh outcome whose endpoint was deleted meanwhile is dropped without error;
// a message of an application without enabled endpoints does not await dispatch.
func fanOutGone(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	a := newEndpoint(t, st, app.ID, nil)
	b := newEndpoint(t, st, app.ID, nil)
	// A message of an application without enabled endpoints has nothing to wait for.
	quiet := newApp(t, st, "quiet")
	newEndpoint(t, st, quiet.ID, func(ep *hookline.Endpoint) { ep.Disabled = true })
	createWaiting(t, st, quiet.ID, base, nil)
	wantNextDue(t, st, nil)
	m := createWaiting(t, st, app.ID, base, nil)
	jobs := claim(t, st, "w", base, 10)
	if len(jobs) != 2 {
		t.Fatalf("claimed %d, want 2", len(jobs))
	}
	must(t, st.DeleteEndpoint(ctx, app.ID, b.ID))
	outs := []hookline.Outcome{outcome(jobs[0], true, base, nil), outcome(jobs[1], true, base, nil)}
	outs[1].CompletesDispatch = true
	health := record(t, st, outs...)
	if len(health) != 1 || health[0].EndpointID != a.ID {
		t.Fatalf("health = %+v, want only %s's", health, a.ID)
	}
	wantDeliveries(t, st, app.ID, m.ID, map[string]hookline.MessageStatus{a.ID: hookline.StatusSuccess})
	wantNextDue(t, st, nil)
}

// fanOutHandOff: a message created with a dispatch lease is not claimed by anyone while the
// lease lasts; its owner fans it out with FanOut, spilling the rest of the message that fills
// the room, releasing the messages after it and ending the dispatch of messages with nothing to
// send. CreateMessage clears the lease of a message that
// needs no dispatch. Once the lease expires the message is claimed like any other.
func fanOutHandOff(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	a := newEndpoint(t, st, app.ID, nil)
	b := newEndpoint(t, st, app.ID, nil)
	newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) { ep.FilterTypes = []string{"other.type"} })
	quiet := newApp(t, st, "quiet") // no endpoints
	picky := newApp(t, st, "picky") // an endpoint that takes none of the messages sent here
	newEndpoint(t, st, picky.ID, func(ep *hookline.Endpoint) { ep.FilterTypes = []string{"other.type"} })
	until := base.Add(time.Minute)
	leased := func(appID string) *hookline.Message { return createLeased(t, st, appID, base, "api-node", until) }

	if m := leased(quiet.ID); m.Lease != nil {
		t.Fatal("CreateMessage kept the lease of a message with no endpoint to go to")
	}
	m := leased(app.ID)
	if m.Lease == nil || m.Lease.Owner != "api-node" {
		t.Fatalf("CreateMessage dropped the lease of a message awaiting dispatch: %+v", m.Lease)
	}
	filtered := leased(picky.ID)
	spilled := leased(app.ID)
	if got, err := st.GetMessage(ctx, app.ID, m.ID); err != nil || got.Lease != nil {
		t.Fatalf("GetMessage = %+v, %v; want the message without a lease", got, err)
	}
	wantBacklog(t, st, hookline.Backlog{MessagesAwaitingDispatch: 3})
	wantNextDue(t, st, &until)
	if jobs := claim(t, st, "other", base.Add(time.Second), 10); len(jobs) != 0 {
		t.Fatalf("another process claimed handed-off messages: %v", endpointIDs(jobs))
	}

	// Room for three jobs: m's two, then one of spilled's; its other is stored pending. The
	// filtered message has nothing to send: its dispatch ends.
	jobs, err := st.FanOut(ctx, "api-node", []*hookline.Message{m, filtered, spilled}, 3, base)
	must(t, err)
	if got, want := endpointIDs(jobs), []string{a.ID, b.ID, a.ID}; !slices.Equal(got, want) {
		t.Fatalf("FanOut = %v, want %v", got, want)
	}
	for _, j := range jobs {
		if !j.Fresh || j.Endpoint == nil || j.Endpoint.Secret == "" || j.Message == nil {
			t.Fatalf("FanOut job %+v, want a fresh job with its message and endpoint", j)
		}
	}
	if jobs[0].Message != m || jobs[2].Message != spilled {
		t.Fatal("FanOut jobs do not carry the messages handed to it")
	}
	wantDeliveries(t, st, app.ID, spilled.ID, map[string]hookline.MessageStatus{b.ID: hookline.StatusPending})
	wantDeliveries(t, st, picky.ID, filtered.ID, nil)
	wantBacklog(t, st, hookline.Backlog{MessagesAwaitingDispatch: 2, DeliveriesPending: 1})

	outs := make([]hookline.Outcome, len(jobs))
	for i, j := range jobs {
		outs[i] = outcome(j, true, base, nil)
		outs[i].Owner = "api-node"
	}
	outs[1].CompletesDispatch, outs[2].CompletesDispatch = true, true
	record(t, st, outs...)
	wantDeliveries(t, st, app.ID, m.ID, map[string]hookline.MessageStatus{a.ID: hookline.StatusSuccess, b.ID: hookline.StatusSuccess})
	wantBacklog(t, st, hookline.Backlog{DeliveriesPending: 1})

	// A handed-off message its owner never fanned out (the process died) is claimed by another
	// once its lease ends.
	leased(app.ID)
	late := claim(t, st, "other", until.Add(time.Second), 10)
	var fresh []string
	for _, j := range late {
		if j.Fresh {
			fresh = append(fresh, j.Delivery.EndpointID)
		}
	}
	if want := []string{a.ID, b.ID}; !slices.Equal(fresh, want) || len(late) != 3 {
		t.Fatalf("claim after the lease = %d jobs, fresh to %v; want the spilled delivery and fresh jobs to %v", len(late), fresh, want)
	}
	// Room for one message's jobs: the message after it is released whole (no delivery stored),
	// and so is every message of a FanOut with no room. Released messages are due again at
	// once, for any process's claim, before their leases would have ended.
	first, second := leased(app.ID), leased(app.ID)
	jobs, err = st.FanOut(ctx, "api-node", []*hookline.Message{first, second}, 2, base)
	must(t, err)
	if got, want := endpointIDs(jobs), []string{a.ID, b.ID}; !slices.Equal(got, want) || jobs[0].Message != first || jobs[1].Message != first {
		t.Fatalf("FanOut with room for one message = %v, want %v of the first", got, want)
	}
	held := leased(app.ID)
	none, err := st.FanOut(ctx, "api-node", []*hookline.Message{held}, 0, base)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("FanOut with no room = %v, want no jobs", endpointIDs(none))
	}
	wantDeliveries(t, st, app.ID, second.ID, nil)
	wantDeliveries(t, st, app.ID, held.ID, nil)
	released := map[string][]string{}
	for _, j := range claim(t, st, "other", base.Add(time.Second), 10) {
		if j.Fresh {
			released[j.Message.ID] = append(released[j.Message.ID], j.Delivery.EndpointID)
		}
	}
	want := map[string][]string{second.ID: {a.ID, b.ID}, held.ID: {a.ID, b.ID}}
	if !maps.EqualFunc(released, want, slices.Equal) {
		t.Fatalf("claim after the releases = fresh jobs %v, want %v", released, want)
	}
}

// fanOutSeesChanges: each fan-out goes by the application's endpoints as they are when it
// runs: one added, disabled, filtered, given a new secret or deleted since the last fan-out
// counts at once (a backend may keep the endpoints it read, but not past a change).
func fanOutSeesChanges(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	a := newEndpoint(t, st, app.ID, nil)
	fan := func(want ...string) []hookline.Job {
		t.Helper()
		m := createLeased(t, st, app.ID, base, "w", base.Add(time.Minute))
		jobs, err := st.FanOut(ctx, "w", []*hookline.Message{m}, 10, base)
		must(t, err)
		if got := endpointIDs(jobs); !slices.Equal(got, want) {
			t.Fatalf("fan-out to %v, want %v", got, want)
		}
		return jobs
	}
	fan(a.ID)
	b := newEndpoint(t, st, app.ID, nil)
	fan(a.ID, b.ID)
	if _, err := st.SetEndpointDisabled(ctx, app.ID, a.ID, true, "test", base); err != nil {
		t.Fatal(err)
	}
	fan(b.ID)
	b.Secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	must(t, st.UpdateEndpoint(ctx, b))
	if jobs := fan(b.ID); jobs[0].Endpoint.Secret != b.Secret {
		t.Fatal("fan-out used the endpoint's old secret")
	}
	b.FilterTypes = []string{"other.type"}
	must(t, st.UpdateEndpoint(ctx, b))
	fan()
	if _, err := st.SetEndpointDisabled(ctx, app.ID, a.ID, false, "", base); err != nil {
		t.Fatal(err)
	}
	fan(a.ID)
	must(t, st.DeleteEndpoint(ctx, app.ID, a.ID))
	fan()
}

// fanOutSucceededAtOnce: deliveries fanned out from messages and recorded as they end (at once
// successful, failed for good, waiting for a retry) look alike in every view, whatever a store
// keeps of them (PostgreSQL stores one that succeeds at its first attempt as that attempt alone):
// the endpoint's message list by id in both directions and by page, with a status filter; its
// stats; a message's deliveries; the message list's delivery filters; the delivery counts. A
// resend of a delivery that succeeded at once makes it pending under the same id, and it is
// still one delivery.
func fanOutSucceededAtOnce(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now().Add(-time.Hour)
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	other := newEndpoint(t, st, app.ID, nil)
	var msgs []*hookline.Message
	index := map[string]int{}
	for i := range 6 {
		m := createWaiting(t, st, app.ID, base.Add(time.Duration(i)*time.Minute), nil)
		msgs = append(msgs, m)
		index[m.ID] = i
	}
	jobs := claim(t, st, "w", base.Add(10*time.Minute), 100)
	if len(jobs) != 12 {
		t.Fatalf("claimed %d jobs, want 12", len(jobs))
	}
	// To ep, message 1 fails for good and message 4 waits for a retry; every other delivery
	// succeeds at its first attempt.
	retry := base.Add(2 * time.Hour)
	var outcomes []hookline.Outcome
	for _, j := range jobs {
		if !j.Fresh {
			t.Fatalf("job %+v is not fresh", j.Delivery)
		}
		o := outcome(j, true, base, nil)
		if j.Delivery.EndpointID == ep.ID {
			switch index[j.Delivery.MessageID] {
			case 1:
				o = outcome(j, false, base, nil)
			case 4:
				o = outcome(j, false, base, &retry)
			}
		}
		o.Owner, o.CompletesDispatch = "w", true
		outcomes = append(outcomes, o)
	}
	record(t, st, outcomes...)

	want := []hookline.MessageStatus{hookline.StatusSuccess, hookline.StatusFail, hookline.StatusSuccess,
		hookline.StatusSuccess, hookline.StatusPending, hookline.StatusSuccess}
	idOf := map[string]int{} // message index by the id of its delivery to ep
	var ids []string
	for i, m := range msgs {
		wantDeliveries(t, st, app.ID, m.ID, map[string]hookline.MessageStatus{ep.ID: want[i], other.ID: hookline.StatusSuccess})
		d := deliveryTo(t, st, app.ID, m.ID, ep.ID)
		if d.AttemptCount != 1 {
			t.Errorf("delivery of message %d: %d attempts, want 1", i, d.AttemptCount)
		}
		idOf[d.ID] = i
		ids = append(ids, d.ID)
	}
	slices.Sort(ids)
	reversed := func(ids []string) []string {
		out := slices.Clone(ids)
		slices.Reverse(out)
		return out
	}
	order := func(ids []string) []int {
		out := make([]int, len(ids))
		for k, id := range ids {
			out[k] = idOf[id]
		}
		return out
	}
	list := func(o hookline.EndpointMessageListOptions) []int {
		t.Helper()
		o.Limit = 50
		p, err := st.ListEndpointMessages(ctx, app.ID, ep.ID, o)
		must(t, err)
		var got []int
		for _, em := range p.Data {
			i, ok := idOf[em.DeliveryID]
			if !ok || em.Message.ID != msgs[i].ID || em.Status != want[i] {
				t.Fatalf("listed delivery %s of message %s in %v, want one of %v", em.DeliveryID, em.Message.ID, em.Status, ids)
			}
			got = append(got, i)
		}
		return got
	}
	success, fail := hookline.StatusSuccess, hookline.StatusFail
	var successes []string
	for _, id := range ids {
		if want[idOf[id]] == success {
			successes = append(successes, id)
		}
	}
	for _, tc := range []struct {
		name string
		opts hookline.EndpointMessageListOptions
		want []int
	}{
		{"oldest first", hookline.EndpointMessageListOptions{}, order(ids)},
		{"newest first", hookline.EndpointMessageListOptions{ListOptions: hookline.ListOptions{Descending: true}}, order(reversed(ids))},
		{"successes", hookline.EndpointMessageListOptions{Status: &success}, order(successes)},
		{"failures", hookline.EndpointMessageListOptions{Status: &fail}, []int{1}},
		{"after an iterator", hookline.EndpointMessageListOptions{ListOptions: hookline.ListOptions{Iterator: ids[2]}}, order(ids[3:])},
	} {
		if got := list(tc.opts); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	checkPagination(t, ids, 2, func(em hookline.EndpointMessage) string { return em.DeliveryID },
		func(o hookline.ListOptions) (hookline.Page[hookline.EndpointMessage], error) {
			return st.ListEndpointMessages(ctx, app.ID, ep.ID, hookline.EndpointMessageListOptions{ListOptions: o})
		})
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Success: 4, Fail: 1, Pending: 1})
	wantStats(t, st, app.ID, other.ID, hookline.EndpointStats{Success: 6})
	// A window counts what was created in it, rowless deliveries too.
	around, later, earlier := base.Add(-time.Minute), now().Add(time.Hour), base.Add(-2*time.Hour)
	for _, w := range []struct {
		name   string
		window hookline.TimeWindow
		want   hookline.EndpointStats
	}{
		{"around it all", hookline.TimeWindow{Since: &around, Until: &later}, hookline.EndpointStats{Success: 6}},
		{"since later", hookline.TimeWindow{Since: &later}, hookline.EndpointStats{}},
		{"until earlier", hookline.TimeWindow{Until: &earlier}, hookline.EndpointStats{}},
	} {
		got, err := st.EndpointStats(ctx, app.ID, other.ID, w.window)
		must(t, err)
		if got != w.want {
			t.Errorf("stats of %s %s = %+v, want %+v", other.ID, w.name, got, w.want)
		}
	}

	listMessages := func(o hookline.MessageListOptions) []int {
		t.Helper()
		o.Limit = 50
		p, err := st.ListMessages(ctx, app.ID, o)
		must(t, err)
		var got []int
		for _, m := range p.Data {
			got = append(got, index[m.ID])
		}
		slices.Sort(got)
		return got
	}
	late := newEndpoint(t, st, app.ID, nil)
	for _, tc := range []struct {
		name string
		opts hookline.MessageListOptions
		want []int
	}{
		{"sent to ep", hookline.MessageListOptions{EndpointID: ep.ID}, []int{0, 1, 2, 3, 4, 5}},
		{"delivered to ep", hookline.MessageListOptions{EndpointID: ep.ID, Status: &success}, []int{0, 2, 3, 5}},
		{"delivered anywhere", hookline.MessageListOptions{Status: &success}, []int{0, 1, 2, 3, 4, 5}},
		{"none to other", hookline.MessageListOptions{NoDeliveryTo: other.ID}, nil},
		{"none to a new endpoint", hookline.MessageListOptions{NoDeliveryTo: late.ID}, []int{0, 1, 2, 3, 4, 5}},
	} {
		if got := listMessages(tc.opts); !slices.Equal(got, tc.want) {
			t.Errorf("messages %s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	counts, err := st.CountDeliveries(ctx, base.Add(-time.Minute), base.Add(time.Hour), []string{app.ID})
	must(t, err)
	if counts[app.ID] != 12 {
		t.Errorf("CountDeliveries = %v, want 12", counts)
	}

	// A resend of message 0's delivery to ep.
	d0 := deliveryTo(t, st, app.ID, msgs[0].ID, ep.ID)
	r, err := st.RequeueDelivery(ctx, app.ID, msgs[0].ID, ep.ID, base.Add(20*time.Minute))
	must(t, err)
	if r.ID != d0.ID || r.Status != hookline.StatusPending || r.Trigger != hookline.TriggerManual || r.AttemptCount != 1 {
		t.Fatalf("resent delivery = %+v, want %s pending, manual, after one attempt", r, d0.ID)
	}
	want[0] = hookline.StatusPending
	if got := list(hookline.EndpointMessageListOptions{}); !slices.Equal(got, order(ids)) {
		t.Errorf("after the resend: got %v, want %v", got, order(ids))
	}
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Success: 3, Fail: 1, Pending: 2})
	wantDeliveries(t, st, app.ID, msgs[0].ID, map[string]hookline.MessageStatus{ep.ID: hookline.StatusPending, other.ID: hookline.StatusSuccess})
	resent := claim(t, st, "w", base.Add(21*time.Minute), 100)
	if len(resent) != 1 || resent[0].Delivery.ID != d0.ID || resent[0].Fresh {
		t.Fatalf("claimed %+v after the resend, want the resent delivery", resent)
	}
}

// fanOutDeliverAt: a message created with DeliverAt waits unexpanded until then: no claim
// before fans it out, NextDueAt names it, reads return DeliverAt; a claim at or after it fans
// it out. A message without enabled endpoints does not wait, whatever its DeliverAt.
func fanOutDeliverAt(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	at := base.Add(time.Hour)
	m := createWaiting(t, st, app.ID, base, func(m *hookline.Message) { m.DeliverAt = &at })
	got, err := st.GetMessage(ctx, app.ID, m.ID)
	must(t, err)
	if got.DeliverAt == nil || !got.DeliverAt.Equal(at) {
		t.Fatalf("DeliverAt read back as %v, want %v", got.DeliverAt, at)
	}
	plain := createWaiting(t, st, app.ID, base, nil)
	if got, err := st.GetMessage(ctx, app.ID, plain.ID); err != nil || got.DeliverAt != nil {
		t.Fatalf("a message without DeliverAt read back with %v (%v)", got.DeliverAt, err)
	}
	jobs := claim(t, st, "w", base.Add(time.Minute), 10)
	if len(jobs) != 1 || jobs[0].Message.ID != plain.ID {
		t.Fatalf("claim before DeliverAt = %d jobs, want only the message without DeliverAt", len(jobs))
	}
	o := outcome(jobs[0], true, base, nil)
	o.Owner, o.CompletesDispatch = "w", true
	record(t, st, o)
	wantNextDue(t, st, &at)
	if jobs := claim(t, st, "w", at.Add(-time.Second), 10); len(jobs) != 0 {
		t.Fatalf("claim a second before DeliverAt = %d jobs, want none", len(jobs))
	}
	jobs = claim(t, st, "w", at, 10)
	if len(jobs) != 1 || !jobs[0].Fresh || jobs[0].Message.ID != m.ID || jobs[0].Delivery.EndpointID != ep.ID {
		t.Fatalf("claim at DeliverAt = %+v, want the message's fresh job", jobs)
	}
	if jobs[0].Message.DeliverAt == nil || !jobs[0].Message.DeliverAt.Equal(at) {
		t.Fatalf("the claimed message's DeliverAt = %v, want %v", jobs[0].Message.DeliverAt, at)
	}

	// Without enabled endpoints nothing waits.
	lone := newApp(t, st, "lone")
	createWaiting(t, st, lone.ID, base, func(m *hookline.Message) { m.DeliverAt = &at })
	b, err := st.Backlog(ctx)
	must(t, err)
	if b.MessagesAwaitingDispatch != 1 { // the claimed message, leased to w
		t.Fatalf("messages awaiting dispatch = %d, want 1", b.MessagesAwaitingDispatch)
	}
}
