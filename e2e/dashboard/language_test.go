package dashboard

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
	"github.com/hookline/hookline/server"
)

// overrideText is the installation's own German text for the endpoints page's lead, from the
// strings file of TestGermanPortal.
const overrideText = "Adressen, an die Usetix jedes abonnierte Ereignis signiert schickt."

// TestGermanPortal: a portal link that names German opens a portal in German on every page
// it walks (headings, buttons, statuses in words, codes, dates and the script's relative
// times), with the installation's own override of one text; English words do not show. The
// operator dashboard follows Accept-Language, and its language switch changes the page and
// keeps the choice.
func TestGermanPortal(t *testing.T) {
	chromium := findChromium(t)
	strs := filepath.Join(t.TempDir(), "strings.json")
	if err := os.WriteFile(strs, []byte(`{"de": {"endpoints.urlsThatReceiveASigned": "`+overrideText+`"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := testserver.Start(t, testserver.Options{Configure: func(c *config.Config) { c.Strings = strs }})
	rc := newReceiver(t)
	appID := createApp(t, srv, "Cool Events GmbH", "cool-events")
	epID := createEndpoint(t, srv, appID, rc.URL+"/webhooks", "Billing sync")
	srv.Op("POST", "/api/v1/app/"+appID+"/msg", map[string]any{"eventType": "test.webhook", "payload": map[string]any{"n": 1}}, 202)
	link, _ := portalLink(t, srv, appID, map[string]any{"lang": "de", "expiry": 3600})
	appURL := srv.URL + "/dashboard/apps/" + appID
	epURL := appURL + "/endpoints/" + epID

	b := newBrowser(t, chromium)
	b.open(link)
	if got := b.attrJS(`document.documentElement.lang`); got != "de" {
		t.Errorf("portal page lang %q, want de", got)
	}
	b.waitFor(appURL, "Endpunkte", "Endpunkt hinzufügen", overrideText, "Letzte 24 Stunden", "Zugestellt")
	b.shot("portal-german")
	english := []string{"Endpoints", "Add endpoint", "Delivered", "All events", "Sign out", "Delivery history", "Messages"}
	b.noneOf(appURL, english...)

	// The endpoint's page and the history: statuses, codes and times in German.
	b.waitFor(epURL, "Signaturgeheimnis", "Test senden", "Letzte Versuche", "Zugestellt", "200 OK")
	b.noneOf(epURL, english...)
	b.waitFor(epURL+"/history", "Zustellhistorie", "Zugestellt", "Details ansehen", "Jede Antwort")
	if rel := b.text("time[data-rel]"); !strings.HasPrefix(rel, "vor ") && rel != "gerade eben" {
		t.Errorf("relative time %q, want German", rel)
	}
	if hover := b.attr("time.abs", "title"); !strings.Contains(hover, ". ") || !strings.HasSuffix(hover, "UTC") {
		t.Errorf("absolute time on hover %q, want a German date in UTC", hover)
	}
	b.shot("delivery-history-german")
	b.waitFor(appURL+"/messages", "Nachrichten", "Jedes an diese Anwendung gesendete Ereignis", "Kanal")
	b.waitFor(appURL+"/api-keys", "API-Schlüssel", "Noch keine API-Schlüssel", "Neuer API-Schlüssel")
	b.waitFor(srv.URL+"/dashboard/catalogue", "Ereigniskatalog", "Ereignistypen durchsuchen")
	// A page that is not there says so in German.
	b.waitFor(srv.URL+"/dashboard/apps/app_nothere", "Nicht gefunden")

	// The operator dashboard: Chromium asks for English; the switch turns the pages German
	// and back, and the choice stays for the next page.
	op := newBrowser(t, chromium)
	op.open(srv.URL + "/dashboard/login")
	op.do(chromedp.SendKeys(chromedp.Search("#token"), srv.Token))
	op.click(`//button[normalize-space()="Sign in"]`)
	op.waitFor(appURL, "Endpoints", "All events", "Customer portal link", "Delivered")
	op.click(`//footer//a[normalize-space()="Deutsch"]`)
	if got := op.location(); got != appURL {
		t.Errorf("after the switch the page is %s, want %s", got, appURL)
	}
	op.waitFor(appURL, "Endpunkte", "Alle Ereignisse", "Link zum Kundenportal", "Zugestellt", "Anwendungen")
	if strings.Contains(op.body(), overrideText) {
		// The override is the portal's lead too: operators and customers read the same words.
		t.Log("the operator page shows the installation's override as well")
	}
	op.waitFor(epURL+"/history", "Zustellhistorie", "Zugestellt")
	op.click(`//footer//a[normalize-space()="English"]`)
	op.waitFor(epURL+"/history", "Delivery history", "Delivered")

	// Accept-Language alone chooses German, for a page with no choice made.
	c := newClient(t, srv.URL)
	if p := c.do("GET", "/dashboard/login", nil, http.Header{"Accept-Language": {"de-AT,de;q=0.9,en;q=0.5"}}); !strings.Contains(p.Body, `lang="de"`) ||
		!strings.Contains(p.Body, "Betreiber-Token") {
		t.Errorf("sign-in page with Accept-Language de: %d\n%s", p.Status, p.Body)
	}
	if p := c.do("GET", "/dashboard/login", nil, http.Header{"Accept-Language": {"fr-FR"}}); !strings.Contains(p.Body, "Operator token") {
		t.Errorf("sign-in page with Accept-Language fr: want the default, English")
	}
}

// noneOf opens url and fails on any of words in the page's text.
func (b *tab) noneOf(url string, words ...string) {
	b.t.Helper()
	b.open(url)
	text := b.body()
	for _, w := range words {
		if strings.Contains(text, w) {
			b.t.Errorf("%s shows the English %q:\n%s", url, w, text)
		}
	}
}

// TestStringsFileRefusedAtStart: an override of an id the catalogue does not have, or with
// placeholders other than the message's, stops the server at start with a message naming it.
func TestStringsFileRefusedAtStart(t *testing.T) {
	for body, want := range map[string]string{
		`{"de": {"endpoint.nope": "x"}}`:                      `"endpoint.nope" is not a message id`,
		`{"de": {"endpoint.deleted": "Gelöscht: {adresse}"}}`: `has placeholders {adresse}, the message has {url}`,
		`{"fr": {"endpoint.saved": "Enregistré."}}`:           `language "fr"`,
		`{"de": `: "strings file",
	} {
		dir := t.TempDir()
		strs := filepath.Join(dir, "strings.json")
		if err := os.WriteFile(strs, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := testserver.Config(dir)
		cfg.Strings = strs
		srv, err := server.Open(context.Background(), cfg, nil)
		if err == nil {
			srv.Close()
			t.Errorf("strings %s: the server started", body)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("strings %s: error %q, want it to say %q", body, err, want)
		}
	}
}
