package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/hookline/hookline"
)

func (suite) ping(t *testing.T, st hookline.Store) {
	must(t, st.Ping(context.Background()))
}

func (suite) applicationsCreateGet(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	n := now()
	app := &hookline.Application{
		ID:        hookline.NewID(hookline.PrefixApplication),
		UID:       "customer-42",
		Name:      "Acme Tickets",
		RateLimit: ptr(25),
		Metadata:  map[string]string{"plan": "pro", "région": "eu-west"},
		CreatedAt: n,
		UpdatedAt: n,
	}
	must(t, st.CreateApplication(ctx, app))

	byID, err := st.GetApplication(ctx, app.ID)
	must(t, err)
	assertApp(t, byID, app)
	byUID, err := st.GetApplication(ctx, "customer-42")
	must(t, err)
	assertApp(t, byUID, app)

	_, err = st.GetApplication(ctx, "app_doesnotexist")
	wantCode(t, err, hookline.ENOTFOUND)

	// Optional fields left empty come back empty, and any number of apps may have no uid.
	bare := newApp(t, st, "bare")
	got, err := st.GetApplication(ctx, bare.ID)
	must(t, err)
	assertApp(t, got, bare)
	newApp(t, st, "also without uid")

	dup := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), UID: "customer-42", Name: "dup", CreatedAt: n, UpdatedAt: n}
	wantCode(t, st.CreateApplication(ctx, dup), hookline.ECONFLICT)
	_, err = st.GetApplication(ctx, dup.ID)
	wantCode(t, err, hookline.ENOTFOUND)
}

func (suite) applicationsUpdateDelete(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "before")
	other := newApp(t, st, "other")
	other.UID = "taken"
	must(t, st.UpdateApplication(ctx, other))

	app.Name = "after"
	app.UID = "new-uid"
	app.RateLimit = ptr(5)
	app.Metadata = map[string]string{"k": "v"}
	must(t, st.UpdateApplication(ctx, app))
	got, err := st.GetApplication(ctx, "new-uid")
	must(t, err)
	if got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("UpdatedAt %v before CreatedAt %v", got.UpdatedAt, got.CreatedAt)
	}
	app.UpdatedAt = got.UpdatedAt // the store sets it
	assertApp(t, got, app)

	// Clearing optional fields clears them.
	app.UID, app.RateLimit, app.Metadata = "", nil, nil
	must(t, st.UpdateApplication(ctx, app))
	got, err = st.GetApplication(ctx, app.ID)
	must(t, err)
	app.UpdatedAt = got.UpdatedAt
	assertApp(t, got, app)
	_, err = st.GetApplication(ctx, "new-uid")
	wantCode(t, err, hookline.ENOTFOUND)

	app.UID = "taken"
	wantCode(t, st.UpdateApplication(ctx, app), hookline.ECONFLICT)

	missing := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "x"}
	wantCode(t, st.UpdateApplication(ctx, missing), hookline.ENOTFOUND)

	must(t, st.DeleteApplication(ctx, app.ID))
	_, err = st.GetApplication(ctx, app.ID)
	wantCode(t, err, hookline.ENOTFOUND)
	wantCode(t, st.DeleteApplication(ctx, app.ID), hookline.ENOTFOUND)
	if _, err := st.GetApplication(ctx, other.ID); err != nil {
		t.Fatalf("deleting one application touched another: %v", err)
	}
}

func (suite) applicationsPagination(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	// An empty list is one empty, done page.
	p, err := st.ListApplications(ctx, hookline.ApplicationListOptions{ListOptions: hookline.ListOptions{Limit: 3}})
	must(t, err)
	if len(p.Data) != 0 || !p.Done {
		t.Fatalf("empty list: %d items, done=%v", len(p.Data), p.Done)
	}
	var ids []string
	for i := range 7 {
		ids = append(ids, newApp(t, st, fmt.Sprintf("app %d", i)).ID)
	}
	checkPagination(t, ids, 3, func(a hookline.Application) string { return a.ID },
		func(o hookline.ListOptions) (hookline.Page[hookline.Application], error) {
			return st.ListApplications(ctx, hookline.ApplicationListOptions{ListOptions: o})
		})
	// A page exactly as long as the rest of the list is done.
	checkPagination(t, ids, 7, func(a hookline.Application) string { return a.ID },
		func(o hookline.ListOptions) (hookline.Page[hookline.Application], error) {
			return st.ListApplications(ctx, hookline.ApplicationListOptions{ListOptions: o})
		})
}

