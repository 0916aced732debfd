package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookline/hookline/internal/testserver"
)

// These tests drive Hookline with the official Svix Go SDK, unchanged but for the server URL.
// The SDK decodes responses strictly (required properties, typed fields), so every call that
// succeeds here is also a check that Hookline's JSON has Svix's shape.

var secretPattern = regexp.MustCompile(`^whsec_[a-zA-Z0-9+/=]{32,100}$`)

func TestSDKApplications(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	client := newSDK(t, srv, srv.Token)
	ctx := t.Context()

	in := &svix.ApplicationIn{Name: "Acme Events", Uid: ptr("acme-events"), RateLimit: ptr[int32](20),
		Metadata: &map[string]string{"plan": "pro", "region": "eu"}}
	app, err := client.Application.Create(ctx, in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if app.Name != in.Name || app.Uid == nil || *app.Uid != *in.Uid || app.RateLimit == nil || *app.RateLimit != 20 {
		t.Errorf("create returned %+v, want the fields sent", app)
	}
	sameJSON(t, "metadata", app.Metadata, *in.Metadata)
	if app.CreatedAt.IsZero() || app.UpdatedAt.IsZero() {
		t.Errorf("timestamps missing: %+v", app)
	}

	for _, key := range []string{app.Id, "acme-events"} {
		got, err := client.Application.Get(ctx, key)
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		sameJSON(t, "get "+key, got, app)
	}

	// GetOrCreate with a taken uid returns that application, unchanged.
	same, err := client.Application.GetOrCreate(ctx, &svix.ApplicationIn{Name: "Another name", Uid: ptr("acme-events")})
	if err != nil {
		t.Fatalf("get-or-create existing: %v", err)
	}
	sameJSON(t, "get-or-create of an existing uid", same, app)
	// ... and with a new uid it creates one.
	fresh, err := client.Application.GetOrCreate(ctx, &svix.ApplicationIn{Name: "Beta", Uid: ptr("beta-co")})
	if err != nil {
		t.Fatalf("get-or-create new: %v", err)
	}
	if fresh.Id == app.Id || fresh.Name != "Beta" || fresh.Uid == nil || *fresh.Uid != "beta-co" {
		t.Errorf("get-or-create of a new uid returned %+v", fresh)
	}
	again, err := client.Application.GetOrCreate(ctx, &svix.ApplicationIn{Name: "Beta", Uid: ptr("beta-co")})
	if err != nil || again.Id != fresh.Id {
		t.Errorf("second get-or-create: %+v, %v; want %s", again, err, fresh.Id)
	}

	updated, err := client.Application.Update(ctx, app.Id, &svix.ApplicationIn{Name: "Acme Events Ltd", Uid: ptr("acme-events"),
		Metadata: &map[string]string{"plan": "enterprise"}})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.Id != app.Id || updated.Name != "Acme Events Ltd" || updated.RateLimit != nil || updated.Metadata["plan"] != "enterprise" || len(updated.Metadata) != 1 {
		t.Errorf("update returned %+v", updated)
	}
	patched, err := client.Application.Patch(ctx, app.Id, &svix.ApplicationPatch{Name: ptr("Acme"), RateLimit: *svix.NullableInt32(ptr[int32](7))})
	if err != nil {
		t.Fatalf("patch: %v", err)
	}
	if patched.Name != "Acme" || patched.RateLimit == nil || *patched.RateLimit != 7 || patched.Metadata["plan"] != "enterprise" ||
		patched.Uid == nil || *patched.Uid != "acme-events" {
		t.Errorf("patch returned %+v; want name and rate limit changed, the rest kept", patched)
	}
	got, err := client.Application.Get(ctx, app.Id)
	if err != nil {
		t.Fatalf("get after patch: %v", err)
	}
	sameJSON(t, "get after patch", got, patched)

	list, err := client.Application.List(ctx, &svix.ApplicationListOptions{Limit: ptr[int32](1)})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list.Data) != 1 || list.Done {
		t.Errorf("list limit 1 of 2: %d items, done=%v", len(list.Data), list.Done)
	}
	next, err := client.Application.List(ctx, &svix.ApplicationListOptions{Limit: ptr[int32](1), Iterator: list.Iterator.Get()})
	if err != nil {
		t.Fatalf("list page 2: %v", err)
	}
	if len(next.Data) != 1 || !next.Done || next.Data[0].Id == list.Data[0].Id {
		t.Errorf("list page 2: %+v", next)
	}

	if err := client.Application.Delete(ctx, fresh.Id); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := client.Application.Get(ctx, fresh.Id); sdkStatus(err) != 404 {
		t.Errorf("get after delete: %v, want 404", err)
	}
}

