package storetest

import (
	"context"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// tokenTouch: TouchToken records the last use, writes again only once a minute has passed, and
// never moves it back.
func (suite) tokenTouch(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	a := newApp(t, st, "acme")
	key := newToken(t, st, hookline.TokenApplication, a.ID, "hla_key_of_acme")
	other := newToken(t, st, hookline.TokenApplication, a.ID, "hla_other_key_of_acme")
	lastUsed := func(tok *hookline.Token) *time.Time {
		t.Helper()
		got, err := st.GetToken(ctx, tok.ID)
		must(t, err)
		return got.LastUsedAt
	}
	if got := lastUsed(key); got != nil {
		t.Fatalf("a new token was last used at %v, want never", got)
	}
	t0 := now()
	must(t, st.TouchToken(ctx, key.ID, t0))
	for _, c := range []struct {
		at   time.Time
		want time.Time
	}{
		{t0.Add(30 * time.Second), t0}, // within the minute: not written
		{t0.Add(-time.Hour), t0},       // earlier: not written
		{t0.Add(time.Minute), t0.Add(time.Minute)},
		{t0.Add(time.Minute + time.Second), t0.Add(time.Minute)},
	} {
		must(t, st.TouchToken(ctx, key.ID, c.at))
		if got := lastUsed(key); got == nil || !got.Equal(c.want) {
			t.Errorf("after a touch at %v, last used at %v, want %v", c.at, got, c.want)
		}
	}
	if got := lastUsed(other); got != nil {
		t.Errorf("another token was last used at %v, want never", got)
	}
	byHash, err := st.GetTokenByHash(ctx, key.Hash)
	must(t, err)
	if byHash.LastUsedAt == nil || !byHash.LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("GetTokenByHash: last used at %v", byHash.LastUsedAt)
	}
	must(t, st.TouchToken(ctx, "tok_doesnotexist", t0)) // nothing to touch is no error
}

// tokenUse: a single-use token is used once, by one of many concurrent calls; revoked, expired
// and reusable tokens are not.
func (suite) tokenUse(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	a := newApp(t, st, "acme")
	single := func(text string, expires *time.Time) *hookline.Token {
		h := sha256.Sum256([]byte(text))
		tok := &hookline.Token{ID: hookline.NewID(hookline.PrefixToken), Kind: hookline.TokenPortal, AppID: a.ID,
			Hash: h[:], CreatedAt: now(), ExpiresAt: expires, SingleUse: true}
		must(t, st.CreateToken(ctx, tok))
		return tok
	}
	hour := now().Add(time.Hour)
	link := single("hlp_link_of_acme", &hour)
	got, err := st.GetToken(ctx, link.ID)
	must(t, err)
	if !got.SingleUse || got.UsedAt != nil || !got.Valid(now()) {
		t.Fatalf("a new single-use token: single %v, used %v, valid %v", got.SingleUse, got.UsedAt, got.Valid(now()))
	}

	at := now()
	var wins int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ok, err := st.UseToken(ctx, link.ID, at)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d of 8 concurrent uses succeeded, want 1", wins)
	}
	got, err = st.GetTokenByHash(ctx, link.Hash)
	must(t, err)
	if got.UsedAt == nil || !got.UsedAt.Equal(at) || got.Valid(at) {
		t.Errorf("a used single-use token: used at %v (want %v), valid %v", got.UsedAt, at, got.Valid(at))
	}

	revoked := single("hlp_revoked_link_of_acme", nil)
	must(t, st.RevokeToken(ctx, revoked.ID, now()))
	past := now().Add(-time.Second)
	expired := single("hlp_expired_link_of_acme", &past)
	for name, tok := range map[string]*hookline.Token{"revoked": revoked, "expired": expired} {
		if ok, err := st.UseToken(ctx, tok.ID, now()); ok || err != nil {
			t.Errorf("use of a %s single-use token = %v, %v; want false, nil", name, ok, err)
		}
	}
	reusable := newToken(t, st, hookline.TokenPortal, a.ID, "hlp_reusable_of_acme")
	for _, id := range []string{reusable.ID, "tok_doesnotexist"} {
		if ok, err := st.UseToken(ctx, id, now()); ok || hookline.ErrorCode(err) != hookline.ENOTFOUND {
			t.Errorf("UseToken(%s) = %v, %v; want ENOTFOUND", id, ok, err)
		}
	}
}
