package dashboard

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/internal/testserver"
)

// pageBudget is the most a page may weigh with everything it loads (bytes on the wire).
const pageBudget = 150 * 1024

// requestLog records the requests of a tab, as the browser's network events report them.
type requestLog struct {
	mu    sync.Mutex
	urls  map[network.RequestID]string
	bytes map[network.RequestID]float64
}

func (l *requestLog) reset() {
	l.mu.Lock()
	l.urls, l.bytes = map[network.RequestID]string{}, map[network.RequestID]float64{}
	l.mu.Unlock()
}

func (l *requestLog) listen(ev any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		l.urls[e.RequestID] = e.Request.URL
	case *network.EventLoadingFinished:
		l.bytes[e.RequestID] = e.EncodedDataLength
	}
}

// total returns the URLs requested and the bytes received.
func (l *requestLog) total() (urls []string, bytes float64, pending int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, u := range l.urls {
		urls = append(urls, u)
		b, ok := l.bytes[id]
		if !ok {
			pending++
		}
		bytes += b
	}
	sort.Strings(urls)
	return urls, bytes, pending
}

// TestPageWeight opens every kind of dashboard and portal page in Chromium with the cache off,
// records every request each makes (the page, its stylesheet, script and icon, and whatever
// else), and checks that all of them go to the dashboard's own origin and that a page with all
// it loads stays under 150 KB. It logs each page's weight.
func TestPageWeight(t *testing.T) {
	chromium := findChromium(t)
	srv := testserver.Start(t, testserver.Options{})
	rc := newIDReceiver(t)
	createEventTypes(t, srv)
	appID := createApp(t, srv, "Cool Events GmbH", "cool-events")
	epID := createEndpoint(t, srv, appID, rc.URL+"/webhooks", "Billing sync")
	var msgs []string
	for i := 0; i < 25; i++ {
		msgs = append(msgs, sendMessage(t, srv, appID, "order.paid"))
	}
	rc.waitIDs(t, 25)
	var attempts struct{ Data []struct{ ID string } }
	srv.Op("GET", "/api/v1/app/"+appID+"/attempt/endpoint/"+epID, nil, 200).JSON(t, &attempts)
	var task struct{ ID string }
	srv.Op("POST", "/api/v1/app/"+appID+"/endpoint/"+epID+"/recover", map[string]any{"since": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, 202).JSON(t, &task)
	appURL := "/dashboard/apps/" + appID
	epURL := appURL + "/endpoints/" + epID

	b := newBrowser(t, chromium)
	log := &requestLog{}
	log.reset()
	if err := chromedp.Listen(b.ctx, log.listen); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	}))

	measure := func(name string, load func()) {
		t.Helper()
		log.reset()
		load()
		// Wait for the requests the page started (a deferred script, the icon) to finish.
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, _, pending := log.total(); pending == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		urls, bytes, _ := log.total()
		t.Logf("%-22s %6.1f KB in %d requests", name, bytes/1024, len(urls))
		if len(urls) == 0 {
			t.Errorf("%s: no request recorded", name)
		}
		for _, u := range urls {
			if !strings.HasPrefix(u, srv.URL+"/") && !strings.HasPrefix(u, "data:") {
				t.Errorf("%s: a request leaves the dashboard's origin: %s", name, u)
			}
		}
		if bytes > pageBudget {
			t.Errorf("%s weighs %.1f KB with its assets, over the %d KB budget: %v", name, bytes/1024, pageBudget/1024, urls)
		}
	}
	open := func(path string) func() { return func() { b.open(srv.URL + path) } }

	measure("sign-in", open("/dashboard/login"))
	b.do(chromedp.SendKeys(chromedp.Search("#token"), srv.Token))
	measure("applications", func() { b.click(`//button[normalize-space()="Sign in"]`) })
	for _, p := range []struct{ name, path string }{
		{"endpoints", appURL},
		{"endpoint form", appURL + "/endpoints/new"},
		{"endpoint", epURL},
		{"endpoint edit", epURL + "/edit"},
		{"confirm delete", epURL + "/delete"},
		{"confirm rotate", epURL + "/rotate"},
		{"endpoint history", epURL + "/history"},
		{"delivery history", appURL + "/attempts"},
		{"attempt", appURL + "/attempts/" + attempts.Data[0].ID},
		{"messages", appURL + "/messages"},
		{"message", appURL + "/messages/" + msgs[0]},
		{"task", appURL + "/tasks/" + task.ID},
		{"api keys", appURL + "/api-keys"},
		{"portal sessions", appURL + "/portal-sessions"},
		{"event types", "/dashboard/event-types"},
		{"event type form", "/dashboard/event-types/new"},
		{"event type edit", "/dashboard/event-types/order.paid/edit"},
		{"catalogue", "/dashboard/catalogue"},
		{"not found", "/dashboard/nowhere"},
	} {
		measure(p.name, open(p.path))
	}
	b.open(srv.URL + appURL)
	measure("portal link", func() { b.click(`//button[contains(normalize-space(), "portal link")]`) })

	link, _ := portalLink(t, srv, appID, map[string]any{})
	measure("portal", func() { b.open(link) })
	measure("portal endpoint", open(epURL))
	measure("portal history", open(appURL+"/attempts"))
	measure("portal catalogue", open("/dashboard/catalogue"))
}