func TestSDKEventTypes(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	client := newSDK(t, srv, srv.Token)
	ctx := t.Context()

	schemas := map[string]any{"1": mustJSON(t, ticketSoldSchema)}
	et, err := client.EventType.Create(ctx, &svix.EventTypeIn{Name: "ticket.sold", Description: "A ticket was purchased and paid",
		GroupName: ptr("tickets"), Schemas: schemas})
	if err != nil {
		t.Fatalf("create ticket.sold: %v", err)
	}
	if et.Name != "ticket.sold" || et.Description != "A ticket was purchased and paid" || et.Deprecated ||
		(et.Archived != nil && *et.Archived) || et.GroupName == nil || *et.GroupName != "tickets" {
		t.Errorf("create returned %+v", et)
	}
	sameJSON(t, "schemas on create", et.Schemas, schemas)
	for _, name := range []string{"order.created", "ticket.refunded", "ticket.checked_in", "event.published"} {
		if _, err := client.EventType.Create(ctx, &svix.EventTypeIn{Name: name, Description: name + " at Cleartix"}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}

	got, err := client.EventType.Get(ctx, "ticket.sold")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	sameJSON(t, "get", got, et)

	// Page through all five, two at a time: each seen once, in name order.
	var names []string
	var iterator *string
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("event type list does not end")
		}
		list, err := client.EventType.List(ctx, &svix.EventTypeListOptions{Limit: ptr[int32](2), Iterator: iterator})
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, e := range list.Data {
			names = append(names, e.Name)
		}
		if list.Done {
			break
		}
		iterator = list.Iterator.Get()
	}
	want := []string{"event.published", "order.created", "ticket.checked_in", "ticket.refunded", "ticket.sold"}
	if !slices.Equal(names, want) {
		t.Errorf("listed %v, want %v", names, want)
	}

	updated, err := client.EventType.Update(ctx, "ticket.sold", &svix.EventTypeUpdate{Description: "Ticket sold", GroupName: ptr("tickets"), Schemas: schemas})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.Description != "Ticket sold" || updated.Name != "ticket.sold" {
		t.Errorf("update returned %+v", updated)
	}
	sameJSON(t, "schemas after update", updated.Schemas, schemas)
	patched, err := client.EventType.Patch(ctx, "ticket.sold", &svix.EventTypePatch{Deprecated: ptr(true)})
	if err != nil {
		t.Fatalf("patch: %v", err)
	}
	if !patched.Deprecated || patched.Description != "Ticket sold" || patched.GroupName == nil || *patched.GroupName != "tickets" {
		t.Errorf("patch returned %+v; want deprecated and the rest kept", patched)
	}
	sameJSON(t, "schemas after patch", patched.Schemas, schemas)

	// Delete archives: the type is still readable, but hidden from the default list and
	// refused for new messages.
	if err := client.EventType.Delete(ctx, "event.published"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	archived, err := client.EventType.Get(ctx, "event.published")
	if err != nil {
		t.Fatalf("get archived: %v", err)
	}
	if archived.Archived == nil || !*archived.Archived {
		t.Errorf("deleted event type is not archived: %+v", archived)
	}
	list, err := client.EventType.List(ctx, nil)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if slices.ContainsFunc(list.Data, func(e svix.EventTypeOut) bool { return e.Name == "event.published" }) || len(list.Data) != 4 {
		t.Errorf("default list has %d types, including archived ones?", len(list.Data))
	}
	list, err = client.EventType.List(ctx, &svix.EventTypeListOptions{IncludeArchived: ptr(true), WithContent: ptr(false)})
	if err != nil {
		t.Fatalf("list with archived: %v", err)
	}
	if len(list.Data) != 5 {
		t.Errorf("list with archived has %d types, want 5", len(list.Data))
	}
	for _, e := range list.Data {
		if len(e.Schemas) != 0 {
			t.Errorf("with_content=false still returned the schemas of %s", e.Name)
		}
	}
	app, err := client.Application.Create(ctx, &svix.ApplicationIn{Name: "Cleartix org"})
	if err != nil {
		t.Fatalf("create app: %v", err)
	}
	if _, err := client.Message.Create(ctx, app.Id, &svix.MessageIn{EventType: "event.published", Payload: map[string]any{"a": 1}}); sdkStatus(err) != 422 {
		t.Errorf("message of an archived type: %v, want 422", err)
	}
}

