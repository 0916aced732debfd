package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// DeliveryStore is a store with the delivery engine's part of the contract, which every
// backend implements.
type DeliveryStore interface {
	hookline.Store
	hookline.DeliveryStore
}

// RunDelivery runs the conformance suite of hookline.DeliveryStore. open must return a new,
// migrated, empty store for each call and close it when the test ends; subtests call it in
// parallel.
func RunDelivery(t *testing.T, open func(t *testing.T) DeliveryStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, st DeliveryStore)
	}{
		{"Claim/DueOnly", claimDueOnly},
		{"Claim/Concurrent", claimConcurrent},
		{"Claim/ExpiredLease", claimExpiredLease},
		{"Claim/Jobs", claimJobs},
		{"Record/Transitions", recordTransitions},
		{"Record/Health", recordHealth},
		{"Record/NoAttempt", recordNoAttempt},
		{"Record/DeletedEndpoint", recordDeletedEndpoint},
		{"Record/StaleOwner", recordStaleOwner},
		{"Release", release},
		{"NextDueAt", nextDueAt},
		{"SetEndpointDisabled", setEndpointDisabled},
		{"Attempts/List", attemptsList},
		{"Attempts/Get", attemptsGet},
		{"Find", findDeliveries},
		{"Attempts/Stats", attemptStats},
		{"EndpointMessages", endpointMessages},
		{"Requeue/Delivery", requeueDelivery},
		{"Requeue/Failed", requeueFailed},
		{"Purge", purge},
		{"FanOut/Lazy", fanOutLazy},
		{"FanOut/Spill", fanOutSpill},
		{"FanOut/ExpiredDispatch", fanOutExpiredDispatch},
		{"FanOut/SucceededAtOnce", fanOutSucceededAtOnce},
		{"FanOut/DeliverAt", fanOutDeliverAt},
		{"FanOut/Release", fanOutRelease},
		{"FanOut/Gone", fanOutGone},
		{"FanOut/HandOff", fanOutHandOff},
		{"FanOut/SeesChanges", fanOutSeesChanges},
		{"Content/Expunge", contentExpunge},
		{"Content/ExpirePayloads", contentExpirePayloads},
		{"Content/ExpungeDispatch", contentExpungeDispatch},
		{"Content/ExpungeAfter", contentExpungeAfter},
		{"Content/TagFilters", contentTagFilters},
		{"Transformation", transformation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// claim claims up to limit deliveries due at at, leased for a day.
func claim(t *testing.T, st DeliveryStore, owner string, at time.Time, limit int) []hookline.Job {
	t.Helper()
	jobs, err := st.ClaimDeliveries(context.Background(), hookline.ClaimParams{
		Owner: owner, Now: at, LeaseUntil: at.Add(24 * time.Hour), Limit: limit})
	must(t, err)
	return jobs
}

func jobIDs(jobs []hookline.Job) []string {
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.Delivery.ID)
	}
	return ids
}

// attempt is the attempt of a job made at at with the given outcome.
func attempt(j hookline.Job, status hookline.MessageStatus, code int, at time.Time) *hookline.Attempt {
	return &hookline.Attempt{
		ID:                 hookline.NewID(hookline.PrefixAttempt),
		AppID:              j.Delivery.AppID,
		MessageID:          j.Delivery.MessageID,
		EndpointID:         j.Delivery.EndpointID,
		DeliveryID:         j.Delivery.ID,
		URL:                j.Endpoint.URL,
		RequestHeaders:     map[string]string{"webhook-id": j.Message.ID, "webhook-signature": "[redacted]"},
		ResponseStatusCode: code,
		Response:           fmt.Sprintf(`{"status":%d}`, code),
		ResponseDurationMs: 42,
		TriggerType:        j.Delivery.Trigger,
		Status:             status,
		CreatedAt:          at,
	}
}

// outcome is the outcome of a job attempted at at: success, a retry due at retry, or (with a
// nil retry) a final failure.
func outcome(j hookline.Job, ok bool, at time.Time, retry *time.Time) hookline.Outcome {
	o := hookline.Outcome{DeliveryID: j.Delivery.ID, AppID: j.Delivery.AppID, EndpointID: j.Delivery.EndpointID,
		MessageID: j.Delivery.MessageID, Fresh: j.Fresh}
	switch {
	case ok:
		o.Status, o.Attempt = hookline.StatusSuccess, attempt(j, hookline.StatusSuccess, 200, at)
	case retry != nil:
		o.Status, o.NextAttemptAt, o.Attempt = hookline.StatusPending, retry, attempt(j, hookline.StatusFail, 500, at)
	default:
		o.Status, o.Attempt = hookline.StatusFail, attempt(j, hookline.StatusFail, 410, at)
	}
	return o
}

func record(t *testing.T, st DeliveryStore, outcomes ...hookline.Outcome) []hookline.EndpointHealth {
	t.Helper()
	h, err := st.RecordAttempts(context.Background(), outcomes)
	must(t, err)
	return h
}

// deliveryTo returns the delivery of a message to an endpoint.
func deliveryTo(t *testing.T, st DeliveryStore, appID, msgID, epID string) hookline.Delivery {
	t.Helper()
	ds, err := st.ListDeliveries(context.Background(), appID, msgID)
	must(t, err)
	for _, d := range ds {
		if d.EndpointID == epID {
			return d
		}
	}
	t.Fatalf("no delivery of %s to %s", msgID, epID)
	return hookline.Delivery{}
}

func wantStats(t *testing.T, st DeliveryStore, appID, epID string, want hookline.EndpointStats) {
	t.Helper()
	got, err := st.EndpointStats(context.Background(), appID, epID, hookline.TimeWindow{})
	must(t, err)
	if got != want {
		t.Fatalf("stats of %s = %+v, want %+v", epID, got, want)
	}
}

