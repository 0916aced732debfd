package dashboard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testserver"
)

// TestCanceledDeliveryShown: a delivery ended by cancel-msgs shows as Canceled on its message's
// page, and the message log's status filter finds it.
func TestCanceledDeliveryShown(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }))
	t.Cleanup(failing.Close)
	createEventTypes(t, srv)
	appID := createApp(t, srv, "Acme", "acme")
	epID := createEndpoint(t, srv, appID, failing.URL, "Failing")
	var msg struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app/"+appID+"/msg", map[string]any{"eventType": "order.refunded", "payload": map[string]any{"n": 1}}, 202).JSON(t, &msg)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var st struct{ Pending int }
		srv.Op("GET", "/api/v1/app/"+appID+"/endpoint/"+epID+"/stats", nil, 200).JSON(t, &st)
		if st.Pending == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the failed delivery never waited for its retry")
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.Op("POST", "/api/v1/app/"+appID+"/endpoint/"+epID+"/cancel-msgs", map[string]any{"createdBefore": time.Now().Add(time.Minute)}, 204)

	c := newClient(t, srv.URL)
	c.signIn(srv.Token)
	base := "/dashboard/apps/" + appID + "/messages"
	if p := c.get(base + "/" + msg.ID); p.Status != 200 || !strings.Contains(p.Body, "Canceled") {
		t.Errorf("message page: %d, canceled shown: %v", p.Status, strings.Contains(p.Body, "Canceled"))
	}
	if p := c.get(base + "?status=canceled"); p.Status != 200 || !strings.Contains(p.Body, msg.ID) {
		t.Errorf("message log filtered by canceled: %d, lists the message: %v", p.Status, strings.Contains(p.Body, msg.ID))
	}
	if p := c.get(base + "?status=pending"); p.Status != 200 || strings.Contains(p.Body, msg.ID) {
		t.Errorf("message log filtered by pending: %d, lists the canceled message: %v", p.Status, strings.Contains(p.Body, msg.ID))
	}
}
