package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// contentExpunge checks ExpungeMessages, ExpungeAttempt and ReclaimExpunged: payloads and
// response bodies are gone, pending deliveries end, stored idempotent responses that name the
// message go, recover skips the message, and nothing of other messages or applications changes.
func contentExpunge(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	other := newApp(t, st, "other")
	ok := newEndpoint(t, st, app.ID, nil)
	failing := newEndpoint(t, st, app.ID, nil)
	newEndpoint(t, st, other.ID, nil)
	secret := func(m *hookline.Message) {
		m.EventID, m.Payload, m.CreatedAt = "evt-1", []byte(`{"card":"4242424242424242"}`), base.Add(-time.Hour)
	}
	m1, _ := newMessage(t, st, app.ID, secret)
	m2, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(-time.Hour) })
	otherMsg, _ := newMessage(t, st, other.ID, secret) // the same eventId, in another application
	retry := base.Add(time.Hour)
	var m1Attempts []string
	for _, j := range claim(t, st, "w", base, 100) {
		o := outcome(j, j.Delivery.EndpointID == ok.ID, base, nil)
		if j.Delivery.EndpointID == failing.ID {
			o = outcome(j, false, base, &retry)
		}
		if j.Delivery.MessageID == m1.ID {
			m1Attempts = append(m1Attempts, o.Attempt.ID)
		}
		record(t, st, o)
	}
	// An Idempotency-Key response that names m1, and one that does not.
	for key, body := range map[string]string{"k-m1": `{"id":"` + m1.ID + `"}`, "k-m2": `{"id":"` + m2.ID + `"}`} {
		rec, err := st.ClaimIdempotencyKey(ctx, &hookline.IdempotencyRecord{Scope: "operator", Key: key, RequestHash: "h", CreatedAt: base})
		must(t, err)
		if rec != nil {
			t.Fatalf("key %s claimed before", key)
		}
		must(t, st.CompleteIdempotencyKey(ctx, "operator", key, 202, []byte(body)))
	}

	found, err := st.ExpungeMessages(ctx, app.ID, []string{"evt-1", "msg_missing", otherMsg.ID})
	must(t, err)
	if len(found) != 3 || !found["evt-1"] || found["msg_missing"] || found[otherMsg.ID] {
		t.Fatalf("found = %v, want evt-1 only (another application's message is not found)", found)
	}
	must(t, st.ReclaimExpunged(ctx))

	got, err := st.GetMessage(ctx, app.ID, m1.ID)
	must(t, err)
	if !got.Expunged() || len(got.Payload) != 0 {
		t.Fatalf("expunged message payload = %q, want empty", got.Payload)
	}
	if got.EventType != m1.EventType || got.EventID != "evt-1" {
		t.Fatalf("expunged message = %+v, want its record kept", got)
	}
	for _, m := range []struct {
		app string
		msg *hookline.Message
	}{{app.ID, m2}, {other.ID, otherMsg}} {
		got, err := st.GetMessage(ctx, m.app, m.msg.ID)
		must(t, err)
		if got.Expunged() || string(got.Payload) != string(m.msg.Payload) {
			t.Fatalf("message %s payload = %q, want %q untouched", m.msg.ID, got.Payload, m.msg.Payload)
		}
	}
	page, err := st.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{ListOptions: hookline.ListOptions{Limit: 100}})
	must(t, err)
	if len(page.Data) != 4 {
		t.Fatalf("%d attempts, want 4", len(page.Data))
	}
	for _, a := range page.Data {
		expunged := a.Response == hookline.ExpungedResponse
		if expunged != (a.MessageID == m1.ID) {
			t.Fatalf("attempt of %s has response %q", a.MessageID, a.Response)
		}
	}
	// The retry of m1 ends; m2's stays.
	if d := deliveryTo(t, st, app.ID, m1.ID, failing.ID); d.Status != hookline.StatusFail || d.NextAttemptAt != nil {
		t.Fatalf("pending delivery of an expunged message = %+v, want failed with no next attempt", d)
	}
	if d := deliveryTo(t, st, app.ID, m2.ID, failing.ID); d.Status != hookline.StatusPending {
		t.Fatalf("delivery of another message = %+v, want still pending", d)
	}
	for key, gone := range map[string]bool{"k-m1": true, "k-m2": false} {
		rec, err := st.ClaimIdempotencyKey(ctx, &hookline.IdempotencyRecord{Scope: "operator", Key: key, RequestHash: "h", CreatedAt: base})
		must(t, err)
		if (rec == nil) != gone {
			t.Fatalf("idempotency record %s: existing = %+v, want gone=%v", key, rec, gone)
		}
	}
	// Recover leaves the expunged message alone: it has nothing to send.
	n, err := st.RequeueFailed(ctx, app.ID, failing.ID, base.Add(-2*time.Hour), nil, base)
	must(t, err)
	if n != 0 {
		t.Fatalf("recover requeued %d deliveries, want 0", n)
	}
	// Expunging again is fine and still finds the message.
	found, err = st.ExpungeMessages(ctx, app.ID, []string{m1.ID})
	must(t, err)
	if !found[m1.ID] {
		t.Fatalf("found = %v on a second expunge", found)
	}

	// One attempt's body.
	var m2Attempt hookline.Attempt
	for _, a := range page.Data {
		if a.MessageID == m2.ID {
			m2Attempt = a
		}
	}
	wantCode(t, st.ExpungeAttempt(ctx, other.ID, m2Attempt.ID), hookline.ENOTFOUND)
	wantCode(t, st.ExpungeAttempt(ctx, app.ID, "atmpt_missing"), hookline.ENOTFOUND)
	must(t, st.ExpungeAttempt(ctx, app.ID, m2Attempt.ID))
	a, err := st.GetAttempt(ctx, app.ID, m2Attempt.ID)
	must(t, err)
	if a.Response != hookline.ExpungedResponse || a.ResponseStatusCode != m2Attempt.ResponseStatusCode {
		t.Fatalf("expunged attempt = %+v", a)
	}
	if got, _ := st.GetMessage(ctx, app.ID, m2.ID); got.Expunged() {
		t.Fatal("expunging an attempt expunged its message")
	}
}

