package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/pgtest"
	"github.com/hookline/hookline/postgres"
	"github.com/hookline/hookline/secrets"
	"github.com/hookline/hookline/storetest"
)

func testBox(t testing.TB) hookline.SecretBox {
	t.Helper()
	box, err := secrets.NewBox(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// open opens a handle on the database at url, closed when the test ends. Two handles on one
// URL are two "processes" sharing a database.
func open(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, postgres.Options{SecretBox: testBox(t), MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// openDB opens and migrates a store in a fresh schema.
func openDB(t testing.TB) *postgres.DB {
	t.Helper()
	db := open(t, pgtest.URL(t))
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) hookline.Store { return openDB(t) })
}

func TestDeliveryStore(t *testing.T) {
	storetest.RunDelivery(t, func(t *testing.T) storetest.DeliveryStore { return openDB(t) })
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t, pgtest.URL(t))
	st, err := db.MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) == 0 || st[0].Applied {
		t.Fatalf("status of a new database = %+v, want pending migrations", st)
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(st) || applied[0] != "0001_init.sql" {
		t.Fatalf("applied %v", applied)
	}
	if again, err := db.Migrate(ctx); err != nil || len(again) != 0 {
		t.Fatalf("second Migrate = %v, %v", again, err)
	}
	st, err = db.MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range st {
		if !m.Applied || m.AppliedAt.IsZero() {
			t.Errorf("%s not applied", m.Name)
		}
	}
}

// TestMigrateConcurrently starts several processes on one new database at once: each
// migration runs exactly once and every process ends up with the full schema.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	const procs = 4
	dbs := make([]*postgres.DB, procs)
	for i := range dbs {
		dbs[i] = open(t, url)
	}
	total := make(chan int, procs)
	var wg sync.WaitGroup
	for _, db := range dbs {
		wg.Go(func() {
			applied, err := db.Migrate(ctx)
			if err != nil {
				t.Error(err)
			}
			total <- len(applied)
		})
	}
	wg.Wait()
	close(total)
	n := 0
	for k := range total {
		n += k
	}
	st, err := dbs[0].MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(st) {
		t.Fatalf("%d processes applied %d migrations in all, want each of the %d once", procs, n, len(st))
	}
	if err := dbs[procs-1].CreateApplication(ctx, &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "a"}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	if _, err := postgres.Open(ctx, url, postgres.Options{}); err == nil {
		t.Error("Open without a SecretBox succeeded")
	}
	if _, err := postgres.Open(ctx, "postgres://%zz", postgres.Options{SecretBox: testBox(t)}); err == nil {
		t.Error("Open of a malformed URL succeeded")
	}
	db := open(t, url)
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

// TestUnavailable checks that a database that cannot be reached is hookline.ErrUnavailable
// (a 503), not an internal error.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	_, err = postgres.Open(context.Background(), "postgres://postgres@"+addr+"/test?sslmode=disable&connect_timeout=5",
		postgres.Options{SecretBox: testBox(t)})
	if !errors.Is(err, hookline.ErrUnavailable) {
		t.Fatalf("Open against a closed port = %v, want hookline.ErrUnavailable", err)
	}
}

// TestServerGoesAway kills the server side of every connection of a store: the next
// statements fail as hookline.ErrUnavailable or succeed on a new connection, never as an
// internal error of another kind.
func TestServerGoesAway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	db, err := postgres.Open(ctx, url+"&application_name=hookline-goes-away-"+strconv.FormatInt(time.Now().UnixNano(), 36),
		postgres.Options{SecretBox: testBox(t), MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	app := db.Pool().Config().ConnConfig.RuntimeParams["application_name"]
	admin := open(t, pgtest.BaseURL())
	if _, err := admin.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app); err != nil {
		t.Fatal(err)
	}
	sawUnavailable := false
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := db.GetApplication(ctx, "app_missing")
		if hookline.IsNotFound(err) {
			break // the pool reconnected
		}
		if !errors.Is(err, hookline.ErrUnavailable) {
			t.Fatalf("error after the server ended the session = %v, want hookline.ErrUnavailable", err)
		}
		sawUnavailable = true
		if time.Now().After(deadline) {
			t.Fatal("the pool did not reconnect")
		}
	}
	t.Logf("saw ErrUnavailable before reconnecting: %v", sawUnavailable)
}