func claimDueOnly(t *testing.T, st DeliveryStore) {
	base := now()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	var due []string
	for i := range 3 {
		_, ds := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(time.Duration(i-3) * time.Minute) })
		due = append(due, ds[0].ID)
	}
	_, future := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(time.Hour) })

	// The limit is honoured, oldest due first.
	jobs := claim(t, st, "w1", base, 2)
	if got := jobIDs(jobs); !slices.Equal(got, due[:2]) {
		t.Fatalf("first claim = %v, want %v", got, due[:2])
	}
	for _, j := range jobs {
		if j.Delivery.Status != hookline.StatusSending {
			t.Errorf("claimed delivery status = %v, want sending", j.Delivery.Status)
		}
	}
	jobs = claim(t, st, "w1", base, 10)
	if got := jobIDs(jobs); !slices.Equal(got, due[2:]) {
		t.Fatalf("second claim = %v, want %v (the future delivery is not due)", got, due[2:])
	}
	if jobs := claim(t, st, "w2", base, 10); len(jobs) != 0 {
		t.Fatalf("claimed %v again while leased", jobIDs(jobs))
	}
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Sending: 3, Pending: 1})
	if d := deliveryTo(t, st, app.ID, future[0].MessageID, ep.ID); d.Status != hookline.StatusPending {
		t.Fatalf("future delivery status = %v", d.Status)
	}
	// Due exactly at Now counts as due.
	jobs = claim(t, st, "w1", base.Add(time.Hour), 10)
	if got := jobIDs(jobs); !slices.Equal(got, []string{future[0].ID}) {
		t.Fatalf("claim at the due time = %v, want %v", got, future[0].ID)
	}
	if jobs, err := st.ClaimDeliveries(context.Background(), hookline.ClaimParams{Owner: "w", Now: base.Add(2 * time.Hour),
		LeaseUntil: base.Add(3 * time.Hour), Limit: 0}); err != nil || len(jobs) != 0 {
		t.Fatalf("claim with limit 0 = %v, %v", jobIDs(jobs), err)
	}
}

func claimConcurrent(t *testing.T, st DeliveryStore) {
	base := now()
	app := newApp(t, st, "acme")
	newEndpoint(t, st, app.ID, nil)
	newEndpoint(t, st, app.ID, nil)
	const messages = 100 // two endpoints: 200 deliveries
	for range messages {
		newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(-time.Second) })
	}
	var (
		mu     sync.Mutex
		counts = map[string]int{}
		wg     sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				jobs, err := st.ClaimDeliveries(context.Background(), hookline.ClaimParams{
					Owner: fmt.Sprintf("worker-%d", w), Now: base, LeaseUntil: base.Add(time.Minute), Limit: 7})
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					counts[j.Delivery.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(counts) != 2*messages {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(counts), 2*messages)
	}
	for id, n := range counts {
		if n != 1 {
			t.Errorf("delivery %s claimed %d times", id, n)
		}
	}
}

func claimExpiredLease(t *testing.T, st DeliveryStore) {
	base := now()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(-2 * time.Second) })
	newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(-time.Second) })
	ctx := context.Background()
	short, err := st.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: "dead", Now: base, LeaseUntil: base.Add(time.Minute), Limit: 1})
	must(t, err)
	long, err := st.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: "alive", Now: base, LeaseUntil: base.Add(time.Hour), Limit: 1})
	must(t, err)
	if len(short) != 1 || len(long) != 1 {
		t.Fatalf("claimed %d and %d, want 1 and 1", len(short), len(long))
	}
	// Before the short lease ends nothing is claimable.
	if jobs := claim(t, st, "other", base.Add(59*time.Second), 10); len(jobs) != 0 {
		t.Fatalf("claimed %v under unexpired leases", jobIDs(jobs))
	}
	jobs := claim(t, st, "other", base.Add(5*time.Minute), 10)
	if got := jobIDs(jobs); !slices.Equal(got, jobIDs(short)) {
		t.Fatalf("claim after the short lease = %v, want %v", got, jobIDs(short))
	}
	j := jobs[0]
	if j.Delivery.Status != hookline.StatusSending || j.Message == nil || j.Endpoint == nil || j.Endpoint.ID != ep.ID {
		t.Fatalf("reclaimed job = %+v", j)
	}
	// The new lease protects it again.
	if jobs := claim(t, st, "third", base.Add(5*time.Minute+time.Second), 10); len(jobs) != 0 {
		t.Fatalf("claimed %v under the new lease", jobIDs(jobs))
	}
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Sending: 2})
}

// recordStaleOwner: after a lease expired and another owner took the delivery over, a late
// outcome of the first owner is dropped; the new owner's outcome applies.
func recordStaleOwner(t *testing.T, st DeliveryStore) {
	base := now()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(-time.Second) })
	ctx := context.Background()
	first, err := st.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: "slow", Now: base, LeaseUntil: base.Add(time.Minute), Limit: 1})
	must(t, err)
	second := claim(t, st, "fresh", base.Add(2*time.Minute), 1)
	if len(first) != 1 || len(second) != 1 || first[0].Delivery.ID != second[0].Delivery.ID {
		t.Fatalf("claims %v and %v, want the same delivery twice", jobIDs(first), jobIDs(second))
	}
	// The slow owner's failure comes in late: nothing changes, and no attempt is logged.
	stale := outcome(first[0], false, base.Add(3*time.Minute), nil)
	stale.Owner = "slow"
	record(t, st, stale)
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Sending: 1})
	page, err := st.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{ListOptions: hookline.ListOptions{Limit: 10}, EndpointID: ep.ID})
	must(t, err)
	if len(page.Data) != 0 {
		t.Fatalf("a stale outcome logged %d attempts", len(page.Data))
	}
	// The current owner's success applies.
	fresh := outcome(second[0], true, base.Add(3*time.Minute), nil)
	fresh.Owner = "fresh"
	record(t, st, fresh)
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Success: 1})
}

