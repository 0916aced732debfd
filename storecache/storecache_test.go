package storecache_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/secrets"
	"github.com/hookline/hookline/sqlite"
	"github.com/hookline/hookline/storecache"
)

// fakeNow is a clock the test moves by hand.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeNow) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeNow) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// open returns a real SQLite store and the cache in front of it. Changes made on db directly
// stand for changes made by another process.
func open(t *testing.T) (db *sqlite.DB, cached *storecache.Store, clock *fakeNow) {
	t.Helper()
	ctx := context.Background()
	box, err := secrets.NewBox(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "cache.db"), sqlite.Options{SecretBox: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clock = &fakeNow{t: time.Now()}
	return db, storecache.New(db, clock.now), clock
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newApp(t *testing.T, st hookline.Store, uid string) *hookline.Application {
	t.Helper()
	now := time.Now()
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), UID: uid, Name: "Acme",
		Metadata: map[string]string{"tier": "gold"}, CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateApplication(context.Background(), app))
	return app
}

// A change made elsewhere shows once the entry is TTL old; one made through the cache shows at once.
func TestApplication(t *testing.T) {
	ctx := context.Background()
	db, c, clock := open(t)
	app := newApp(t, db, "acme")

	got, err := c.GetApplication(ctx, "acme")
	must(t, err)
	got.Name, got.Metadata["tier"] = "changed by the caller", "changed"
	again, err := c.GetApplication(ctx, "acme")
	must(t, err)
	if again.Name != "Acme" || again.Metadata["tier"] != "gold" {
		t.Fatalf("cached application = %+v: a caller's change to its copy leaked into the cache", again)
	}

	elsewhere := *app
	elsewhere.Name = "Renamed elsewhere"
	must(t, db.UpdateApplication(ctx, &elsewhere))
	if got, _ := c.GetApplication(ctx, "acme"); got.Name != "Acme" {
		t.Fatalf("name = %q within the TTL, want the cached %q", got.Name, "Acme")
	}
	clock.add(storecache.TTL)
	if got, _ := c.GetApplication(ctx, "acme"); got.Name != "Renamed elsewhere" {
		t.Fatalf("name = %q after the TTL, want %q", got.Name, "Renamed elsewhere")
	}

	here := elsewhere
	here.Name = "Renamed here"
	must(t, c.UpdateApplication(ctx, &here))
	if got, _ := c.GetApplication(ctx, "acme"); got.Name != "Renamed here" {
		t.Fatalf("name = %q after an update through the cache, want %q", got.Name, "Renamed here")
	}
	must(t, c.DeleteApplication(ctx, app.ID))
	if _, err := c.GetApplication(ctx, "acme"); hookline.ErrorCode(err) != hookline.ENOTFOUND {
		t.Fatalf("GetApplication after the delete = %v, want ENOTFOUND", err)
	}
}

// A miss is not kept: what is created after it is found at once.
func TestMissNotKept(t *testing.T) {
	ctx := context.Background()
	db, c, _ := open(t)
	if _, err := c.GetApplication(ctx, "later"); hookline.ErrorCode(err) != hookline.ENOTFOUND {
		t.Fatalf("GetApplication = %v, want ENOTFOUND", err)
	}
	newApp(t, db, "later")
	if _, err := c.GetApplication(ctx, "later"); err != nil {
		t.Fatalf("GetApplication after the create = %v", err)
	}
	if _, err := c.GetEventType(ctx, "order.paid"); hookline.ErrorCode(err) != hookline.ENOTFOUND {
		t.Fatalf("GetEventType = %v, want ENOTFOUND", err)
	}
	now := time.Now()
	must(t, db.CreateEventType(ctx, &hookline.EventType{Name: "order.paid", CreatedAt: now, UpdatedAt: now}))
	if _, err := c.GetEventType(ctx, "order.paid"); err != nil {
		t.Fatalf("GetEventType after the create = %v", err)
	}
}