// seed creates an application with endpoints and messages due before at, and returns the
// application.
func seed(t testing.TB, db hookline.Store, endpoints, messages int, at time.Time) *hookline.Application {
	t.Helper()
	ctx := context.Background()
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "acme"}
	if err := db.CreateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	for range endpoints {
		ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: "https://example.com/hook",
			Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
		if err := db.CreateEndpoint(ctx, ep); err != nil {
			t.Fatal(err)
		}
	}
	payload := []byte(`{"type":"order.paid","data":{"id":"ord_1","amount":4200,"currency":"EUR"}}`)
	for i := range messages {
		if _, err := db.CreateMessage(ctx, &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID,
			EventType: "order.paid", Payload: payload, CreatedAt: at.Add(time.Duration(i-messages) * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
	}
	return app
}

// TestClaimAcrossProcesses has two handles on one database (two processes) claim with
// several workers each: SKIP LOCKED hands every delivery to exactly one of them.
func TestClaimAcrossProcesses(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	a, b := open(t, url), open(t, url)
	if _, err := a.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	seed(t, a, 3, 200, now) // 600 deliveries
	var (
		mu     sync.Mutex
		counts = map[string]int{}
		byProc = map[string]int{}
		wg     sync.WaitGroup
	)
	for w := range 8 {
		db, proc := a, "a"
		if w%2 == 1 {
			db, proc = b, "b"
		}
		wg.Go(func() {
			for {
				jobs, err := db.ClaimDeliveries(context.Background(), hookline.ClaimParams{
					Owner: fmt.Sprintf("%s-%d", proc, w), Now: now, LeaseUntil: now.Add(time.Minute), Limit: 9})
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					counts[j.Delivery.ID]++
					byProc[proc]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(counts) != 600 {
		t.Fatalf("claimed %d distinct deliveries, want 600", len(counts))
	}
	for id, n := range counts {
		if n != 1 {
			t.Errorf("delivery %s claimed %d times", id, n)
		}
	}
	t.Logf("claims by process: %v", byProc)
}

// TestDuplicateEventIDAcrossProcesses sends one eventId from many goroutines of two
// processes at once: one message is stored, and every other sender learns its id.
func TestDuplicateEventIDAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	a, b := open(t, url), open(t, url)
	if _, err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	app := seed(t, a, 2, 0, time.Now())
	const senders = 16
	type result struct {
		id          string
		deliveries  int
		err         error
		existing    string
		wasConflict bool
	}
	results := make(chan result, senders)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range senders {
		db := a
		if i%2 == 1 {
			db = b
		}
		wg.Go(func() {
			m := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID, EventType: "order.paid",
				EventID: "evt-race", Payload: []byte(fmt.Sprintf(`{"sender":%d}`, i))}
			<-start
			ds, err := db.CreateMessage(ctx, m)
			r := result{id: m.ID, deliveries: len(ds), err: err}
			var e *hookline.Error
			if errors.As(err, &e) && e.Code == hookline.EDUPLICATEEVENT {
				r.existing, r.wasConflict = e.Existing, true
			}
			results <- r
		})
	}
	close(start)
	wg.Wait()
	close(results)
	var winners []result
	var losers []result
	for r := range results {
		switch {
		case r.err == nil:
			winners = append(winners, r)
		case r.wasConflict:
			losers = append(losers, r)
		default:
			t.Fatalf("CreateMessage = %v, want success or EDUPLICATEEVENT", r.err)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d senders succeeded, want 1", len(winners))
	}
	if winners[0].deliveries != 2 {
		t.Fatalf("the stored message made %d deliveries, want 2", winners[0].deliveries)
	}
	for _, l := range losers {
		if l.existing != winners[0].id {
			t.Fatalf("duplicate names %q, want the stored message %s", l.existing, winners[0].id)
		}
	}
	p, err := b.ListMessages(ctx, app.ID, hookline.MessageListOptions{ListOptions: hookline.ListOptions{Limit: 50}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Data) != 1 || p.Data[0].ID != winners[0].id {
		t.Fatalf("stored messages = %d, want only %s", len(p.Data), winners[0].id)
	}
}

// TestRequeueAcrossProcesses resends one message to an endpoint it never went to, from two
// processes at once: both see one delivery, and one is stored.
func TestRequeueAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	a, b := open(t, url), open(t, url)
	if _, err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "acme"}
	must(t, a.CreateApplication(ctx, app))
	m := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID, EventType: "order.paid", Payload: []byte(`{}`)}
	if _, err := a.CreateMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: "https://example.com", Secret: "whsec_x"}
	must(t, a.CreateEndpoint(ctx, ep))
	ids := make(chan string, 8)
	var wg sync.WaitGroup
	for i := range 8 {
		db := a
		if i%2 == 1 {
			db = b
		}
		wg.Go(func() {
			d, err := db.RequeueDelivery(ctx, app.ID, m.ID, ep.ID, time.Now())
			if err != nil {
				t.Error(err)
				return
			}
			ids <- d.ID
		})
	}
	wg.Wait()
	close(ids)
	first := ""
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Fatalf("resends returned deliveries %s and %s, want one", first, id)
		}
	}
	ds, err := b.ListDeliveries(ctx, app.ID, m.ID)
	must(t, err)
	if len(ds) != 1 || ds[0].ID != first {
		t.Fatalf("deliveries = %+v, want only %s", ds, first)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// signal returns a func for Listen that signals c without blocking.
func signal(c chan struct{}) func() {
	return func() {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// wait fails the test unless c is signalled within the deadline.
func wait(t *testing.T, c chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// channelName is a notification channel of the test's own: channels are per database, and
// the tests share one.
func channelName(t *testing.T) string {
	return "hookline_test_" + strconv.FormatInt(time.Now().UnixNano(), 36) + "_" + strconv.Itoa(rand.IntN(1e6))
}

func TestListenNotify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	a, b := open(t, url), open(t, url)
	ch := channelName(t)
	woke := make(chan struct{}, 1)
	must(t, a.Listen(ctx, ch, signal(woke)))
	must(t, b.Notify(ctx, ch))
	wait(t, woke, "a notification from the other process")

	// A notification sent in a transaction arrives with its commit, and only then.
	tx, err := b.Pool().Begin(ctx)
	must(t, err)
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, ch)
	must(t, err)
	must(t, tx.Rollback(ctx))
	tx, err = b.Pool().Begin(ctx)
	must(t, err)
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, 'committed')`, ch)
	must(t, err)
	must(t, tx.Commit(ctx))
	wait(t, woke, "a committed notification")
	select {
	case <-woke:
		t.Fatal("the rolled-back notification arrived too")
	default:
	}

	// Another channel does not wake the listener; a cancelled context stops it.
	lctx, cancel := context.WithCancel(ctx)
	other := make(chan struct{}, 1)
	must(t, a.Listen(lctx, ch+"_other", signal(other)))
	cancel()
	must(t, b.Notify(ctx, ch))
	wait(t, woke, "a notification after another listener stopped")
}

// TestListenReconnects ends the listener's session on the server: the listener reconnects,
// calls fn for what it may have missed, and hears later notifications.
func TestListenReconnects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	a, b := open(t, url), open(t, url)
	ch := channelName(t)
	woke := make(chan struct{}, 1)
	must(t, a.Listen(ctx, ch, signal(woke)))
	tag, err := b.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`,
		`LISTEN "`+ch+`"`)
	must(t, err)
	if tag.RowsAffected() != 1 {
		t.Fatalf("found %d listener sessions, want 1", tag.RowsAffected())
	}
	wait(t, woke, "the wake-up after reconnecting")
	must(t, b.Notify(ctx, ch))
	wait(t, woke, "a notification after reconnecting")
}

