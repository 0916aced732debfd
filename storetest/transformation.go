package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// transformation: an endpoint's transformation is stored, read with the endpoint (by
// GetEndpoint, ListEndpoints and the jobs of a claim), left alone by UpdateEndpoint, and a
// delivery it cancels ends canceled, with no attempt and the endpoint's health untouched.
func transformation(t *testing.T, st DeliveryStore) {
	ctx := context.Background()
	base := now()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	if ep.Transformation != nil {
		t.Fatalf("a new endpoint has transformation %+v", ep.Transformation)
	}
	got, err := st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	if got.Transformation != nil {
		t.Fatalf("a new endpoint reads transformation %+v", got.Transformation)
	}
	_, err = st.SetEndpointTransformation(ctx, app.ID, "ep_missing", hookline.Transformation{Code: "x"})
	wantCode(t, err, hookline.ENOTFOUND)

	code := `function handler(webhook) { webhook.payload = {wrapped: webhook.payload}; return webhook; }`
	at, err := st.SetEndpointTransformation(ctx, app.ID, ep.ID, hookline.Transformation{Code: code, Enabled: true})
	must(t, err)
	want := hookline.Transformation{Code: code, Enabled: true, UpdatedAt: at}
	check := func(where string, tr *hookline.Transformation) {
		t.Helper()
		if tr == nil || *tr != want {
			t.Fatalf("%s: transformation = %+v, want %+v", where, tr, want)
		}
	}
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	check("GetEndpoint", got.Transformation)
	if !got.UpdatedAt.Equal(at) {
		t.Fatalf("endpoint updatedAt %v, want the transformation's %v", got.UpdatedAt, at)
	}
	page, err := st.ListEndpoints(ctx, app.ID, hookline.ListOptions{Limit: 10})
	must(t, err)
	check("ListEndpoints", page.Data[0].Transformation)

	// UpdateEndpoint writes every other field and leaves the transformation alone.
	got.Description = "changed"
	must(t, st.UpdateEndpoint(ctx, got))
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	check("after UpdateEndpoint", got.Transformation)

	// Disabling keeps the code.
	time.Sleep(time.Millisecond)
	at, err = st.SetEndpointTransformation(ctx, app.ID, ep.ID, hookline.Transformation{Code: code, Enabled: false})
	must(t, err)
	want = hookline.Transformation{Code: code, Enabled: false, UpdatedAt: at}
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	check("disabled", got.Transformation)
	if got.Transformation.Active() {
		t.Fatal("a disabled transformation is active")
	}
	at, err = st.SetEndpointTransformation(ctx, app.ID, ep.ID, hookline.Transformation{Code: code, Enabled: true})
	must(t, err)
	want.Enabled, want.UpdatedAt = true, at

	// Jobs carry it, the fresh ones of a fan-out and the stored ones alike.
	m, _ := newMessage(t, st, app.ID, func(m *hookline.Message) { m.CreatedAt = base.Add(-time.Second) })
	jobs := claim(t, st, "w", base, 10)
	if len(jobs) != 1 {
		t.Fatalf("claimed %d, want 1", len(jobs))
	}
	check("claimed job", jobs[0].Endpoint.Transformation)

	// The transformation canceled it: the delivery ends canceled, nothing else moves.
	o := outcome(jobs[0], false, base, nil)
	o.Attempt, o.Status = nil, hookline.StatusCanceled
	for _, h := range record(t, st, o) {
		if h.FailureStreak != 0 || h.LastAttemptAt != nil {
			t.Fatalf("health after a canceled delivery = %+v", h)
		}
	}
	d := deliveryTo(t, st, app.ID, m.ID, ep.ID)
	if d.Status != hookline.StatusCanceled || d.AttemptCount != 0 || d.NextAttemptAt != nil {
		t.Fatalf("delivery = %+v, want canceled with no attempt", d)
	}
	if more := claim(t, st, "w", base.Add(time.Hour), 10); len(more) != 0 {
		t.Fatalf("a canceled delivery was claimed again: %+v", more)
	}
	status := hookline.StatusCanceled
	em, err := st.ListEndpointMessages(ctx, app.ID, ep.ID, hookline.EndpointMessageListOptions{
		ListOptions: hookline.ListOptions{Limit: 10}, Status: &status})
	must(t, err)
	if len(em.Data) != 1 || em.Data[0].Message.ID != m.ID {
		t.Fatalf("canceled messages of the endpoint = %+v", em.Data)
	}
}