// A token revoked through the cache is refused at once; one revoked elsewhere within the TTL.
// Deleting an application forgets its tokens.
func TestTokens(t *testing.T) {
	ctx := context.Background()
	db, c, clock := open(t)
	app := newApp(t, db, "acme")
	tok := func(id string, hash byte) *hookline.Token {
		tk := &hookline.Token{ID: id, Name: id, Kind: hookline.TokenApplication, AppID: app.ID,
			Hash: bytes.Repeat([]byte{hash}, 32), Prefix: "sk_", CreatedAt: time.Now()}
		must(t, db.CreateToken(ctx, tk))
		return tk
	}
	here, there, owned := tok("tok_here", 1), tok("tok_there", 2), tok("tok_owned", 3)
	revoked := func(tk *hookline.Token) bool {
		t.Helper()
		got, err := c.GetTokenByHash(ctx, tk.Hash)
		if hookline.ErrorCode(err) == hookline.ENOTFOUND {
			return true
		}
		must(t, err)
		return !got.Valid(time.Now())
	}
	for _, tk := range []*hookline.Token{here, there, owned} {
		if revoked(tk) {
			t.Fatalf("token %s refused before any change", tk.ID)
		}
	}
	must(t, c.RevokeToken(ctx, here.ID, time.Now()))
	if !revoked(here) {
		t.Fatal("a token revoked through the cache is still accepted")
	}
	if revoked(there) { // looked up again: the revocation above emptied the token cache
		t.Fatal("revoking one token refused another")
	}
	must(t, db.RevokeToken(ctx, there.ID, time.Now()))
	if revoked(there) {
		t.Fatal("a token revoked elsewhere was refused within the TTL: is the cache in use?")
	}
	clock.add(storecache.TTL)
	if !revoked(there) {
		t.Fatal("a token revoked elsewhere is still accepted after the TTL")
	}
	must(t, c.DeleteApplication(ctx, app.ID))
	if !revoked(owned) {
		t.Fatal("the token of a deleted application is still accepted")
	}
}

// An event type changed through the cache shows at once, schemas included.
func TestEventType(t *testing.T) {
	ctx := context.Background()
	db, c, _ := open(t)
	now := time.Now()
	et := &hookline.EventType{Name: "order.paid", Schemas: map[string]json.RawMessage{}, CreatedAt: now, UpdatedAt: now}
	must(t, db.CreateEventType(ctx, et))
	if got, err := c.GetEventType(ctx, "order.paid"); err != nil || got.Archived {
		t.Fatalf("GetEventType = %+v, %v", got, err)
	}
	et.Archived = true
	et.Schemas = map[string]json.RawMessage{"1": json.RawMessage(`{"type":"object"}`)}
	must(t, c.UpdateEventType(ctx, et))
	got, err := c.GetEventType(ctx, "order.paid")
	must(t, err)
	if !got.Archived || len(got.Schemas) != 1 {
		t.Fatalf("GetEventType after the update = %+v, want it archived with one schema", got)
	}
	must(t, c.DeleteEventType(ctx, "order.paid"))
	if _, err := c.GetEventType(ctx, "order.paid"); hookline.ErrorCode(err) != hookline.ENOTFOUND {
		t.Fatalf("GetEventType after the delete = %v, want ENOTFOUND", err)
	}
}

