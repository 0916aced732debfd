package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

func newToken(t *testing.T, st hookline.Store, kind hookline.TokenKind, appID, text string) *hookline.Token {
	t.Helper()
	h := sha256.Sum256([]byte(text))
	tok := &hookline.Token{ID: hookline.NewID(hookline.PrefixToken), Name: "token " + text, Kind: kind, AppID: appID,
		Hash: h[:], Prefix: text[:min(8, len(text))], CreatedAt: now()}
	must(t, st.CreateToken(context.Background(), tok))
	return tok
}

// countTokens counts the unrevoked tokens of a kind (expired ones included), from ListTokens.
func countTokens(t *testing.T, st hookline.Store, kind hookline.TokenKind) (int, error) {
	n, opts := 0, hookline.ListOptions{Limit: 100}
	for {
		page, err := st.ListTokens(context.Background(), "", opts)
		if err != nil {
			return 0, err
		}
		for _, tok := range page.Data {
			if tok.Kind == kind && tok.RevokedAt == nil {
				n++
			}
		}
		if page.Done || len(page.Data) == 0 {
			return n, nil
		}
		opts.Iterator = page.Data[len(page.Data)-1].ID
	}
}

func (suite) tokens(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	op := newToken(t, st, hookline.TokenOperator, "", "hl_op_secret_text")
	expires := now().Add(time.Hour)
	h := sha256.Sum256([]byte("hl_app_secret_text"))
	appTok := &hookline.Token{ID: hookline.NewID(hookline.PrefixToken), Name: "customer key", Kind: hookline.TokenApplication,
		AppID: app.ID, Hash: h[:], Prefix: "hl_app_s", CreatedAt: now(), ExpiresAt: &expires}
	must(t, st.CreateToken(ctx, appTok))

	got, err := st.GetTokenByHash(ctx, h[:])
	must(t, err)
	assertToken(t, got, appTok)
	got, err = st.GetToken(ctx, op.ID)
	must(t, err)
	assertToken(t, got, op)
	unknown := sha256.Sum256([]byte("nope"))
	_, err = st.GetTokenByHash(ctx, unknown[:])
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = st.GetToken(ctx, "tok_missing")
	wantCode(t, err, hookline.ENOTFOUND)

	// A hash is one token.
	dup := &hookline.Token{ID: hookline.NewID(hookline.PrefixToken), Kind: hookline.TokenOperator, Hash: h[:], CreatedAt: now()}
	wantCode(t, st.CreateToken(ctx, dup), hookline.ECONFLICT)

	newToken(t, st, hookline.TokenOperator, "", "hl_op_second")
	n, err := countTokens(t, st, hookline.TokenOperator)
	must(t, err)
	if n != 2 {
		t.Fatalf("operator tokens = %d, want 2", n)
	}

	revokedAt := now()
	must(t, st.RevokeToken(ctx, op.ID, revokedAt))
	got, err = st.GetTokenByHash(ctx, op.Hash) // revoked tokens are still found, to say why they fail
	must(t, err)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(revokedAt) {
		t.Fatalf("RevokedAt = %v, want %v", got.RevokedAt, revokedAt)
	}
	if got.Valid(revokedAt) {
		t.Fatal("a revoked token is valid")
	}
	n, err = countTokens(t, st, hookline.TokenOperator)
	must(t, err)
	if n != 1 {
		t.Fatalf("operator tokens after a revoke = %d, want 1", n)
	}
	n, err = countTokens(t, st, hookline.TokenApplication)
	must(t, err)
	if n != 1 {
		t.Fatalf("application tokens = %d, want 1", n)
	}
	n, err = countTokens(t, st, hookline.TokenPortal)
	must(t, err)
	if n != 0 {
		t.Fatalf("portal tokens = %d, want 0", n)
	}
	wantCode(t, st.RevokeToken(ctx, "tok_missing", revokedAt), hookline.ENOTFOUND)
}