func claimJobs(t *testing.T, st DeliveryStore) {
	base := now()
	app := newApp(t, st, "acme")
	app.RateLimit = ptr(25)
	must(t, st.UpdateApplication(context.Background(), app))
	expires := base.Add(time.Hour)
	limited := newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) {
		ep.RateLimit = ptr(10)
		ep.Secret = "whsec_bGltaXRlZC1lbmRwb2ludC1zZWNyZXQ="
		ep.OldSecrets = []hookline.OldSecret{{Secret: "whsec_b2xkLXNlY3JldA==", ExpiresAt: expires}}
		ep.Headers = map[string]string{"X-Tenant": "42"}
	})
	plain := newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) { ep.Secret = "whsec_cGxhaW4tZW5kcG9pbnQ=" })
	other := newApp(t, st, "unlimited")
	free := newEndpoint(t, st, other.ID, nil)

	payloads := []string{"{ \"a\" : 1 ,\n \"e\": \"\\u00e9\" }", `{"name":"élève 🎟","n":1.50}` + "\n"}
	msgs := map[string]*hookline.Message{}
	for i, p := range payloads {
		m, _ := newMessage(t, st, app.ID, func(m *hookline.Message) {
			m.Payload = []byte(p)
			m.CreatedAt = base.Add(time.Duration(i-10) * time.Second)
			m.Channels = []string{"eu"}
		})
		msgs[m.ID] = m
	}
	om, _ := newMessage(t, st, other.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(-time.Second) })
	msgs[om.ID] = om

	jobs := claim(t, st, "w", base, 100)
	if len(jobs) != 5 {
		t.Fatalf("claimed %d jobs, want 5", len(jobs))
	}
	byMessage := map[string]*hookline.Message{}
	eps := map[string]*hookline.Endpoint{limited.ID: limited, plain.ID: plain, free.ID: free}
	for _, j := range jobs {
		d := j.Delivery
		want := msgs[d.MessageID]
		if want == nil || j.Message == nil || j.Endpoint == nil {
			t.Fatalf("job %+v", j)
		}
		if d.AppID != want.AppID || d.AttemptCount != 0 || d.Trigger != hookline.TriggerScheduled ||
			d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(want.CreatedAt) {
			t.Errorf("job delivery = %+v", d)
		}
		// Jobs of one message share one *Message.
		if prev, ok := byMessage[d.MessageID]; ok && prev != j.Message {
			t.Errorf("jobs of %s carry different *Message values", d.MessageID)
		}
		byMessage[d.MessageID] = j.Message
		assertMessage(t, j.Message, want)
		if j.Message.ID != d.MessageID || j.Endpoint.ID != d.EndpointID {
			t.Errorf("job %s carries message %s and endpoint %s", d.ID, j.Message.ID, j.Endpoint.ID)
		}
		assertEndpoint(t, j.Endpoint, eps[d.EndpointID])

		var wantLimit *int
		switch d.EndpointID {
		case limited.ID:
			wantLimit = ptr(10)
		case plain.ID:
			wantLimit = ptr(25) // the application's
		}
		if !sameIntPtr(j.RateLimit, wantLimit) {
			t.Errorf("job to %s: RateLimit = %v, want %v", d.EndpointID, j.RateLimit, wantLimit)
		}
	}
	if len(byMessage) != 3 {
		t.Fatalf("jobs carry %d messages, want 3", len(byMessage))
	}
}

func recordTransitions(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	var msgs []*hookline.Message
	for i := range 3 {
		m, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(time.Duration(i-10) * time.Second) })
		msgs = append(msgs, m)
	}
	jobs := claim(t, st, "w", base, 10)
	if len(jobs) != 3 {
		t.Fatalf("claimed %d, want 3", len(jobs))
	}
	retryAt := base.Add(5 * time.Second)
	outs := []hookline.Outcome{
		outcome(jobs[0], true, base.Add(time.Second), nil),
		outcome(jobs[1], false, base.Add(2*time.Second), &retryAt),
		outcome(jobs[2], false, base.Add(3*time.Second), nil),
	}
	record(t, st, outs...)

	for i, tc := range []struct {
		status hookline.MessageStatus
		next   *time.Time
	}{
		{hookline.StatusSuccess, nil},
		{hookline.StatusPending, &retryAt},
		{hookline.StatusFail, nil},
	} {
		d := deliveryTo(t, st, app.ID, msgs[i].ID, ep.ID)
		if d.Status != tc.status || !sameTimePtr(d.NextAttemptAt, tc.next) || d.AttemptCount != 1 {
			t.Errorf("delivery %d = status %v next %v attempts %d, want %v %v 1", i, d.Status, d.NextAttemptAt, d.AttemptCount, tc.status, tc.next)
		}
		want := outs[i].Attempt
		got, err := st.GetAttempt(ctx, app.ID, want.ID)
		must(t, err)
		assertAttempt(t, got, want)
	}
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Success: 1, Pending: 1, Fail: 1})

	// The retry is not due before its time, and is claimed with its attempt count after.
	if jobs := claim(t, st, "w", retryAt.Add(-time.Microsecond), 10); len(jobs) != 0 {
		t.Fatalf("claimed %v before the retry is due", jobIDs(jobs))
	}
	jobs = claim(t, st, "w", retryAt, 10)
	if len(jobs) != 1 || jobs[0].Delivery.ID != outs[1].DeliveryID || jobs[0].Delivery.AttemptCount != 1 {
		t.Fatalf("retry claim = %+v", jobs)
	}
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Success: 1, Sending: 1, Fail: 1})
	record(t, st, outcome(jobs[0], true, retryAt.Add(time.Second), nil))
	d := deliveryTo(t, st, app.ID, msgs[1].ID, ep.ID)
	if d.Status != hookline.StatusSuccess || d.NextAttemptAt != nil || d.AttemptCount != 2 {
		t.Fatalf("delivery after a successful retry = %+v", d)
	}
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Success: 2, Fail: 1})
	p, err := st.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{MessageID: msgs[1].ID, ListOptions: hookline.ListOptions{Limit: 10}})
	must(t, err)
	if len(p.Data) != 2 || p.Data[0].Status != hookline.StatusFail || p.Data[1].Status != hookline.StatusSuccess {
		t.Fatalf("attempts of the retried message = %+v", p.Data)
	}
	if _, err := st.RecordAttempts(ctx, nil); err != nil {
		t.Fatalf("RecordAttempts(nil) = %v", err)
	}
}

func assertAttempt(t *testing.T, got, want *hookline.Attempt) {
	t.Helper()
	d := diff{t, "attempt " + want.ID}
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("AppID", got.AppID == want.AppID, got.AppID, want.AppID)
	d.check("MessageID", got.MessageID == want.MessageID, got.MessageID, want.MessageID)
	d.check("EndpointID", got.EndpointID == want.EndpointID, got.EndpointID, want.EndpointID)
	d.check("DeliveryID", got.DeliveryID == want.DeliveryID, got.DeliveryID, want.DeliveryID)
	d.check("URL", got.URL == want.URL, got.URL, want.URL)
	d.check("RequestHeaders", sameMap(got.RequestHeaders, want.RequestHeaders), got.RequestHeaders, want.RequestHeaders)
	d.check("ResponseStatusCode", got.ResponseStatusCode == want.ResponseStatusCode, got.ResponseStatusCode, want.ResponseStatusCode)
	d.check("Response", got.Response == want.Response, got.Response, want.Response)
	d.check("ResponseDurationMs", got.ResponseDurationMs == want.ResponseDurationMs, got.ResponseDurationMs, want.ResponseDurationMs)
	d.check("TriggerType", got.TriggerType == want.TriggerType, got.TriggerType, want.TriggerType)
	d.check("Status", got.Status == want.Status, got.Status, want.Status)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
}

