package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

func (suite) messagesPayload(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	// Payloads are stored byte for byte: odd whitespace, escapes that a re-encoder would
	// decode, raw UTF-8, duplicate keys, big numbers and a trailing newline all survive.
	payloads := []string{
		`{"type":"order.paid","data":{"id":"ord_1"}}`,
		"{ \"a\" :  1 ,\n\t\"b\" : [ 1 , 2 ]\r\n}",
		`{"name":"\u00e9l\u00e8ve","sep":"\u2028","html":"<b>&amp;</b>","esc":"\/\"\\"}`,
		`{"name":"élève — 日本語 🎟"}`,
		`{"n":12345678901234567890123,"f":1.50,"e":1E+2,"k":1,"k":2}` + "\n",
		`{}`,
	}
	for _, payload := range payloads {
		m, _ := newMessage(t, st, app.ID, func(m *hookline.Message) {
			m.Payload = []byte(payload)
			m.Channels = []string{"eu"}
			m.Tags = []string{"t1", "t2"}
		})
		got, err := st.GetMessage(ctx, app.ID, m.ID)
		must(t, err)
		if string(got.Payload) != payload {
			t.Errorf("payload = %q, want %q", got.Payload, payload)
		}
		assertMessage(t, got, m)
	}

	// By eventId, and scoped to the application.
	m, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.EventID = "evt-1" })
	got, err := st.GetMessage(ctx, app.ID, "evt-1")
	must(t, err)
	assertMessage(t, got, m)
	other := newApp(t, st, "other")
	_, err = st.GetMessage(ctx, other.ID, m.ID)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.GetMessage(ctx, other.ID, "evt-1")
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.GetMessage(ctx, app.ID, "msg_missing")
	wantCode(t, err, hookline.ENOTFOUND)
}

func (suite) messagesDuplicateEventID(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	first, ds := newMessage(t, st, app.ID, func(m *hookline.Message) { m.EventID = "evt-dup" })
	if len(ds) != 1 {
		t.Fatalf("first message made %d deliveries, want 1", len(ds))
	}

	second := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID, EventType: "order.paid",
		EventID: "evt-dup", Payload: []byte(`{"second":true}`), CreatedAt: now()}
	err := st.CreateMessage(ctx, second)
	wantCode(t, err, hookline.EDUPLICATEEVENT)
	var e *hookline.Error
	if !errors.As(err, &e) || e.Existing != first.ID {
		t.Fatalf("duplicate error = %#v, want Existing %s", err, first.ID)
	}
	_, err = st.GetMessage(ctx, app.ID, second.ID)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.ListDeliveries(ctx, app.ID, second.ID)
	wantCode(t, err, hookline.ENOTFOUND)
	stats, err := st.EndpointStats(ctx, app.ID, ep.ID, hookline.TimeWindow{})
	must(t, err)
	if stats.Pending != 1 {
		t.Fatalf("pending deliveries after a duplicate = %d, want 1", stats.Pending)
	}
	got, err := st.GetMessage(ctx, app.ID, "evt-dup")
	must(t, err)
	assertMessage(t, got, first)

	// Another application may use the same eventId; messages without one never collide.
	other := newApp(t, st, "other")
	newMessage(t, st, other.ID, func(m *hookline.Message) { m.EventID = "evt-dup" })
	newMessage(t, st, app.ID, nil)
	newMessage(t, st, app.ID, nil)
}

