package storetest

import (
	"context"
	"reflect"
	"testing"

	"github.com/hookline/hookline"
)

// endpointsReceiver: an endpoint is plain until SetEndpointReceiver gives it settings; every
// endpoint read returns them (GetEndpoint, ListEndpoints, the fan-out's jobs); UpdateEndpoint
// keeps them; the zero Receiver clears them; the change stamps UpdatedAt, so caches keyed by it
// see it; an unknown endpoint is ENOTFOUND.
func (suite) endpointsReceiver(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	ep := newEndpoint(t, st, app.ID, nil)
	plain := newEndpoint(t, st, app.ID, nil)

	got, err := st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	if !got.Receiver.IsZero() {
		t.Fatalf("a new endpoint's receiver = %+v, want zero", got.Receiver)
	}

	want := hookline.Receiver{
		MTLS:     &hookline.ClientIdentity{CertPEM: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", KeyPEM: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"},
		ServerCA: &hookline.ServerCA{PEM: "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n", WithSystemRoots: true},
		OAuth: &hookline.OAuthClient{TokenURL: "https://auth.example.com/token", ClientID: "hookline", ClientSecret: "s3cret",
			Scopes: []string{"webhooks:write"}, AuthMethod: hookline.OAuthClientSecretBasic,
			ExtraParams: map[string]string{"audience": "https://api.example.com"}, ExtraHeaders: map[string]string{"X-Tenant": "42"}},
	}
	updatedAt, err := st.SetEndpointReceiver(ctx, app.ID, ep.ID, want)
	must(t, err)
	if !updatedAt.After(ep.UpdatedAt) {
		t.Fatalf("UpdatedAt after SetEndpointReceiver = %v, not after %v", updatedAt, ep.UpdatedAt)
	}
	check := func(what string, got *hookline.Endpoint, want hookline.Receiver) {
		t.Helper()
		if !reflect.DeepEqual(got.Receiver, want) {
			t.Fatalf("%s: receiver = %+v, want %+v", what, got.Receiver, want)
		}
	}
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	check("GetEndpoint", got, want)
	if !got.UpdatedAt.Equal(updatedAt) {
		t.Fatalf("UpdatedAt read back = %v, want %v", got.UpdatedAt, updatedAt)
	}
	page, err := st.ListEndpoints(ctx, app.ID, hookline.ListOptions{})
	must(t, err)
	for i := range page.Data {
		switch page.Data[i].ID {
		case ep.ID:
			check("ListEndpoints", &page.Data[i], want)
		case plain.ID:
			check("ListEndpoints, another endpoint", &page.Data[i], hookline.Receiver{})
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
			check("a claimed job's plain endpoint", j.Endpoint, hookline.Receiver{})
		}
	}

	// An update of the endpoint's other fields keeps it.
	got.Description = "changed"
	must(t, st.UpdateEndpoint(ctx, got))
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	check("after UpdateEndpoint", got, want)

	// Only the OAuth client left, then nothing.
	oauthOnly := hookline.Receiver{OAuth: want.OAuth}
	_, err = st.SetEndpointReceiver(ctx, app.ID, ep.ID, oauthOnly)
	must(t, err)
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	check("OAuth only", got, oauthOnly)
	_, err = st.SetEndpointReceiver(ctx, app.ID, ep.ID, hookline.Receiver{})
	must(t, err)
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	check("cleared", got, hookline.Receiver{})

	other := newApp(t, st, "other")
	_, err = st.SetEndpointReceiver(ctx, other.ID, ep.ID, want)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.SetEndpointReceiver(ctx, app.ID, "ep_missing", want)
	wantCode(t, err, hookline.ENOTFOUND)
}
