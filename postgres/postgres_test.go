package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/pgtest"
	"github.com/hookline/hookline/migrate"
	"github.com/hookline/hookline/postgres"
	"github.com/hookline/hookline/secrets"
	"github.com/hookline/hookline/storetest"
	"github.com/jackc/pgx/v5/stdlib"
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

// seed creates an application with endpoints and messages due before at (the endpoints older
// than the messages, so that the messages fan out to them), and returns the application.
func seed(t testing.TB, db hookline.Store, endpoints, messages int, at time.Time) *hookline.Application {
	t.Helper()
	ctx := context.Background()
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "acme"}
	if err := db.CreateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	for range endpoints {
		ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: "https://example.com/hook",
			Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: at.Add(-time.Duration(messages+1) * time.Millisecond)}
		if err := db.CreateEndpoint(ctx, ep); err != nil {
			t.Fatal(err)
		}
	}
	addMessages(t, db, app.ID, messages, at)
	return app
}

// addMessages creates n messages of the application, created (so due) in the n milliseconds
// before at.
func addMessages(t testing.TB, db hookline.Store, appID string, n int, at time.Time) {
	t.Helper()
	payload := []byte(`{"type":"order.paid","data":{"id":"ord_1","amount":4200,"currency":"EUR"}}`)
	for i := range n {
		if err := db.CreateMessage(context.Background(), &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: appID,
			EventType: "order.paid", Payload: payload, CreatedAt: at.Add(time.Duration(i-n) * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
	}
}

// claim claims up to limit jobs for owner at now, leased for a minute.
func claim(t testing.TB, db hookline.DeliveryStore, owner string, now time.Time, limit int) []hookline.Job {
	t.Helper()
	jobs, err := db.ClaimDeliveries(context.Background(), hookline.ClaimParams{Owner: owner, Now: now,
		LeaseUntil: now.Add(time.Minute), Limit: limit})
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// outcome is the outcome of job j, claimed by owner, that moves it to status: a Fresh job's
// outcome names its delivery in full and completes its message's dispatch (the tests record
// all the Fresh jobs of a claim in one call).
func outcome(j hookline.Job, owner string, status hookline.MessageStatus, a *hookline.Attempt) hookline.Outcome {
	return hookline.Outcome{DeliveryID: j.Delivery.ID, Owner: owner, AppID: j.Delivery.AppID, EndpointID: j.Delivery.EndpointID,
		Fresh: j.Fresh, MessageID: j.Delivery.MessageID, CompletesDispatch: j.Fresh, Status: status, Attempt: a}
}

// TestClaimAcrossProcesses has two handles on one database (two processes) claim with
// several workers each: SKIP LOCKED hands every message to exactly one of them for fan-out,
// and every delivery that did not fit a claim (stored as pending) to exactly one claimer, so
// each message goes to each endpoint once.
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
		counts = map[[2]string]int{}
		byProc = map[string]int{}
		fresh  = 0
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
					counts[[2]string{j.Delivery.MessageID, j.Delivery.EndpointID}]++
					byProc[proc]++
					if j.Fresh {
						fresh++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(counts) != 600 {
		t.Fatalf("claimed %d distinct deliveries, want 600", len(counts))
	}
	for pair, n := range counts {
		if n != 1 {
			t.Errorf("message %s claimed %d times for endpoint %s", pair[0], n, pair[1])
		}
	}
	t.Logf("claims by process: %v; %d fresh", byProc, fresh)
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
			err := db.CreateMessage(ctx, m)
			r := result{id: m.ID, err: err}
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
	now := time.Now()
	if jobs := claim(t, b, "w", now, 10); len(jobs) != 2 || jobs[0].Message.ID != winners[0].id || jobs[1].Message.ID != winners[0].id {
		t.Fatalf("the stored message fanned out to %d jobs, want 2", len(jobs))
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
	if err := a.CreateMessage(ctx, m); err != nil {
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
	must(t, b.CreateMessage(ctx, m))
	wait(t, woke, "the notification of CreateMessage")

	now := time.Now()
	jobs := claim(t, b, "w", now, 10)
	if len(jobs) != 1 || !jobs[0].Fresh {
		t.Fatalf("claimed %+v, want one fresh job", jobs)
	}
	epID := jobs[0].Endpoint.ID
	// Postponed: the delivery is stored, pending and due.
	postponed := outcome(jobs[0], "w", hookline.StatusPending, nil)
	postponed.NextAttemptAt = &now
	_, err := b.RecordAttempts(ctx, []hookline.Outcome{postponed})
	must(t, err)
	jobs = claim(t, b, "w", now, 10)
	if len(jobs) != 1 || jobs[0].Fresh {
		t.Fatalf("claimed %+v, want the stored delivery", jobs)
	}
	must(t, b.ReleaseDeliveries(ctx, "w", []string{jobs[0].Delivery.ID}))
	wait(t, woke, "the notification of ReleaseDeliveries")
	jobs = claim(t, b, "w", now, 10)
	_, err = b.RecordAttempts(ctx, []hookline.Outcome{{DeliveryID: jobs[0].Delivery.ID, Status: hookline.StatusFail}})
	must(t, err)
	_, err = b.RequeueDelivery(ctx, app.ID, m.ID, epID, now)
	must(t, err)
	wait(t, woke, "the notification of RequeueDelivery")
	jobs = claim(t, b, "w", now, 10)
	_, err = b.RecordAttempts(ctx, []hookline.Outcome{{DeliveryID: jobs[0].Delivery.ID, Status: hookline.StatusFail}})
	must(t, err)
	n, err := b.RequeueFailed(ctx, app.ID, epID, now.Add(-time.Hour), nil, now)
	must(t, err)
	if n != 1 {
		t.Fatalf("requeued %d", n)
	}
	wait(t, woke, "the notification of RequeueFailed")

	// A message whose dispatcher died is due again.
	must(t, b.CreateMessage(ctx, &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID,
		EventType: "order.paid", Payload: []byte(`{}`)}))
	wait(t, woke, "the notification of CreateMessage")
	// The requeued delivery, and the new message's fresh job.
	if jobs := claim(t, b, "w", time.Now(), 10); len(jobs) != 2 || jobs[0].Fresh || !jobs[1].Fresh {
		t.Fatalf("claimed %+v, want the requeued delivery and the new message's fresh job", jobs)
	}
	n, err = b.ReleaseExpiredLeases(ctx, time.Now().Add(time.Hour))
	must(t, err)
	if n != 2 { // the delivery, and the message
		t.Fatalf("released %d, want 2", n)
	}
	wait(t, woke, "the notification of ReleaseExpiredLeases")
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
	must(t, db.CreateMessage(ctx, m))
	ds, err := db.ListDeliveries(ctx, app.ID, m.ID)
	must(t, err)
	if len(ds) != 1 || ds[0].EndpointID != filtered.ID || ds[0].Status != hookline.StatusPending {
		t.Fatalf("deliveries = %+v, want one pending to %s", ds, filtered.ID)
	}
	// The message does not await dispatch: a claim finds the one delivery and nothing to fan out.
	if jobs := claim(t, db, "w", time.Now(), 10); len(jobs) != 1 || jobs[0].Fresh || jobs[0].Delivery.ID != ds[0].ID {
		t.Fatalf("claimed %+v, want only delivery %s", jobs, ds[0].ID)
	}
	other := seed(t, db, 1, 0, time.Now())
	otherEPs, err := db.ListEndpoints(ctx, other.ID, hookline.ListOptions{Limit: 10})
	must(t, err)
	for _, only := range []string{"ep_missing", otherEPs.Data[0].ID} {
		m := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID, EventType: hookline.TestEventType,
			Payload: []byte(`{}`), OnlyEndpointID: only}
		err := db.CreateMessage(ctx, m)
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
	_, err = db.RecordAttempts(ctx, []hookline.Outcome{outcome(jobs[0], "w", hookline.StatusFail, a)})
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
	p, err := db.ListApplications(ctx, hookline.ApplicationListOptions{ListOptions: hookline.ListOptions{Limit: 10}})
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

// TestRefanAcrossProcesses has a process die while its fresh jobs are on their way: another
// process fans the message out again when the dispatch lease ends, the first outcome recorded
// for each endpoint wins and the late one is dropped whole, and the dispatch ends only for the
// process that holds it.
func TestRefanAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	a, b := open(t, url), open(t, url)
	if _, err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	app := seed(t, a, 2, 1, now)
	ja := claim(t, a, "a", now, 10)
	if len(ja) != 2 || !ja[0].Fresh || !ja[1].Fresh || ja[0].Message != ja[1].Message {
		t.Fatalf("a claimed %+v, want two fresh jobs of one message", ja)
	}
	if again := claim(t, b, "b", now, 10); len(again) != 0 {
		t.Fatalf("b claimed %d jobs of a message leased to a", len(again))
	}
	later := now.Add(2 * time.Minute) // a's dispatch lease has ended
	jb := claim(t, b, "b", later, 10)
	if len(jb) != 2 || !jb[0].Fresh || jb[0].Delivery.ID == ja[0].Delivery.ID || jb[0].Delivery.EndpointID != ja[0].Delivery.EndpointID {
		t.Fatalf("b claimed %+v, want the message fanned out again", jb)
	}
	// b finishes the first endpoint; then a, late, reports both.
	first := outcome(jb[0], "b", hookline.StatusSuccess, successAttempt("b"))
	first.CompletesDispatch = false
	health, err := b.RecordAttempts(ctx, []hookline.Outcome{first})
	must(t, err)
	if len(health) != 1 || health[0].EndpointID != jb[0].Endpoint.ID {
		t.Fatalf("health = %+v", health)
	}
	late := []hookline.Outcome{outcome(ja[0], "a", hookline.StatusSuccess, successAttempt("a")), outcome(ja[1], "a", hookline.StatusSuccess, successAttempt("a"))}
	health, err = a.RecordAttempts(ctx, late)
	must(t, err)
	if len(health) != 1 || health[0].EndpointID != ja[1].Endpoint.ID {
		t.Fatalf("health after a's late outcomes = %+v, want only the second endpoint's", health)
	}
	// Both deliveries succeeded at once, so they are rowless (migration 0019): each has its
	// attempt's id under the delivery prefix.
	ds, err := a.ListDeliveries(ctx, app.ID, ja[0].Message.ID)
	must(t, err)
	rowlessID := func(at *hookline.Attempt) string {
		return hookline.PrefixDelivery + strings.TrimPrefix(at.ID, hookline.PrefixAttempt)
	}
	if len(ds) != 2 || ds[0].ID != rowlessID(first.Attempt) || ds[1].ID != rowlessID(late[1].Attempt) ||
		ds[0].EndpointID != jb[0].Endpoint.ID || ds[1].EndpointID != ja[1].Endpoint.ID || ds[0].AttemptCount != 1 ||
		ds[1].Status != hookline.StatusSuccess {
		t.Fatalf("deliveries = %+v, want b's to the first endpoint and a's to the second", ds)
	}
	attempts, err := a.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{ListOptions: hookline.ListOptions{Limit: 10}})
	must(t, err)
	if len(attempts.Data) != 2 {
		t.Fatalf("%d attempts, want 2", len(attempts.Data))
	}
	// a's outcome did not end b's dispatch: the message is due when b's lease ends.
	next, err := a.NextDueAt(ctx)
	must(t, err)
	if next == nil || !next.Equal(later.Add(time.Minute).Truncate(time.Microsecond)) {
		t.Fatalf("next due at %v, want the end of b's lease", next)
	}
	// b's last outcome (its delivery is a's by now) is dropped, but ends the dispatch.
	_, err = b.RecordAttempts(ctx, []hookline.Outcome{outcome(jb[1], "b", hookline.StatusFail, successAttempt("b"))})
	must(t, err)
	if next, err := a.NextDueAt(ctx); err != nil || next != nil {
		t.Fatalf("next due at %v, %v; want nothing", next, err)
	}
	if jobs := claim(t, a, "a", later.Add(time.Hour), 10); len(jobs) != 0 {
		t.Fatalf("claimed %+v after the dispatch ended", jobs)
	}
}

// successAttempt is a 200 attempt whose request headers name the process that made it.
func successAttempt(owner string) *hookline.Attempt {
	return &hookline.Attempt{URL: "https://example.com/hook", ResponseStatusCode: 200, Status: hookline.StatusSuccess,
		RequestHeaders: map[string]string{"owner": owner}}
}

// TestRefanBySameOwner: a process whose dispatch lease of a message ran out fans the message
// out again itself (same owner), succeeds at once, and then records the first fan-out's late
// success to the same endpoint: that one is dropped, so the delivery stays one rowless delivery
// with one attempt. Its owner still holds the message, but under a newer lease.
func TestRefanBySameOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	now := time.Now().UTC()
	app := seed(t, db, 1, 1, now)
	first := claim(t, db, "w", now, 10)
	if len(first) != 1 || !first[0].Fresh {
		t.Fatalf("first claim %+v, want one fresh job", first)
	}
	later := now.Add(2 * time.Minute) // the first lease has ended
	second := claim(t, db, "w", later, 10)
	if len(second) != 1 || !second[0].Fresh || second[0].Delivery.ID == first[0].Delivery.ID {
		t.Fatalf("second claim %+v, want the message fanned out again", second)
	}
	o := outcome(second[0], "w", hookline.StatusSuccess, successAttempt("w"))
	o.CompletesDispatch = false
	_, err := db.RecordAttempts(ctx, []hookline.Outcome{o})
	must(t, err)
	_, err = db.RecordAttempts(ctx, []hookline.Outcome{outcome(first[0], "w", hookline.StatusSuccess, successAttempt("w"))})
	must(t, err)
	ds, err := db.ListDeliveries(ctx, app.ID, first[0].Delivery.MessageID)
	must(t, err)
	attempts, err := db.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{ListOptions: hookline.ListOptions{Limit: 10}})
	must(t, err)
	if len(ds) != 1 || len(attempts.Data) != 1 {
		t.Fatalf("%d deliveries and %d attempts after the late outcome, want 1 and 1: %+v", len(ds), len(attempts.Data), ds)
	}
}

// TestSpill claims fewer jobs than a message fans out to: the rest are stored as pending
// deliveries due now, which the next claim finds.
func TestSpill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	now := time.Now().UTC()
	app := seed(t, db, 3, 1, now)
	jobs := claim(t, db, "w", now, 1)
	if len(jobs) != 1 || !jobs[0].Fresh {
		t.Fatalf("claimed %+v, want one fresh job", jobs)
	}
	ds, err := db.ListDeliveries(ctx, app.ID, jobs[0].Message.ID)
	must(t, err)
	if len(ds) != 2 || ds[0].Status != hookline.StatusPending || ds[0].NextAttemptAt.After(now) {
		t.Fatalf("deliveries = %+v, want two pending, due", ds)
	}
	rest := claim(t, db, "w", now, 10)
	if len(rest) != 2 || rest[0].Fresh || rest[1].Fresh {
		t.Fatalf("claimed %+v, want the two stored deliveries", rest)
	}
	_, err = db.RecordAttempts(ctx, []hookline.Outcome{outcome(jobs[0], "w", hookline.StatusSuccess, nil),
		outcome(rest[0], "w", hookline.StatusSuccess, nil), outcome(rest[1], "w", hookline.StatusSuccess, nil)})
	must(t, err)
	if next, err := db.NextDueAt(ctx); err != nil || next != nil {
		t.Fatalf("next due at %v, %v; want nothing", next, err)
	}
	if n, err := db.Purge(ctx, now.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want the message deleted", n, err)
	}
}

