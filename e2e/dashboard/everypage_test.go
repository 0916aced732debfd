package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/internal/testserver"
	"github.com/hookline/hookline/ui"
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

// look is one way TestEveryPage sees every page. Each look writes screenshots of its own,
// named with its suffix; TestScreenshotsAreListed wants all of them.
type look struct {
	suffix    string // added to the screenshots' names, as "-de"
	language  string // the browser's language (its Accept-Language), "" for its own
	linkQuery string // added to the portal link, as "&lang=de"
}

// looks are the looks of TestEveryPage. Another language is one more line, such as
// {suffix: "-de", language: "de"}.
var looks = []look{
	{},
}

// language makes the tab ask for pages in a language, as a browser set to it does.
func (b *tab) language(lang string) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Accept-Language": lang}}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: lang})
		return err
	}))
}

// pageSeed is what TestEveryPage's server holds: an application with two endpoints and a page
// of deliveries (three of which failed), event types, an API key, a recover task. Its values fill the pages' wildcards.
func pageSeed(t *testing.T, srv *testserver.Instance) map[string]string {
	rc := newIDReceiver(t)
	createEventTypes(t, srv)
	appID := createApp(t, srv, "Cool Events GmbH", "cool-events")
	epID := createEndpoint(t, srv, appID, rc.URL+"/webhooks", "Billing sync")
	down := newIDReceiver(t) // a receiver that is down: the refunds fail there
	down.down.Store(true)
	var crm struct{ ID string }
	srv.Op("POST", "/api/v1/app/"+appID+"/endpoint", map[string]any{"url": down.URL + "/crm", "description": "CRM refunds",
		"filterTypes": []string{"order.refunded"}}, 201).JSON(t, &crm)
	var msgs []string
	for i := 0; i < 25; i++ {
		typ := "order.paid"
		if i%8 == 3 {
			typ = "order.refunded"
		}
		msgs = append(msgs, sendMessage(t, srv, appID, typ))
	}
	rc.waitIDs(t, 25)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var failed struct{ Data []struct{ ID string } }
		srv.Op("GET", "/api/v1/app/"+appID+"/attempt/endpoint/"+crm.ID, nil, 200).JSON(t, &failed)
		if len(failed.Data) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the three refunds made %d attempts at CRM refunds, want 3", len(failed.Data))
		}
	}
	var attempts struct{ Data []struct{ ID string } }
	srv.Op("GET", "/api/v1/app/"+appID+"/attempt/endpoint/"+epID, nil, 200).JSON(t, &attempts)
	var task struct{ ID string }
	srv.Op("POST", "/api/v1/app/"+appID+"/endpoint/"+epID+"/recover", map[string]any{"since": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, 202).JSON(t, &task)
	srv.Op("POST", "/api/v1/token", map[string]any{"kind": "application", "appId": appID, "name": "Billing export"}, 201)
	return map[string]string{"app": appID, "ep": epID, "attempt": attempts.Data[0].ID, "msg": msgs[len(msgs)-1],
		"task": task.ID, "name": "order.paid"}
}

var wildcard = regexp.MustCompile(`\{(\w+)(\.\.\.)?\}`)

// pagePath fills a page pattern's wildcards with the seed's values.
func pagePath(t *testing.T, pattern string, seed map[string]string) string {
	t.Helper()
	return wildcard.ReplaceAllStringFunc(pattern, func(w string) string {
		v, ok := seed[wildcard.FindStringSubmatch(w)[1]]
		if !ok {
			t.Fatalf("the page %s has a wildcard %s that TestEveryPage has no value for: add one to pageSeed", pattern, w)
		}
		return v
	})
}

// weigher records what a tab loads, with the browser's cache off.
type weigher struct {
	t      *testing.T
	b      *tab
	origin string
	log    *requestLog
	pages  *http.ServeMux // pageMux
}

func newWeigher(t *testing.T, b *tab, origin string) *weigher {
	w := &weigher{t: t, b: b, origin: origin, log: &requestLog{}, pages: pageMux()}
	w.log.reset()
	if err := chromedp.Listen(b.ctx, w.log.listen); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	}))
	return w
}