// TestDeliveriesNotify checks that the writes that make deliveries due wake listeners on
// DeliveriesChannel. The channel is shared by every test of the database, so it runs alone
// (not parallel) to keep other tests' messages from waking it.
func TestDeliveriesNotify(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	a, b := open(t, url), open(t, url)
	if _, err := b.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	app := seed(t, b, 1, 0, time.Now())
	woke := make(chan struct{}, 1)
	must(t, a.Listen(ctx, postgres.DeliveriesChannel, signal(woke)))

	m := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID, EventType: "order.paid", Payload: []byte(`{}`)}
	ds, err := b.CreateMessage(ctx, m)
	must(t, err)
	wait(t, woke, "the notification of CreateMessage")

	now := time.Now()
	jobs, err := b.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: "w", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10})
	must(t, err)
	if len(jobs) != 1 {
		t.Fatalf("claimed %d", len(jobs))
	}
	must(t, b.ReleaseDeliveries(ctx, "w", []string{ds[0].ID}))
	wait(t, woke, "the notification of ReleaseDeliveries")
	jobs, err = b.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: "w", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10})
	must(t, err)
	_, err = b.RecordAttempts(ctx, []hookline.Outcome{{DeliveryID: jobs[0].Delivery.ID, Status: hookline.StatusFail}})
	must(t, err)
	_, err = b.RequeueDelivery(ctx, app.ID, m.ID, ds[0].EndpointID, now)
	must(t, err)
	wait(t, woke, "the notification of RequeueDelivery")
	jobs, err = b.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: "w", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10})
	must(t, err)
	_, err = b.RecordAttempts(ctx, []hookline.Outcome{{DeliveryID: jobs[0].Delivery.ID, Status: hookline.StatusFail}})
	must(t, err)
	n, err := b.RequeueFailed(ctx, app.ID, ds[0].EndpointID, now.Add(-time.Hour), nil, now)
	must(t, err)
	if n != 1 {
		t.Fatalf("requeued %d", n)
	}
	wait(t, woke, "the notification of RequeueFailed")
}