func (suite) tokensList(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	a := newApp(t, st, "a")
	b := newApp(t, st, "b")
	var all, ofA []string
	for i, spec := range []struct {
		kind  hookline.TokenKind
		appID string
	}{
		{hookline.TokenOperator, ""}, {hookline.TokenApplication, a.ID}, {hookline.TokenPortal, a.ID},
		{hookline.TokenApplication, b.ID}, {hookline.TokenApplication, a.ID}, {hookline.TokenOperator, ""},
		{hookline.TokenPortal, a.ID},
	} {
		tok := newToken(t, st, spec.kind, spec.appID, "hl_list_token_"+string(rune('a'+i)))
		all = append(all, tok.ID)
		if spec.appID == a.ID {
			ofA = append(ofA, tok.ID)
		}
	}
	// Newest first.
	slices.Reverse(all)
	slices.Reverse(ofA)
	list := func(appID string, o hookline.ListOptions) (hookline.Page[hookline.Token], error) {
		return st.ListTokens(ctx, appID, o)
	}
	ids := func(p hookline.Page[hookline.Token]) []string {
		var out []string
		for _, tok := range p.Data {
			out = append(out, tok.ID)
		}
		return out
	}
	p, err := list("", hookline.ListOptions{Limit: 50})
	must(t, err)
	if got := ids(p); !slices.Equal(got, all) || !p.Done {
		t.Fatalf("all tokens = %v done=%v, want %v newest first", got, p.Done, all)
	}
	p, err = list(a.ID, hookline.ListOptions{Limit: 50})
	must(t, err)
	if got := ids(p); !slices.Equal(got, ofA) || !p.Done {
		t.Fatalf("tokens of a = %v, want %v", got, ofA)
	}
	// Pages of 3 over the 7, newest first, and back.
	p, err = list("", hookline.ListOptions{Limit: 3})
	must(t, err)
	if got := ids(p); !slices.Equal(got, all[:3]) || p.Done {
		t.Fatalf("page 1 = %v done=%v", got, p.Done)
	}
	p, err = list("", hookline.ListOptions{Limit: 3, Iterator: all[2]})
	must(t, err)
	if got := ids(p); !slices.Equal(got, all[3:6]) || p.Done {
		t.Fatalf("page 2 = %v done=%v", got, p.Done)
	}
	p, err = list("", hookline.ListOptions{Limit: 3, Iterator: all[5]})
	must(t, err)
	if got := ids(p); !slices.Equal(got, all[6:]) || !p.Done {
		t.Fatalf("page 3 = %v done=%v", got, p.Done)
	}
	p, err = list("", hookline.ListOptions{Limit: 3, Iterator: all[3], Backward: true})
	must(t, err)
	if got := ids(p); !slices.Equal(got, all[:3]) || !p.Done {
		t.Fatalf("page before 2 = %v done=%v", got, p.Done)
	}
	// The application filter and the cursor together.
	p, err = list(a.ID, hookline.ListOptions{Limit: 2, Iterator: ofA[1]})
	must(t, err)
	if got := ids(p); !slices.Equal(got, ofA[2:4]) {
		t.Fatalf("tokens of a after %s = %v, want %v", ofA[1], got, ofA[2:4])
	}
}

func (suite) idempotency(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	claim := func(scope, key, hash string) *hookline.IdempotencyRecord {
		t.Helper()
		rec, err := st.ClaimIdempotencyKey(ctx, &hookline.IdempotencyRecord{Scope: scope, Key: key, RequestHash: hash, CreatedAt: now()})
		must(t, err)
		return rec
	}
	if rec := claim("operator", "k1", "h1"); rec != nil {
		t.Fatalf("first claim returned %+v, want nil", rec)
	}
	// A second claim sees the request in progress.
	rec := claim("operator", "k1", "h2")
	if rec == nil || rec.Completed || rec.RequestHash != "h1" || rec.Scope != "operator" || rec.Key != "k1" {
		t.Fatalf("second claim = %+v, want the in-progress record of h1", rec)
	}
	// Scopes are separate.
	if rec := claim("app_1", "k1", "h1"); rec != nil {
		t.Fatalf("claim in another scope = %+v, want nil", rec)
	}

	body := []byte("{\"id\": \"msg_1\",\n \"é\": 1}")
	must(t, st.CompleteIdempotencyKey(ctx, "operator", "k1", 202, body))
	rec = claim("operator", "k1", "h1")
	if rec == nil || !rec.Completed || rec.StatusCode != 202 || string(rec.Body) != string(body) || rec.RequestHash != "h1" {
		t.Fatalf("claim after completion = %+v", rec)
	}
	if rec.CreatedAt.IsZero() {
		t.Error("stored record has no CreatedAt")
	}
	wantCode(t, st.CompleteIdempotencyKey(ctx, "operator", "never-claimed", 200, nil), hookline.ENOTFOUND)

	// A released key can be claimed afresh.
	must(t, st.ReleaseIdempotencyKey(ctx, "app_1", "k1"))
	if rec := claim("app_1", "k1", "h9"); rec != nil {
		t.Fatalf("claim after release = %+v, want nil", rec)
	}
	must(t, st.ReleaseIdempotencyKey(ctx, "app_1", "never-claimed"))
}

