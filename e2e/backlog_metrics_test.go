package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
)

// TestBacklogMetrics: /metrics shows the messages waiting to be fanned out. An API-only server
// accepts messages and sends none, so what it accepts for an application with an endpoint
// waits; what it accepts for one without endpoints has nothing to wait for.
func TestBacklogMetrics(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{Configure: func(c *config.Config) { c.Role = "api" }})
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "Order paid"}, 201)
	var app, quiet struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "acme"}, 201).JSON(t, &app)
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "quiet"}, 201).JSON(t, &quiet)
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": "http://127.0.0.1:9/hook"}, 201)
	for range 3 {
		srv.Op("POST", "/api/v1/app/"+app.ID+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"n": 1}}, 202)
	}
	srv.Op("POST", "/api/v1/app/"+quiet.ID+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"n": 2}}, 202)

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"\nhookline_messages_awaiting_dispatch 3\n", "\nhookline_deliveries_pending 0\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
}
