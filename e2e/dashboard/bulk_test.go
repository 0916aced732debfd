package dashboard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/clocktest"
	"github.com/hookline/hookline/internal/testserver"
)

// idReceiver is a real receiver on loopback that records the webhook-id (the message id) of
// every request, and answers 503 while down is set.
type idReceiver struct {
	*httptest.Server
	URL  string // the server's URL and the receiver's own path
	down atomic.Bool
	mu   sync.Mutex
	ids  []string
}

func newIDReceiver(t *testing.T) *idReceiver {
	rc := &idReceiver{}
	// Its own random path, as newReceiver's: requests for any other path are strays.
	prefix := "/r" + strings.TrimPrefix(hookline.NewID(""), "_")
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, prefix+"/") {
			http.NotFound(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		rc.mu.Lock()
		rc.ids = append(rc.ids, r.Header.Get("webhook-id"))
		rc.mu.Unlock()
		if rc.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(rc.Close)
	rc.URL = rc.Server.URL + prefix
	return rc
}

// waitIDs waits until the receiver has had n requests and returns their message ids in order.
func (rc *idReceiver) waitIDs(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rc.mu.Lock()
		ids := append([]string(nil), rc.ids...)
		rc.mu.Unlock()
		if len(ids) >= n {
			if len(ids) > n {
				t.Fatalf("the receiver had %d requests, want %d: %v", len(ids), n, ids)
			}
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver had %d requests, want %d: %v", len(ids), n, ids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sendMessage(t *testing.T, srv *testserver.Instance, appID, eventType string) string {
	var msg struct{ ID string }
	srv.Op("POST", "/api/v1/app/"+appID+"/msg", map[string]any{"eventType": eventType, "payload": map[string]any{"action": eventType}}, 202).JSON(t, &msg)
	return msg.ID
}

// TestBulkResend: three attempts ticked in an endpoint's delivery history and sent again with
// one press arrive again at a real receiver, and the fourth does not; a message ticked in the
// message log goes again to its endpoint.
func TestBulkResend(t *testing.T) {
	chromium := findChromium(t)
	srv := testserver.Start(t, testserver.Options{})
	rc := newIDReceiver(t)
	createEventTypes(t, srv)
	appID := createApp(t, srv, "Cool Events GmbH", "cool-events")
	epID := createEndpoint(t, srv, appID, rc.URL+"/webhooks", "Billing sync")
	var msgs []string
	for i := 0; i < 4; i++ {
		msgs = append(msgs, sendMessage(t, srv, appID, "order.paid"))
		rc.waitIDs(t, i+1) // one at a time, so the history's order is the sending order
	}
	appURL := srv.URL + "/dashboard/apps/" + appID
	epURL := appURL + "/endpoints/" + epID

	b := newBrowser(t, chromium)
	signInBrowser(b, srv)
	b.open(epURL + "/history")
	if n := b.count(`input[type=checkbox][name=attempt]`); n != 4 {
		t.Fatalf("%d attempt checkboxes, want 4: %s", n, b.body())
	}
	// The history is newest first: tick the three newest, msgs[3], msgs[2], msgs[1].
	for i := 1; i <= 3; i++ {
		b.do(chromedp.Click(chromedp.Search(`(//input[@name="attempt"])[`+string(rune('0'+i))+`]`), chromedp.NodeVisible))
	}
	b.shot("bulk-resend")
	b.click(`//button[normalize-space()="Resend selected"]`)
	if body := b.body(); !strings.Contains(body, "3 deliveries are being sent again") {
		t.Fatalf("after Resend selected: %s", body)
	}
	if loc := b.location(); loc != epURL+"/history" {
		t.Fatalf("after Resend selected the browser is at %s, want the history", loc)
	}
	again := rc.waitIDs(t, 7)[4:]
	slices.Sort(again)
	want := []string{msgs[1], msgs[2], msgs[3]}
	slices.Sort(want)
	if !slices.Equal(again, want) {
		t.Fatalf("sent again: %v, want the three ticked %v", again, want)
	}
	b.until("the history shows the seven attempts", `document.querySelectorAll("tbody[data-live] tr[data-id]").length === 7`)

	// The message log: tick the oldest message.
	b.open(appURL + "/messages")
	b.do(chromedp.Click(chromedp.Search(`//input[@name="message"][@value="`+msgs[0]+`"]`), chromedp.NodeVisible))
	b.click(`//button[normalize-space()="Resend selected"]`)
	if body := b.body(); !strings.Contains(body, "1 delivery is being sent again") {
		t.Fatalf("after Resend selected in the message log: %s", body)
	}
	if got := rc.waitIDs(t, 8)[7]; got != msgs[0] {
		t.Fatalf("the message log sent %s again, want %s", got, msgs[0])
	}

	// Nothing ticked: said so, nothing sent.
	b.click(`//button[normalize-space()="Resend selected"]`)
	if body := b.body(); !strings.Contains(body, "Nothing was selected") {
		t.Fatalf("Resend selected with nothing ticked: %s", body)
	}
}

// TestRecoverWithEndTime: three messages fail two hours apart; a recover of the window around
// the middle one, started from the endpoint page with a start and an end, runs as a background
// task whose page shows it finish with one message sent, and only that message reaches the
// receiver again; the other two stay failed.
func TestRecoverWithEndTime(t *testing.T) {
	chromium := findChromium(t)
	clock := clocktest.New(time.Now().Add(-6 * time.Hour).Truncate(time.Minute))
	srv := testserver.Start(t, testserver.Options{Clock: clock, Configure: func(c *config.Config) {
		c.RetrySchedule = []time.Duration{} // the first failure is final
	}})
	rc := newIDReceiver(t)
	rc.down.Store(true)
	createEventTypes(t, srv)
	appID := createApp(t, srv, "Cool Events GmbH", "cool-events")
	epID := createEndpoint(t, srv, appID, rc.URL+"/webhooks", "Billing sync")
	t0 := clock.Now()
	var msgs []string
	for i := 0; i < 3; i++ {
		msgs = append(msgs, sendMessage(t, srv, appID, "order.paid"))
		rc.waitIDs(t, i+1)
		waitDestination(t, srv, appID, msgs[i], 2) // failed
		clock.Advance(2 * time.Hour)
	}
	rc.down.Store(false)
	epURL := srv.URL + "/dashboard/apps/" + appID + "/endpoints/" + epID

	b := newBrowser(t, chromium)
	signInBrowser(b, srv)
	b.open(epURL)
	const form = "2006-01-02T15:04"
	b.do(chromedp.SetValue(chromedp.Search(`#since`), t0.Add(time.Hour).Format(form)),
		chromedp.SetValue(chromedp.Search(`#until`), t0.Add(3*time.Hour).Format(form)))
	b.click(`//button[normalize-space()="Recover"]`)
	if loc := b.location(); !strings.Contains(loc, "/tasks/qtask_") {
		t.Fatalf("after Recover the browser is at %s, want the task's page", loc)
	}
	b.until("the task's page shows it finished", `document.body.innerText.indexOf("Finished") >= 0`)
	if got := b.text(`#task-sent`); got != "1" {
		t.Fatalf("the task says %s messages were sent again, want 1: %s", got, b.body())
	}
	if got := rc.waitIDs(t, 4)[3]; got != msgs[1] {
		t.Fatalf("recover sent %s again, want only the middle message %s", got, msgs[1])
	}
	waitDestination(t, srv, appID, msgs[1], 0)
	for _, m := range []string{msgs[0], msgs[2]} {
		waitDestination(t, srv, appID, m, 2) // still failed: outside the window
	}

	// An end before the start is refused next to the field, and starts nothing.
	b.open(epURL)
	b.do(chromedp.SetValue(chromedp.Search(`#since`), t0.Add(3*time.Hour).Format(form)),
		chromedp.SetValue(chromedp.Search(`#until`), t0.Add(time.Hour).Format(form)))
	if status := b.click(`//button[normalize-space()="Recover"]`); status != http.StatusUnprocessableEntity {
		t.Fatalf("recover with the end before the start: %d", status)
	}
	if got := b.text(`#until-error`); !strings.Contains(got, "after the start") {
		t.Fatalf("the until field says %q", got)
	}
}

// waitDestination waits until the message's delivery to its one endpoint has the status (0
// delivered, 2 failed).
func waitDestination(t *testing.T, srv *testserver.Instance, appID, msgID string, status int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var list struct{ Data []struct{ Status int } }
		srv.Op("GET", "/api/v1/app/"+appID+"/msg/"+msgID+"/endpoint", nil, 200).JSON(t, &list)
		if len(list.Data) == 1 && list.Data[0].Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s: destinations %+v, want one with status %d", msgID, list.Data, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
