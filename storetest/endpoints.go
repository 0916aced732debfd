package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

func (suite) endpointsCreateGet(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	expires := now().Add(24 * time.Hour)
	ep := newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) {
		ep.UID = "primary"
		ep.URL = "https://hooks.example.com/in?token=a&b=%20"
		ep.Description = "Primary receiver — prod"
		ep.Version = 2
		ep.FilterTypes = []string{"order.paid", "order.refunded"}
		ep.Channels = []string{"eu", "project-1"}
		ep.RateLimit = ptr(10)
		ep.Metadata = map[string]string{"team": "billing"}
		ep.Headers = map[string]string{"X-Tenant": "42", "Authorization": "Basic Zm9vOmJhcg=="}
		ep.Secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
		ep.OldSecrets = []hookline.OldSecret{
			{Secret: "whsec_b2xkLXNlY3JldC1vbmUtMTIzNDU2Nzg5MDEy", ExpiresAt: expires},
			{Secret: "plain-old-secret", ExpiresAt: expires.Add(time.Hour)},
		}
	})

	for _, key := range []string{ep.ID, "primary"} {
		got, err := st.GetEndpoint(ctx, app.ID, key)
		must(t, err)
		assertEndpoint(t, got, ep)
	}

	// Endpoints are scoped to their application.
	other := newApp(t, st, "other")
	_, err := st.GetEndpoint(ctx, other.ID, ep.ID)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.GetEndpoint(ctx, other.ID, "primary")
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.GetEndpoint(ctx, app.ID, "ep_missing")
	wantCode(t, err, hookline.ENOTFOUND)

	// A minimal endpoint: no filters, headers or old secrets.
	bare := newEndpoint(t, st, app.ID, nil)
	got, err := st.GetEndpoint(ctx, app.ID, bare.ID)
	must(t, err)
	assertEndpoint(t, got, bare)

	// Creating an endpoint for an application that does not exist fails without storing it.
	err = st.CreateEndpoint(ctx, &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: "app_missing",
		URL: "https://example.com", Secret: "whsec_x", CreatedAt: now(), UpdatedAt: now()})
	if err == nil {
		t.Fatal("created an endpoint of a missing application")
	}
}

func (suite) endpointsUID(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	a := newApp(t, st, "a")
	b := newApp(t, st, "b")
	newEndpoint(t, st, a.ID, func(ep *hookline.Endpoint) { ep.UID = "shared" })
	dup := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: a.ID, UID: "shared",
		URL: "https://example.com", Secret: "whsec_x", CreatedAt: now(), UpdatedAt: now()}
	wantCode(t, st.CreateEndpoint(ctx, dup), hookline.ECONFLICT)
	_, err := st.GetEndpoint(ctx, a.ID, dup.ID)
	wantCode(t, err, hookline.ENOTFOUND)

	// The same uid in another application is a different endpoint.
	inB := newEndpoint(t, st, b.ID, func(ep *hookline.Endpoint) { ep.UID = "shared" })
	got, err := st.GetEndpoint(ctx, b.ID, "shared")
	must(t, err)
	if got.ID != inB.ID {
		t.Fatalf("GetEndpoint(b, shared) = %s, want %s", got.ID, inB.ID)
	}
	// Any number of endpoints may have no uid.
	newEndpoint(t, st, a.ID, nil)
	newEndpoint(t, st, a.ID, nil)

	// Taking a uid by update conflicts too.
	second := newEndpoint(t, st, a.ID, func(ep *hookline.Endpoint) { ep.UID = "second" })
	second.UID = "shared"
	wantCode(t, st.UpdateEndpoint(ctx, second), hookline.ECONFLICT)
}

