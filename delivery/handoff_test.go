package delivery

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/secrets"
	"github.com/hookline/hookline/sqlite"
)

// TestHandOffLeases: leases are given only while the dispatcher runs and keeps up, each lease
// is given back or handed off, and messages handed off but not fanned out when the dispatcher
// stops are stored as pending deliveries (not left leased until their lease expires).
func TestHandOffLeases(t *testing.T) {
	ctx := context.Background()
	box, err := secrets.NewBox(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "handoff.db"), sqlite.Options{SecretBox: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
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
	if len(ds) != 1 || ds[0].Status != hookline.StatusPending || ds[0].EndpointID != ep.ID {
		t.Fatalf("deliveries after the stop = %+v, want one pending to %s", ds, ep.ID)
	}
	if b, err := st.Backlog(ctx); err != nil || b.MessagesAwaitingDispatch != 0 || b.DeliveriesPending != 1 {
		t.Fatalf("Backlog = %+v, %v; want the message's dispatch ended and its delivery pending", b, err)
	}
}