func recordHealth(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	other := newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) { ep.FilterTypes = []string{"order.paid"} })
	types := []string{"order.paid", "order.created", "user.deleted"}
	for i, typ := range types {
		newMessage(t, st, app.ID, func(m *hookline.Message) {
			m.EventType = typ
			m.CreatedAt = base.Add(time.Duration(i-10) * time.Second)
		})
	}
	jobs := claim(t, st, "w", base, 10)
	if len(jobs) != 4 {
		t.Fatalf("claimed %d, want 4", len(jobs))
	}
	var toEP, toOther []hookline.Job
	for _, j := range jobs {
		if j.Delivery.EndpointID == ep.ID {
			toEP = append(toEP, j)
		} else {
			toOther = append(toOther, j)
		}
	}
	t1, t2, t3 := base.Add(time.Second), base.Add(2*time.Second), base.Add(3*time.Second)
	retry := base.Add(time.Hour)
	// In one batch: a success then two failures to ep, one failure to other.
	health := record(t, st,
		outcome(toEP[0], true, t1, nil),
		outcome(toOther[0], false, t1, &retry),
		outcome(toEP[1], false, t2, &retry),
		outcome(toEP[2], false, t3, nil),
	)
	want := map[string]hookline.EndpointHealth{
		ep.ID: {AppID: app.ID, EndpointID: ep.ID, FailureStreak: 2, FailingSince: &t2, LastAttemptAt: &t3,
			LastEventType: "user.deleted", LastStatus: hookline.StatusFail},
		other.ID: {AppID: app.ID, EndpointID: other.ID, FailureStreak: 1, FailingSince: &t1, LastAttemptAt: &t1,
			LastEventType: "order.paid", LastStatus: hookline.StatusFail},
	}
	if len(health) != 2 {
		t.Fatalf("RecordAttempts returned %d health entries, want one per endpoint: %+v", len(health), health)
	}
	for _, h := range health {
		assertHealth(t, h, want[h.EndpointID])
	}
	got, err := st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	assertHealth(t, got.Health, want[ep.ID])

	// More failures extend the streak and keep its start.
	jobs = claim(t, st, "w", retry, 10)
	if len(jobs) != 2 {
		t.Fatalf("claimed %d retries, want 2", len(jobs))
	}
	t4 := retry.Add(time.Second)
	retry2 := retry.Add(time.Hour)
	var epJob, otherJob hookline.Job
	for _, j := range jobs {
		if j.Delivery.EndpointID == ep.ID {
			epJob = j
		} else {
			otherJob = j
		}
	}
	health = record(t, st, outcome(epJob, false, t4, &retry2))
	w := want[ep.ID]
	w.FailureStreak, w.LastAttemptAt, w.LastEventType = 3, &t4, "order.created"
	if len(health) != 1 {
		t.Fatalf("health = %+v, want one entry", health)
	}
	assertHealth(t, health[0], w)

	// Updating the endpoint leaves its health alone.
	got.Description = "edited"
	got.Health = hookline.EndpointHealth{}
	must(t, st.UpdateEndpoint(ctx, got))
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	assertHealth(t, got.Health, w)

	// A success resets the streak.
	t5 := t4.Add(time.Second)
	health = record(t, st, outcome(otherJob, true, t5, nil))
	assertHealth(t, health[0], hookline.EndpointHealth{AppID: app.ID, EndpointID: other.ID, LastAttemptAt: &t5,
		LastEventType: "order.paid", LastStatus: hookline.StatusSuccess})
}

func assertHealth(t *testing.T, got, want hookline.EndpointHealth) {
	t.Helper()
	d := diff{t, "health of " + want.EndpointID}
	d.check("AppID", got.AppID == want.AppID, got.AppID, want.AppID)
	d.check("EndpointID", got.EndpointID == want.EndpointID, got.EndpointID, want.EndpointID)
	d.check("Disabled", got.Disabled == want.Disabled, got.Disabled, want.Disabled)
	d.check("FailureStreak", got.FailureStreak == want.FailureStreak, got.FailureStreak, want.FailureStreak)
	d.check("FailingSince", sameTimePtr(got.FailingSince, want.FailingSince), got.FailingSince, want.FailingSince)
	d.check("LastAttemptAt", sameTimePtr(got.LastAttemptAt, want.LastAttemptAt), got.LastAttemptAt, want.LastAttemptAt)
	d.check("LastEventType", got.LastEventType == want.LastEventType, got.LastEventType, want.LastEventType)
	if want.LastAttemptAt != nil {
		d.check("LastStatus", got.LastStatus == want.LastStatus, got.LastStatus, want.LastStatus)
	}
}

func recordNoAttempt(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	m, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(-time.Second) })
	jobs := claim(t, st, "w", base, 10)
	if len(jobs) != 1 {
		t.Fatalf("claimed %d, want 1", len(jobs))
	}
	// The endpoint was disabled meanwhile: no request, the delivery ends failed.
	health := record(t, st, hookline.Outcome{DeliveryID: jobs[0].Delivery.ID, AppID: app.ID, EndpointID: ep.ID, Status: hookline.StatusFail})
	for _, h := range health {
		if h.FailureStreak != 0 || h.LastAttemptAt != nil {
			t.Fatalf("health after an outcome without attempt = %+v", h)
		}
	}
	d := deliveryTo(t, st, app.ID, m.ID, ep.ID)
	if d.Status != hookline.StatusFail || d.AttemptCount != 0 || d.NextAttemptAt != nil {
		t.Fatalf("delivery = %+v, want failed with no attempt", d)
	}
	p, err := st.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{ListOptions: hookline.ListOptions{Limit: 10}})
	must(t, err)
	if len(p.Data) != 0 {
		t.Fatalf("attempts = %+v, want none", p.Data)
	}
	got, err := st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	if got.Health.FailureStreak != 0 || got.Health.LastAttemptAt != nil {
		t.Fatalf("endpoint health = %+v, want untouched", got.Health)
	}
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Fail: 1})
}

func recordDeletedEndpoint(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	gone := newEndpoint(t, st, app.ID, nil)
	kept := newEndpoint(t, st, app.ID, nil)
	m, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(-time.Second) })
	jobs := claim(t, st, "w", base, 10)
	if len(jobs) != 2 {
		t.Fatalf("claimed %d, want 2", len(jobs))
	}
	// The endpoint is deleted while its job is in flight: its outcome has nowhere to go, and
	// the rest of the batch is recorded all the same.
	must(t, st.DeleteEndpoint(ctx, app.ID, gone.ID))
	var outs []hookline.Outcome
	for _, j := range jobs {
		outs = append(outs, outcome(j, true, base, nil))
	}
	health := record(t, st, outs...)
	if len(health) != 1 || health[0].EndpointID != kept.ID {
		t.Fatalf("health = %+v, want only %s", health, kept.ID)
	}
	if d := deliveryTo(t, st, app.ID, m.ID, kept.ID); d.Status != hookline.StatusSuccess {
		t.Fatalf("delivery to the kept endpoint = %+v", d)
	}
	p, err := st.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{ListOptions: hookline.ListOptions{Limit: 10}})
	must(t, err)
	if len(p.Data) != 1 || p.Data[0].EndpointID != kept.ID {
		t.Fatalf("attempts = %+v, want one to %s", p.Data, kept.ID)
	}
}

