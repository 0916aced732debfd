package hostile

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testserver"
)

// TestHeaderCredentialsNotStoredInClear: an endpoint's Authorization and X-Api-Key headers
// reach the receiver with every delivery, while no file of the data directory (the database,
// its WAL, while the server runs and after it stopped) holds their values in clear.
func TestHeaderCredentialsNotStoredInClear(t *testing.T) {
	creds := map[string]string{"Authorization": "Bearer cred-authorization-5Kd8", "X-Api-Key": "cred-api-key-3Wq1"}
	var mu sync.Mutex
	var got []http.Header
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		w.WriteHeader(204)
	}))
	defer rc.Close()

	s := startServer(t, "")
	s.op(t, "POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "paid"}, 201, nil)
	var app struct{ ID string }
	s.op(t, "POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201, &app)
	var ep struct{ ID string }
	s.op(t, "POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": rc.URL + "/in", "headers": creds}, 201, &ep)
	// Headers set afterwards, through the headers route, are sealed too.
	creds["X-Auth-Token"] = "cred-auth-token-8Hv6"
	s.op(t, "PATCH", "/api/v1/app/"+app.ID+"/endpoint/"+ep.ID+"/headers", map[string]any{"headers": map[string]string{"X-Auth-Token": creds["X-Auth-Token"]}}, 204, nil)
	s.op(t, "POST", "/api/v1/app/"+app.ID+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"n": 1}}, 202, nil)
	testserver.PollUntil(t, 30*time.Second, "the delivery", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	})
	mu.Lock()
	for name, v := range creds {
		if got[0].Get(name) != v {
			t.Errorf("the delivery carried %s: %q, want %q", name, got[0].Get(name), v)
		}
	}
	mu.Unlock()

	check := func(when string) {
		entries, err := os.ReadDir(s.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(s.DataDir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range creds {
				if bytes.Contains(data, []byte(v)) {
					t.Errorf("%s: %s holds the %s value in clear", when, e.Name(), name)
				}
			}
		}
	}
	check("while the server runs")
	s.stop()
	check("after the server stopped")
}