func (suite) idempotencyPurge(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	old := now().Add(-48 * time.Hour)
	recent := now()
	for key, at := range map[string]time.Time{"old": old, "recent": recent} {
		rec, err := st.ClaimIdempotencyKey(ctx, &hookline.IdempotencyRecord{Scope: "operator", Key: key, RequestHash: "h", CreatedAt: at})
		must(t, err)
		if rec != nil {
			t.Fatalf("claim %s = %+v", key, rec)
		}
	}
	must(t, st.PurgeIdempotencyKeys(ctx, now().Add(-24*time.Hour)))
	rec, err := st.ClaimIdempotencyKey(ctx, &hookline.IdempotencyRecord{Scope: "operator", Key: "old", RequestHash: "h", CreatedAt: now()})
	must(t, err)
	if rec != nil {
		t.Fatalf("purged key still claimed: %+v", rec)
	}
	rec, err = st.ClaimIdempotencyKey(ctx, &hookline.IdempotencyRecord{Scope: "operator", Key: "recent", RequestHash: "h", CreatedAt: now()})
	must(t, err)
	if rec == nil || !rec.CreatedAt.Equal(recent) {
		t.Fatalf("recent key = %+v, want kept with CreatedAt %v", rec, recent)
	}
}

// tokensCreateIfNone: of concurrent CreateTokenIfNone calls, exactly one creates a token of its
// kind (the first operator token of nodes starting together on a new database); a token of
// another kind does not count, a revoked one neither.
func (suite) tokensCreateIfNone(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	newToken(t, st, hookline.TokenApplication, app.ID, "hl_app_of_acme")

	const callers = 16
	// Open the pool's connections first (concurrent reads), so the calls below meet in the
	// database rather than queue for connections.
	var warm sync.WaitGroup
	for range callers {
		warm.Add(1)
		go func() {
			defer warm.Done()
			if _, err := st.GetToken(ctx, "tok_missing"); !hookline.IsNotFound(err) {
				t.Errorf("GetToken of a missing token: %v, want not found", err)
			}
		}()
	}
	warm.Wait()
	var wg sync.WaitGroup
	start := make(chan struct{})
	created := make(chan *hookline.Token, callers)
	errs := make(chan error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := sha256.Sum256([]byte(fmt.Sprintf("hl_op_first_%d", i)))
			tok := &hookline.Token{ID: hookline.NewID(hookline.PrefixToken), Name: "first", Kind: hookline.TokenOperator,
				Hash: h[:], Prefix: "hl_op_fi", CreatedAt: now()}
			<-start // all at once
			ok, err := st.CreateTokenIfNone(ctx, tok)
			if err != nil {
				errs <- err
				return
			}
			if ok {
				created <- tok
			}
		}()
	}
	close(start)
	wg.Wait()
	close(created)
	close(errs)
	for err := range errs {
		t.Fatalf("CreateTokenIfNone: %v", err)
	}
	var first []*hookline.Token
	for tok := range created {
		first = append(first, tok)
	}
	if len(first) != 1 {
		t.Fatalf("%d of %d concurrent calls created an operator token, want exactly 1", len(first), callers)
	}
	got, err := st.GetTokenByHash(ctx, first[0].Hash)
	must(t, err)
	assertToken(t, got, first[0])
	n, err := countTokens(t, st, hookline.TokenOperator)
	must(t, err)
	if n != 1 {
		t.Fatalf("operator tokens = %d, want 1", n)
	}

	// Once the only one is revoked, there is none: the next call creates one.
	must(t, st.RevokeToken(ctx, first[0].ID, now()))
	again := &hookline.Token{ID: hookline.NewID(hookline.PrefixToken), Kind: hookline.TokenOperator,
		Hash: []byte("hash-of-another-operator-token!!"), CreatedAt: now()}
	ok, err := st.CreateTokenIfNone(ctx, again)
	must(t, err)
	if !ok {
		t.Fatal("no operator token was created after the only one was revoked")
	}
	ok, err = st.CreateTokenIfNone(ctx, &hookline.Token{ID: hookline.NewID(hookline.PrefixToken), Kind: hookline.TokenOperator,
		Hash: []byte("hash-of-a-third-operator-token!!"), CreatedAt: now()})
	must(t, err)
	if ok {
		t.Fatal("a second operator token was created while one is valid")
	}
}