// TestMigrateLazyFanOut upgrades a database that holds a message fanned out the old way:
// the message does not await dispatch, its delivery is claimed as before, and a second
// delivery to the same endpoint is refused.
func TestMigrateLazyFanOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t, pgtest.URL(t))
	sqlDB := stdlib.OpenDBFromPool(db.Pool())
	defer sqlDB.Close()
	init, err := fs.ReadFile(postgres.Migrations(), "0001_init.sql")
	must(t, err)
	_, err = migrate.Up(ctx, sqlDB, fstest.MapFS{"0001_init.sql": {Data: init}}, migrate.WithDialect(migrate.Postgres))
	must(t, err)
	now := time.Now().UTC()
	app := seed(t, db, 1, 0, now)
	// Read with SQL: the store's endpoint reads want the columns of later migrations.
	var epID string
	must(t, db.Pool().QueryRow(ctx, `SELECT id FROM endpoints WHERE app_id = $1`, app.ID).Scan(&epID))
	msgID := hookline.NewID(hookline.PrefixMessage)
	_, err = db.Pool().Exec(ctx, `INSERT INTO messages (id, app_id, event_type, payload, created_at)
		VALUES ($1, $2, 'order.paid', '{}', $3)`, msgID, app.ID, now.UnixMicro())
	must(t, err)
	_, err = db.Pool().Exec(ctx, `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, next_attempt_at,
		created_at, updated_at) VALUES ('dlv_old', $1, $2, $3, 1, $4, $4, $4)`, app.ID, msgID, epID, now.UnixMicro())
	must(t, err)

	applied, err := db.Migrate(ctx)
	must(t, err)
	if !slices.Contains(applied, "0004_lazy_fanout.sql") {
		t.Fatalf("applied %v", applied)
	}
	jobs := claim(t, db, "w", now, 10)
	if len(jobs) != 1 || jobs[0].Fresh || jobs[0].Delivery.ID != "dlv_old" {
		t.Fatalf("claimed %+v, want only the old delivery", jobs)
	}
	_, err = db.Pool().Exec(ctx, `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, created_at, updated_at)
		VALUES ('dlv_twice', $1, $2, $3, 1, 0, 0)`, app.ID, msgID, epID)
	if err == nil || !strings.Contains(err.Error(), "deliveries_msg") {
		t.Fatalf("a second delivery to the endpoint = %v, want a unique violation", err)
	}
}