func TestTryLeader(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	a, b := open(t, url), open(t, url)
	key := rand.Int64() // advisory locks are per database, shared with other tests
	releaseA, ok, err := a.TryLeader(ctx, key)
	must(t, err)
	if !ok {
		t.Fatal("the first process did not become leader")
	}
	for range 2 { // also from the same handle: the lock is per connection
		for _, db := range []*postgres.DB{a, b} {
			release, ok, err := db.TryLeader(ctx, key)
			must(t, err)
			if ok {
				t.Fatal("a second leader was elected")
			}
			release() // a no-op, and safe
		}
	}
	releaseA()
	releaseA()
	releaseB, ok, err := b.TryLeader(ctx, key)
	must(t, err)
	if !ok {
		t.Fatal("no leader after the first released")
	}
	_ = releaseB
	// Closing the leader's store gives the lock up.
	must(t, b.Close())
	release, ok, err := a.TryLeader(ctx, key)
	must(t, err)
	if !ok {
		t.Fatal("no leader after the leader closed")
	}
	release()
	releaseB() // after Close: a no-op
}

// TestOnlyEndpointID checks that a test send goes to the named endpoint alone, whatever its
// filters, and that naming an endpoint the application lacks stores nothing.
func TestOnlyEndpointID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	app := seed(t, db, 2, 0, time.Now())
	filtered := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: "https://example.com",
		Secret: "whsec_x", FilterTypes: []string{"order.created"}, Channels: []string{"eu"}}
	must(t, db.CreateEndpoint(ctx, filtered))
	m := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID, EventType: hookline.TestEventType,
		Payload: []byte(`{"type":"test.webhook"}`), OnlyEndpointID: filtered.ID}
	ds, err := db.CreateMessage(ctx, m)
	must(t, err)
	if len(ds) != 1 || ds[0].EndpointID != filtered.ID {
		t.Fatalf("deliveries = %+v, want one to %s", ds, filtered.ID)
	}
	other := seed(t, db, 1, 0, time.Now())
	otherEPs, err := db.ListEndpoints(ctx, other.ID, hookline.ListOptions{Limit: 10})
	must(t, err)
	for _, only := range []string{"ep_missing", otherEPs.Data[0].ID} {
		m := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID, EventType: hookline.TestEventType,
			Payload: []byte(`{}`), OnlyEndpointID: only}
		_, err := db.CreateMessage(ctx, m)
		if !hookline.IsNotFound(err) {
			t.Fatalf("CreateMessage to endpoint %s = %v, want ENOTFOUND", only, err)
		}
		if _, err := db.GetMessage(ctx, app.ID, m.ID); !hookline.IsNotFound(err) {
			t.Fatalf("the refused message was stored: %v", err)
		}
	}
}