func release(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	due := map[string]time.Time{}
	for i := range 4 {
		m, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(time.Duration(i-10) * time.Second) })
		due[m.ID] = m.CreatedAt
	}
	mine := claim(t, st, "a", base, 3)
	theirs := claim(t, st, "b", base, 3)
	if len(mine) != 3 || len(theirs) != 1 {
		t.Fatalf("claimed %d and %d, want 3 and 1", len(mine), len(theirs))
	}
	// Only the owner's leases are released, and only those named.
	must(t, st.ReleaseDeliveries(ctx, "a", append(jobIDs(mine[:2]), jobIDs(theirs)...)))
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Pending: 2, Sending: 2})
	for _, j := range mine[:2] {
		d := deliveryTo(t, st, app.ID, j.Delivery.MessageID, ep.ID)
		if d.Status != hookline.StatusPending || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(due[d.MessageID]) {
			t.Fatalf("released delivery = %+v, want pending, due %v as before", d, due[d.MessageID])
		}
	}
	must(t, st.ReleaseDeliveries(ctx, "a", nil))
	// Released deliveries are claimable again at once.
	if again := claim(t, st, "c", base, 10); !slices.Equal(jobIDs(again), jobIDs(mine[:2])) {
		t.Fatalf("claim after release = %v, want %v", jobIDs(again), jobIDs(mine[:2]))
	}

	// Leases run until base+24h: none has ended before then.
	n, err := st.ReleaseExpiredLeases(ctx, base.Add(24*time.Hour))
	must(t, err)
	if n != 0 {
		t.Fatalf("released %d unexpired leases", n)
	}
	n, err = st.ReleaseExpiredLeases(ctx, base.Add(48*time.Hour))
	must(t, err)
	if n != 4 {
		t.Fatalf("released %d expired leases, want 4", n)
	}
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Pending: 4})
}

func nextDueAt(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	next, err := st.NextDueAt(ctx)
	must(t, err)
	if next != nil {
		t.Fatalf("NextDueAt of an empty store = %v, want nil", next)
	}
	app := newApp(t, st, "acme")
	newEndpoint(t, st, app.ID, nil)
	first, second := base.Add(time.Hour), base.Add(2*time.Hour)
	newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = second })
	newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = first })
	check := func(want *time.Time) {
		t.Helper()
		next, err := st.NextDueAt(ctx)
		must(t, err)
		if !sameTimePtr(next, want) {
			t.Fatalf("NextDueAt = %v, want %v", next, want)
		}
	}
	check(&first)
	jobs := claim(t, st, "w", first, 10)
	if len(jobs) != 1 {
		t.Fatalf("claimed %d, want 1", len(jobs))
	}
	check(&second) // sending deliveries are not pending
	record(t, st, outcome(jobs[0], true, first, nil))
	check(&second)
	jobs = claim(t, st, "w", second, 10)
	record(t, st, outcome(jobs[0], false, second, nil))
	check(nil)
}

func setEndpointDisabled(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(-time.Second) })
	jobs := claim(t, st, "w", base, 1)
	record(t, st, outcome(jobs[0], false, base, nil))

	at := base.Add(time.Minute)
	changed, err := st.SetEndpointDisabled(ctx, app.ID, ep.ID, true, "consecutive-failures", at)
	must(t, err)
	if !changed {
		t.Fatal("disabling an enabled endpoint reported no change")
	}
	got, err := st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	if !got.Disabled || got.DisabledReason != "consecutive-failures" || !got.UpdatedAt.Equal(at) ||
		got.Health.FailureStreak != 1 || !got.Health.Disabled {
		t.Fatalf("disabled endpoint = disabled %v reason %q updated %v health %+v", got.Disabled, got.DisabledReason, got.UpdatedAt, got.Health)
	}
	changed, err = st.SetEndpointDisabled(ctx, app.ID, ep.ID, true, "manual", at.Add(time.Minute))
	must(t, err)
	if changed {
		t.Fatal("disabling a disabled endpoint reported a change")
	}
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	if got.DisabledReason != "consecutive-failures" || !got.UpdatedAt.Equal(at) {
		t.Fatalf("a no-op disable changed reason %q or time %v", got.DisabledReason, got.UpdatedAt)
	}

	// Enabling clears the reason and starts a new health record.
	at = at.Add(time.Hour)
	changed, err = st.SetEndpointDisabled(ctx, app.ID, ep.ID, false, "", at)
	must(t, err)
	if !changed {
		t.Fatal("enabling a disabled endpoint reported no change")
	}
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	if got.Disabled || got.DisabledReason != "" || !got.UpdatedAt.Equal(at) ||
		got.Health.FailureStreak != 0 || got.Health.FailingSince != nil || got.Health.LastAttemptAt == nil {
		t.Fatalf("enabled endpoint = disabled %v reason %q updated %v health %+v", got.Disabled, got.DisabledReason, got.UpdatedAt, got.Health)
	}
	changed, err = st.SetEndpointDisabled(ctx, app.ID, ep.ID, false, "", at)
	must(t, err)
	if changed {
		t.Fatal("enabling an enabled endpoint reported a change")
	}

	other := newApp(t, st, "other")
	_, err = st.SetEndpointDisabled(ctx, other.ID, ep.ID, true, "manual", at)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.SetEndpointDisabled(ctx, app.ID, "ep_missing", false, "", at)
	wantCode(t, err, hookline.ENOTFOUND)
}

// attemptLog is a recorded attempt with what the filters look at.
type attemptLog struct {
	id, endpoint, message, eventType string
	status                           hookline.MessageStatus
	at                               time.Time
}

