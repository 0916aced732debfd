package dashboard

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/ui"
)

// The screenshots in docs/screenshots are written by the Chromium tests as they go, with
// -screenshots or HOOKLINE_SCREENSHOTS=1; every run checks that they are all there and listed
// in docs/dashboard.md (TestScreenshotsAreListed). Each is a pair: NAME.png with the system's
// colour scheme light and NAME-dark.png with it dark.

const screenshotDir = "../../docs/screenshots"

// pageShots names the screenshot of every page ui.Pages lists, by its pattern. TestEveryPage
// takes them: an operator's view as NAME, a portal session's as portalShot(NAME).
var pageShots = map[string]string{
	"/dashboard/login":                             "sign-in",
	"/dashboard/apps":                              "applications",
	"/dashboard/apps/{app}/portal-sessions":        "portal-sessions",
	"/dashboard/apps/{app}":                        "endpoints",
	"/dashboard/apps/{app}/endpoints/new":          "endpoint-new",
	"/dashboard/apps/{app}/endpoints/{ep}":         "endpoint-detail",
	"/dashboard/apps/{app}/endpoints/{ep}/edit":    "endpoint-edit",
	"/dashboard/apps/{app}/endpoints/{ep}/delete":  "endpoint-delete",
	"/dashboard/apps/{app}/endpoints/{ep}/rotate":  "endpoint-rotate",
	"/dashboard/apps/{app}/endpoints/{ep}/history": "endpoint-history",
	"/dashboard/apps/{app}/attempts":               "delivery-history",
	"/dashboard/apps/{app}/attempts/{attempt}":     "attempt-details",
	"/dashboard/apps/{app}/messages":               "messages",
	"/dashboard/apps/{app}/messages/{msg}":         "message",
	"/dashboard/apps/{app}/tasks/{task}":           "recover-task",
	"/dashboard/apps/{app}/api-keys":               "api-keys",
	"/dashboard/event-types":                       "event-types",
	"/dashboard/catalogue":                         "event-catalogue",
	"/dashboard/event-types/new":                   "event-type-new",
	"/dashboard/event-types/{name}/edit":           "event-type-edit",
}

// extraShots are pages TestEveryPage shows that are no GET route of their own: the answer to
// a form, and the pages of an address that leads nowhere.
var extraShots = []string{"portal-link", "not-found", "portal-link-invalid"}

// flowShots are taken by the tests of a flow, of a page in a state the walk through every
// page does not show.
var flowShots = []string{
	"api-keys-created",          // TestAPIKeys
	"bulk-resend",               // TestBulkResend
	"delivery-history-live",     // TestLiveUpdates
	"delivery-history-filtered", // TestFindingADelivery
	"endpoint-charts",           // TestDeliveryCharts
	"endpoints-health",          // TestDeliveryCharts
	"event-catalogue-groups",    // TestEventCatalogue
	"portal-branded",            // TestBrandedPortal
	"portal-phone",              // TestDashboardInChromium
	"destination-form",          // TestBrokerDestinationInChromium
	"destination-history",       // TestBrokerDestinationInChromium
	"destination-attempt",       // TestBrokerDestinationInChromium
	"endpoint-destination",      // TestBrokerDestinationInChromium
	"portal-destination",        // TestBrokerDestinationInChromium
	"portal-german",             // TestGermanPortal
	"delivery-history-german",   // TestGermanPortal
}

// portalShot names the screenshot of a page as a portal session sees it.
func portalShot(name string) string {
	if name == "endpoints" { // the portal's home
		return "portal"
	}
	return "portal-" + name
}

// walkShots are the names of the screenshots TestEveryPage takes in one look.
func walkShots() []string {
	var names []string
	for _, p := range ui.Pages() {
		name := pageShots[p.Pattern]
		names = append(names, name)
		if p.Portal && p.SignedIn {
			names = append(names, portalShot(name))
		}
	}
	return append(names, extraShots...)
}

// allShots are the names of every screenshot pair, with each look's suffix.
func allShots() []string {
	var names []string
	for _, l := range looks {
		for _, n := range walkShots() {
			names = append(names, n+l.suffix)
		}
	}
	return append(names, flowShots...)
}

// maxShotHeight is the most of a long page a screenshot shows, in CSS pixels.
const maxShotHeight = 1600

