package storetest

import (
	"context"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// tokenEndpointScope: a portal token's endpoint scope is stored and read back by every reader
// (by id, by hash, in lists); a token without one reads back as nil, not as an empty scope.
func (suite) tokenEndpointScope(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	a := newApp(t, st, "acme")
	hour := now().Add(time.Hour)
	h := sha256.Sum256([]byte("hlp_scoped_link_of_acme"))
	scope := []string{"ep_one", "ep_two"}
	scoped := &hookline.Token{ID: hookline.NewID(hookline.PrefixToken), Kind: hookline.TokenPortal, AppID: a.ID,
		Hash: h[:], CreatedAt: now(), ExpiresAt: &hour, SingleUse: true, EndpointIDs: scope}
	must(t, st.CreateToken(ctx, scoped))
	plain := newToken(t, st, hookline.TokenPortal, a.ID, "hlp_plain_link_of_acme")

	byID, err := st.GetToken(ctx, scoped.ID)
	must(t, err)
	byHash, err := st.GetTokenByHash(ctx, scoped.Hash)
	must(t, err)
	for name, got := range map[string]*hookline.Token{"GetToken": byID, "GetTokenByHash": byHash} {
		if !slices.Equal(got.EndpointIDs, scope) {
			t.Errorf("%s: endpoint scope %q, want %q", name, got.EndpointIDs, scope)
		}
	}
	page, err := st.ListTokens(ctx, a.ID, hookline.ListOptions{Limit: 10})
	must(t, err)
	seen := 0
	for _, tok := range page.Data {
		switch tok.ID {
		case scoped.ID:
			seen++
			if !slices.Equal(tok.EndpointIDs, scope) {
				t.Errorf("ListTokens: endpoint scope %q, want %q", tok.EndpointIDs, scope)
			}
		case plain.ID:
			seen++
			if tok.EndpointIDs != nil {
				t.Errorf("ListTokens: an unscoped token has the scope %q, want nil", tok.EndpointIDs)
			}
		}
	}
	if seen != 2 {
		t.Errorf("ListTokens listed %d of the 2 tokens", seen)
	}
	got, err := st.GetToken(ctx, plain.ID)
	must(t, err)
	if got.EndpointIDs != nil {
		t.Errorf("an unscoped token has the scope %q, want nil", got.EndpointIDs)
	}
}
