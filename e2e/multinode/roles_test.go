package multinode

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/pgtest"
	"github.com/hookline/hookline/internal/testload"
	"github.com/hookline/hookline/internal/testproc"
	"github.com/hookline/hookline/internal/testserver"
)

// TestAPIAndWorkerRoles runs an api-only node and a worker-only node on one database: messages
// posted to the api node are delivered by the worker alone, the worker serves no API but is
// ready, and it wakes on each new message through LISTEN/NOTIFY: with a 5 s poll interval,
// every message arrives well within a second of its 202.
func TestAPIAndWorkerRoles(t *testing.T) {
	const pollInterval = 5 * time.Second
	dbURL := pgtest.URL(t)
	apiNode := startNode(t, "api", dbURL, "--role", "api", "--poll-interval", pollInterval.String())
	worker := startNode(t, "worker", dbURL, "--role", "worker", "--poll-interval", pollInterval.String())
	apiNode.waitReady(t)
	worker.waitReady(t)

	if code, body := testproc.Get(worker.URL + "/readyz"); code != http.StatusOK {
		t.Errorf("worker /readyz: %d %s, want 200", code, body)
	}
	if r := call(t.Context(), "GET", worker.URL+"/api/v1/app", nil); r.Status != http.StatusNotFound {
		t.Errorf("worker GET /api/v1/app: %d %s, want 404", r.Status, r.Body)
	}

	rc := testload.NewReceiver(t, 0)
	appID := setupApp(t, apiNode, []map[string]any{{"url": rc.URL + "/all"}})
	send := func() (id string, accepted time.Time) {
		r := apiNode.op(t, "POST", "/api/v1/app/"+appID+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"k": "v"}}, 202)
		return r.ID(), time.Now()
	}
	// The worker's LISTEN starts just after it answers; one delivery proves it is in place.
	warm, _ := send()
	rc.WaitDelivered(t, 3*pollInterval, []string{"/all"}, []string{warm})

	// One message at a time, each after the previous one arrived, when the worker has nothing
	// due and would otherwise sleep for the poll interval: only a notification wakes it.
	const n = 20
	var lat []time.Duration
	var ids []string
	for range n {
		id, acceptedAt := send()
		ids = append(ids, id)
		var arrived time.Time
		testserver.PollUntil(t, 3*pollInterval, "delivery of "+id, func() bool {
			at, ok := rc.ArrivedAt("/all", id)
			arrived = at
			return ok
		})
		// The worker can deliver before the client has read the 202.
		lat = append(lat, max(arrived.Sub(acceptedAt), 0))
	}
	slices.Sort(lat)
	median, worst := lat[len(lat)/2], lat[len(lat)-1]
	t.Logf("latency from 202 to arrival over %d messages, poll interval %s: median %s, max %s",
		n, pollInterval, median.Round(100*time.Microsecond), worst.Round(100*time.Microsecond))
	if worst > time.Second {
		t.Errorf("a message took %s from its 202 to the receiver, want well under the poll interval %s: the worker did not wake on NOTIFY", worst, pollInterval)
	}

	if got := testproc.Metric(t, apiNode.URL, "hookline_delivery_attempts_total"); got != 0 {
		t.Errorf("the api node made %v delivery attempts, want none", got)
	}
	if got := testproc.Metric(t, worker.URL, "hookline_delivery_attempts_total"); got < n+1 {
		t.Errorf("the worker made %v delivery attempts, want at least %d", got, n+1)
	}
	if _, dups, _ := rc.Tally([]string{"/all"}, append(ids, warm)); dups != 0 {
		t.Errorf("%d duplicate deliveries with no crash", dups)
	}
}