// contentExpungeDispatch checks that a message expunged while awaiting dispatch is never
// fanned out.
func contentExpungeDispatch(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	newEndpoint(t, st, app.ID, nil)
	m := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID, EventType: "order.paid",
		Payload: []byte(`{"secret":1}`), CreatedAt: base}
	must(t, st.CreateMessage(ctx, m))
	if _, err := st.ExpungeMessages(ctx, app.ID, []string{m.ID}); err != nil {
		t.Fatal(err)
	}
	if jobs := claim(t, st, "w", base.Add(time.Minute), 100); len(jobs) != 0 {
		t.Fatalf("claimed %d jobs of an expunged message, want none", len(jobs))
	}
	if due, err := st.NextDueAt(ctx); err != nil || due != nil {
		t.Fatalf("NextDueAt = %v, %v; want nothing due", due, err)
	}
}

// contentExpungeAfter checks the paging of ExpungeMessagesAfter.
func contentExpungeAfter(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	other := newApp(t, st, "other")
	var ids []string
	for range 5 {
		m, _ := newMessage(t, st, app.ID, nil)
		ids = append(ids, m.ID)
	}
	keep, _ := newMessage(t, st, other.ID, nil)
	// The Idempotency-Key response that created the first message names it.
	if _, err := st.ClaimIdempotencyKey(ctx, &hookline.IdempotencyRecord{Scope: "operator", Key: "k", RequestHash: "h", CreatedAt: now()}); err != nil {
		t.Fatal(err)
	}
	must(t, st.CompleteIdempotencyKey(ctx, "operator", "k", 202, []byte(`{"id":"`+ids[0]+`"}`)))
	after := ""
	for i, want := range []int{2, 2, 1, 0} {
		n, last, err := st.ExpungeMessagesAfter(ctx, app.ID, after, "", 2)
		must(t, err)
		wantLast := ""
		if i < 3 {
			wantLast = ids[min(2*i+1, 4)]
		}
		if n != want || last != wantLast {
			t.Fatalf("page %d: n=%d last=%q, want %d %q", i, n, last, want, wantLast)
		}
		after = last
	}
	for _, id := range ids {
		if m, _ := st.GetMessage(ctx, app.ID, id); !m.Expunged() {
			t.Fatalf("message %s not expunged", id)
		}
	}
	if m, _ := st.GetMessage(ctx, other.ID, keep.ID); m.Expunged() {
		t.Fatal("another application's message was expunged")
	}
	if rec, err := st.ClaimIdempotencyKey(ctx, &hookline.IdempotencyRecord{Scope: "operator", Key: "k", RequestHash: "h", CreatedAt: now()}); err != nil || rec != nil {
		t.Fatalf("the stored response that created an expunged message is still there: %+v, %v", rec, err)
	}
	// A second pass finds nothing left to expunge, and still walks the messages.
	n, last, err := st.ExpungeMessagesAfter(ctx, app.ID, "", "", 10)
	must(t, err)
	if n != 0 || last != ids[4] {
		t.Fatalf("second pass: n=%d last=%q, want 0 %q", n, last, ids[4])
	}
	// beforeID bounds the walk: messages from it on are left alone.
	later, _ := newMessage(t, st, app.ID, nil)
	n, last, err = st.ExpungeMessagesAfter(ctx, app.ID, ids[4], later.ID, 10)
	must(t, err)
	if n != 0 || last != "" {
		t.Fatalf("bounded before the later message: n=%d last=%q, want nothing", n, last)
	}
	if m, _ := st.GetMessage(ctx, app.ID, later.ID); m.Expunged() {
		t.Fatal("a message at beforeID was expunged")
	}
}

