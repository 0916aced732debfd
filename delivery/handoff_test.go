package delivery

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/egress"
	"github.com/hookline/hookline/secrets"
	"github.com/hookline/hookline/sqlite"
)

// openStore opens a migrated SQLite store in the test's temporary directory.
func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	box, err := secrets.NewBox(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hookline.db"), sqlite.Options{SecretBox: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestHandOffLeases: leases are given only while the dispatcher runs and keeps up, each lease
// is given back or handed off, and messages handed off but not fanned out when the dispatcher
// stops are released, due at once for any process's claim (not left leased until their lease
// expires).
func TestHandOffLeases(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Now()
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "acme", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: "https://example.com/hook",
		Version: 1, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: now.Add(-time.Hour), UpdatedAt: now}
	if err := st.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}

	d := New(st, hookline.SystemClock{}, Config{Workers: 4}, nil, nil)
	if d.Lease() != nil {
		t.Fatal("a dispatcher that is not running gave a lease")
	}
	// As Run does once its first claim found no backlog.
	d.handMu.Lock()
	d.accepting = true
	d.handMu.Unlock()
	d.behind.Store(false)

	lease := d.Lease()
	if lease == nil || lease.Owner != d.Owner() || !lease.Until.After(now) {
		t.Fatalf("Lease = %+v, want one for %s ending in the future", lease, d.Owner())
	}
	msg := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID, EventType: "order.paid",
		Payload: []byte(`{}`), CreatedAt: now, Lease: lease}
	if err := st.CreateMessage(ctx, msg); err != nil {
		t.Fatal(err)
	}
	d.HandOff(msg)
	if d.Lease() == nil {
		t.Fatal("no second lease")
	}
	d.HandOff(nil) // the second message was not created: its lease is given back
	d.handMu.Lock()
	inbox, leased := len(d.inbox), d.leased
	d.handMu.Unlock()
	if inbox != 1 || leased != 0 {
		t.Fatalf("inbox holds %d messages and %d leases are out, want 1 and 0", inbox, leased)
	}

	// Full: no lease, and none after until a claim shows the store has no backlog.
	d.heldNow.Store(int64(d.maxHeld))
	if d.Lease() != nil {
		t.Fatal("a full dispatcher gave a lease")
	}
	d.heldNow.Store(0)
	if d.Lease() != nil {
		t.Fatal("a lease was given before a claim took what waits in the store")
	}

	d.stopHandOffs(ctx)
	if d.Lease() != nil {
		t.Fatal("a stopped dispatcher gave a lease")
	}
	ds, err := st.ListDeliveries(ctx, app.ID, msg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 0 {
		t.Fatalf("deliveries after the stop = %+v, want none: the message is released whole", ds)
	}
	if b, err := st.Backlog(ctx); err != nil || b.MessagesAwaitingDispatch != 1 || b.DeliveriesPending != 0 {
		t.Fatalf("Backlog = %+v, %v; want the message awaiting dispatch again", b, err)
	}
	// Due at once, for any process, though its lease would have lasted.
	jobs, err := st.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: "other", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || !jobs[0].Fresh || jobs[0].Message.ID != msg.ID || jobs[0].Endpoint.ID != ep.ID {
		t.Fatalf("claim after the stop = %+v, want the message's fresh job to %s", jobs, ep.ID)
	}
}

// failingFanOut is the SQLite store with its first fan-outs failing, as when the database is
// briefly unavailable.
type failingFanOut struct {
	*sqlite.DB
	failures atomic.Int32 // fan-outs still to fail
	calls    atomic.Int32
}

var errFanOutInjected = errors.New("injected: database unavailable")

func (s *failingFanOut) FanOut(ctx context.Context, owner string, msgs []*hookline.Message, room int, now time.Time) ([]hookline.Job, error) {
	s.calls.Add(1)
	if s.failures.Add(-1) >= 0 {
		return nil, errFanOutInjected
	}
	return s.DB.FanOut(ctx, owner, msgs, room, now)
}

// TestHandOffFanOutFails: when the fan-out of handed-off messages fails, the dispatcher tries
// it again after the poll interval, since the messages are still leased to it, instead of
// leaving them until their dispatch lease (90 s here) expires.
func TestHandOffFanOutFails(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := openStore(t)
	arrived := make(chan string, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Header.Get("webhook-id")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	now := time.Now()
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "acme", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: rcv.URL + "/hook",
		Version: 1, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}

	st := &failingFanOut{DB: db}
	st.failures.Store(2)
	d := New(st, hookline.SystemClock{}, Config{Workers: 4, PollInterval: 100 * time.Millisecond, Lease: 90 * time.Second,
		Egress: egress.Policy{AllowHTTP: true, AllowPrivate: true}}, nil, nil)
	stopped := make(chan struct{})
	go func() { defer close(stopped); d.Run(ctx) }()
	defer func() { cancel(); <-stopped }()

	var lease *hookline.DispatchLease
	for deadline := time.Now().Add(5 * time.Second); lease == nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the running dispatcher gave no lease")
		}
		lease = d.Lease()
	}
	msg := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID, EventType: "order.paid",
		Payload: []byte(`{"n":1}`), CreatedAt: time.Now(), Lease: lease}
	if err := db.CreateMessage(ctx, msg); err != nil {
		t.Fatal(err)
	}
	d.HandOff(msg)
	select {
	case id := <-arrived:
		if id != msg.ID {
			t.Fatalf("webhook-id %q, want %s", id, msg.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the message did not arrive within 10 s after %d failed fan-outs (its lease runs 90 s)", st.calls.Load())
	}
	if n := st.calls.Load(); n != 3 {
		t.Errorf("%d fan-outs, want 3: two failed, the third delivered", n)
	}
}
