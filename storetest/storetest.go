// Package storetest is the conformance suite for hookline.Store. Every backend runs it from
// its own tests, so the SQLite and PostgreSQL stores are held to one behaviour:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) hookline.Store { return openTestStore(t) })
//	}
package storetest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// Run runs the conformance suite. open must return a new, migrated, empty store for each
// call and close it when the test ends (t.Cleanup); subtests call it in parallel.
func Run(t *testing.T, open func(t *testing.T) hookline.Store) {
	s := suite{open: open}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, st hookline.Store)
	}{
		{"Ping", s.ping},
		{"Applications/CreateGet", s.applicationsCreateGet},
		{"Applications/UpdateDelete", s.applicationsUpdateDelete},
		{"Applications/Pagination", s.applicationsPagination},
		{"Applications/Internal", s.applicationsInternal},
		{"Applications/ByEndpoints", s.applicationsByEndpoints},
		{"EventTypes/CRUD", s.eventTypesCRUD},
		{"EventTypes/Pagination", s.eventTypesPagination},
		{"EventTypes/RetrySchedules", s.retrySchedules},
		{"Endpoints/CreateGet", s.endpointsCreateGet},
		{"Endpoints/UID", s.endpointsUID},
		{"Endpoints/UpdateDelete", s.endpointsUpdateDelete},
		{"Endpoints/Pagination", s.endpointsPagination},
		{"Endpoints/Stats", s.endpointsStats},
		{"Endpoints/Health", s.endpointsHealth},
		{"Endpoints/Receiver", s.endpointsReceiver},
		{"Endpoints/Destination", s.endpointsDestination},
		{"Messages/Payload", s.messagesPayload},
		{"Messages/DuplicateEventID", s.messagesDuplicateEventID},
		{"Messages/FanOut", s.messagesFanOut},
		{"Messages/ListFilters", s.messagesListFilters},
		{"Messages/Pagination", s.messagesPagination},
		{"Cascade/Application", s.cascadeApplication},
		{"Cascade/Endpoint", s.cascadeEndpoint},
		{"Tokens", s.tokens},
		{"Tokens/List", s.tokensList},
		{"Tokens/CreateIfNone", s.tokensCreateIfNone},
		{"Tokens/Expire", s.tokenExpiry},
		{"Tokens/Touch", s.tokenTouch},
		{"Tokens/Use", s.tokenUse},
		{"Tokens/EndpointScope", s.tokenEndpointScope},
		{"Idempotency", s.idempotency},
		{"Idempotency/Purge", s.idempotencyPurge},
		{"Messages/NoDeliveryTo", s.messagesNoDeliveryTo},
		{"Deliveries/CancelPending", s.cancelPending},
		{"Stats", s.stats},
		{"Tasks/CreateGet", s.tasksCreateGet},
		{"Tasks/List", s.tasksList},
		{"Tasks/Claim", s.tasksClaim},
		{"Tasks/ClaimConcurrent", s.tasksClaimConcurrent},
		{"Tasks/Update", s.tasksUpdate},
		{"Tasks/Purge", s.tasksPurge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, s.open(t))
		})
	}
}

type suite struct {
	open func(t *testing.T) hookline.Store
}

// now is a time at the precision every store keeps (microseconds, UTC).
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func ptr[T any](v T) *T { return &v }

// wantCode fails the test unless err carries the given hookline error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := hookline.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sameMap and sameSlice treat nil and empty as equal: a backend may return either.
func sameMap[M ~map[K]V, K, V comparable](a, b M) bool { return maps.Equal(a, b) }

func sameSlice[S ~[]E, E comparable](a, b S) bool { return slices.Equal(a, b) }