// TestEndpointHeadersSealed upgrades a database whose endpoint headers are clear JSONB, as
// every version before migration 0008 wrote them: the migration makes the column TEXT and
// seals every row's headers under the main key, and the headers of endpoints written after it
// are sealed too. No credential is left in clear in the table, and the store reads them all.
func TestEndpointHeadersSealed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t, pgtest.URL(t))
	sqlDB := stdlib.OpenDBFromPool(db.Pool())
	defer sqlDB.Close()
	before := fstest.MapFS{}
	entries, err := fs.ReadDir(postgres.Migrations(), ".")
	must(t, err)
	for _, e := range entries {
		if e.Name() < "0008" {
			data, err := fs.ReadFile(postgres.Migrations(), e.Name())
			must(t, err)
			before[e.Name()] = &fstest.MapFile{Data: data}
		}
	}
	_, err = migrate.Up(ctx, sqlDB, before, migrate.WithDialect(migrate.Postgres))
	must(t, err)
	now := time.Now().UTC()
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "Acme", CreatedAt: now, UpdatedAt: now}
	must(t, db.CreateApplication(ctx, app))
	creds := map[string]string{"Authorization": "Bearer cred-authorization-7Qx2", "X-Api-Key": "cred-api-key-9Lm4", "X-Tenant": "acme"}
	secret, err := testBox(t).Seal([]byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
	must(t, err)
	old := hookline.NewID(hookline.PrefixEndpoint)
	clear, err := json.Marshal(creds)
	must(t, err)
	_, err = db.Pool().Exec(ctx, `INSERT INTO endpoints (id, app_id, url, version, headers, secret_sealed, created_at, updated_at)
		VALUES ($1, $2, 'https://hooks.acme.example/old', 1, $3, $4, $5, $5)`, old, app.ID, string(clear), secret, now.UnixMicro())
	must(t, err)
	empty := hookline.NewID(hookline.PrefixEndpoint)
	_, err = db.Pool().Exec(ctx, `INSERT INTO endpoints (id, app_id, url, version, secret_sealed, created_at, updated_at)
		VALUES ($1, $2, 'https://hooks.acme.example/none', 1, $3, $4, $4)`, empty, app.ID, secret, now.UnixMicro())
	must(t, err)

	applied, err := db.Migrate(ctx)
	must(t, err)
	if !slices.Contains(applied, "0008_seal_endpoint_headers.sql") {
		t.Fatalf("applied %v, want 0008 among them", applied)
	}
	ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: "https://hooks.acme.example/new",
		Version: 1, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Headers: maps.Clone(creds)}
	must(t, db.CreateEndpoint(ctx, ep))

	var table string
	must(t, db.Pool().QueryRow(ctx, `SELECT string_agg(id || ' ' || headers, E'\n') FROM endpoints`).Scan(&table))
	for name, v := range creds {
		if name != "X-Tenant" && strings.Contains(table, v) {
			t.Errorf("the endpoints table holds the %s value in clear:\n%s", name, table)
		}
	}
	for _, id := range []string{old, ep.ID} {
		got, err := db.GetEndpoint(ctx, app.ID, id)
		must(t, err)
		if !maps.Equal(got.Headers, creds) {
			t.Errorf("endpoint %s: headers %v, want %v", id, got.Headers, creds)
		}
	}
	if got, err := db.GetEndpoint(ctx, app.ID, empty); err != nil || len(got.Headers) != 0 {
		t.Errorf("an endpoint without headers: %v, %v", got, err)
	}
}