// contentTagFilters checks the tag and channel filters of the message and attempt lists.
func contentTagFilters(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	tagged, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.Tags, m.Channels = []string{"vip", "eu"}, []string{"orders"} })
	plain, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.Tags = []string{"vip-not"} })
	for _, j := range claim(t, st, "w", base.Add(time.Minute), 100) {
		record(t, st, outcome(j, true, base, nil))
	}
	msgs, err := st.ListMessages(ctx, app.ID, hookline.MessageListOptions{ListOptions: hookline.ListOptions{Limit: 10}, Tag: "vip"})
	must(t, err)
	if len(msgs.Data) != 1 || msgs.Data[0].ID != tagged.ID {
		t.Fatalf("messages tagged vip = %v, want %s", msgs.Data, tagged.ID)
	}
	msgs, err = st.ListMessages(ctx, app.ID, hookline.MessageListOptions{ListOptions: hookline.ListOptions{Limit: 10}, Channels: []string{"x", "orders"}})
	must(t, err)
	if len(msgs.Data) != 1 || msgs.Data[0].ID != tagged.ID {
		t.Fatalf("messages on channel x or orders = %v, want %s", msgs.Data, tagged.ID)
	}
	msgs, err = st.ListMessages(ctx, app.ID, hookline.MessageListOptions{ListOptions: hookline.ListOptions{Limit: 10}, Tag: "nope"})
	must(t, err)
	if len(msgs.Data) != 0 {
		t.Fatalf("messages tagged nope = %v", msgs.Data)
	}
	for _, tc := range []struct {
		tag, channel string
		want         string
	}{{"eu", "", tagged.ID}, {"", "orders", tagged.ID}, {"vip-not", "", plain.ID}, {"eu", "orders", tagged.ID}, {"vip-not", "orders", ""}} {
		atts, err := st.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{ListOptions: hookline.ListOptions{Limit: 10}, Tag: tc.tag, Channel: tc.channel})
		must(t, err)
		ems, err := st.ListEndpointMessages(ctx, app.ID, ep.ID, hookline.EndpointMessageListOptions{ListOptions: hookline.ListOptions{Limit: 10}, Tag: tc.tag, Channel: tc.channel})
		must(t, err)
		if tc.want == "" {
			if len(atts.Data) != 0 || len(ems.Data) != 0 {
				t.Fatalf("tag %q channel %q: %d attempts, %d endpoint messages, want none", tc.tag, tc.channel, len(atts.Data), len(ems.Data))
			}
			continue
		}
		if len(atts.Data) != 1 || atts.Data[0].MessageID != tc.want {
			t.Fatalf("tag %q channel %q: attempts = %+v, want one of %s", tc.tag, tc.channel, atts.Data, tc.want)
		}
		if len(ems.Data) != 1 || ems.Data[0].Message.ID != tc.want {
			t.Fatalf("tag %q channel %q: endpoint messages = %+v, want %s", tc.tag, tc.channel, ems.Data, tc.want)
		}
	}
}

