package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/internal/testserver"
)

// until evaluates the JavaScript expression in the page until it is true, or fails after a
// deadline with what the page shows.
func (b *tab) until(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: never happened (%v); the page shows:\n%s", what, err, b.body())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mark sets a value on the page's window, which a reload would lose.
func (b *tab) mark() {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](`window.hooklineMark = "still here"`))
}

const notReloaded = `window.hooklineMark === "still here"`

func signInBrowser(b *tab, srv *testserver.Instance) {
	b.t.Helper()
	b.open(srv.URL + "/dashboard/login")
	b.do(chromedp.SendKeys(chromedp.Search("#token"), srv.Token))
	b.click(`//button[normalize-space()="Sign in"]`)
}

// TestLiveUpdates: after Send test, the attempt appears on the history without a reload once
// the receiver answers; the application's history and the endpoint page follow new attempts the
// same way. The receiver holds the test's request until the page shows it on its way, so the
// row can only have come from the live list.
func TestLiveUpdates(t *testing.T) {
	chromium := findChromium(t)
	srv := testserver.Start(t, testserver.Options{})
	// The receiver holds its first request until the test lets it go.
	hold, held := make(chan struct{}), make(chan struct{})
	var first sync.Once
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		first.Do(func() { close(held); <-hold })
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(rc.Close)
	released := false
	t.Cleanup(func() {
		if !released {
			close(hold)
		}
	})
	createEventTypes(t, srv)
	appID := createApp(t, srv, "Cool Events GmbH", "cool-events")
	epID := createEndpoint(t, srv, appID, rc.URL+"/held", "Billing sync")
	appURL := srv.URL + "/dashboard/apps/" + appID
	epURL := appURL + "/endpoints/" + epID

	b := newBrowser(t, chromium)
	signInBrowser(b, srv)

	// Send test: the history says the test is on its way, with no attempt.
	b.open(epURL)
	b.click(`//button[normalize-space()="Send test"]`)
	<-held
	if body := b.body(); !strings.Contains(body, "Your test is on its way") || b.count(`tbody[data-live] tr`) != 0 {
		t.Fatalf("right after Send test, with the receiver holding the request:\n%s", body)
	}
	sentURL := b.location()
	b.mark()
	close(hold)
	released = true
	b.until("the test's attempt appears in the history", `document.querySelectorAll("tbody[data-live] tr[data-id]").length === 1 && !document.querySelector("[data-live-waiting]")`)
	b.until("the page was not reloaded", notReloaded)
	if loc := b.location(); loc != sentURL {
		t.Fatalf("the history moved from %s to %s", sentURL, loc)
	}
	row := b.text(`tbody[data-live] tr`)
	for _, want := range []string{"test.webhook", "200 OK", "Delivered"} {
		if !strings.Contains(row, want) {
			t.Errorf("the live row lacks %q: %s", want, row)
		}
	}
	if b.count(`[data-live-empty]:not([hidden])`) != 0 {
		t.Errorf("the empty-history note is still shown: %s", b.body())
	}
	b.shot("delivery-history-live")

	// The application's history and the endpoint page follow messages sent through the API.
	for _, page := range []string{appURL + "/attempts", epURL} {
		b.open(page)
		before := b.count(`tbody[data-live] tr[data-id]`)
		b.mark()
		var msg struct{ ID string }
		srv.Op("POST", "/api/v1/app/"+appID+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"action": "order.paid"}}, 202).JSON(t, &msg)
		b.until(page+" shows the new message's attempt", `document.querySelector("tbody[data-live] tr[data-id]").getAttribute("data-msg") === `+jsString(msg.ID))
		b.until("the page was not reloaded", notReloaded)
		if n := b.count(`tbody[data-live] tr[data-id]`); n != before+1 {
			t.Fatalf("%s: %d rows after one new attempt, had %d", page, n, before)
		}
	}
}
