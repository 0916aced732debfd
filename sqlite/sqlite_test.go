package sqlite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/secrets"
	"github.com/hookline/hookline/sqlite"
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

// openDB opens and migrates a fresh database file in a test directory.
func openDB(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{SecretBox: testBox(t), Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) hookline.Store {
		return openDB(t, filepath.Join(t.TempDir(), "hookline.db"))
	})
}

func TestDeliveryStore(t *testing.T) {
	storetest.RunDelivery(t, func(t *testing.T) storetest.DeliveryStore {
		return openDB(t, filepath.Join(t.TempDir(), "hookline.db"))
	})
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookline.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{SecretBox: testBox(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
		if !m.Applied {
			t.Errorf("%s not applied", m.Name)
		}
	}
}

func TestOpenOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := sqlite.Open(ctx, filepath.Join(dir, "a.db"), sqlite.Options{}); err == nil {
		t.Error("Open without a SecretBox succeeded")
	}
	if _, err := sqlite.Open(ctx, filepath.Join(dir, "b.db"), sqlite.Options{SecretBox: testBox(t), Synchronous: "OFF"}); err == nil {
		t.Error("Open with synchronous=OFF succeeded")
	}
	if _, err := sqlite.Open(ctx, ":memory:", sqlite.Options{SecretBox: testBox(t)}); err == nil {
		t.Error("Open of :memory: succeeded")
	}
	// Characters that URIs give meaning to are fine in a path.
	db := openDB(t, filepath.Join(dir, "odd?name#1%.db"))
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "odd?name#1%.db")); err != nil {
		t.Fatalf("database not at the given path: %v", err)
	}

	var mode, fk string
	if err := db.ReadDB().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := db.WriteDB().QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(mode, "wal") || fk != "1" {
		t.Fatalf("journal_mode=%s foreign_keys=%s, want wal and 1", mode, fk)
	}
	// The read pool cannot write.
	if _, err := db.ReadDB().ExecContext(ctx, "DELETE FROM applications"); err == nil {
		t.Fatal("the read pool wrote to the database")
	}
}

