package e2e

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
)

// TestTokenRateLimit: an application token over its rate gets 429 with Retry-After and code
// rate_limited; the operator token is not limited.
func TestTokenRateLimit(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{Configure: func(c *config.Config) { c.TokenRateLimit = 5 }})
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "A", "uid": "rl-a"}, http.StatusCreated)
	var tok struct {
		Token string `json:"token"`
	}
	srv.Op("POST", "/api/v1/token", map[string]any{"kind": "application", "appId": "rl-a"}, http.StatusCreated).JSON(t, &tok)

	limited := 0
	for range 40 { // the burst is 10; 40 quick requests must run into the limit
		r := srv.Do("GET", "/api/v1/app/rl-a", tok.Token, nil)
		if r.Status == http.StatusTooManyRequests {
			limited++
			if r.Code() != "rate_limited" {
				t.Fatalf("429 with code %q", r.Code())
			}
			if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
				t.Fatalf("429 with Retry-After %q", r.Header.Get("Retry-After"))
			}
		} else if r.Status != http.StatusOK {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
	}
	if limited == 0 {
		t.Fatal("40 requests in a burst never hit a limit of 5/s")
	}
	for range 40 {
		srv.Op("GET", "/api/v1/app/rl-a", nil, http.StatusOK)
	}
}
