package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// findDeliveries checks the filters the dashboard uses to find a delivery: attempts by
// response-code class and by their message's tag, and messages by tag, by the status of their
// deliveries, by endpoint and by the response-code class of their attempts.
func findDeliveries(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now().Add(-time.Hour)
	app := newApp(t, st, "acme")
	ep1 := newEndpoint(t, st, app.ID, nil)
	ep2 := newEndpoint(t, st, app.ID, nil)
	m1, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.Tags = []string{"vip"}; m.CreatedAt = base })
	m2, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.Tags = []string{"vip", "eu"}; m.CreatedAt = base })
	m3, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base })
	// Another application's tagged message is never found.
	other := newApp(t, st, "other")
	newEndpoint(t, st, other.ID, nil)
	newMessage(t, st, other.ID, func(m *hookline.Message) { m.Tags = []string{"vip"}; m.CreatedAt = base })

	// What each delivery's one attempt answered: a status and a response code.
	type result struct {
		status hookline.MessageStatus
		code   int
	}
	results := map[[2]string]result{
		{m1.ID, ep1.ID}: {hookline.StatusSuccess, 200}, {m1.ID, ep2.ID}: {hookline.StatusFail, 410},
		{m2.ID, ep1.ID}: {hookline.StatusPending, 500}, {m2.ID, ep2.ID}: {hookline.StatusSuccess, 200},
		{m3.ID, ep1.ID}: {hookline.StatusFail, 0}, {m3.ID, ep2.ID}: {hookline.StatusPending, 503},
	}
	attemptOf := map[[2]string]string{}
	at := base.Add(time.Minute)
	for _, j := range claim(t, st, "w", at, 100) {
		key := [2]string{j.Delivery.MessageID, j.Delivery.EndpointID}
		res, ok := results[key]
		if !ok {
			record(t, st, outcome(j, true, at, nil))
			continue
		}
		o := hookline.Outcome{DeliveryID: j.Delivery.ID, AppID: app.ID, EndpointID: j.Delivery.EndpointID, MessageID: j.Delivery.MessageID,
			Fresh: j.Fresh, Status: res.status}
		attemptStatus := res.status
		if res.status == hookline.StatusPending {
			retry := at.Add(time.Hour)
			o.NextAttemptAt, attemptStatus = &retry, hookline.StatusFail
		}
		o.Attempt = attempt(j, attemptStatus, res.code, at)
		record(t, st, o)
		attemptOf[key] = o.Attempt.ID
	}
	if len(attemptOf) != len(results) {
		t.Fatalf("recorded %d attempts, want %d", len(attemptOf), len(results))
	}

	attempts := func(o hookline.AttemptListOptions) []string {
		t.Helper()
		o.Limit = 50
		p, err := st.ListAttempts(ctx, app.ID, o)
		must(t, err)
		var out []string
		for _, a := range p.Data {
			out = append(out, a.ID)
		}
		slices.Sort(out)
		return out
	}
	ids := func(keys ...[2]string) []string {
		var out []string
		for _, k := range keys {
			out = append(out, attemptOf[k])
		}
		slices.Sort(out)
		return out
	}
	class := func(c int) *int { return &c }
	for _, tc := range []struct {
		name string
		opts hookline.AttemptListOptions
		want []string
	}{
		{"2xx", hookline.AttemptListOptions{CodeClass: class(200)}, ids([2]string{m1.ID, ep1.ID}, [2]string{m2.ID, ep2.ID})},
		{"4xx", hookline.AttemptListOptions{CodeClass: class(400)}, ids([2]string{m1.ID, ep2.ID})},
		{"5xx", hookline.AttemptListOptions{CodeClass: class(500)}, ids([2]string{m2.ID, ep1.ID}, [2]string{m3.ID, ep2.ID})},
		{"no response", hookline.AttemptListOptions{CodeClass: class(0)}, ids([2]string{m3.ID, ep1.ID})},
		{"3xx", hookline.AttemptListOptions{CodeClass: class(300)}, nil},
		{"tag", hookline.AttemptListOptions{Tag: "vip"}, ids([2]string{m1.ID, ep1.ID}, [2]string{m1.ID, ep2.ID}, [2]string{m2.ID, ep1.ID}, [2]string{m2.ID, ep2.ID})},
		{"tag and 5xx", hookline.AttemptListOptions{Tag: "eu", CodeClass: class(500)}, ids([2]string{m2.ID, ep1.ID})},
		{"unknown tag", hookline.AttemptListOptions{Tag: "nope"}, nil},
		{"5xx at an endpoint", hookline.AttemptListOptions{CodeClass: class(500), EndpointID: ep2.ID}, ids([2]string{m3.ID, ep2.ID})},
	} {
		if got := attempts(tc.opts); !slices.Equal(got, tc.want) {
			t.Errorf("attempts, %s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	messages := func(o hookline.MessageListOptions) []string {
		t.Helper()
		o.Limit = 50
		p, err := st.ListMessages(ctx, app.ID, o)
		must(t, err)
		var out []string
		for _, m := range p.Data {
			out = append(out, m.ID)
		}
		slices.Sort(out)
		return out
	}
	msgs := func(ms ...*hookline.Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		slices.Sort(out)
		return out
	}
	status := func(s hookline.MessageStatus) *hookline.MessageStatus { return &s }
	for _, tc := range []struct {
		name string
		opts hookline.MessageListOptions
		want []string
	}{
		{"tag", hookline.MessageListOptions{Tag: "vip"}, msgs(m1, m2)},
		{"other tag", hookline.MessageListOptions{Tag: "eu"}, msgs(m2)},
		{"delivered somewhere", hookline.MessageListOptions{Status: status(hookline.StatusSuccess)}, msgs(m1, m2)},
		{"failed somewhere", hookline.MessageListOptions{Status: status(hookline.StatusFail)}, msgs(m1, m3)},
		{"pending somewhere", hookline.MessageListOptions{Status: status(hookline.StatusPending)}, msgs(m2, m3)},
		{"delivered to ep1", hookline.MessageListOptions{EndpointID: ep1.ID, Status: status(hookline.StatusSuccess)}, msgs(m1)},
		{"pending at ep2", hookline.MessageListOptions{EndpointID: ep2.ID, Status: status(hookline.StatusPending)}, msgs(m3)},
		{"to ep1", hookline.MessageListOptions{EndpointID: ep1.ID}, msgs(m1, m2, m3)},
		{"no response", hookline.MessageListOptions{CodeClass: class(0)}, msgs(m3)},
		{"5xx", hookline.MessageListOptions{CodeClass: class(500)}, msgs(m2, m3)},
		{"5xx at ep1", hookline.MessageListOptions{CodeClass: class(500), EndpointID: ep1.ID}, msgs(m2)},
		{"2xx and tag", hookline.MessageListOptions{CodeClass: class(200), Tag: "eu"}, msgs(m2)},
		{"unknown endpoint", hookline.MessageListOptions{EndpointID: "ep_missing"}, nil},
	} {
		if got := messages(tc.opts); !slices.Equal(got, tc.want) {
			t.Errorf("messages, %s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