func (suite) eventTypesCRUD(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	n := now()
	// Schemas keep their exact bytes: whitespace, key order and escapes included.
	v1 := json.RawMessage("{\n  \"type\": \"object\",\n  \"required\" : [\"id\"],\n  \"properties\": {\"id\": {\"type\": \"string\", \"pattern\": \"^<\\u00e9&>$\"}}\n}")
	v2 := json.RawMessage(`{"type":"object","description":"prix en €","additionalProperties":false}`)
	et := &hookline.EventType{
		Name:        "order.paid",
		Description: "An order was paid",
		FeatureFlag: "beta",
		GroupName:   "order",
		Schemas:     map[string]json.RawMessage{"1": v1, "2": v2},
		CreatedAt:   n,
		UpdatedAt:   n,
	}
	must(t, st.CreateEventType(ctx, et))
	got, err := st.GetEventType(ctx, "order.paid")
	must(t, err)
	assertEventType(t, got, et)

	plain := &hookline.EventType{Name: "order.created", CreatedAt: n, UpdatedAt: n}
	must(t, st.CreateEventType(ctx, plain))
	got, err = st.GetEventType(ctx, "order.created")
	must(t, err)
	assertEventType(t, got, plain)

	wantCode(t, st.CreateEventType(ctx, &hookline.EventType{Name: "order.paid", CreatedAt: n, UpdatedAt: n}), hookline.ECONFLICT)
	_, err = st.GetEventType(ctx, "order.missing")
	wantCode(t, err, hookline.ENOTFOUND)

	et.Archived, et.Deprecated = true, true
	et.Description = "archived"
	et.Schemas = map[string]json.RawMessage{"3": json.RawMessage(`{"type": "object"}`)}
	must(t, st.UpdateEventType(ctx, et))
	got, err = st.GetEventType(ctx, "order.paid")
	must(t, err)
	et.UpdatedAt = got.UpdatedAt
	assertEventType(t, got, et)
	wantCode(t, st.UpdateEventType(ctx, &hookline.EventType{Name: "order.missing"}), hookline.ENOTFOUND)

	p, err := st.ListEventTypes(ctx, hookline.EventTypeListOptions{ListOptions: hookline.ListOptions{Limit: 10}})
	must(t, err)
	if len(p.Data) != 1 || p.Data[0].Name != "order.created" || !p.Done {
		t.Fatalf("list without archived = %+v", p)
	}
	p, err = st.ListEventTypes(ctx, hookline.EventTypeListOptions{ListOptions: hookline.ListOptions{Limit: 10}, IncludeArchived: true})
	must(t, err)
	if len(p.Data) != 2 || p.Data[0].Name != "order.created" || p.Data[1].Name != "order.paid" {
		t.Fatalf("list with archived = %+v", p)
	}
	assertEventType(t, &p.Data[1], et)

	must(t, st.DeleteEventType(ctx, "order.paid"))
	_, err = st.GetEventType(ctx, "order.paid")
	wantCode(t, err, hookline.ENOTFOUND)
	wantCode(t, st.DeleteEventType(ctx, "order.paid"), hookline.ENOTFOUND)
}

func (suite) eventTypesPagination(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	// Created out of name order: event types paginate by name, not by creation.
	names := []string{"b.two", "a.one", "g.seven", "c.three", "f.six", "e.five", "d.four"}
	for _, name := range names {
		must(t, st.CreateEventType(ctx, &hookline.EventType{Name: name, CreatedAt: now(), UpdatedAt: now()}))
	}
	must(t, st.CreateEventType(ctx, &hookline.EventType{Name: "c.archived", Archived: true, CreatedAt: now(), UpdatedAt: now()}))
	sorted := []string{"a.one", "b.two", "c.three", "d.four", "e.five", "f.six", "g.seven"}
	checkPagination(t, sorted, 3, func(et hookline.EventType) string { return et.Name },
		func(o hookline.ListOptions) (hookline.Page[hookline.EventType], error) {
			return st.ListEventTypes(ctx, hookline.EventTypeListOptions{ListOptions: o})
		})
}