// shot writes screenshots of the page as it is, with the system's colour scheme light and
// dark, to docs/screenshots/<name><look>.png and <name><look>-dark.png, when screenshots are
// asked for. The tab's colour scheme is then what it was.
func (b *tab) shot(name string) {
	b.t.Helper()
	if !*screenshots {
		return
	}
	// No focus ring or caret.
	b.do(chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	name += b.look
	b.emulateScheme("light")
	b.writeShot(name)
	b.emulateScheme("dark")
	b.writeShot(name + "-dark")
	b.emulateScheme(b.scheme)
}

func (b *tab) writeShot(name string) {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	size, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[document.documentElement.clientWidth, document.documentElement.scrollHeight]`))
	if err != nil || len(size) != 2 {
		b.t.Fatalf("screenshot %s: the page's size: %v", name, err)
	}
	shot, err := chromedp.Run(ctx, chromedp.Action[[]byte](func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format: page.CaptureScreenshotFormatPng, FromSurface: ptr(true), CaptureBeyondViewport: ptr(true),
			Clip: &page.Viewport{Width: size[0], Height: min(size[1], maxShotHeight), Scale: 1}})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	small, err := shrinkPNG(shot)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), small, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("wrote docs/screenshots/%s.png (%d KB)", name, len(small)/1024)
}

func ptr[T any](v T) *T { return &v }

// shrinkPNG re-encodes a screenshot with a palette of its 256 most used colours (the flat
// colours of the page; the few others, at the edges of letters, take the nearest of them) at
// the best compression: about a third of Chromium's PNG, and no visible change.
func shrinkPNG(b []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	bounds := img.Bounds()
	counts := map[color.RGBA]int{}
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colors := make([]color.RGBA, 0, len(counts))
	for c := range counts {
		colors = append(colors, c)
	}
	sort.Slice(colors, func(i, j int) bool {
		if counts[colors[i]] != counts[colors[j]] {
			return counts[colors[i]] > counts[colors[j]]
		}
		a, b := colors[i], colors[j]
		return uint32(a.R)<<16|uint32(a.G)<<8|uint32(a.B) < uint32(b.R)<<16|uint32(b.G)<<8|uint32(b.B)
	})
	pal := make(color.Palette, 0, 256)
	for _, c := range colors[:min(256, len(colors))] {
		pal = append(pal, c)
	}
	index := make(map[color.RGBA]uint8, len(colors))
	for _, c := range colors {
		index[c] = uint8(pal.Index(c))
	}
	out := image.NewPaletted(bounds, pal)
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			out.SetColorIndex(x, y, index[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)])
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var mdImage = regexp.MustCompile(`\]\(((?:docs/)?screenshots/[^)\s]+)\)`)

// TestScreenshotsAreListed needs no browser: every page the dashboard routes has a name for
// its screenshots; every screenshot the tests take is in docs/screenshots, light and dark, and
// docs/dashboard.md links both; every screenshot docs/ and the README show exists; and
// docs/screenshots holds nothing else. Refresh them with HOOKLINE_SCREENSHOTS=1 (see
// docs/dashboard.md).
func TestScreenshotsAreListed(t *testing.T) {
	pages := map[string]bool{}
	for _, p := range ui.Pages() {
		pages[p.Pattern] = true
		if pageShots[p.Pattern] == "" {
			t.Errorf("the dashboard routes the page GET %s, which has no screenshot: name it in pageShots (e2e/dashboard/screenshots_test.go), "+
				"run HOOKLINE_SCREENSHOTS=1 go test ./e2e/dashboard/ -run TestEveryPage and link the pair in docs/dashboard.md; "+
				"or, if it answers with no page of its own (a redirect, a file), list it in notPages (ui/pages.go)", p.Pattern)
		}
	}
	for pattern := range pageShots {
		if !pages[pattern] {
			t.Errorf("pageShots names %s, which the dashboard does not route as a page", pattern)
		}
	}

	guide, err := os.ReadFile("../../docs/dashboard.md")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, name := range allShots() {
		for _, file := range []string{name + ".png", name + "-dark.png"} {
			if want[file] {
				t.Errorf("two screenshots are named %s", file)
			}
			want[file] = true
			if _, err := os.Stat(filepath.Join(screenshotDir, file)); err != nil {
				t.Errorf("docs/screenshots/%s is missing: run HOOKLINE_SCREENSHOTS=1 go test ./e2e/dashboard/", file)
			}
			if !bytes.Contains(guide, []byte("(screenshots/"+file+")")) {
				t.Errorf("docs/dashboard.md does not link screenshots/%s", file)
			}
		}
	}

	docs, _ := filepath.Glob("../../docs/*.md")
	for _, doc := range append(docs, "../../README.md") {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdImage.FindAllSubmatch(b, -1) {
			if _, err := os.Stat(filepath.Join(filepath.Dir(doc), string(m[1]))); err != nil {
				t.Errorf("%s shows %s, which does not exist", filepath.Base(doc), m[1])
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(screenshotDir, "*"))
	for _, f := range files {
		if name := filepath.Base(f); !want[name] {
			t.Errorf("docs/screenshots/%s is no test's screenshot: remove it, or take it in a test and name it in e2e/dashboard/screenshots_test.go", name)
		}
	}
	t.Logf("%d screenshots, all listed in docs/dashboard.md", len(want))
}
