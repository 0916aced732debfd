package multinode

import (
	"context"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testload"
	"github.com/hookline/hookline/internal/testserver"
	"github.com/hookline/hookline/server"
)

// TestDispatcherWaitsForDatabaseAtStart opens a node while PostgreSQL is up and starts it
// while it is down: the dispatcher cannot prepare itself then, and must wait for the database
// instead of giving up, so that messages accepted once it is back are delivered without
// restarting the node.
func TestDispatcherWaitsForDatabaseAtStart(t *testing.T) {
	pg := startPrivatePG(t)
	rc := testload.NewReceiver(t, 0)
	cfg := testserver.Config(t.TempDir())
	cfg.DatabaseURL = pg.URL
	cfg.MainKey = mainKey
	srv, err := server.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { srv.Close() })

	if out, err := pg.ctl("stop", "-m", "fast"); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	time.Sleep(500 * time.Millisecond) // the dispatcher tries, and fails, at least once
	if out, err := pg.ctl("start"); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, pg.log())
	}

	in := &testserver.Instance{Server: srv, URL: srv.URL(), Token: testserver.OperatorToken, T: t}
	testserver.PollUntil(t, 30*time.Second, "the API back", func() bool {
		return in.Do("GET", "/api/v1/app", in.Token, nil).Status == 200
	})
	var app, msg struct {
		ID string `json:"id"`
	}
	in.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "Order paid"}, 201)
	in.Op("POST", "/api/v1/app", map[string]any{"name": "acme"}, 201).JSON(t, &app)
	in.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": rc.URL + "/hook"}, 201)
	in.Op("POST", "/api/v1/app/"+app.ID+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"n": 1}}, 202).JSON(t, &msg)
	rc.WaitDelivered(t, 30*time.Second, []string{"/hook"}, []string{msg.ID})
}
