package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// endpointsReceiver: an endpoint is plain until UpdateEndpointReceiver gives it settings; every
// endpoint read returns them (GetEndpoint, ListEndpoints, the fan-out's jobs); UpdateEndpoint
// keeps them; a change sees what is stored, so changes of different parts, concurrent ones
// too, keep each other; a change that fails stores nothing; the zero Receiver clears them;
// the change stamps UpdatedAt, so caches keyed by it see it; an unknown endpoint is ENOTFOUND.
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
	set := func(appID, epID string, r hookline.Receiver) (time.Time, error) {
		_, at, err := st.UpdateEndpointReceiver(ctx, appID, epID, func(p *hookline.Receiver) error {
			*p = r
			return nil
		})
		return at, err
	}
	updatedAt, err := set(app.ID, ep.ID, want)
	must(t, err)
	if !updatedAt.After(ep.UpdatedAt) {
		t.Fatalf("UpdatedAt after UpdateEndpointReceiver = %v, not after %v", updatedAt, ep.UpdatedAt)
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
	_, err = set(app.ID, ep.ID, oauthOnly)
	must(t, err)
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	check("OAuth only", got, oauthOnly)
	_, err = set(app.ID, ep.ID, hookline.Receiver{})
	must(t, err)
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	check("cleared", got, hookline.Receiver{})

	// Changes of different parts, one after the other and concurrently, keep each other.
	parts := []func(r *hookline.Receiver){
		func(r *hookline.Receiver) { r.MTLS = want.MTLS },
		func(r *hookline.Receiver) { r.ServerCA = want.ServerCA },
		func(r *hookline.Receiver) { r.OAuth = want.OAuth },
	}
	var wg sync.WaitGroup
	for _, part := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stored, _, err := st.UpdateEndpointReceiver(ctx, app.ID, ep.ID, func(r *hookline.Receiver) error {
				part(r)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
			probe := hookline.Receiver{}
			part(&probe)
			if (probe.MTLS != nil && stored.MTLS == nil) || (probe.ServerCA != nil && stored.ServerCA == nil) || (probe.OAuth != nil && stored.OAuth == nil) {
				t.Errorf("UpdateEndpointReceiver returned %+v, without its own change", stored)
			}
		}()
	}
	wg.Wait()
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	check("after concurrent changes of each part", got, want)

	// A change that fails stores nothing.
	boom := errors.New("boom")
	if _, _, err := st.UpdateEndpointReceiver(ctx, app.ID, ep.ID, func(r *hookline.Receiver) error {
		r.OAuth = nil
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("a failing change returned %v, want its error", err)
	}
	got, err = st.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	check("after a failed change", got, want)

	other := newApp(t, st, "other")
	_, err = set(other.ID, ep.ID, want)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = set(app.ID, "ep_missing", want)
	wantCode(t, err, hookline.ENOTFOUND)
}
