package e2e

import (
	"net/http"
	"testing"

	"github.com/hookline/hookline/internal/testserver"
)

// TestTokenResponsesAreNotReplayed: responses that carry a token's text are never stored for
// Idempotency-Key replays (they would keep the token in clear), so the same key makes a new
// token each time.
func TestTokenResponsesAreNotReplayed(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "A", "uid": "replay-a"}, http.StatusCreated)
	created := func(path string, body any) string {
		t.Helper()
		r := doWith(t, srv, "POST", path, srv.Token, body, map[string]string{"Idempotency-Key": "same-key"})
		if r.Status >= 300 {
			t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
		}
		if r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("POST %s was replayed from a stored response", path)
		}
		var out struct {
			Token string `json:"token"`
		}
		r.JSON(t, &out)
		return out.Token
	}
	for _, tc := range []struct {
		path string
		body any
	}{
		{"/api/v1/token", map[string]any{"kind": "application", "appId": "replay-a"}},
		{"/api/v1/auth/app-portal-access/replay-a", map[string]any{}},
	} {
		first, second := created(tc.path, tc.body), created(tc.path, tc.body)
		if first == "" || first == second {
			t.Errorf("POST %s twice with one Idempotency-Key gave tokens %q and %q, want two new ones", tc.path, first, second)
		}
	}
}

// TestOperationalAppIsReserved: the internal application of operational webhooks cannot be
// reached through get-or-create.
func TestOperationalAppIsReserved(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	r := srv.Do("POST", "/api/v1/app?get_if_exists=true", srv.Token, map[string]any{"name": "x", "uid": "hookline-operational"})
	if r.Status != http.StatusConflict || r.Code() != "conflict" {
		t.Fatalf("get_if_exists on the reserved uid: %d %s", r.Status, r.Body)
	}
	r = srv.Do("POST", "/api/v1/app/hookline-operational/msg", srv.Token, map[string]any{
		"eventType": "test.webhook", "payload": map[string]any{"a": 1}, "application": map[string]any{"name": "x"}})
	if r.Status != http.StatusConflict {
		t.Fatalf("message with application on the reserved uid: %d %s", r.Status, r.Body)
	}
}
