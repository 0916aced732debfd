package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// TestTokenRenewedShortlyBeforeExpiry: with a real token server on loopback and a clock the
// test moves, a token of 300 seconds is reused until 30 seconds before it expires, a token of
// 10 seconds until 1 second before; Invalidate of an old token leaves the new one alone.
func TestTokenRenewedShortlyBeforeExpiry(t *testing.T) {
	var mu sync.Mutex
	n, expiresIn := 0, 300
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		n++
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"bearer","expires_in":%d}`, n, expiresIn)
	}))
	defer srv.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	src := New(hookline.OAuthClient{TokenURL: srv.URL, ClientID: "c", AuthMethod: hookline.OAuthClientSecretBasic},
		srv.Client(), func() time.Time { return now })
	ctx := context.Background()
	want := func(what, tok string) {
		t.Helper()
		got, err := src.Token(ctx)
		if err != nil || got != tok {
			t.Fatalf("%s: Token() = %q, %v; want %q", what, got, err, tok)
		}
	}
	want("first", "tok-1")
	now = now.Add(269 * time.Second)
	want("at 269 s of 300", "tok-1")
	mu.Lock()
	expiresIn = 10
	mu.Unlock()
	now = now.Add(time.Second)
	want("at 270 s of 300", "tok-2")
	now = now.Add(8 * time.Second)
	want("at 8 s of 10", "tok-2")
	now = now.Add(time.Second)
	want("at 9 s of 10", "tok-3")
	src.Invalidate("tok-2")
	want("after invalidating an older token", "tok-3")
	src.Invalidate("tok-3")
	want("after invalidating the token", "tok-4")
}

// TestTokenResponseBounded: a token response larger than MaxResponseBytes, one without a
// token, and one of another token type are refused with a reason.
func TestTokenResponseBounded(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"access_token":"` + strings.Repeat("a", MaxResponseBytes) + `"}`, "larger than"},
		{`{"token_type":"bearer"}`, "no access_token"},
		{`{"access_token":"x","token_type":"mac"}`, "not Bearer"},
		{`<html>`, "not JSON"},
		{`{"access_token":"x","expires_in":"soon"}`, "expires_in"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, tc.body) }))
		src := New(hookline.OAuthClient{TokenURL: srv.URL, ClientID: "c", AuthMethod: hookline.OAuthClientSecretPost}, srv.Client(), nil)
		_, err := src.Token(context.Background())
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("response %.40q: err = %v; want one saying %q", tc.body, err, tc.want)
		}
	}
}

// TestRefreshTokenRotates: with the refreshToken grant, each token request sends the refresh
// token the last answer rotated to, and OnRotate hears of each rotation; an answer without a
// refresh token keeps the one in use.
func TestRefreshTokenRotates(t *testing.T) {
	var mu sync.Mutex
	n, sent := 0, []string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		r.ParseForm()
		n++
		sent = append(sent, r.PostForm.Get("grant_type")+":"+r.PostForm.Get("refresh_token"))
		if n == 2 {
			fmt.Fprintf(w, `{"access_token":"tok-%d","expires_in":0}`, n)
			return
		}
		fmt.Fprintf(w, `{"access_token":"tok-%d","expires_in":0,"refresh_token":"rt-%d"}`, n, n)
	}))
	defer srv.Close()
	src := New(hookline.OAuthClient{TokenURL: srv.URL, ClientID: "c", AuthMethod: hookline.OAuthClientSecretBasic,
		GrantType: hookline.OAuthRefreshTokenGrant, RefreshToken: "rt-0"}, srv.Client(), nil)
	var rotations []string
	src.OnRotate(func(_ context.Context, old, new string) { rotations = append(rotations, old+">"+new) })
	for range 3 {
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(sent, " "); got != "refresh_token:rt-0 refresh_token:rt-1 refresh_token:rt-1" {
		t.Errorf("token requests sent %s", got)
	}
	if got := strings.Join(rotations, " "); got != "rt-0>rt-1 rt-1>rt-3" {
		t.Errorf("rotations %s, want rt-0>rt-1 rt-1>rt-3", got)
	}
}