func (suite) messagesFanOut(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	all := newEndpoint(t, st, app.ID, nil)
	newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) { ep.Disabled = true })
	typed := newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) { ep.FilterTypes = []string{"order.created", "order.paid"} })
	newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) { ep.FilterTypes = []string{"order.created"} })
	eu := newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) { ep.Channels = []string{"us", "eu"} })
	us := newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) { ep.Channels = []string{"us"} })
	both := newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) {
		ep.FilterTypes = []string{"order.paid"}
		ep.Channels = []string{"eu"}
	})
	newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) {
		ep.FilterTypes = []string{"order.paid"}
		ep.Channels = []string{"us"}
	})
	newEndpoint(t, st, newApp(t, st, "other").ID, nil) // another application's endpoint

	created := now().Add(-time.Minute)
	m, ds := newMessage(t, st, app.ID, func(m *hookline.Message) {
		m.EventType = "order.paid"
		m.Channels = []string{"eu", "fr"}
		m.CreatedAt = created
	})
	want := []string{all.ID, typed.ID, eu.ID, both.ID}
	var got []string
	for _, d := range ds {
		got = append(got, d.EndpointID)
		if d.ID == "" || d.AppID != app.ID || d.MessageID != m.ID || d.Status != hookline.StatusPending || d.AttemptCount != 0 {
			t.Errorf("delivery %+v", d)
		}
		if d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(created) {
			t.Errorf("delivery to %s due %v, want %v", d.EndpointID, d.NextAttemptAt, created)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("deliveries to %v, want %v (endpoint creation order)", got, want)
	}

	listed, err := st.ListDeliveries(ctx, app.ID, m.ID)
	must(t, err)
	if len(listed) != len(ds) {
		t.Fatalf("listed %d deliveries, want %d", len(listed), len(ds))
	}
	for i := range ds {
		g, w := listed[i], ds[i]
		if g.ID != w.ID || g.EndpointID != w.EndpointID || g.Status != w.Status || g.AttemptCount != w.AttemptCount ||
			!sameTimePtr(g.NextAttemptAt, w.NextAttemptAt) || !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) ||
			g.AppID != w.AppID || g.MessageID != w.MessageID {
			t.Errorf("listed delivery %+v, want %+v", g, w)
		}
	}

	// Another type on another channel reaches only the unfiltered endpoints.
	lonely, ds := newMessage(t, st, app.ID, func(m *hookline.Message) { m.EventType = "user.deleted"; m.Channels = []string{"us"} })
	got = nil
	for _, d := range ds {
		got = append(got, d.EndpointID)
	}
	if want := []string{all.ID, eu.ID, us.ID}; !slices.Equal(got, want) {
		t.Fatalf("user.deleted on us went to %v, want %v", got, want)
	}
	// A message no endpoint accepts is stored, with no deliveries.
	quiet := newApp(t, st, "no endpoints")
	none, ds := newMessage(t, st, quiet.ID, nil)
	if len(ds) != 0 {
		t.Fatalf("message of an application without endpoints made %d deliveries", len(ds))
	}
	listed, err = st.ListDeliveries(ctx, quiet.ID, none.ID)
	must(t, err)
	if len(listed) != 0 {
		t.Fatalf("listed %d deliveries of a message without any", len(listed))
	}
	_, err = st.ListDeliveries(ctx, quiet.ID, lonely.ID) // another application's message
	wantCode(t, err, hookline.ENOTFOUND)

	// A test send goes to the one endpoint it names, even one whose filters would refuse it.
	_, ds = newMessage(t, st, app.ID, func(m *hookline.Message) {
		m.EventType = "test.webhook"
		m.OnlyEndpointID = us.ID
	})
	if len(ds) != 1 || ds[0].EndpointID != us.ID {
		t.Fatalf("test send made deliveries %+v, want one to %s", ds, us.ID)
	}
	err = st.CreateMessage(ctx, &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID,
		EventType: "test.webhook", Payload: []byte(`{}`), CreatedAt: now(), OnlyEndpointID: "ep_missing"})
	wantCode(t, err, hookline.ENOTFOUND)
}

func (suite) messagesListFilters(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	base := now().Add(-time.Hour)
	type spec struct {
		typ      string
		channels []string
	}
	specs := []spec{
		{"order.paid", nil},
		{"order.created", []string{"eu"}},
		{"order.paid", []string{"us", "eu"}},
		{"user.deleted", []string{"us"}},
		{"order.paid", []string{"europe"}},
	}
	var ids []string
	for i, s := range specs {
		m, _ := newMessage(t, st, app.ID, func(m *hookline.Message) {
			m.EventType = s.typ
			m.Channels = s.channels
			m.CreatedAt = base.Add(time.Duration(i) * time.Minute)
		})
		ids = append(ids, m.ID)
	}
	newMessage(t, st, newApp(t, st, "other").ID, nil) // never listed

	list := func(o hookline.MessageListOptions) []string {
		t.Helper()
		o.Limit = 50
		p, err := st.ListMessages(ctx, app.ID, o)
		must(t, err)
		if !p.Done {
			t.Fatalf("ListMessages(%+v) not done", o)
		}
		var out []string
		for _, m := range p.Data {
			out = append(out, m.ID)
		}
		return out
	}
	at := func(i int) *time.Time { t := base.Add(time.Duration(i) * time.Minute); return &t }
	for _, tc := range []struct {
		name string
		opts hookline.MessageListOptions
		want []int
	}{
		{"all", hookline.MessageListOptions{}, []int{0, 1, 2, 3, 4}},
		{"one type", hookline.MessageListOptions{EventTypes: []string{"order.paid"}}, []int{0, 2, 4}},
		{"two types", hookline.MessageListOptions{EventTypes: []string{"order.created", "user.deleted"}}, []int{1, 3}},
		{"channel", hookline.MessageListOptions{Channel: "eu"}, []int{1, 2}},
		{"channel and type", hookline.MessageListOptions{Channel: "eu", EventTypes: []string{"order.paid"}}, []int{2}},
		{"unknown channel", hookline.MessageListOptions{Channel: "e"}, nil},
		{"before", hookline.MessageListOptions{Before: at(2)}, []int{0, 1}},
		{"after", hookline.MessageListOptions{After: at(2)}, []int{3, 4}},
		{"between", hookline.MessageListOptions{After: at(0), Before: at(4)}, []int{1, 2, 3}},
		{"descending", hookline.MessageListOptions{ListOptions: hookline.ListOptions{Descending: true}, Channel: "us"}, []int{3, 2}},
	} {
		var want []string
		for _, i := range tc.want {
			want = append(want, ids[i])
		}
		if got := list(tc.opts); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, want)
		}
	}

	// Filters and pagination together: the three order.paid messages, two per page.
	p, err := st.ListMessages(ctx, app.ID, hookline.MessageListOptions{ListOptions: hookline.ListOptions{Limit: 2}, EventTypes: []string{"order.paid"}})
	must(t, err)
	if len(p.Data) != 2 || p.Done || p.Data[1].ID != ids[2] {
		t.Fatalf("first filtered page = %d items, done=%v", len(p.Data), p.Done)
	}
	p, err = st.ListMessages(ctx, app.ID, hookline.MessageListOptions{ListOptions: hookline.ListOptions{Limit: 2, Iterator: ids[2]}, EventTypes: []string{"order.paid"}})
	must(t, err)
	if len(p.Data) != 1 || !p.Done || p.Data[0].ID != ids[4] {
		t.Fatalf("second filtered page = %d items, done=%v", len(p.Data), p.Done)
	}
}