// TestSecretsSealedAtRest checks that no signing secret reaches the database file in clear.
func TestSecretsSealedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "hookline.db")
	db := openDB(t, path)
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "acme"}
	if err := db.CreateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	const current = "whsec_Q3VycmVudFNpZ25pbmdTZWNyZXRQbGFpbnRleHQ="
	const old = "whsec_T2xkU2lnbmluZ1NlY3JldFBsYWludGV4dDEyMw=="
	ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: "https://example.com",
		Secret: current, OldSecrets: []hookline.OldSecret{{Secret: old, ExpiresAt: time.Now().Add(time.Hour)}}}
	if err := db.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	// A destination's connection URL holds the broker's password.
	const brokerPassword = "BrokerPa55wordInClear"
	if _, err := db.SetEndpointDestination(ctx, app.ID, ep.ID, &hookline.Destination{Type: "redis",
		URL: "redis://hookline:" + brokerPassword + "@redis.example.com:6379/0", Options: map[string]string{"stream": "s"}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetEndpoint(ctx, app.ID, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Destination == nil || !strings.Contains(got.Destination.URL, brokerPassword) {
		t.Fatalf("destination did not round-trip: %+v", got.Destination)
	}
	if got.Secret != current || len(got.OldSecrets) != 1 || got.OldSecrets[0].Secret != old {
		t.Fatalf("secrets did not round-trip: %q %+v", got.Secret, got.OldSecrets)
	}

	var sealed, oldSealed string
	if err := db.ReadDB().QueryRowContext(ctx, "SELECT secret_sealed, old_secrets_sealed FROM endpoints WHERE id = ?", ep.ID).
		Scan(&sealed, &oldSealed); err != nil {
		t.Fatal(err)
	}
	// Neither the secret nor its key bytes (what a base64 search would find) appear.
	for _, secret := range []string{current, old, strings.TrimPrefix(current, "whsec_"), strings.TrimPrefix(old, "whsec_")} {
		if strings.Contains(sealed, secret) || strings.Contains(oldSealed, secret) {
			t.Fatalf("column holds the secret %q in clear", secret)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Every file SQLite wrote (the database, and the WAL if one is left).
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{current, old, strings.TrimPrefix(current, "whsec_"), strings.TrimPrefix(old, "whsec_"), brokerPassword} {
			if bytes.Contains(data, []byte(secret)) {
				t.Fatalf("%s holds the secret %q in clear", e.Name(), secret)
			}
		}
	}
}

// TestConcurrentWrites checks that many goroutines writing at once all succeed: the single
// writer connection queues them instead of failing with SQLITE_BUSY.
func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "hookline.db"))
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "acme"}
	if err := db.CreateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: "https://example.com", Secret: "whsec_x"}
	if err := db.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	const n = 200
	errs := make(chan error, n)
	for i := range n {
		go func() {
			err := db.CreateMessage(ctx, &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID,
				EventType: "order.paid", EventID: "evt-" + string(rune('A'+i%50)), Payload: []byte(`{}`)})
			if hookline.ErrorCode(err) == hookline.EDUPLICATEEVENT {
				err = nil
			}
			if err == nil {
				// Reads run beside the writes on the read pool.
				_, err = db.ListMessages(ctx, app.ID, hookline.MessageListOptions{ListOptions: hookline.ListOptions{Limit: 10}})
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var waiting int
	if err := db.WriteDB().QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE dispatch_until IS NOT NULL`).Scan(&waiting); err != nil {
		t.Fatal(err)
	}
	if waiting != 50 {
		t.Fatalf("messages awaiting dispatch = %d, want 50 (one per distinct eventId)", waiting)
	}
}

// TestClaimSkipsUnreadableEndpoint: an endpoint whose secret no longer opens (a changed main
// key, a damaged row) must not stall the deliveries of every other endpoint claimed with it.
func TestClaimSkipsUnreadableEndpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "hookline.db"))
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "acme"}
	if err := db.CreateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	newEP := func() *hookline.Endpoint {
		ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: "https://example.com",
			Secret: "whsec_Q3VycmVudFNpZ25pbmdTZWNyZXRQbGFpbnRleHQ="}
		if err := db.CreateEndpoint(ctx, ep); err != nil {
			t.Fatal(err)
		}
		return ep
	}
	broken, healthy := newEP(), newEP()
	if _, err := db.WriteDB().ExecContext(ctx, `UPDATE endpoints SET secret_sealed = 'v1:garbage' WHERE id = ?`, broken.ID); err != nil {
		t.Fatal(err)
	}
	msg := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: app.ID, EventType: "a.b",
		Payload: []byte(`{}`)}
	if err := db.CreateMessage(ctx, msg); err != nil {
		t.Fatal(err)
	}
	jobs, err := db.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: "t", Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: 10})
	if err != nil {
		t.Fatalf("claim with an unreadable endpoint: %v", err)
	}
	if len(jobs) != 1 || jobs[0].Endpoint.ID != healthy.ID {
		t.Fatalf("claimed %d jobs, want the healthy endpoint's one", len(jobs))
	}
}

// TestEagerDeliveriesAfterUpgrade: a database from before lazy fan-out (migration 0004) holds
// messages with their pending deliveries already stored. After the upgrade those messages do
// not wait for dispatch, and their deliveries are claimed as stored ones, never fanned out
// again.
func TestEagerDeliveriesAfterUpgrade(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "hookline.db"))
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "acme"}
	if err := db.CreateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: "https://example.com",
		Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: time.Now().Add(-time.Hour)}
	if err := db.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	// What 0003's eager fan-out left behind: the message (dispatch_until NULL, as the ALTER
	// TABLE gives old rows) and its pending delivery.
	msgID, dID := hookline.NewID(hookline.PrefixMessage), hookline.NewID(hookline.PrefixDelivery)
	at := time.Now().Add(-time.Minute).UnixMicro()
	w := db.WriteDB()
	if _, err := w.ExecContext(ctx, `INSERT INTO messages (id, app_id, event_type, payload, created_at) VALUES (?, ?, 'a.b', X'7B7D', ?)`,
		msgID, app.ID, at); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, 1, ?, ?, ?)`, dID, app.ID, msgID, ep.ID, at, at, at); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	jobs, err := db.ClaimDeliveries(ctx, hookline.ClaimParams{Owner: "w", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].Fresh || jobs[0].Delivery.ID != dID || jobs[0].Message.ID != msgID {
		t.Fatalf("claim after the upgrade = %+v, want the stored delivery %s", jobs, dID)
	}
	if next, err := db.NextDueAt(ctx); err != nil || next != nil {
		t.Fatalf("NextDueAt = %v, %v; want nothing waiting", next, err)
	}
}