func (suite) applicationsInternal(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	n := now()
	visible := newApp(t, st, "customer")
	internal := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), UID: hookline.OperationalAppUID,
		Name: "Hookline operational webhooks", Internal: true, CreatedAt: n, UpdatedAt: n}
	must(t, st.CreateApplication(ctx, internal))
	got, err := st.GetApplication(ctx, hookline.OperationalAppUID)
	must(t, err)
	assertApp(t, got, internal)

	listed := func() []string {
		t.Helper()
		p, err := st.ListApplications(ctx, hookline.ApplicationListOptions{ListOptions: hookline.ListOptions{Limit: 10}})
		must(t, err)
		var ids []string
		for _, a := range p.Data {
			ids = append(ids, a.ID)
		}
		return ids
	}
	if ids := listed(); len(ids) != 1 || ids[0] != visible.ID {
		t.Fatalf("listed %v, want only %s: internal applications are left out", ids, visible.ID)
	}

	// The flag round-trips through updates, both ways.
	internal.Internal = false
	must(t, st.UpdateApplication(ctx, internal))
	got, err = st.GetApplication(ctx, internal.ID)
	must(t, err)
	internal.UpdatedAt = got.UpdatedAt
	assertApp(t, got, internal)
	if ids := listed(); len(ids) != 2 {
		t.Fatalf("listed %v after clearing Internal, want both", ids)
	}
	visible.Internal = true
	must(t, st.UpdateApplication(ctx, visible))
	got, err = st.GetApplication(ctx, visible.ID)
	must(t, err)
	if !got.Internal {
		t.Fatal("Internal did not round-trip through UpdateApplication")
	}
	if ids := listed(); len(ids) != 1 || ids[0] != internal.ID {
		t.Fatalf("listed %v, want only %s", ids, internal.ID)
	}
}

// applicationsByEndpoints checks ListApplications' exclude_apps_with_* filters: an application
// without endpoints, one with only a disabled endpoint, one with a disabled and an enabled one,
// one whose only endpoint points to Svix Play, and a plain one.
func (suite) applicationsByEndpoints(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	none := newApp(t, st, "none")
	disabled := newApp(t, st, "disabled")
	newEndpoint(t, st, disabled.ID, func(e *hookline.Endpoint) { e.Disabled = true })
	mixed := newApp(t, st, "mixed")
	newEndpoint(t, st, mixed.ID, func(e *hookline.Endpoint) { e.Disabled = true })
	newEndpoint(t, st, mixed.ID, nil)
	play := newApp(t, st, "play")
	newEndpoint(t, st, play.ID, func(e *hookline.Endpoint) { e.URL = "https://" + hookline.SvixPlayHost + "/in/e_x/" })
	plain := newApp(t, st, "plain")
	newEndpoint(t, st, plain.ID, nil)
	names := map[string]string{none.ID: "none", disabled.ID: "disabled", mixed.ID: "mixed", play.ID: "play", plain.ID: "plain"}
	for _, tc := range []struct {
		opts hookline.ApplicationListOptions
		want []string
	}{
		{hookline.ApplicationListOptions{}, []string{"none", "disabled", "mixed", "play", "plain"}},
		{hookline.ApplicationListOptions{ExcludeNoEndpoints: true}, []string{"disabled", "mixed", "play", "plain"}},
		{hookline.ApplicationListOptions{ExcludeOnlyDisabled: true}, []string{"none", "mixed", "play", "plain"}},
		{hookline.ApplicationListOptions{ExcludeOnlySvixPlay: true}, []string{"none", "disabled", "mixed", "plain"}},
		{hookline.ApplicationListOptions{ExcludeNoEndpoints: true, ExcludeOnlyDisabled: true, ExcludeOnlySvixPlay: true}, []string{"mixed", "plain"}},
	} {
		tc.opts.Limit = 50
		p, err := st.ListApplications(ctx, tc.opts)
		must(t, err)
		var got []string
		for _, a := range p.Data {
			got = append(got, names[a.ID])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ListApplications(%+v) = %v, want %v", tc.opts, got, tc.want)
		}
	}
}
