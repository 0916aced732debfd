package dashboard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/clocktest"
	"github.com/hookline/hookline/internal/testserver"
)

// findingFixture is an application with two endpoints and three messages sent two hours
// apart, whose attempts the finding tests look for.
type findingFixture struct {
	srv          *testserver.Instance
	appURL       string
	billing, crm string // endpoint ids
	m1, m2, m3   string // message ids
	split        time.Time
}

// newFindingFixture: "Billing sync" answers 200 to everything; "CRM" subscribes to
// order.refunded only and answers 503 (retried in an hour, so each delivery has one attempt
// during the test). m1 and m2 (order.paid) are sent at T0, m3 (order.refunded) two hours later.
func newFindingFixture(t *testing.T) *findingFixture {
	clock := clocktest.New(time.Now().Add(-3 * time.Hour).Truncate(time.Minute))
	srv := testserver.Start(t, testserver.Options{Clock: clock, Configure: func(c *config.Config) {
		c.RetrySchedule = []time.Duration{time.Hour}
	}})
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(rc.Close)
	createEventTypes(t, srv)
	appID := createApp(t, srv, "Cool Events GmbH", "cool-events")
	f := &findingFixture{srv: srv, appURL: srv.URL + "/dashboard/apps/" + appID}
	f.billing = createEndpoint(t, srv, appID, rc.URL+"/ok", "Billing sync")
	var ep struct{ ID string }
	srv.Op("POST", "/api/v1/app/"+appID+"/endpoint", map[string]any{"url": rc.URL + "/down", "description": "CRM",
		"filterTypes": []string{"order.refunded"}}, 201).JSON(t, &ep)
	f.crm = ep.ID
	send := func(eventType, eventID string, tags []string) string {
		var msg struct{ ID string }
		srv.Op("POST", "/api/v1/app/"+appID+"/msg", map[string]any{"eventType": eventType, "eventId": eventID, "tags": tags,
			"payload": map[string]any{"action": eventType, "eventId": eventID}}, 202).JSON(t, &msg)
		return msg.ID
	}
	waitAttempts := func(n int) {
		deadline := time.Now().Add(15 * time.Second)
		for {
			var list struct{ Data []any }
			srv.Op("GET", "/api/v1/app/"+appID+"/attempt/endpoint/"+f.billing, nil, 200).JSON(t, &list)
			got := len(list.Data)
			srv.Op("GET", "/api/v1/app/"+appID+"/attempt/endpoint/"+f.crm, nil, 200).JSON(t, &list)
			if got += len(list.Data); got == n {
				return
			}
			if got > n || time.Now().After(deadline) {
				t.Fatalf("%d attempts, want %d", got, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	f.m1 = send("order.paid", "evt-1001", []string{"vip"})
	f.m2 = send("order.paid", "evt-1002", nil)
	waitAttempts(2)
	f.split = clock.Now().Add(time.Hour)
	clock.Advance(2 * time.Hour)
	f.m3 = send("order.refunded", "evt-1003", []string{"vip", "eu"})
	waitAttempts(4)
	return f
}

// rows returns the message ids of the rows of the page's table, in order.
func (b *tab) rowMessages() []string {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table tbody tr")).map(function (tr) {
		var m = tr.textContent.match(/msg_[0-9A-Za-z]+/); return m ? m[0] : "?"; })`))
	if err != nil {
		b.t.Fatalf("read rows: %v", err)
	}
	return ids
}

// filter opens page, sets the fields of the filter form (by id) as a person would, applies
// the form and returns the message ids of the rows it shows.
func (b *tab) filter(page string, fields map[string]string) []string {
	b.t.Helper()
	b.open(page)
	for id, value := range fields {
		switch id {
		case "q", "channel":
			b.do(chromedp.SendKeys(chromedp.Search("#"+id), value))
		default:
			// Set without a change event: the script would submit the form on it, and this
			// applies the form as one step below, whatever the number of fields.
			b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById(` + jsString(id) + `).value = ` + jsString(value)))
		}
	}
	b.click(`//button[normalize-space()="Apply"]`)
	return b.rowMessages()
}

func sameSet(got []string, want ...string) bool {
	got, want = slices.Clone(got), slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}

