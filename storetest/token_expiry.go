package storetest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// tokenExpiry: ExpireTokens ends the application's tokens of the kinds named, and no others: not
// another application's, not other kinds, not revoked ones, and not those that expire sooner.
func (suite) tokenExpiry(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	a, b := newApp(t, st, "acme"), newApp(t, st, "globex")
	portal := newToken(t, st, hookline.TokenPortal, a.ID, "hlp_portal_of_acme")
	forever := newToken(t, st, hookline.TokenPortal, a.ID, "hlp_second_portal_of_acme")
	apiKey := newToken(t, st, hookline.TokenApplication, a.ID, "hla_key_of_acme")
	otherApp := newToken(t, st, hookline.TokenPortal, b.ID, "hlp_portal_of_globex")
	revoked := newToken(t, st, hookline.TokenPortal, a.ID, "hlp_revoked_portal_of_acme")
	must(t, st.RevokeToken(ctx, revoked.ID, now()))

	// One that expires sooner than the new time keeps its own.
	soon := now().Add(time.Minute)
	h := sha256.Sum256([]byte("hlp_soon_portal_of_acme"))
	soonTok := &hookline.Token{ID: hookline.NewID(hookline.PrefixToken), Kind: hookline.TokenPortal, AppID: a.ID,
		Hash: h[:], CreatedAt: now(), ExpiresAt: &soon}
	must(t, st.CreateToken(ctx, soonTok))

	at := now().Add(time.Hour)
	n, err := st.ExpireTokens(ctx, a.ID, []hookline.TokenKind{hookline.TokenPortal}, nil, at)
	must(t, err)
	if n != 2 {
		t.Errorf("ExpireTokens changed %d tokens, want 2", n)
	}
	for _, c := range []struct {
		what string
		tok  *hookline.Token
		want *time.Time
	}{
		{"the portal token", portal, &at},
		{"the second portal token", forever, &at},
		{"the application's API key", apiKey, nil},
		{"another application's portal token", otherApp, nil},
		{"the revoked token", revoked, nil},
		{"the token that expires sooner", soonTok, &soon},
	} {
		got, err := st.GetToken(ctx, c.tok.ID)
		must(t, err)
		if (got.ExpiresAt == nil) != (c.want == nil) || (c.want != nil && !got.ExpiresAt.Equal(*c.want)) {
			t.Errorf("%s expires at %v, want %v", c.what, got.ExpiresAt, c.want)
		}
	}

	n, err = st.ExpireTokens(ctx, a.ID, []hookline.TokenKind{hookline.TokenPortal, hookline.TokenApplication}, nil, at.Add(-time.Second))
	must(t, err)
	if n != 3 {
		t.Errorf("ExpireTokens of two kinds, earlier, changed %d tokens, want 3", n)
	}
	if n, err := st.ExpireTokens(ctx, a.ID, nil, nil, at); err != nil || n != 0 {
		t.Errorf("ExpireTokens of no kinds = %d, %v; want 0", n, err)
	}

	// With session ids, only the tokens of those sessions; the session id reads back.
	c := newApp(t, st, "initech")
	session := func(text, id string) *hookline.Token {
		h := sha256.Sum256([]byte(text))
		tok := &hookline.Token{ID: hookline.NewID(hookline.PrefixToken), Kind: hookline.TokenPortal, AppID: c.ID,
			Hash: h[:], CreatedAt: now(), SessionID: id}
		must(t, st.CreateToken(ctx, tok))
		return tok
	}
	s1, s2, none := session("hlp_session_one", "user_1"), session("hlp_session_two", "user_2"), session("hlp_no_session", "")
	if got, err := st.GetToken(ctx, s1.ID); err != nil || got.SessionID != "user_1" {
		t.Fatalf("session id reads back as %q (%v), want user_1", got.SessionID, err)
	}
	n, err = st.ExpireTokens(ctx, c.ID, []hookline.TokenKind{hookline.TokenPortal}, []string{"user_1", "user_3"}, at)
	must(t, err)
	if n != 1 {
		t.Errorf("ExpireTokens of session user_1 changed %d tokens, want 1", n)
	}
	for _, c := range []struct {
		tok     *hookline.Token
		expired bool
	}{{s1, true}, {s2, false}, {none, false}} {
		got, err := st.GetToken(ctx, c.tok.ID)
		must(t, err)
		if (got.ExpiresAt != nil) != c.expired {
			t.Errorf("token of session %q expires at %v, want expired %v", c.tok.SessionID, got.ExpiresAt, c.expired)
		}
	}
}