func attemptsList(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now().Add(-time.Hour)
	app := newApp(t, st, "acme")
	ep1 := newEndpoint(t, st, app.ID, nil)
	ep2 := newEndpoint(t, st, app.ID, nil)
	types := map[string]string{}
	for i, typ := range []string{"order.paid", "user.deleted", "order.paid", "order.created"} {
		m, _ := newMessage(t, st, app.ID, func(m *hookline.Message) {
			m.EventType = typ
			m.CreatedAt = base.Add(time.Duration(i) * time.Second)
		})
		types[m.ID] = typ
	}
	// Another application's attempts are never listed.
	otherApp := newApp(t, st, "other")
	newEndpoint(t, st, otherApp.ID, nil)
	newMessage(t, st, otherApp.ID, func(m *hookline.Message) { m.CreatedAt = base })

	var log []attemptLog
	jobs := claim(t, st, "w", base.Add(time.Minute), 100)
	if len(jobs) != 9 {
		t.Fatalf("claimed %d, want 9", len(jobs))
	}
	i := 0
	for _, j := range jobs {
		if j.Delivery.AppID != app.ID {
			record(t, st, outcome(j, true, base, nil))
			continue
		}
		at := base.Add(time.Duration(10+i) * time.Second)
		o := outcome(j, i%3 != 0, at, nil)
		record(t, st, o)
		log = append(log, attemptLog{o.Attempt.ID, j.Delivery.EndpointID, j.Delivery.MessageID, types[j.Delivery.MessageID], o.Attempt.Status, at})
		i++
	}
	slices.SortFunc(log, func(a, b attemptLog) int { return strings.Compare(a.id, b.id) })

	list := func(o hookline.AttemptListOptions) []string {
		t.Helper()
		o.Limit = 50
		p, err := st.ListAttempts(ctx, app.ID, o)
		must(t, err)
		if !p.Done {
			t.Fatalf("ListAttempts(%+v) not done", o)
		}
		var out []string
		for _, a := range p.Data {
			out = append(out, a.ID)
		}
		return out
	}
	expect := func(desc bool, keep func(a attemptLog) bool) []string {
		var out []string
		for _, a := range log {
			if keep(a) {
				out = append(out, a.id)
			}
		}
		if desc {
			slices.Reverse(out)
		}
		return out
	}
	fail := hookline.StatusFail
	at := func(i int) *time.Time { t := base.Add(time.Duration(10+i) * time.Second); return &t }
	for _, tc := range []struct {
		name string
		opts hookline.AttemptListOptions
		keep func(a attemptLog) bool
	}{
		{"all", hookline.AttemptListOptions{}, func(attemptLog) bool { return true }},
		{"newest first", hookline.AttemptListOptions{ListOptions: hookline.ListOptions{Descending: true}}, func(attemptLog) bool { return true }},
		{"endpoint", hookline.AttemptListOptions{EndpointID: ep2.ID}, func(a attemptLog) bool { return a.endpoint == ep2.ID }},
		{"message", hookline.AttemptListOptions{MessageID: log[0].message}, func(a attemptLog) bool { return a.message == log[0].message }},
		{"status", hookline.AttemptListOptions{Status: &fail}, func(a attemptLog) bool { return a.status == fail }},
		{"event types", hookline.AttemptListOptions{EventTypes: []string{"order.paid", "order.created"}},
			func(a attemptLog) bool { return a.eventType != "user.deleted" }},
		{"before", hookline.AttemptListOptions{Before: at(3)}, func(a attemptLog) bool { return a.at.Before(*at(3)) }},
		{"after", hookline.AttemptListOptions{After: at(3)}, func(a attemptLog) bool { return a.at.After(*at(3)) }},
		{"endpoint, type and status", hookline.AttemptListOptions{EndpointID: ep1.ID, EventTypes: []string{"order.paid"}, Status: &fail},
			func(a attemptLog) bool {
				return a.endpoint == ep1.ID && a.eventType == "order.paid" && a.status == fail
			}},
		{"unknown endpoint", hookline.AttemptListOptions{EndpointID: "ep_missing"}, func(attemptLog) bool { return false }},
	} {
		if got, want := list(tc.opts), expect(tc.opts.Descending, tc.keep); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, want)
		}
	}

	var ids []string
	for _, a := range log {
		ids = append(ids, a.id)
	}
	checkPagination(t, ids, 3, func(a hookline.Attempt) string { return a.ID },
		func(o hookline.ListOptions) (hookline.Page[hookline.Attempt], error) {
			return st.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{ListOptions: o})
		})
	// Filters and pagination together.
	var ep1IDs []string
	for _, a := range log {
		if a.endpoint == ep1.ID {
			ep1IDs = append(ep1IDs, a.id)
		}
	}
	checkPagination(t, ep1IDs, 3, func(a hookline.Attempt) string { return a.ID },
		func(o hookline.ListOptions) (hookline.Page[hookline.Attempt], error) {
			return st.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{ListOptions: o, EndpointID: ep1.ID})
		})
}

func attemptsGet(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	newEndpoint(t, st, app.ID, nil)
	newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(-time.Second) })
	jobs := claim(t, st, "w", base, 1)
	o := outcome(jobs[0], true, base, nil)
	record(t, st, o)
	got, err := st.GetAttempt(ctx, app.ID, o.Attempt.ID)
	must(t, err)
	assertAttempt(t, got, o.Attempt)

	other := newApp(t, st, "other")
	_, err = st.GetAttempt(ctx, other.ID, o.Attempt.ID)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.GetAttempt(ctx, app.ID, "atmpt_missing")
	wantCode(t, err, hookline.ENOTFOUND)
}