func (suite) messagesPagination(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	var ids []string
	for range 7 {
		m, _ := newMessage(t, st, app.ID, nil)
		ids = append(ids, m.ID)
	}
	checkPagination(t, ids, 3, func(m hookline.Message) string { return m.ID },
		func(o hookline.ListOptions) (hookline.Page[hookline.Message], error) {
			return st.ListMessages(ctx, app.ID, hookline.MessageListOptions{ListOptions: o})
		})
}

func (suite) cascadeApplication(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "doomed")
	keep := newApp(t, st, "kept")
	ep := newEndpoint(t, st, app.ID, nil)
	keptEP := newEndpoint(t, st, keep.ID, nil)
	m, ds := newMessage(t, st, app.ID, func(m *hookline.Message) { m.EventID = "evt-1" })
	keptMsg, _ := newMessage(t, st, keep.ID, nil)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries", len(ds))
	}
	tok := &hookline.Token{ID: hookline.NewID(hookline.PrefixToken), Kind: hookline.TokenApplication, AppID: app.ID,
		Hash: []byte("hash-of-doomed-token-000000000000"), CreatedAt: now()}
	must(t, st.CreateToken(ctx, tok))

	must(t, st.DeleteApplication(ctx, app.ID))
	_, err := st.GetEndpoint(ctx, app.ID, ep.ID)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.GetMessage(ctx, app.ID, m.ID)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.ListDeliveries(ctx, app.ID, m.ID)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.GetToken(ctx, tok.ID)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.EndpointStats(ctx, app.ID, ep.ID, hookline.TimeWindow{})
	wantCode(t, err, hookline.ENOTFOUND)

	// The other application is untouched.
	if _, err := st.GetEndpoint(ctx, keep.ID, keptEP.ID); err != nil {
		t.Fatalf("kept endpoint: %v", err)
	}
	if ds, err := st.ListDeliveries(ctx, keep.ID, keptMsg.ID); err != nil || len(ds) != 1 {
		t.Fatalf("kept deliveries = %v, %v", ds, err)
	}
}

func (suite) cascadeEndpoint(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	gone := newEndpoint(t, st, app.ID, nil)
	kept := newEndpoint(t, st, app.ID, nil)
	m, ds := newMessage(t, st, app.ID, nil)
	if len(ds) != 2 {
		t.Fatalf("%d deliveries, want 2", len(ds))
	}
	must(t, st.DeleteEndpoint(ctx, app.ID, gone.ID))
	ds, err := st.ListDeliveries(ctx, app.ID, m.ID)
	must(t, err)
	if len(ds) != 1 || ds[0].EndpointID != kept.ID {
		t.Fatalf("deliveries after deleting an endpoint = %+v, want only the one to %s", ds, kept.ID)
	}
	// The message itself stays.
	if _, err := st.GetMessage(ctx, app.ID, m.ID); err != nil {
		t.Fatal(err)
	}
}