func sameTimePtr(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func sameIntPtr(a, b *int) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// diff collects mismatching fields so a failure names all of them at once.
type diff struct {
	t    *testing.T
	what string
}

func (d diff) check(field string, ok bool, got, want any) {
	d.t.Helper()
	if !ok {
		d.t.Errorf("%s: %s = %#v, want %#v", d.what, field, got, want)
	}
}

func (d diff) time(field string, got, want time.Time) {
	d.t.Helper()
	if !got.Equal(want) {
		d.t.Errorf("%s: %s = %v, want %v", d.what, field, got, want)
	}
	if got.Location() != time.UTC {
		d.t.Errorf("%s: %s is in %v, want UTC", d.what, field, got.Location())
	}
}

func assertApp(t *testing.T, got, want *hookline.Application) {
	t.Helper()
	d := diff{t, "application " + want.ID}
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("UID", got.UID == want.UID, got.UID, want.UID)
	d.check("Name", got.Name == want.Name, got.Name, want.Name)
	d.check("RateLimit", sameIntPtr(got.RateLimit, want.RateLimit), got.RateLimit, want.RateLimit)
	d.check("Metadata", sameMap(got.Metadata, want.Metadata), got.Metadata, want.Metadata)
	d.check("Internal", got.Internal == want.Internal, got.Internal, want.Internal)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.time("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func assertEventType(t *testing.T, got, want *hookline.EventType) {
	t.Helper()
	d := diff{t, "event type " + want.Name}
	d.check("Name", got.Name == want.Name, got.Name, want.Name)
	d.check("Description", got.Description == want.Description, got.Description, want.Description)
	d.check("Archived", got.Archived == want.Archived, got.Archived, want.Archived)
	d.check("Deprecated", got.Deprecated == want.Deprecated, got.Deprecated, want.Deprecated)
	d.check("FeatureFlag", got.FeatureFlag == want.FeatureFlag, got.FeatureFlag, want.FeatureFlag)
	d.check("GroupName", got.GroupName == want.GroupName, got.GroupName, want.GroupName)
	d.check("len(Schemas)", len(got.Schemas) == len(want.Schemas), len(got.Schemas), len(want.Schemas))
	for v, schema := range want.Schemas {
		d.check("Schemas["+v+"]", string(got.Schemas[v]) == string(schema), string(got.Schemas[v]), string(schema))
	}
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.time("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func assertEndpoint(t *testing.T, got, want *hookline.Endpoint) {
	t.Helper()
	d := diff{t, "endpoint " + want.ID}
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("AppID", got.AppID == want.AppID, got.AppID, want.AppID)
	d.check("UID", got.UID == want.UID, got.UID, want.UID)
	d.check("URL", got.URL == want.URL, got.URL, want.URL)
	d.check("Description", got.Description == want.Description, got.Description, want.Description)
	d.check("Version", got.Version == want.Version, got.Version, want.Version)
	d.check("Disabled", got.Disabled == want.Disabled, got.Disabled, want.Disabled)
	d.check("DisabledReason", got.DisabledReason == want.DisabledReason, got.DisabledReason, want.DisabledReason)
	d.check("FilterTypes", sameSlice(got.FilterTypes, want.FilterTypes), got.FilterTypes, want.FilterTypes)
	d.check("Channels", sameSlice(got.Channels, want.Channels), got.Channels, want.Channels)
	d.check("RateLimit", sameIntPtr(got.RateLimit, want.RateLimit), got.RateLimit, want.RateLimit)
	d.check("Metadata", sameMap(got.Metadata, want.Metadata), got.Metadata, want.Metadata)
	d.check("Headers", sameMap(got.Headers, want.Headers), got.Headers, want.Headers)
	d.check("Secret", got.Secret == want.Secret, got.Secret, want.Secret)
	d.check("len(OldSecrets)", len(got.OldSecrets) == len(want.OldSecrets), got.OldSecrets, want.OldSecrets)
	for i := range min(len(got.OldSecrets), len(want.OldSecrets)) {
		g, w := got.OldSecrets[i], want.OldSecrets[i]
		d.check("OldSecrets.Secret", g.Secret == w.Secret, g.Secret, w.Secret)
		d.time("OldSecrets.ExpiresAt", g.ExpiresAt, w.ExpiresAt)
	}
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.time("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func assertMessage(t *testing.T, got, want *hookline.Message) {
	t.Helper()
	d := diff{t, "message " + want.ID}
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("AppID", got.AppID == want.AppID, got.AppID, want.AppID)
	d.check("EventType", got.EventType == want.EventType, got.EventType, want.EventType)
	d.check("EventID", got.EventID == want.EventID, got.EventID, want.EventID)
	d.check("Payload", string(got.Payload) == string(want.Payload), string(got.Payload), string(want.Payload))
	d.check("Channels", sameSlice(got.Channels, want.Channels), got.Channels, want.Channels)
	d.check("Tags", sameSlice(got.Tags, want.Tags), got.Tags, want.Tags)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
}

func assertToken(t *testing.T, got, want *hookline.Token) {
	t.Helper()
	d := diff{t, "token " + want.ID}
	d.check("ID", got.ID == want.ID, got.ID, want.ID)
	d.check("Name", got.Name == want.Name, got.Name, want.Name)
	d.check("Kind", got.Kind == want.Kind, got.Kind, want.Kind)
	d.check("AppID", got.AppID == want.AppID, got.AppID, want.AppID)
	d.check("Hash", string(got.Hash) == string(want.Hash), got.Hash, want.Hash)
	d.check("Prefix", got.Prefix == want.Prefix, got.Prefix, want.Prefix)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.check("ExpiresAt", sameTimePtr(got.ExpiresAt, want.ExpiresAt), got.ExpiresAt, want.ExpiresAt)
	d.check("RevokedAt", sameTimePtr(got.RevokedAt, want.RevokedAt), got.RevokedAt, want.RevokedAt)
}

// newApp creates an application with a fresh id.
func newApp(t *testing.T, st hookline.Store, name string) *hookline.Application {
	t.Helper()
	n := now()
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: name, CreatedAt: n, UpdatedAt: n}
	must(t, st.CreateApplication(context.Background(), app))
	return app
}

// newEndpoint creates an endpoint of app, after edit has adjusted it. It is created a year
// ago, before the messages tests back-date: a message only goes to endpoints that existed
// when it was created.
func newEndpoint(t *testing.T, st hookline.Store, appID string, edit func(*hookline.Endpoint)) *hookline.Endpoint {
	t.Helper()
	n := now().AddDate(-1, 0, 0)
	ep := &hookline.Endpoint{
		ID:        hookline.NewID(hookline.PrefixEndpoint),
		AppID:     appID,
		URL:       "https://example.com/hook",
		Version:   1,
		Secret:    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		CreatedAt: n,
		UpdatedAt: n,
	}
	if edit != nil {
		edit(ep)
	}
	must(t, st.CreateEndpoint(context.Background(), ep))
	return ep
}

// newMessage creates a message of app, after edit has adjusted it, and returns its deliveries.
func newMessage(t *testing.T, st hookline.Store, appID string, edit func(*hookline.Message)) (*hookline.Message, []hookline.Delivery) {
	t.Helper()
	m := &hookline.Message{
		ID:        hookline.NewID(hookline.PrefixMessage),
		AppID:     appID,
		EventType: "order.paid",
		Payload:   []byte(`{"ok":true}`),
		CreatedAt: now(),
	}
	if edit != nil {
		edit(m)
	}
	ctx := context.Background()
	must(t, st.CreateMessage(ctx, m))
	if m.OnlyEndpointID == "" {
		fanOutNow(t, st, m)
	}
	ds, err := st.ListDeliveries(ctx, appID, m.ID)
	must(t, err)
	return m, ds
}

// fanOutOwner is the lease owner fanOutNow claims as.
const fanOutOwner = "storetest-fan-out"

// fanOutNow stores the deliveries of a message created awaiting dispatch, as pending and due
// at its creation, the way a dispatcher that cannot send them at once does: it claims (which
// fans the message out), hands back the stored deliveries the claim took with it, and
// records each Fresh job as postponed to the message's creation. Most tests are about what
// happens to deliveries after that; the FanOut tests check the fan-out itself.
func fanOutNow(t *testing.T, st hookline.Store, m *hookline.Message) {
	t.Helper()
	ds, ok := st.(hookline.DeliveryStore)
	if !ok {
		return
	}
	ctx := context.Background()
	jobs, err := ds.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: fanOutOwner, Now: m.CreatedAt,
		LeaseUntil: m.CreatedAt.Add(time.Hour), Limit: 10_000})
	must(t, err)
	var stored []string
	var outcomes []hookline.Outcome
	for _, j := range jobs {
		if !j.Fresh {
			stored = append(stored, j.Delivery.ID)
			continue
		}
		due := j.Message.CreatedAt
		outcomes = append(outcomes, hookline.Outcome{DeliveryID: j.Delivery.ID, AppID: j.Delivery.AppID,
			MessageID: j.Delivery.MessageID, EndpointID: j.Delivery.EndpointID, Fresh: true, Owner: fanOutOwner,
			Status: hookline.StatusPending, NextAttemptAt: &due})
	}
	must(t, ds.ReleaseDeliveries(ctx, fanOutOwner, stored))
	for i := range outcomes {
		last := i == len(outcomes)-1 || outcomes[i+1].MessageID != outcomes[i].MessageID
		outcomes[i].CompletesDispatch = last
	}
	if len(outcomes) > 0 {
		_, err = ds.RecordAttempts(ctx, outcomes)
		must(t, err)
	}
}

// checkPagination walks a list of n items (whose keys in ascending order are asc) with the
// given page size, forward to the end and then backward to the start, in both orders, and
// checks each page's items and Done.
func checkPagination[T any](t *testing.T, asc []string, limit int, key func(T) string,
	list func(hookline.ListOptions) (hookline.Page[T], error)) {
	t.Helper()
	keys := func(p hookline.Page[T]) []string {
		out := make([]string, 0, len(p.Data))
		for _, item := range p.Data {
			out = append(out, key(item))
		}
		return out
	}
	for _, desc := range []bool{false, true} {
		order := slices.Clone(asc)
		if desc {
			slices.Reverse(order)
		}
		n := len(order)
		// Forward from the start.
		it, start := "", 0
		for {
			p, err := list(hookline.ListOptions{Limit: limit, Iterator: it, Descending: desc})
			must(t, err)
			end := min(start+limit, n)
			if got, want := keys(p), order[start:end]; !slices.Equal(got, want) {
				t.Fatalf("desc=%v forward page at %d: got %v, want %v", desc, start, got, want)
			}
			if wantDone := end >= n; p.Done != wantDone {
				t.Fatalf("desc=%v forward page at %d: Done = %v, want %v", desc, start, p.Done, wantDone)
			}
			if p.Done {
				break
			}
			it, start = order[end-1], end
		}
		if n == 0 {
			continue
		}
		// Backward from the first item of the last page.
		it = order[start]
		for start > 0 {
			p, err := list(hookline.ListOptions{Limit: limit, Iterator: it, Backward: true, Descending: desc})
			must(t, err)
			from := max(0, start-limit)
			if got, want := keys(p), order[from:start]; !slices.Equal(got, want) {
				t.Fatalf("desc=%v backward page before %d: got %v, want %v", desc, start, got, want)
			}
			if wantDone := from == 0; p.Done != wantDone {
				t.Fatalf("desc=%v backward page before %d: Done = %v, want %v", desc, start, p.Done, wantDone)
			}
			it, start = order[from], from
		}
		// Backward from the second item: a short page that reaches the start.
		if n > 1 {
			p, err := list(hookline.ListOptions{Limit: limit, Iterator: order[1], Backward: true, Descending: desc})
			must(t, err)
			if got := keys(p); !slices.Equal(got, order[:1]) || !p.Done {
				t.Fatalf("desc=%v backward before the second item: got %v done=%v, want %v done=true", desc, got, p.Done, order[:1])
			}
		}
		// Backward from the first item: nothing before it.
		p, err := list(hookline.ListOptions{Limit: limit, Iterator: order[0], Backward: true, Descending: desc})
		must(t, err)
		if len(p.Data) != 0 || !p.Done {
			t.Fatalf("desc=%v backward before the first item: got %v done=%v, want nothing", desc, keys(p), p.Done)
		}
		// Forward from the last item: nothing after it.
		p, err = list(hookline.ListOptions{Limit: limit, Iterator: order[n-1], Descending: desc})
		must(t, err)
		if len(p.Data) != 0 || !p.Done {
			t.Fatalf("desc=%v forward after the last item: got %v done=%v, want nothing", desc, keys(p), p.Done)
		}
	}
}