func endpointMessages(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now().Add(-time.Hour)
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	newEndpoint(t, st, app.ID, nil) // its deliveries are not listed
	type row struct {
		msg      *hookline.Message
		delivery string
	}
	var rows []row
	for i, typ := range []string{"order.paid", "user.deleted", "order.paid", "order.created", "order.paid"} {
		m, ds := newMessage(t, st, app.ID, func(m *hookline.Message) {
			m.EventType = typ
			m.Payload = []byte(fmt.Sprintf(`{"i": %d}`, i))
			m.CreatedAt = base.Add(time.Duration(i) * time.Minute)
		})
		for _, d := range ds {
			if d.EndpointID == ep.ID {
				rows = append(rows, row{m, d.ID})
			}
		}
	}
	// Message 0 succeeds, message 1 fails for good, message 2 waits for a retry; the rest
	// stay pending.
	jobs := claim(t, st, "w", base.Add(150*time.Second), 100)
	retry := base.Add(time.Hour)
	for _, j := range jobs {
		switch j.Delivery.MessageID {
		case rows[0].msg.ID:
			record(t, st, outcome(j, true, base, nil))
		case rows[1].msg.ID:
			record(t, st, outcome(j, false, base, nil))
		default:
			record(t, st, outcome(j, false, base, &retry))
		}
	}
	wantStatus := []hookline.MessageStatus{hookline.StatusSuccess, hookline.StatusFail, hookline.StatusPending,
		hookline.StatusPending, hookline.StatusPending}

	p, err := st.ListEndpointMessages(ctx, app.ID, ep.ID, hookline.EndpointMessageListOptions{ListOptions: hookline.ListOptions{Limit: 50}})
	must(t, err)
	if len(p.Data) != len(rows) || !p.Done {
		t.Fatalf("listed %d messages (done=%v), want %d", len(p.Data), p.Done, len(rows))
	}
	for i, em := range p.Data {
		if em.DeliveryID != rows[i].delivery || em.Status != wantStatus[i] {
			t.Errorf("row %d = delivery %s status %v, want %s %v", i, em.DeliveryID, em.Status, rows[i].delivery, wantStatus[i])
		}
		assertMessage(t, &em.Message, rows[i].msg)
		var wantNext *time.Time
		switch {
		case i == 2:
			wantNext = &retry
		case i > 2:
			wantNext = &rows[i].msg.CreatedAt
		}
		if !sameTimePtr(em.NextAttemptAt, wantNext) {
			t.Errorf("row %d NextAttemptAt = %v, want %v", i, em.NextAttemptAt, wantNext)
		}
	}

	list := func(o hookline.EndpointMessageListOptions) []int {
		t.Helper()
		o.Limit = 50
		p, err := st.ListEndpointMessages(ctx, app.ID, ep.ID, o)
		must(t, err)
		var out []int
		for _, em := range p.Data {
			out = append(out, slices.IndexFunc(rows, func(r row) bool { return r.delivery == em.DeliveryID }))
		}
		return out
	}
	pending := hookline.StatusPending
	at := func(i int) *time.Time { t := base.Add(time.Duration(i) * time.Minute); return &t }
	for _, tc := range []struct {
		name string
		opts hookline.EndpointMessageListOptions
		want []int
	}{
		{"newest first", hookline.EndpointMessageListOptions{ListOptions: hookline.ListOptions{Descending: true}}, []int{4, 3, 2, 1, 0}},
		{"status", hookline.EndpointMessageListOptions{Status: &pending}, []int{2, 3, 4}},
		{"event types", hookline.EndpointMessageListOptions{EventTypes: []string{"order.paid"}}, []int{0, 2, 4}},
		{"before", hookline.EndpointMessageListOptions{Before: at(2)}, []int{0, 1}},
		{"after", hookline.EndpointMessageListOptions{After: at(2)}, []int{3, 4}},
		{"status and type", hookline.EndpointMessageListOptions{Status: &pending, EventTypes: []string{"order.paid"}}, []int{2, 4}},
	} {
		if got := list(tc.opts); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	var ids []string
	for _, r := range rows {
		ids = append(ids, r.delivery)
	}
	checkPagination(t, ids, 2, func(em hookline.EndpointMessage) string { return em.DeliveryID },
		func(o hookline.ListOptions) (hookline.Page[hookline.EndpointMessage], error) {
			return st.ListEndpointMessages(ctx, app.ID, ep.ID, hookline.EndpointMessageListOptions{ListOptions: o})
		})
	// Another application sees nothing of the endpoint.
	p, err = st.ListEndpointMessages(ctx, newApp(t, st, "other").ID, ep.ID, hookline.EndpointMessageListOptions{ListOptions: hookline.ListOptions{Limit: 50}})
	if err == nil && len(p.Data) != 0 {
		t.Fatalf("another application listed %d messages of the endpoint", len(p.Data))
	}
	if err != nil {
		wantCode(t, err, hookline.ENOTFOUND)
	}
}

func requeueDelivery(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	m, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(-time.Hour) })
	jobs := claim(t, st, "w", base, 10)
	record(t, st, outcome(jobs[0], false, base, nil))

	// A failed delivery is due again now, as a manual attempt.
	at := base.Add(time.Minute)
	d, err := st.RequeueDelivery(ctx, app.ID, m.ID, ep.ID, at)
	must(t, err)
	if d.ID != jobs[0].Delivery.ID || d.Status != hookline.StatusPending || !sameTimePtr(d.NextAttemptAt, &at) ||
		d.Trigger != hookline.TriggerManual || d.AttemptCount != 1 {
		t.Fatalf("requeued delivery = %+v", d)
	}
	if listed := deliveryTo(t, st, app.ID, m.ID, ep.ID); listed.Status != hookline.StatusPending || listed.Trigger != hookline.TriggerManual {
		t.Fatalf("stored delivery = %+v", listed)
	}
	if jobs := claim(t, st, "w", at.Add(-time.Second), 10); len(jobs) != 0 {
		t.Fatalf("claimed the resend before it was due")
	}
	jobs = claim(t, st, "w", at, 10)
	if len(jobs) != 1 || jobs[0].Delivery.Trigger != hookline.TriggerManual || jobs[0].Delivery.AttemptCount != 1 {
		t.Fatalf("claimed resend = %+v", jobs)
	}
	// Postponed without an attempt (its endpoint was saturated), it stays a manual resend.
	later := at.Add(3 * time.Second)
	record(t, st, hookline.Outcome{DeliveryID: jobs[0].Delivery.ID, AppID: app.ID, EndpointID: ep.ID,
		Status: hookline.StatusPending, NextAttemptAt: &later})
	if listed := deliveryTo(t, st, app.ID, m.ID, ep.ID); listed.Status != hookline.StatusPending ||
		listed.Trigger != hookline.TriggerManual || listed.AttemptCount != 1 || !sameTimePtr(listed.NextAttemptAt, &later) {
		t.Fatalf("postponed resend = %+v, want pending, still manual", listed)
	}
	jobs = claim(t, st, "w", later, 10)
	if len(jobs) != 1 || jobs[0].Delivery.Trigger != hookline.TriggerManual || jobs[0].Delivery.AttemptCount != 1 {
		t.Fatalf("claimed postponed resend = %+v", jobs)
	}

	// While it is being sent a resend leaves it alone.
	d, err = st.RequeueDelivery(ctx, app.ID, m.ID, ep.ID, at.Add(time.Second))
	must(t, err)
	if d.Status != hookline.StatusSending || d.ID != jobs[0].Delivery.ID {
		t.Fatalf("resend of a sending delivery = %+v, want it unchanged", d)
	}
	record(t, st, outcome(jobs[0], true, at, nil))
	if listed := deliveryTo(t, st, app.ID, m.ID, ep.ID); listed.Status != hookline.StatusSuccess ||
		listed.Trigger != hookline.TriggerScheduled || listed.AttemptCount != 2 {
		t.Fatalf("delivery after the resend = %+v, want success, trigger reset", listed)
	}

	// A successful delivery may be resent too.
	d, err = st.RequeueDelivery(ctx, app.ID, m.ID, ep.ID, at)
	must(t, err)
	if d.Status != hookline.StatusPending {
		t.Fatalf("resend of a successful delivery = %+v", d)
	}

	// An endpoint created after the message gets a new delivery.
	late := newEndpoint(t, st, app.ID, nil)
	d, err = st.RequeueDelivery(ctx, app.ID, m.ID, late.ID, at)
	must(t, err)
	if d.ID == "" || d.EndpointID != late.ID || d.MessageID != m.ID || d.AppID != app.ID || d.Status != hookline.StatusPending ||
		d.Trigger != hookline.TriggerManual || d.AttemptCount != 0 || !sameTimePtr(d.NextAttemptAt, &at) {
		t.Fatalf("new delivery = %+v", d)
	}
	ds, err := st.ListDeliveries(ctx, app.ID, m.ID)
	must(t, err)
	if len(ds) != 2 {
		t.Fatalf("%d deliveries, want 2", len(ds))
	}
	// Again: still one delivery per endpoint.
	if _, err := st.RequeueDelivery(ctx, app.ID, m.ID, late.ID, at); err != nil {
		t.Fatal(err)
	}
	if ds, _ := st.ListDeliveries(ctx, app.ID, m.ID); len(ds) != 2 {
		t.Fatalf("%d deliveries after a second resend, want 2", len(ds))
	}

	other := newApp(t, st, "other")
	otherEP := newEndpoint(t, st, other.ID, nil)
	_, err = st.RequeueDelivery(ctx, app.ID, "msg_missing", ep.ID, at)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.RequeueDelivery(ctx, app.ID, m.ID, "ep_missing", at)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.RequeueDelivery(ctx, other.ID, m.ID, otherEP.ID, at)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.RequeueDelivery(ctx, app.ID, m.ID, otherEP.ID, at)
	wantCode(t, err, hookline.ENOTFOUND)
}

