package dashboard

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/internal/testserver"
)

// TestDashboardInChromium walks the main path of an operator and of a customer in a real
// browser: sign in, create an endpoint, send a test, read the attempt, toggle the endpoint,
// rotate its secret; then open the customer portal from an API magic link and find nothing of
// another application.
func TestDashboardInChromium(t *testing.T) {
	chromium := findChromium(t)
	srv := testserver.Start(t, testserver.Options{})
	rc := newReceiver(t)
	createEventTypes(t, srv)
	appID := createApp(t, srv, "Cool Events GmbH", "cool-events")
	otherID := createApp(t, srv, "Other Corp", "other-corp")
	otherEp := createEndpoint(t, srv, otherID, rc.URL+"/other", "Other Corp's CRM sync")
	appURL := srv.URL + "/dashboard/apps/" + appID

	b := newBrowser(t, chromium)

	// Sign in with the operator token.
	b.open(srv.URL + "/")
	if loc := b.location(); !strings.Contains(loc, "/dashboard/login") {
		t.Fatalf("signed out, / leads to %s, want the sign-in page", loc)
	}
	b.do(chromedp.SendKeys(chromedp.Search("#token"), srv.Token))
	b.click(`//button[normalize-space()="Sign in"]`)
	if body := b.body(); !strings.Contains(body, "Applications") || !strings.Contains(body, "Cool Events GmbH") {
		t.Fatalf("after sign-in: %s", body)
	}

	// Create an endpoint.
	b.click(`//a[normalize-space()="Cool Events GmbH"]`)
	if body := b.body(); !strings.Contains(body, "No endpoints yet") {
		t.Fatalf("empty application: %s", body)
	}
	b.click(`//a[normalize-space()="Add endpoint"]`)
	b.do(chromedp.SendKeys(chromedp.Search("#description"), "Billing sync"),
		chromedp.SendKeys(chromedp.Search("#url"), rc.URL+"/webhooks"),
		chromedp.Click(chromedp.Search(`//input[@value="order.paid"]`)))
	b.click(`//button[normalize-space()="Create endpoint"]`)
	if body := b.body(); !strings.Contains(body, "Endpoint created") || !strings.Contains(body, "Billing sync") {
		t.Fatalf("after create: %s", body)
	}
	epURL := b.location()
	if !strings.HasPrefix(epURL, appURL+"/endpoints/ep_") {
		t.Fatalf("after create the browser is at %s, want the endpoint's page", epURL)
	}

	// Send a test and find its attempt, with the receiver's response code, in the history.
	b.click(`//button[normalize-space()="Send test"]`)
	if body := b.body(); strings.Contains(body, "No deliveries yet") || !strings.Contains(body, "test.webhook") {
		t.Fatalf("right after Send test the history shows neither the attempt nor the message on its way:\n%s", body)
	}
	b.waitFor(epURL+"/history", "test.webhook", "200 OK", "Delivered")
	if got := rc.received(); len(got) != 1 || got[0].Header.Get("webhook-signature") == "" || got[0].URL.Path != "/webhooks" {
		t.Fatalf("receiver got %d requests, want one signed POST to /webhooks", len(got))
	}

	// Its details: payload, request headers, response.
	b.click(`//a[normalize-space()="View details"]`)
	body := b.body()
	for _, want := range []string{"Delivery details", `"type": "test.webhook"`, "Webhook-Signature", "Webhook-Id", `"ok": true`} {
		if !strings.Contains(body, want) {
			t.Errorf("attempt details lack %q:\n%s", want, body)
		}
	}

	// Toggle the endpoint off and on.
	b.open(epURL)
	if got := b.attr(`button[role="switch"]`, "aria-checked"); got != "true" {
		t.Fatalf("new endpoint's switch: aria-checked=%q, want true", got)
	}
	b.click(`//button[@role="switch"]`)
	if got := b.attr(`button[role="switch"]`, "aria-checked"); got != "false" || !strings.Contains(b.body(), "Endpoint turned off") {
		t.Fatalf("after switching off: aria-checked=%q", got)
	}
	var ep struct{ Disabled bool }
	srv.Op("GET", "/api/v1/app/"+appID+"/endpoint/"+lastSegment(epURL), nil, 200).JSON(t, &ep)
	if !ep.Disabled {
		t.Fatal("the switch did not disable the endpoint")
	}
	b.click(`//button[@role="switch"]`)
	if got := b.attr(`button[role="switch"]`, "aria-checked"); got != "true" || !strings.Contains(b.body(), "Endpoint turned on") {
		t.Fatalf("after switching on: aria-checked=%q", got)
	}

	// Rotate the secret, through the confirmation step.
	b.do(chromedp.Click(chromedp.Search(`//summary[normalize-space()="Reveal secret"]`)))
	before := b.text("#secret-value")
	b.click(`//a[starts-with(normalize-space(), "Rotate secret")]`)
	if !strings.Contains(b.body(), "Rotate the signing secret?") {
		t.Fatal("rotate did not ask for confirmation")
	}
	b.click(`//button[normalize-space()="Rotate secret"]`)
	if !strings.Contains(b.body(), "Secret rotated") {
		t.Fatal("no confirmation of the rotation")
	}
	b.do(chromedp.Click(chromedp.Search(`//summary[normalize-space()="Reveal secret"]`)))
	after := b.text("#secret-value")
	if !strings.HasPrefix(before, "whsec_") || !strings.HasPrefix(after, "whsec_") || before == after {
		t.Fatalf("secret before %q, after %q: want two different whsec_ secrets", before, after)
	}

	// The endpoints table shows the last event hit.
	b.open(appURL)
	body = b.body()
	for _, want := range []string{"Billing sync", rc.URL + "/webhooks", "order.paid", "test.webhook"} {
		if !strings.Contains(body, want) {
			t.Errorf("endpoints table lacks %q:\n%s", want, body)
		}
	}

	// The customer portal, from the API's magic link, in a browser of its own.
	link, _ := portalLink(t, srv, appID, map[string]any{"expiry": 3600})
	p := newBrowser(t, chromium)
	if status := p.open(link); status != http.StatusOK {
		t.Fatalf("magic link: status %d", status)
	}
	if loc := p.location(); loc != appURL {
		t.Fatalf("magic link leads to %s, want %s (and the token out of the address bar)", loc, appURL)
	}
	body = p.body()
	if !strings.Contains(body, "Billing sync") || !strings.Contains(body, "Cool Events GmbH") {
		t.Fatalf("portal home: %s", body)
	}
	for _, unwanted := range []string{"Other Corp", "Applications", "Customer portal link"} {
		if strings.Contains(body, unwanted) {
			t.Errorf("portal shows %q", unwanted)
		}
	}
	for _, path := range []string{"/dashboard/apps/" + otherID, "/dashboard/apps/other-corp",
		"/dashboard/apps/" + otherID + "/endpoints/" + otherEp, "/dashboard/apps"} {
		status := p.open(srv.URL + path)
		body := p.body()
		if status != http.StatusNotFound || !strings.Contains(body, "Not found") || strings.Contains(body, "CRM sync") {
			t.Errorf("portal at %s: status %d, want the 404 page:\n%s", path, status, body)
		}
	}
	// The portal on a phone: the table becomes cards.
	p.do(chromedp.EmulateViewport(390, 844))
	p.open(appURL)
	// Nothing is wider than the phone: the tab bar scrolls inside itself.
	pageWidth, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	tabsRight, err := chromedp.Run(p.ctx, chromedp.Evaluate[float64](`document.querySelector('nav.tabs').getBoundingClientRect().right`))
	if err != nil {
		t.Fatal(err)
	}
	if pageWidth > 390 || tabsRight > 390 {
		t.Errorf("portal on a 390 px phone: page %d px wide, tab bar ends at %.0f px", pageWidth, tabsRight)
	}
	p.shot("portal-phone")
}

func lastSegment(u string) string { return u[strings.LastIndex(u, "/")+1:] }