// A retry schedule is kept for TTL, none included; setting one through the cache shows at once,
// one set elsewhere once the entry is TTL old.
func TestRetrySchedule(t *testing.T) {
	ctx := context.Background()
	db, c, clock := open(t)
	now := time.Now()
	must(t, db.CreateEventType(ctx, &hookline.EventType{Name: "order.paid", CreatedAt: now, UpdatedAt: now}))
	if got, err := c.GetRetrySchedule(ctx, "order.paid"); err != nil || got != nil {
		t.Fatalf("GetRetrySchedule = %v, %v; want none", got, err)
	}
	hour := []time.Duration{time.Hour}
	must(t, c.SetRetrySchedule(ctx, "order.paid", hour))
	if got, err := c.GetRetrySchedule(ctx, "order.paid"); err != nil || len(got) != 1 || got[0] != time.Hour {
		t.Fatalf("GetRetrySchedule after setting it = %v, %v; want [1h]", got, err)
	}
	must(t, db.SetRetrySchedule(ctx, "order.paid", []time.Duration{}))
	if got, _ := c.GetRetrySchedule(ctx, "order.paid"); len(got) != 1 {
		t.Fatalf("GetRetrySchedule within TTL of a change elsewhere = %v; want the cached [1h]", got)
	}
	clock.add(storecache.TTL)
	if got, err := c.GetRetrySchedule(ctx, "order.paid"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("GetRetrySchedule after TTL = %v, %v; want [] (no retries)", got, err)
	}
	must(t, c.DeleteEventType(ctx, "order.paid"))
	if _, err := c.GetRetrySchedule(ctx, "order.paid"); hookline.ErrorCode(err) != hookline.ENOTFOUND {
		t.Fatalf("GetRetrySchedule after the delete = %v, want ENOTFOUND", err)
	}
}

// BenchmarkGetRetrySchedule is what the dispatcher pays after a failed attempt to learn the
// event type's schedule: a cache hit.
func BenchmarkGetRetrySchedule(b *testing.B) {
	ctx := context.Background()
	box, err := secrets.NewBox(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "cache.db"), sqlite.Options{SecretBox: box})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	if err := db.CreateEventType(ctx, &hookline.EventType{Name: "order.paid", CreatedAt: now, UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
	c := storecache.New(db, nil)
	if err := c.SetRetrySchedule(ctx, "order.paid", []time.Duration{time.Minute, time.Hour}); err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.GetRetrySchedule(ctx, "order.paid"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.GetRetrySchedule(ctx, "order.paid"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A token touched through the cache shows its new last use at once, so the next request does
// not write it again; a single-use token used through the cache is refused at once.
func TestTokenUse(t *testing.T) {
	ctx := context.Background()
	db, c, _ := open(t)
	app := newApp(t, db, "acme")
	key := &hookline.Token{ID: "tok_key", Kind: hookline.TokenApplication, AppID: app.ID,
		Hash: bytes.Repeat([]byte{1}, 32), CreatedAt: time.Now()}
	link := &hookline.Token{ID: "tok_link", Kind: hookline.TokenPortal, AppID: app.ID,
		Hash: bytes.Repeat([]byte{2}, 32), CreatedAt: time.Now(), SingleUse: true}
	must(t, db.CreateToken(ctx, key))
	must(t, db.CreateToken(ctx, link))
	for _, tk := range []*hookline.Token{key, link} {
		if got, err := c.GetTokenByHash(ctx, tk.Hash); err != nil || got.LastUsedAt != nil || !got.Valid(time.Now()) {
			t.Fatalf("GetTokenByHash(%s) = %+v, %v", tk.ID, got, err)
		}
	}
	at := time.Now().UTC().Truncate(time.Microsecond)
	must(t, c.TouchToken(ctx, key.ID, at))
	if got, err := c.GetTokenByHash(ctx, key.Hash); err != nil || got.LastUsedAt == nil || !got.LastUsedAt.Equal(at) {
		t.Errorf("after a touch through the cache, the cached key was last used at %v (%v), want %v", got.LastUsedAt, err, at)
	}
	if ok, err := c.UseToken(ctx, link.ID, time.Now()); !ok || err != nil {
		t.Fatalf("UseToken = %v, %v", ok, err)
	}
	if got, err := c.GetTokenByHash(ctx, link.Hash); err != nil || got.Valid(time.Now()) {
		t.Errorf("a used single-use token is still accepted through the cache: %+v, %v", got, err)
	}
}