func requeueFailed(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	otherEP := newEndpoint(t, st, app.ID, nil)
	// Messages an hour apart, from base-4h to base-1h; the one at base-3h succeeds.
	var msgs []*hookline.Message
	for i := range 4 {
		m, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(time.Duration(i-4) * time.Hour) })
		msgs = append(msgs, m)
	}
	for _, j := range claim(t, st, "w", base, 100) {
		record(t, st, outcome(j, j.Delivery.MessageID == msgs[1].ID && j.Delivery.EndpointID == ep.ID, base, nil))
	}
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Success: 1, Fail: 3})

	at := base.Add(time.Minute)
	hour := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }
	// [base-3h, base-2h): only the successful message, nothing to do.
	n, err := st.RequeueFailed(ctx, app.ID, ep.ID, hour(-3), ptr(hour(-2)), at)
	must(t, err)
	if n != 0 {
		t.Fatalf("requeued %d, want 0", n)
	}
	// [base-4h, base-2h): the failed message at base-4h; until is exclusive.
	n, err = st.RequeueFailed(ctx, app.ID, ep.ID, hour(-4), ptr(hour(-2)), at)
	must(t, err)
	if n != 1 {
		t.Fatalf("requeued %d, want 1", n)
	}
	d := deliveryTo(t, st, app.ID, msgs[0].ID, ep.ID)
	if d.Status != hookline.StatusPending || !sameTimePtr(d.NextAttemptAt, &at) || d.Trigger != hookline.TriggerManual {
		t.Fatalf("requeued delivery = %+v", d)
	}
	if d := deliveryTo(t, st, app.ID, msgs[2].ID, ep.ID); d.Status != hookline.StatusFail {
		t.Fatalf("delivery of a message at until = %+v, want still failed", d)
	}
	// Since base-2h without an end: the other two; since is inclusive.
	n, err = st.RequeueFailed(ctx, app.ID, ep.ID, hour(-2), nil, at)
	must(t, err)
	if n != 2 {
		t.Fatalf("requeued %d, want 2", n)
	}
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Success: 1, Pending: 3})
	wantStats(t, st, app.ID, otherEP.ID, hookline.EndpointStats{Fail: 4})

	_, err = st.RequeueFailed(ctx, app.ID, "ep_missing", hour(-10), nil, at)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.RequeueFailed(ctx, newApp(t, st, "other").ID, ep.ID, hour(-10), nil, at)
	wantCode(t, err, hookline.ENOTFOUND)
}

func purge(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	old := base.Add(-48 * time.Hour)
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) { ep.FilterTypes = []string{"order.paid"} })
	done, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = old })
	failed, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = old.Add(time.Second) })
	quiet, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = old; m.EventType = "no.endpoint" })
	for _, j := range claim(t, st, "w", base, 10) {
		record(t, st, outcome(j, j.Delivery.MessageID == done.ID, old, nil))
	}
	sending, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = old })
	if jobs := claim(t, st, "w", base, 10); len(jobs) != 1 {
		t.Fatalf("claimed %d, want 1", len(jobs))
	}
	recent, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base })
	recentJobs := claim(t, st, "w", base, 10)
	if len(recentJobs) != 1 {
		t.Fatalf("claimed %d, want 1", len(recentJobs))
	}
	record(t, st, outcome(recentJobs[0], true, base, nil))
	pending, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = old.Add(time.Hour) })

	n, err := st.Purge(ctx, base.Add(-24*time.Hour))
	must(t, err)
	if n != 3 {
		t.Fatalf("purged %d messages, want 3", n)
	}
	for _, m := range []*hookline.Message{done, failed, quiet} {
		_, err := st.GetMessage(ctx, app.ID, m.ID)
		wantCode(t, err, hookline.ENOTFOUND)
		p, err := st.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{MessageID: m.ID, ListOptions: hookline.ListOptions{Limit: 10}})
		must(t, err)
		if len(p.Data) != 0 {
			t.Fatalf("attempts of purged message %s remain", m.ID)
		}
	}
	for _, m := range []*hookline.Message{sending, pending, recent} {
		if _, err := st.GetMessage(ctx, app.ID, m.ID); err != nil {
			t.Fatalf("message %s was purged: %v", m.ID, err)
		}
	}
	wantStats(t, st, app.ID, ep.ID, hookline.EndpointStats{Success: 1, Sending: 1, Pending: 1})
	n, err = st.Purge(ctx, base.Add(-24*time.Hour))
	must(t, err)
	if n != 0 {
		t.Fatalf("second purge deleted %d", n)
	}
}
