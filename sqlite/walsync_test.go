package sqlite

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/secrets"
)

func openSynced(t *testing.T, synchronous string) *DB {
	t.Helper()
	ctx := context.Background()
	box, err := secrets.NewBox(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, filepath.Join(t.TempDir(), "sync.db"), Options{SecretBox: box, Synchronous: synchronous})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestDurableWrites: with synchronous=FULL every kind of write (a statement outside a
// transaction, a transaction, a batch of messages, a recording shared with one) returns only
// after an fsync of the WAL that started after its commit; the connection itself does not sync.
// NORMAL makes no fsync of its own.
func TestDurableWrites(t *testing.T) {
	ctx := context.Background()
	db := openSynced(t, "FULL")
	var mode int
	if err := db.w.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&mode); err != nil || mode != 1 {
		t.Fatalf("writer connection synchronous = %d, %v; want 1 (NORMAL)", mode, err)
	}
	now := time.Now()
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "Acme", CreatedAt: now, UpdatedAt: now}
	ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: "https://example.com/hook",
		Version: 1, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: now, UpdatedAt: now}
	msg := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID, EventType: "order.paid",
		Payload: []byte(`{}`), CreatedAt: now}
	writes := []struct {
		name string
		fn   func() error
	}{
		{"a statement", func() error { return db.CreateApplication(ctx, app) }},
		{"a transaction", func() error { return db.CreateEndpoint(ctx, ep) }},
		{"a message", func() error { return db.CreateMessage(ctx, msg) }},
		{"a recording", func() error {
			_, err := db.RecordAttempts(ctx, []hookline.Outcome{{DeliveryID: hookline.NewID(hookline.PrefixDelivery),
				AppID: app.ID, MessageID: msg.ID, EndpointID: ep.ID, Fresh: true, Status: hookline.StatusSuccess}})
			return err
		}},
	}
	for _, w := range writes {
		before := db.wal.hist.count.Load()
		if err := w.fn(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if db.wal.hist.count.Load() == before {
			t.Errorf("%s returned without an fsync of the WAL", w.name)
		}
	}

	if normal := openSynced(t, "NORMAL"); normal.wal != nil {
		t.Error("synchronous=NORMAL syncs the WAL after commits")
	}
}

// TestWALSyncErrors: a failed fsync (here: no WAL to open) reaches the waiters, and after close
// every waiter is answered.
func TestWALSyncErrors(t *testing.T) {
	s := newWALSync(filepath.Join(t.TempDir(), "missing.db"))
	if err := s.wait(context.Background()); err == nil {
		t.Fatal("wait on a WAL that cannot be opened succeeded")
	}
	s.close()
	if err := s.wait(context.Background()); !errors.Is(err, errClosed) {
		t.Fatalf("wait after close = %v, want errClosed", err)
	}
}

// TestCheckpointCatchesUp: a checkpoint copies every WAL frame back beside the writer, so the
// next commit starts the WAL over instead of growing it.
func TestCheckpointCatchesUp(t *testing.T) {
	ctx := context.Background()
	db := openSynced(t, "FULL")
	create := func(n int) {
		for range n {
			now := time.Now()
			app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "acme", CreatedAt: now, UpdatedAt: now}
			if err := db.CreateApplication(ctx, app); err != nil {
				t.Fatal(err)
			}
		}
	}
	create(300)
	db.lastCheckpoint.Store(0) // due now
	db.checkpoint(ctx)
	create(1)
	// Frames now in the WAL (the checkpoint this reads them with comes after the count).
	var frames int
	if err := db.ck.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(new(int), &frames, new(int)); err != nil {
		t.Fatal(err)
	}
	if frames >= 300 {
		t.Fatalf("the commit after a checkpoint left %d frames in the WAL: it did not start the WAL over", frames)
	}
}