// contentExpirePayloads checks ExpirePayloads: a message's payload goes once its own
// retention has ended (as an expunge removes it: the payload, the attempts' bodies, pending
// retries), earliest first and at most limit per call; messages kept longer, or as long as the
// message, keep theirs.
func contentExpirePayloads(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now().Add(-time.Hour)
	app := newApp(t, st, "acme")
	newEndpoint(t, st, app.ID, nil)
	retained := func(d time.Duration) func(*hookline.Message) {
		return func(m *hookline.Message) { m.CreatedAt, m.PayloadRetention = base, d }
	}
	hour, _ := newMessage(t, st, app.ID, retained(time.Hour))
	threeHours, _ := newMessage(t, st, app.ID, retained(3*time.Hour))
	kept, _ := newMessage(t, st, app.ID, retained(0))
	// The first attempt of each fails; a retry waits.
	retry := base.Add(10 * time.Hour)
	for _, j := range claim(t, st, "w", base, 100) {
		record(t, st, outcome(j, false, base, &retry))
	}
	expire := func(at time.Time, limit, want int) {
		t.Helper()
		n, err := st.ExpirePayloads(ctx, at, limit)
		must(t, err)
		if n != want {
			t.Fatalf("ExpirePayloads(%v, %d) = %d, want %d", at.Sub(base), limit, n, want)
		}
	}
	expire(base.Add(30*time.Minute), 10, 0)
	expire(base.Add(2*time.Hour), 10, 1)
	expire(base.Add(2*time.Hour), 10, 0) // already expunged
	for _, c := range []struct {
		msg     *hookline.Message
		expired bool
	}{{hour, true}, {threeHours, false}, {kept, false}} {
		got, err := st.GetMessage(ctx, app.ID, c.msg.ID)
		must(t, err)
		if got.Expunged() != c.expired {
			t.Errorf("message kept %v: expunged = %v, want %v", c.msg.PayloadRetention, got.Expunged(), c.expired)
		}
		ds, err := st.ListDeliveries(ctx, app.ID, c.msg.ID)
		must(t, err)
		for _, d := range ds {
			if want := map[bool]hookline.MessageStatus{true: hookline.StatusFail, false: hookline.StatusPending}[c.expired]; d.Status != want {
				t.Errorf("delivery of the message kept %v: %v, want %v", c.msg.PayloadRetention, d.Status, want)
			}
		}
	}
	expire(base.Add(100*time.Hour), 1, 1)
	expire(base.Add(100*time.Hour), 1, 0)
	if got, err := st.GetMessage(ctx, app.ID, kept.ID); err != nil || got.Expunged() {
		t.Fatalf("the message without a payload retention lost its payload (%v)", err)
	}
}