// TestBytesPostgresRefuses checks what PostgreSQL stores differently from SQLite: response
// bodies are kept byte for byte even when they are not UTF-8, and text with a NUL character
// is a validation error rather than an internal one.
func TestBytesPostgresRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	err := db.CreateApplication(ctx, &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "nul\x00name"})
	if hookline.ErrorCode(err) != hookline.EINVALID {
		t.Fatalf("an application name with NUL = %v, want EINVALID", err)
	}

	now := time.Now().UTC()
	seed(t, db, 1, 1, now)
	jobs, err := db.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: "w", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 1})
	must(t, err)
	body := "\xff\xfe binary \x00 body \xc3"
	a := &hookline.Attempt{URL: "https://example.com", ResponseStatusCode: 500, Response: body, Status: hookline.StatusFail,
		RequestHeaders: map[string]string{"x": "\x00"}}
	_, err = db.RecordAttempts(ctx, []hookline.Outcome{{DeliveryID: jobs[0].Delivery.ID, Status: hookline.StatusFail, Attempt: a}})
	must(t, err)
	got, err := db.GetAttempt(ctx, jobs[0].Delivery.AppID, a.ID)
	must(t, err)
	if got.Response != body || got.RequestHeaders["x"] != "\x00" {
		t.Fatalf("response = %q, headers %q; want %q kept byte for byte", got.Response, got.RequestHeaders, body)
	}
}

// TestIDOrder checks that ids sort bytewise (uppercase before lowercase) whatever the
// database's collation, as cursor pagination and SQLite expect.
func TestIDOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	for _, id := range []string{"app_b", "app_B", "app_a", "app_A", "app__"} {
		must(t, db.CreateApplication(ctx, &hookline.Application{ID: id, Name: id}))
	}
	p, err := db.ListApplications(ctx, hookline.ListOptions{Limit: 10})
	must(t, err)
	var got []string
	for _, a := range p.Data {
		got = append(got, a.ID)
	}
	if want := []string{"app_A", "app_B", "app__", "app_a", "app_b"}; !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

// TestSecretsSealedAtRest checks that no signing secret reaches the database in clear.
func TestSecretsSealedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "acme"}
	must(t, db.CreateApplication(ctx, app))
	const current = "whsec_Q3VycmVudFNpZ25pbmdTZWNyZXRQbGFpbnRleHQ="
	const old = "whsec_T2xkU2lnbmluZ1NlY3JldFBsYWludGV4dDEyMw=="
	ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: "https://example.com",
		Secret: current, OldSecrets: []hookline.OldSecret{{Secret: old, ExpiresAt: time.Now().Add(time.Hour)}}}
	must(t, db.CreateEndpoint(ctx, ep))
	got, err := db.GetEndpoint(ctx, app.ID, ep.ID)
	must(t, err)
	if got.Secret != current || len(got.OldSecrets) != 1 || got.OldSecrets[0].Secret != old {
		t.Fatalf("secrets did not round-trip: %q %+v", got.Secret, got.OldSecrets)
	}
	var row string
	must(t, db.Pool().QueryRow(ctx, "SELECT e::text FROM endpoints e WHERE id = $1", ep.ID).Scan(&row))
	for _, secret := range []string{current, old, strings.TrimPrefix(current, "whsec_"), strings.TrimPrefix(old, "whsec_")} {
		if strings.Contains(row, secret) {
			t.Fatalf("the endpoint row holds the secret %q in clear", secret)
		}
	}
}