func (suite) endpointsUpdateDelete(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) { ep.Headers = map[string]string{"A": "1"} })

	// A rotation: the current secret moves to the old secrets, with a grace period.
	ep.OldSecrets = append(ep.OldSecrets, hookline.OldSecret{Secret: ep.Secret, ExpiresAt: now().Add(24 * time.Hour)})
	ep.Secret = "whsec_cm90YXRlZC1zZWNyZXQtMTIzNDU2Nzg5MDEy"
	ep.URL = "https://new.example.com/hook"
	ep.Disabled = true
	ep.DisabledReason = "manual"
	ep.FilterTypes = []string{"a.b"}
	ep.Channels = []string{"c"}
	ep.Headers = map[string]string{"B": "2"}
	ep.Metadata = map[string]string{"m": "n"}
	ep.RateLimit = ptr(3)
	ep.UID = "renamed"
	must(t, st.UpdateEndpoint(ctx, ep))
	got, err := st.GetEndpoint(ctx, app.ID, "renamed")
	must(t, err)
	if got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("UpdatedAt %v before CreatedAt %v", got.UpdatedAt, got.CreatedAt)
	}
	ep.UpdatedAt = got.UpdatedAt
	assertEndpoint(t, got, ep)

	// Clearing filters, headers and old secrets clears them.
	ep.FilterTypes, ep.Channels, ep.Headers, ep.Metadata, ep.OldSecrets, ep.RateLimit, ep.UID = nil, nil, nil, nil, nil, nil, ""
	ep.Disabled, ep.DisabledReason = false, ""
	must(t, st.UpdateEndpoint(ctx, ep))
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	ep.UpdatedAt = got.UpdatedAt
	assertEndpoint(t, got, ep)

	// An update names the application too: another application's id does not reach it.
	other := newApp(t, st, "other")
	moved := *ep
	moved.AppID = other.ID
	wantCode(t, st.UpdateEndpoint(ctx, &moved), hookline.ENOTFOUND)
	wantCode(t, st.DeleteEndpoint(ctx, other.ID, ep.ID), hookline.ENOTFOUND)

	must(t, st.DeleteEndpoint(ctx, app.ID, ep.ID))
	_, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	wantCode(t, err, hookline.ENOTFOUND)
	wantCode(t, st.DeleteEndpoint(ctx, app.ID, ep.ID), hookline.ENOTFOUND)
	wantCode(t, st.UpdateEndpoint(ctx, ep), hookline.ENOTFOUND)
}

func (suite) endpointsPagination(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	other := newApp(t, st, "other")
	var ids []string
	for i := range 7 {
		ids = append(ids, newEndpoint(t, st, app.ID, nil).ID)
		if i%2 == 0 {
			newEndpoint(t, st, other.ID, nil) // interleaved, and never listed
		}
	}
	checkPagination(t, ids, 3, func(e hookline.Endpoint) string { return e.ID },
		func(o hookline.ListOptions) (hookline.Page[hookline.Endpoint], error) {
			return st.ListEndpoints(ctx, app.ID, o)
		})
	p, err := st.ListEndpoints(ctx, app.ID, hookline.ListOptions{Limit: 1})
	must(t, err)
	if len(p.Data) != 1 || p.Data[0].Secret == "" {
		t.Fatalf("listed endpoints carry their secrets: %+v", p.Data)
	}
}

func (suite) endpointsStats(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	idle := newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) { ep.FilterTypes = []string{"never.sent"} })

	stats, err := st.EndpointStats(ctx, app.ID, ep.ID, hookline.TimeWindow{})
	must(t, err)
	if stats != (hookline.EndpointStats{}) {
		t.Fatalf("stats before any message = %+v", stats)
	}
	for range 3 {
		newMessage(t, st, app.ID, nil)
	}
	stats, err = st.EndpointStats(ctx, app.ID, ep.ID, hookline.TimeWindow{})
	must(t, err)
	if want := (hookline.EndpointStats{Pending: 3}); stats != want {
		t.Fatalf("stats = %+v, want %+v", stats, want)
	}
	stats, err = st.EndpointStats(ctx, app.ID, idle.ID, hookline.TimeWindow{})
	must(t, err)
	if stats != (hookline.EndpointStats{}) {
		t.Fatalf("stats of the filtered-out endpoint = %+v", stats)
	}

	other := newApp(t, st, "other")
	_, err = st.EndpointStats(ctx, other.ID, ep.ID, hookline.TimeWindow{})
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.EndpointStats(ctx, app.ID, "ep_missing", hookline.TimeWindow{})
	wantCode(t, err, hookline.ENOTFOUND)
}

func (suite) endpointsHealth(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, func(ep *hookline.Endpoint) {
		ep.Disabled = true
		ep.DisabledReason = "manual"
		// Writes ignore the health: only attempts make it.
		ep.Health = hookline.EndpointHealth{FailureStreak: 7, LastEventType: "x", LastAttemptAt: ptr(now())}
	})
	got, err := st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	if got.DisabledReason != "manual" {
		t.Errorf("DisabledReason = %q, want manual", got.DisabledReason)
	}
	h := got.Health
	if h.FailureStreak != 0 || h.FailingSince != nil || h.LastAttemptAt != nil || h.LastEventType != "" {
		t.Errorf("health of a new endpoint = %+v, want none", h)
	}
	if h.EndpointID != "" && (h.EndpointID != ep.ID || h.AppID != app.ID || !h.Disabled) {
		t.Errorf("health of a new endpoint names %s/%s disabled=%v", h.AppID, h.EndpointID, h.Disabled)
	}
	p, err := st.ListEndpoints(ctx, app.ID, hookline.ListOptions{Limit: 10})
	must(t, err)
	if len(p.Data) != 1 || p.Data[0].DisabledReason != "manual" || p.Data[0].Health.FailureStreak != 0 {
		t.Errorf("listed endpoint = %+v", p.Data)
	}
}