// page runs load, checks that all it loaded came from the dashboard's origin and weighs under
// the budget, and takes the page's screenshots.
func (w *weigher) page(name string, load func()) {
	t := w.t
	t.Helper()
	w.log.reset()
	load()
	// Wait for the requests the page started (a deferred script, the icon) to finish.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, _, pending := w.log.total(); pending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	urls, bytes, _ := w.log.total()
	t.Logf("%-30s %6.1f KB in %d requests", name, bytes/1024, len(urls))
	if len(urls) == 0 {
		t.Errorf("%s: no request recorded", name)
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, w.origin+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("%s: a request leaves the dashboard's origin: %s", name, u)
		}
	}
	if bytes > pageBudget {
		t.Errorf("%s weighs %.1f KB with its assets, over the %d KB budget: %v", name, bytes/1024, pageBudget/1024, urls)
	}
	w.links(name)
	w.b.shot(name)
}

// links checks that every link of the page that stays on the dashboard leads to a page that
// ui.Pages lists (or to a route ui.NotPages lists, such as the home's redirect), so the walk
// misses no page a person can reach.
func (w *weigher) links(name string) {
	w.t.Helper()
	ctx, cancel := w.b.timeout()
	defer cancel()
	hrefs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("a[href]:not([href^='#'])"), function (a) { return a.href; })`))
	if err != nil {
		w.t.Fatalf("%s: read the links: %v", name, err)
	}
	for _, href := range hrefs {
		u, err := url.Parse(href)
		if err != nil || u.Scheme+"://"+u.Host != w.origin || !strings.HasPrefix(u.Path, "/dashboard/") {
			continue
		}
		if _, pattern := w.pages.Handler(&http.Request{Method: "GET", URL: u, Host: u.Host}); pattern == "" {
			w.t.Errorf("%s links to %s, which is no GET route of the dashboard (ui.Pages, ui.NotPages)", name, u.Path)
		}
	}
}

// pageMux routes the dashboard's pages and its other GET routes to a handler that does nothing.
func pageMux() *http.ServeMux {
	mux := http.NewServeMux()
	none := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, p := range ui.NotPages() {
		mux.Handle("GET "+p, none)
	}
	for _, p := range ui.Pages() {
		mux.Handle("GET "+p.Pattern, none)
	}
	return mux
}

// TestEveryPage opens every page the dashboard routes (ui.Pages), as an operator and, when a
// customer may see it, in the portal, with a server holding a page of deliveries; plus the
// portal link a form makes and the pages of addresses that lead nowhere. With the browser's
// cache off it records every request each page makes (the page, its stylesheet, script and
// icon, and whatever else) and checks that all go to the dashboard's own origin and that a page
// with all it loads stays under 150 KB; it logs each page's weight. Every link of every page
// that stays on the dashboard must lead to a page of the list. With screenshots asked for
// it takes each page's, light and dark, in every look.
func TestEveryPage(t *testing.T) {
	chromium := findChromium(t)
	srv := testserver.Start(t, testserver.Options{})
	seed := pageSeed(t, srv)
	pages := ui.Pages()
	for _, l := range looks {
		// The portal first, so the operator's page of portal sessions has one.
		link, _ := portalLink(t, srv, seed["app"], map[string]any{})
		p := newBrowser(t, chromium)
		p.look = l.suffix
		if l.language != "" {
			p.language(l.language)
		}
		pw := newWeigher(t, p, srv.URL)
		pw.page(portalShot("endpoints"), func() { p.open(link + l.linkQuery) })

		b := newBrowser(t, chromium)
		b.look = l.suffix
		if l.language != "" {
			b.language(l.language)
		}
		w := newWeigher(t, b, srv.URL)
		open := func(b *tab, path string) func() { return func() { b.open(srv.URL + path) } }
		for _, pg := range pages {
			if !pg.SignedIn {
				w.page(pageShots[pg.Pattern], open(b, pagePath(t, pg.Pattern, seed)))
			}
		}
		b.open(srv.URL + "/dashboard/login")
		b.do(chromedp.SendKeys(chromedp.Search("#token"), srv.Token))
		b.click(`//button[normalize-space()="Sign in"]`)
		for _, pg := range pages {
			if pg.SignedIn {
				w.page(pageShots[pg.Pattern], open(b, pagePath(t, pg.Pattern, seed)))
			}
		}
		b.open(srv.URL + pagePath(t, "/dashboard/apps/{app}", seed))
		w.page("portal-link", func() { b.click(`//button[normalize-space()="Customer portal link"]`) })
		w.page("not-found", open(b, "/dashboard/nowhere"))
		w.page("portal-link-invalid", open(b, "/dashboard/portal/login?token=hlp_notalink"))

		for _, pg := range pages {
			if pg.SignedIn && pg.Portal && pageShots[pg.Pattern] != "endpoints" {
				pw.page(portalShot(pageShots[pg.Pattern]), open(p, pagePath(t, pg.Pattern, seed)))
			}
		}
	}
}
