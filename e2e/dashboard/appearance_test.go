package dashboard

import (
	"context"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Kolkata without the system's zone files

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/internal/testserver"
)

// Page backgrounds of the two colour schemes (--bg in app.css).
const (
	lightBackground = "rgb(246, 247, 249)"
	darkBackground  = "rgb(14, 17, 23)"
)

// prefersColorScheme makes the tab's system setting dark or light ("" for the system's own).
func (b *tab) prefersColorScheme(scheme string) {
	b.t.Helper()
	b.scheme = scheme
	b.emulateScheme(scheme)
}

// emulateScheme sets the tab's colour scheme without changing what the tab remembers.
func (b *tab) emulateScheme(scheme string) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	}))
}

// timeZone sets the tab's time zone.
func (b *tab) timeZone(zone string) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
		return err
	}))
}

func (b *tab) background() string {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
	if err != nil {
		b.t.Fatalf("read the background: %v", err)
	}
	return s
}

// TestDarkModeTimeZonesAndWords: pages follow the system's colour scheme, and a portal link
// can force one either way; absolute times are shown in the viewer's time zone with UTC on
// hover; statuses and response codes are words.
func TestDarkModeTimeZonesAndWords(t *testing.T) {
	chromium := findChromium(t)
	srv := testserver.Start(t, testserver.Options{})
	rc := newReceiver(t)
	appID := createApp(t, srv, "Cool Events GmbH", "cool-events")
	epID := createEndpoint(t, srv, appID, rc.URL+"/webhooks", "Billing sync")
	srv.Op("POST", "/api/v1/app/"+appID+"/msg", map[string]any{"eventType": "test.webhook", "payload": map[string]any{"n": 1}}, 202)
	appURL := srv.URL + "/dashboard/apps/" + appID
	epURL := appURL + "/endpoints/" + epID

	b := newBrowser(t, chromium)
	b.open(srv.URL + "/dashboard/login")
	b.do(chromedp.SendKeys(chromedp.Search("#token"), srv.Token))
	b.click(`//button[normalize-space()="Sign in"]`)

	// The operator's pages follow the system.
	b.prefersColorScheme("dark")
	b.open(appURL)
	if got := b.background(); got != darkBackground {
		t.Errorf("operator page with a dark system: background %s, want %s", got, darkBackground)
	}
	b.prefersColorScheme("light")
	b.open(appURL)
	if got := b.background(); got != lightBackground {
		t.Errorf("operator page with a light system: background %s, want %s", got, lightBackground)
	}

	// Times in the viewer's zone, UTC on hover; statuses and codes in words.
	b.timeZone("Asia/Kolkata")
	b.waitFor(epURL+"/history", "Delivered", "200 OK")
	body := b.body()
	for _, raw := range []string{"success", "pending"} {
		if strings.Contains(body, raw) {
			t.Errorf("history shows the raw status %q:\n%s", raw, body)
		}
	}
	stamp := b.attr("time.abs", "datetime")
	at, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		t.Fatalf("attempt time %q: %v", stamp, err)
	}
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	shown, hover := b.text("time.abs"), b.attr("time.abs", "title")
	t.Logf("attempt time shown as %q, on hover %q", shown, hover)
	if want := at.In(kolkata).Format("2 Jan 2006, 15:04:05"); !strings.HasPrefix(shown, want) || strings.HasSuffix(shown, "UTC") {
		t.Errorf("attempt time in Asia/Kolkata shows %q, want %q and the zone", shown, want)
	}
	if want := at.UTC().Format("2 Jan 2006, 15:04:05 UTC"); hover != want {
		t.Errorf("attempt time's hover text %q, want %q", hover, want)
	}
	b.timeZone("")

	// A portal link that forces dark mode wins over a light system, and Svix's darkMode=false
	// forces light over a dark one; a link without either follows the system.
	for _, tc := range []struct{ name, param, system, want string }{
		{"theme=dark on a light system", "&theme=dark", "light", darkBackground},
		{"darkMode=true on a light system", "&darkMode=true", "light", darkBackground},
		{"darkMode=false on a dark system", "&darkMode=false", "dark", lightBackground},
		{"no parameter on a dark system", "", "dark", darkBackground},
		{"no parameter on a light system", "", "light", lightBackground},
	} {
		link, _ := portalLink(t, srv, appID, map[string]any{"expiry": 3600})
		p := newBrowser(t, chromium)
		p.prefersColorScheme(tc.system)
		p.open(link + tc.param)
		if got := p.background(); got != tc.want {
			t.Errorf("portal link with %s: background %s, want %s", tc.name, got, tc.want)
		}
		p.open(epURL + "/history") // the choice lasts for the session, not just the first page
		if got := p.background(); got != tc.want {
			t.Errorf("portal link with %s, second page: background %s, want %s", tc.name, got, tc.want)
		}
	}
}
