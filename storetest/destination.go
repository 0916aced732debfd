package storetest

import (
	"context"
	"reflect"
	"testing"

	"github.com/hookline/hookline"
)

// endpointsDestination: an endpoint is HTTP until SetEndpointDestination gives it a broker;
// every endpoint read returns it (GetEndpoint, ListEndpoints, the fan-out's jobs);
// UpdateEndpoint keeps it; nil clears it; the change stamps UpdatedAt, so the pools keyed by it
// see it; an unknown endpoint is ENOTFOUND. The credentials it holds are not stored in clear.
func (suite) endpointsDestination(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	plain := newEndpoint(t, st, app.ID, nil)

	got, err := st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	if got.Destination != nil {
		t.Fatalf("a new endpoint's destination = %+v, want nil", got.Destination)
	}

	want := &hookline.Destination{Type: "rabbitmq", URL: "amqp://hookline:s3cret@broker.example.com:5672/prod",
		Options: map[string]string{"exchange": "events", "routingKey": "orders"}}
	updatedAt, err := st.SetEndpointDestination(ctx, app.ID, ep.ID, want)
	must(t, err)
	if !updatedAt.After(ep.UpdatedAt) {
		t.Fatalf("UpdatedAt after SetEndpointDestination = %v, not after %v", updatedAt, ep.UpdatedAt)
	}
	check := func(what string, got *hookline.Endpoint, want *hookline.Destination) {
		t.Helper()
		if !reflect.DeepEqual(got.Destination, want) {
			t.Fatalf("%s: destination = %+v, want %+v", what, got.Destination, want)
		}
	}
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	check("GetEndpoint", got, want)
	if !got.UpdatedAt.Equal(updatedAt) {
		t.Fatalf("UpdatedAt read back = %v, want %v", got.UpdatedAt, updatedAt)
	}
	page, err := st.ListEndpoints(ctx, app.ID, hookline.ListOptions{Limit: 10})
	must(t, err)
	for i := range page.Data {
		switch page.Data[i].ID {
		case ep.ID:
			check("ListEndpoints", &page.Data[i], want)
		case plain.ID:
			check("ListEndpoints, another endpoint", &page.Data[i], nil)
		}
	}

	// The fan-out's jobs carry it: the delivery engine reads it there.
	createWaiting(t, st, app.ID, now(), nil)
	jobs := claim(t, st, "w", now(), 10)
	if len(jobs) != 2 {
		t.Fatalf("claimed %d jobs, want 2", len(jobs))
	}
	for _, j := range jobs {
		if j.Endpoint.ID == ep.ID {
			check("a claimed job's endpoint", j.Endpoint, want)
		} else {
			check("a claimed job's HTTP endpoint", j.Endpoint, nil)
		}
	}

	// An update of the endpoint's other fields keeps it.
	got.Description = "changed"
	must(t, st.UpdateEndpoint(ctx, got))
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	check("after UpdateEndpoint", got, want)

	// Back to HTTP.
	_, err = st.SetEndpointDestination(ctx, app.ID, ep.ID, nil)
	must(t, err)
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	check("cleared", got, nil)

	other := newApp(t, st, "other")
	_, err = st.SetEndpointDestination(ctx, other.ID, ep.ID, want)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.SetEndpointDestination(ctx, app.ID, "ep_missing", want)
	wantCode(t, err, hookline.ENOTFOUND)
}