// TestFindingADelivery filters the application's delivery history and its message log by
// each field in Chromium, and checks the rows; then opens a filtered page's shareable link in
// another browser and sees the same rows.
func TestFindingADelivery(t *testing.T) {
	chromium := findChromium(t)
	f := newFindingFixture(t)
	b := newBrowser(t, chromium)
	b.open(f.srv.URL + "/dashboard/login")
	b.do(chromedp.SendKeys(chromedp.Search("#token"), f.srv.Token))
	b.click(`//button[normalize-space()="Sign in"]`)

	// The application's delivery history, one attempt a row: m1 and m2 to Billing, m3 to both.
	history := f.appURL + "/attempts"
	b.open(f.appURL)
	b.click(`//a[normalize-space()="Delivery history"]`)
	if got := b.rowMessages(); !sameSet(got, f.m1, f.m2, f.m3, f.m3) {
		t.Fatalf("unfiltered history rows %v, want m1, m2 and m3 twice", got)
	}
	split := f.split.UTC().Format("2006-01-02T15:04")
	for _, tc := range []struct {
		name   string
		fields map[string]string
		want   []string
	}{
		{"status failed", map[string]string{"status": "failed"}, []string{f.m3}},
		{"status delivered", map[string]string{"status": "success"}, []string{f.m1, f.m2, f.m3}},
		{"5xx", map[string]string{"code": "5xx"}, []string{f.m3}},
		{"2xx", map[string]string{"code": "2xx"}, []string{f.m1, f.m2, f.m3}},
		{"no response", map[string]string{"code": "none"}, nil},
		{"event type", map[string]string{"event_type": "order.refunded"}, []string{f.m3, f.m3}},
		{"endpoint", map[string]string{"endpoint": f.crm}, []string{f.m3}},
		{"since", map[string]string{"since": split}, []string{f.m3, f.m3}},
		{"until", map[string]string{"until": split}, []string{f.m1, f.m2}},
		{"message id", map[string]string{"q": f.m2}, []string{f.m2}},
		{"event id", map[string]string{"q": "evt-1001"}, []string{f.m1}},
		{"tag", map[string]string{"q": "vip"}, []string{f.m1, f.m3, f.m3}},
		{"tag and endpoint", map[string]string{"q": "eu", "endpoint": f.billing}, []string{f.m3}},
	} {
		if got := b.filter(history, tc.fields); !sameSet(got, tc.want...) {
			t.Errorf("history filtered by %s: rows %v, want %v", tc.name, got, tc.want)
		}
	}
	// An endpoint's own history has the same filters, within the endpoint.
	if got := b.filter(f.appURL+"/endpoints/"+f.billing+"/history", map[string]string{"q": "vip"}); !sameSet(got, f.m1, f.m3) {
		t.Errorf("Billing's history searched for the tag vip: rows %v, want m1 and m3", got)
	}
	// A date the form cannot read is named, not ignored in silence.
	b.open(history + "?since=yesterday")
	if body := b.body(); !strings.Contains(body, "Enter a date and time such as") {
		t.Errorf("history with since=yesterday does not say what is wrong:\n%s", body)
	}

	// The message log, one message a row.
	messages := f.appURL + "/messages"
	for _, tc := range []struct {
		name   string
		fields map[string]string
		want   []string
	}{
		{"status pending", map[string]string{"status": "pending"}, []string{f.m3}},
		{"status delivered", map[string]string{"status": "success"}, []string{f.m1, f.m2, f.m3}},
		{"5xx", map[string]string{"code": "5xx"}, []string{f.m3}},
		{"event type", map[string]string{"event_type": "order.paid"}, []string{f.m1, f.m2}},
		{"endpoint", map[string]string{"endpoint": f.crm}, []string{f.m3}},
		{"since", map[string]string{"since": split}, []string{f.m3}},
		{"until", map[string]string{"until": split}, []string{f.m1, f.m2}},
		{"message id", map[string]string{"q": f.m1}, []string{f.m1}},
		{"event id", map[string]string{"q": "evt-1003"}, []string{f.m3}},
		{"tag", map[string]string{"q": "vip"}, []string{f.m1, f.m3}},
		{"delivered to CRM", map[string]string{"endpoint": f.crm, "status": "success"}, nil},
	} {
		if got := b.filter(messages, tc.fields); !sameSet(got, tc.want...) {
			t.Errorf("messages filtered by %s: rows %v, want %v", tc.name, got, tc.want)
		}
	}

	// Every filter is in the URL: the page's share link opens the same rows elsewhere.
	want := b.filter(history, map[string]string{"q": "vip", "code": "2xx", "since": split})
	if !sameSet(want, f.m3) {
		t.Fatalf("history of 2xx vip attempts since the split: rows %v, want m3", want)
	}
	b.shot("delivery-history-filtered")
	link := b.attr("#share-link", "href")
	for _, p := range []string{"q=vip", "code=2xx", "since=" + strings.ReplaceAll(split, ":", "%3A")} {
		if !strings.Contains(link, p) {
			t.Errorf("share link %q lacks %s", link, p)
		}
	}
	other := newBrowser(t, chromium)
	other.open(f.srv.URL + "/dashboard/login?next=" + url.QueryEscape(link))
	other.do(chromedp.SendKeys(chromedp.Search("#token"), f.srv.Token))
	other.click(`//button[normalize-space()="Sign in"]`)
	if got := other.rowMessages(); !sameSet(got, want...) {
		t.Errorf("the share link %s in another browser shows rows %v, want %v", link, got, want)
	}
	if got := other.attr("#q", "value"); got != "vip" {
		t.Errorf("the shared view's search field holds %q, want vip", got)
	}
}
