package dashboard

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
)

// brandCheck reads what a page shows of its brand.
func (b *tab) brandCheck() (title, text, accent, font, logo string) {
	b.t.Helper()
	title = b.attrJS(`document.title`)
	text = b.body()
	accent = b.attrJS(`getComputedStyle(document.documentElement).getPropertyValue("--accent").trim()`)
	font = b.attrJS(`getComputedStyle(document.body).fontFamily`)
	logo = b.attr(`.brand img`, "src")
	return
}

// TestBrandedPortal: an installation branded Usetix (name, logo, favicon, accent colour, font,
// no "powered by" line) shows its customers Usetix and never the word Hookline, on every portal
// page, its error pages and its invalid-link page; an application whose metadata names another
// brand (Cleartix, with its own logo and colour, and the "powered by" line back on) shows that
// one in its portal.
func TestBrandedPortal(t *testing.T) {
	chromium := findChromium(t)
	dir := t.TempDir()
	logo := filepath.Join(dir, "usetix.svg")
	favicon := filepath.Join(dir, "usetix-icon.svg")
	svg := `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 22 22"><rect width="22" height="22" rx="5" fill="#e4003a"/></svg>`
	for _, f := range []string{logo, favicon} {
		if err := os.WriteFile(f, []byte(svg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := testserver.Start(t, testserver.Options{Configure: func(c *config.Config) {
		c.BrandName, c.BrandLogo, c.BrandFavicon = "Usetix", logo, favicon
		c.BrandAccent, c.BrandFont, c.BrandHidePoweredBy = "#e4003a", `"DejaVu Serif", serif`, true
	}})
	rc := newIDReceiver(t)
	createEventTypes(t, srv)
	appID := createApp(t, srv, "Stadium Tours Ltd", "stadium-tours")
	epID := createEndpoint(t, srv, appID, rc.URL+"/webhooks", "Ticket sync")
	sendMessage(t, srv, appID, "order.paid")
	rc.waitIDs(t, 1)

	b := newBrowser(t, chromium)
	link, _ := portalLink(t, srv, appID, map[string]any{})
	b.open(link)
	appURL := srv.URL + "/dashboard/apps/" + appID
	for _, page := range []string{appURL, appURL + "/endpoints/" + epID, appURL + "/attempts", appURL + "/messages",
		appURL + "/api-keys", srv.URL + "/dashboard/catalogue", appURL + "/endpoints/ep_nothere", srv.URL + "/dashboard/apps"} {
		b.open(page)
		title, text, accent, font, logoSrc := b.brandCheck()
		if strings.Contains(strings.ToLower(title+text), "hookline") {
			t.Errorf("%s shows the word Hookline: title %q\n%s", page, title, text)
		}
		if !strings.Contains(title, "Usetix") || !strings.Contains(text, "Usetix") {
			t.Errorf("%s does not show Usetix: title %q\n%s", page, title, text)
		}
		if accent != "#e4003a" || !strings.Contains(font, "DejaVu Serif") || !strings.HasPrefix(logoSrc, "/dashboard/brand/logo?v=") {
			t.Errorf("%s: accent %q, font %q, logo %q", page, accent, font, logoSrc)
		}
		if icon := b.attr(`link[rel=icon]`, "href"); !strings.HasPrefix(icon, "/dashboard/brand/favicon?v=") {
			t.Errorf("%s: icon %q", page, icon)
		}
	}
	// The accent holds in dark mode, the system's as a link's.
	b.prefersColorScheme("dark")
	b.open(appURL)
	if _, _, accent, _, _ := b.brandCheck(); accent != "#e4003a" {
		t.Errorf("with the system dark, the accent is %q, want #e4003a", accent)
	}
	b.prefersColorScheme("light")
	b.shot("portal-branded")
	if ok := b.attrJS(`String(document.querySelector(".brand img").naturalWidth > 0)`); ok != "true" {
		t.Errorf("the logo did not load")
	}
	// A link that is not valid: no session, the installation's brand.
	b.open(srv.URL + "/dashboard/portal/login?token=hlp_nonsense")
	if title, text, _, _, _ := b.brandCheck(); strings.Contains(strings.ToLower(title+text), "hookline") || !strings.Contains(title, "Usetix") {
		t.Errorf("the invalid-link page: title %q\n%s", title, text)
	}

	// An application with a brand of its own, in its metadata.
	cleartixLogo := "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(svg, "#e4003a", "#00a651")))
	var other struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Cleartix Events", "metadata": map[string]string{
		"brand.name": "Cleartix", "brand.accent": "#00a651", "brand.logo": cleartixLogo, "brand.poweredBy": "true"}}, 201).JSON(t, &other)
	link, _ = portalLink(t, srv, other.ID, map[string]any{})
	b.open(link)
	title, text, accent, _, logoSrc := b.brandCheck()
	if !strings.Contains(title, "Cleartix") || strings.Contains(title+text, "Usetix") || accent != "#00a651" || logoSrc != cleartixLogo {
		t.Errorf("Cleartix's portal: title %q, accent %q, logo %.40q\n%s", title, accent, logoSrc, text)
	}
	if !strings.Contains(text, "Webhooks powered by Hookline") {
		t.Errorf("Cleartix's portal turned the powered-by line on, but it is not there:\n%s", text)
	}
}

// attrJS evaluates a JavaScript expression that gives a string.
func (b *tab) attrJS(expr string) string {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}