func TestSDKEndpoints(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	client := newSDK(t, srv, srv.Token)
	ctx := t.Context()

	for _, name := range []string{"ticket.sold", "order.created"} {
		if _, err := client.EventType.Create(ctx, &svix.EventTypeIn{Name: name, Description: name}); err != nil {
			t.Fatalf("create event type: %v", err)
		}
	}
	app, err := client.Application.Create(ctx, &svix.ApplicationIn{Name: "Acme"})
	if err != nil {
		t.Fatalf("create app: %v", err)
	}

	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	in := &svix.EndpointIn{Url: "https://hooks.acme.example/cleartix", Description: ptr("Acme's ticket sync"), Uid: ptr("acme-sync"),
		FilterTypes: []string{"ticket.sold", "order.created"}, Channels: []string{"europe", "vip"},
		Metadata: &map[string]string{"team": "sync"}, RateLimit: ptr[int32](15), Secret: ptr(secret), Version: ptr[int32](1)}
	ep, err := client.Endpoint.Create(ctx, app.Id, in)
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	if ep.Url != in.Url || ep.Description != *in.Description || ep.Uid == nil || *ep.Uid != "acme-sync" || ep.Version != 1 ||
		ep.RateLimit == nil || *ep.RateLimit != 15 || (ep.Disabled != nil && *ep.Disabled) {
		t.Errorf("create returned %+v", ep)
	}
	sameJSON(t, "filterTypes", ep.FilterTypes, in.FilterTypes)
	sameJSON(t, "channels", ep.Channels, in.Channels)
	sameJSON(t, "metadata", ep.Metadata, *in.Metadata)
	for _, key := range []string{ep.Id, "acme-sync"} {
		got, err := client.Endpoint.Get(ctx, app.Id, key)
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		sameJSON(t, "get "+key, got, ep)
	}
	sec, err := client.Endpoint.GetSecret(ctx, app.Id, ep.Id)
	if err != nil {
		t.Fatalf("get secret: %v", err)
	}
	if sec.Key != secret {
		t.Errorf("secret %q, want the one given %q", sec.Key, secret)
	}

	// A second endpoint without a secret gets a generated one.
	other, err := client.Endpoint.Create(ctx, app.Id, &svix.EndpointIn{Url: "https://other.example/hook"})
	if err != nil {
		t.Fatalf("create second endpoint: %v", err)
	}
	if other.Version != 1 || len(other.FilterTypes) != 0 || len(other.Channels) != 0 || other.Metadata == nil {
		t.Errorf("second endpoint %+v: want version 1, no filters, empty metadata", other)
	}
	otherSecret, err := client.Endpoint.GetSecret(ctx, app.Id, other.Id)
	if err != nil || !secretPattern.MatchString(otherSecret.Key) || otherSecret.Key == secret {
		t.Errorf("generated secret %+v, %v", otherSecret, err)
	}

	updated, err := client.Endpoint.Update(ctx, app.Id, ep.Id, &svix.EndpointUpdate{Url: "https://hooks.acme.example/v2", Description: ptr("v2"),
		Uid: ptr("acme-sync"), FilterTypes: []string{"ticket.sold"}, Channels: []string{"europe"}, Metadata: &map[string]string{"team": "core"}})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.Id != ep.Id || updated.Url != "https://hooks.acme.example/v2" || updated.Description != "v2" || updated.RateLimit != nil ||
		!slices.Equal(updated.FilterTypes, []string{"ticket.sold"}) || !slices.Equal(updated.Channels, []string{"europe"}) || updated.Metadata["team"] != "core" {
		t.Errorf("update returned %+v", updated)
	}
	patched, err := client.Endpoint.Patch(ctx, app.Id, ep.Id, &svix.EndpointPatch{Description: ptr("patched"), RateLimit: *svix.NullableInt32(ptr[int32](3)),
		Disabled: ptr(true)})
	if err != nil {
		t.Fatalf("patch: %v", err)
	}
	if patched.Description != "patched" || patched.RateLimit == nil || *patched.RateLimit != 3 || patched.Disabled == nil || !*patched.Disabled ||
		patched.Url != updated.Url || !slices.Equal(patched.FilterTypes, updated.FilterTypes) || patched.Uid == nil || *patched.Uid != "acme-sync" {
		t.Errorf("patch returned %+v; want description, rate limit and disabled changed, the rest kept", patched)
	}
	// null clears a nullable field.
	patched, err = client.Endpoint.Patch(ctx, app.Id, ep.Id, &svix.EndpointPatch{RateLimit: *svix.NullableInt32(nil), Disabled: ptr(false)})
	if err != nil {
		t.Fatalf("patch null: %v", err)
	}
	if patched.RateLimit != nil || (patched.Disabled != nil && *patched.Disabled) || patched.Description != "patched" {
		t.Errorf("patch with rateLimit null returned %+v", patched)
	}
	got, err := client.Endpoint.Get(ctx, app.Id, ep.Id)
	if err != nil {
		t.Fatalf("get after patch: %v", err)
	}
	sameJSON(t, "get after patch", got, patched)
	if sec, err := client.Endpoint.GetSecret(ctx, app.Id, ep.Id); err != nil || sec.Key != secret {
		t.Errorf("secret after update and patch: %+v, %v; want it unchanged", sec, err)
	}

	// Headers: credentials are listed by name only.
	if err := client.Endpoint.UpdateHeaders(ctx, app.Id, ep.Id, &svix.EndpointHeadersIn{Headers: map[string]string{
		"X-Tenant": "acme", "Authorization": "Bearer s3cr3t"}}); err != nil {
		t.Fatalf("update headers: %v", err)
	}
	h, err := client.Endpoint.GetHeaders(ctx, app.Id, ep.Id)
	if err != nil {
		t.Fatalf("get headers: %v", err)
	}
	sameJSON(t, "headers", h.Headers, map[string]string{"X-Tenant": "acme"})
	sameJSON(t, "sensitive", h.Sensitive, []string{"Authorization"})
	if err := client.Endpoint.PatchHeaders(ctx, app.Id, ep.Id, &svix.EndpointHeadersPatchIn{Headers: map[string]string{"X-Region": "eu-west"}}); err != nil {
		t.Fatalf("patch headers: %v", err)
	}
	h, err = client.Endpoint.GetHeaders(ctx, app.Id, ep.Id)
	if err != nil {
		t.Fatalf("get headers after patch: %v", err)
	}
	sameJSON(t, "headers after patch", h.Headers, map[string]string{"X-Tenant": "acme", "X-Region": "eu-west"})
	sameJSON(t, "sensitive after patch", h.Sensitive, []string{"Authorization"})
	if err := client.Endpoint.UpdateHeaders(ctx, app.Id, ep.Id, &svix.EndpointHeadersIn{Headers: map[string]string{"X-Only": "1"}}); err != nil {
		t.Fatalf("replace headers: %v", err)
	}
	h, err = client.Endpoint.GetHeaders(ctx, app.Id, ep.Id)
	if err != nil {
		t.Fatalf("get replaced headers: %v", err)
	}
	sameJSON(t, "replaced headers", h.Headers, map[string]string{"X-Only": "1"})
	sameJSON(t, "replaced sensitive", h.Sensitive, []string{})

	// Rotation: a generated key differs from the old one; a given key is used as is.
	if err := client.Endpoint.RotateSecret(ctx, app.Id, ep.Id, &svix.EndpointSecretRotateIn{}); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	rotated, err := client.Endpoint.GetSecret(ctx, app.Id, ep.Id)
	if err != nil {
		t.Fatalf("get rotated secret: %v", err)
	}
	if rotated.Key == secret || !secretPattern.MatchString(rotated.Key) {
		t.Errorf("rotated secret %q: want a new whsec_ secret", rotated.Key)
	}
	const given = "whsec_QWxsIHlvdXIgYmFzZSBhcmUgYmVsb25nIHRvIHVzISE="
	if err := client.Endpoint.RotateSecretWithOptions(ctx, app.Id, ep.Id, &svix.EndpointSecretRotateIn{Key: ptr(given)},
		&svix.PostOptions{IdempotencyKey: ptr("rotate-1")}); err != nil {
		t.Fatalf("rotate to a given key: %v", err)
	}
	if sec, err := client.Endpoint.GetSecret(ctx, app.Id, ep.Id); err != nil || sec.Key != given {
		t.Errorf("secret after rotating to a given key: %+v, %v; want %s", sec, err, given)
	}

	stats, err := client.Endpoint.GetStats(ctx, app.Id, ep.Id)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	if stats.Success+stats.Pending+stats.Sending+stats.Fail != 0 {
		t.Errorf("stats of an endpoint without messages: %+v", stats)
	}
	// One matching message (ticket.sold on europe) and two that the filters keep away.
	for _, m := range []*svix.MessageIn{
		{EventType: "ticket.sold", Payload: ticketSold(1), Channels: []string{"europe"}},
		{EventType: "order.created", Payload: orderCreated(2), Channels: []string{"europe"}},
		{EventType: "ticket.sold", Payload: ticketSold(3), Channels: []string{"asia"}},
	} {
		if _, err := client.Message.Create(ctx, app.Id, m); err != nil {
			t.Fatalf("create message: %v", err)
		}
	}
	// Deliveries are stored as the dispatcher fans the messages out, shortly after the 202s.
	total := func(epID string) int64 {
		stats, err := client.Endpoint.GetStats(ctx, app.Id, epID)
		if err != nil {
			t.Fatalf("stats: %v", err)
		}
		return stats.Success + stats.Pending + stats.Sending + stats.Fail
	}
	// The endpoint without filters takes all three; each delivery shows once its first
	// attempt is recorded, which may be in separate transactions.
	pollUntil(t, 10*time.Second, "the unfiltered endpoint's three deliveries and the filtered one's one", func() bool {
		return total(other.Id) == 3 && total(ep.Id) >= 1
	})
	if n := total(ep.Id); n != 1 {
		t.Errorf("stats after one matching message: a total of %d, want 1", n)
	}

	list, err := client.Endpoint.List(ctx, app.Id, &svix.EndpointListOptions{Limit: ptr[int32](1)})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list.Data) != 1 || list.Done {
		t.Errorf("list page 1: %d items, done=%v", len(list.Data), list.Done)
	}
	list2, err := client.Endpoint.List(ctx, app.Id, &svix.EndpointListOptions{Limit: ptr[int32](1), Iterator: list.Iterator.Get()})
	if err != nil {
		t.Fatalf("list page 2: %v", err)
	}
	if len(list2.Data) != 1 || !list2.Done || list2.Data[0].Id == list.Data[0].Id {
		t.Errorf("list page 2: %+v", list2)
	}
	ids := []string{list.Data[0].Id, list2.Data[0].Id}
	slices.Sort(ids)
	want := []string{ep.Id, other.Id}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("listed endpoints %v, want %v", ids, want)
	}

	if err := client.Endpoint.Delete(ctx, app.Id, other.Id); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := client.Endpoint.Get(ctx, app.Id, other.Id); sdkStatus(err) != 404 {
		t.Errorf("get after delete: %v, want 404", err)
	}
}

func TestSDKMessages(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	client := newSDK(t, srv, srv.Token)
	ctx := t.Context()

	if _, err := client.EventType.Create(ctx, &svix.EventTypeIn{Name: "ticket.sold", Description: "Ticket sold",
		Schemas: map[string]any{"1": mustJSON(t, ticketSoldSchema)}}); err != nil {
		t.Fatalf("create ticket.sold: %v", err)
	}
	if _, err := client.EventType.Create(ctx, &svix.EventTypeIn{Name: "order.created", Description: "Order created"}); err != nil {
		t.Fatalf("create order.created: %v", err)
	}
	app, err := client.Application.Create(ctx, &svix.ApplicationIn{Name: "Acme", Uid: ptr("acme")})
	if err != nil {
		t.Fatalf("create app: %v", err)
	}
	if _, err := client.Endpoint.Create(ctx, app.Id, &svix.EndpointIn{Url: "https://hooks.acme.example/all"}); err != nil {
		t.Fatalf("create endpoint: %v", err)
	}

	// Seven messages: odd ones ticket.sold on "europe", even ones order.created on "asia".
	const n = 7
	var sent []*svix.MessageOut
	for i := range n {
		in := &svix.MessageIn{EventType: "ticket.sold", Payload: ticketSold(i), Channels: []string{"europe"}, EventId: ptr(fmt.Sprintf("evt-%d", i))}
		if i%2 == 1 {
			in = &svix.MessageIn{EventType: "order.created", Payload: orderCreated(i), Channels: []string{"asia", "vip"}, EventId: ptr(fmt.Sprintf("evt-%d", i))}
		}
		m, err := client.Message.Create(ctx, "acme", in) // by uid
		if err != nil {
			t.Fatalf("create message %d: %v", i, err)
		}
		if m.EventType != in.EventType || m.EventId == nil || *m.EventId != *in.EventId || !slices.Equal(m.Channels, in.Channels) || m.Timestamp.IsZero() {
			t.Errorf("create %d returned %+v", i, m)
		}
		sameJSON(t, fmt.Sprintf("payload %d", i), m.Payload, in.Payload)
		sent = append(sent, m)
	}

	for _, m := range sent {
		for _, key := range []string{m.Id, *m.EventId} {
			got, err := client.Message.Get(ctx, app.Id, key)
			if err != nil {
				t.Fatalf("get %s: %v", key, err)
			}
			sameJSON(t, "get "+key, got, m)
		}
	}

	// Page through with limit 3: 3 + 3 + 1, newest first, each message exactly once.
	var listed []string
	var iterator *string
	for page := 1; ; page++ {
		if page > n {
			t.Fatal("message list does not end")
		}
		list, err := client.Message.List(ctx, app.Id, &svix.MessageListOptions{Limit: ptr[int32](3), Iterator: iterator})
		if err != nil {
			t.Fatalf("list page %d: %v", page, err)
		}
		wantLen, wantDone := 3, page == 3
		if page == 3 {
			wantLen = 1
		}
		if len(list.Data) != wantLen || list.Done != wantDone {
			t.Errorf("page %d: %d messages, done=%v; want %d, done=%v", page, len(list.Data), list.Done, wantLen, wantDone)
		}
		if len(list.Data) > 0 && (list.Iterator.Get() == nil || *list.Iterator.Get() == "") {
			t.Errorf("page %d has no iterator", page)
		}
		for _, m := range list.Data {
			listed = append(listed, m.Id)
		}
		if list.Done || page >= 3 {
			break
		}
		iterator = list.Iterator.Get()
	}
	var want []string
	for i := n - 1; i >= 0; i-- {
		want = append(want, sent[i].Id)
	}
	if !slices.Equal(listed, want) {
		t.Errorf("listed %v,\n want newest first %v", listed, want)
	}

	filter := func(what string, opts *svix.MessageListOptions, keep func(i int) bool) {
		t.Helper()
		list, err := client.Message.List(ctx, app.Id, opts)
		if err != nil {
			t.Fatalf("list %s: %v", what, err)
		}
		var got, want []string
		for _, m := range list.Data {
			got = append(got, m.Id)
		}
		for i := n - 1; i >= 0; i-- {
			if keep(i) {
				want = append(want, sent[i].Id)
			}
		}
		if !slices.Equal(got, want) || !list.Done {
			t.Errorf("list %s: %v (done=%v), want %v", what, got, list.Done, want)
		}
	}
	filter("event_types=order.created", &svix.MessageListOptions{EventTypes: &[]string{"order.created"}}, func(i int) bool { return i%2 == 1 })
	filter("event_types=both", &svix.MessageListOptions{EventTypes: &[]string{"order.created", "ticket.sold"}}, func(i int) bool { return true })
	filter("channel=europe", &svix.MessageListOptions{Channel: ptr("europe")}, func(i int) bool { return i%2 == 0 })
	filter("channel=vip", &svix.MessageListOptions{Channel: ptr("vip")}, func(i int) bool { return i%2 == 1 })
	filter("channel=none", &svix.MessageListOptions{Channel: ptr("nowhere")}, func(i int) bool { return false })
	mid := sent[3].Timestamp
	filter("before", &svix.MessageListOptions{Before: &mid}, func(i int) bool { return i < 3 })
	filter("after", &svix.MessageListOptions{After: &mid}, func(i int) bool { return i > 3 })
	filter("after and type", &svix.MessageListOptions{After: ptr(sent[0].Timestamp), EventTypes: &[]string{"ticket.sold"}}, func(i int) bool { return i > 0 && i%2 == 0 })
	filter("before far future", &svix.MessageListOptions{Before: ptr(time.Now().Add(time.Hour))}, func(i int) bool { return true })

	// Idempotency-Key: the same request twice makes one message and answers the same both times.
	in := &svix.MessageIn{EventType: "ticket.sold", Payload: ticketSold(100)}
	opts := &svix.PostOptions{IdempotencyKey: ptr("idem-ticket-100")}
	first, err := client.Message.CreateWithOptions(ctx, app.Id, in, opts)
	if err != nil {
		t.Fatalf("idempotent create: %v", err)
	}
	second, err := client.Message.CreateWithOptions(ctx, app.Id, in, opts)
	if err != nil {
		t.Fatalf("idempotent repeat: %v", err)
	}
	sameJSON(t, "idempotent repeat", second, first)
	list, err := client.Message.List(ctx, app.Id, &svix.MessageListOptions{Limit: ptr[int32](250)})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list.Data) != n+1 || list.Data[0].Id != first.Id {
		t.Errorf("after an idempotent repeat: %d messages, newest %s; want %d, newest %s", len(list.Data), list.Data[0].Id, n+1, first.Id)
	}

	// with_content=false leaves the payload out but keeps the required property.
	bare, err := client.Message.List(ctx, app.Id, &svix.MessageListOptions{Limit: ptr[int32](1), WithContent: ptr(false)})
	if err != nil {
		t.Fatalf("list without content: %v", err)
	}
	if len(bare.Data) != 1 || len(bare.Data[0].Payload) != 0 {
		t.Errorf("list without content: %+v", bare.Data)
	}

	// A payload that breaks the schema is refused, and nothing is stored.
	bad := ticketSold(200)
	bad["data"].(map[string]any)["ticketCount"] = "two"
	if _, err := client.Message.Create(ctx, app.Id, &svix.MessageIn{EventType: "ticket.sold", Payload: bad}); sdkStatus(err) != 422 {
		t.Errorf("schema violation: %v, want 422", err)
	}
	// A duplicate eventId is a 409.
	if _, err := client.Message.Create(ctx, app.Id, &svix.MessageIn{EventType: "ticket.sold", Payload: ticketSold(0), EventId: ptr("evt-0")}); sdkStatus(err) != 409 {
		t.Errorf("duplicate eventId: %v, want 409", err)
	}
	list, err = client.Message.List(ctx, app.Id, &svix.MessageListOptions{Limit: ptr[int32](250)})
	if err != nil || len(list.Data) != n+1 {
		t.Errorf("after refused messages: %d messages, %v; want %d", len(list.Data), err, n+1)
	}
}
