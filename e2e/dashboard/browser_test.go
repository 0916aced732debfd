package dashboard

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var screenshots = flag.Bool("screenshots", os.Getenv("HOOKLINE_SCREENSHOTS") == "1", "write the screenshots of every page, light and dark, to docs/screenshots/")

// findChromium returns the path of a Chromium or Chrome binary. Without one the test skips,
// except on CI, where it fails: CI must run the browser tests.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (looked for /usr/bin/chromium, chromium-browser, google-chrome); install it with: apt-get install -y chromium"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// tab is one browser tab, with helpers that fail the test on error.
type tab struct {
	t   *testing.T
	ctx context.Context
	// scheme is the colour scheme the tab emulates, "" for the system's (light).
	scheme string
	// look is added to the names of the tab's screenshots ("-de" for German pages).
	look string
}

// newBrowser starts a headless Chromium with its own profile (so its own cookies) and returns
// its first tab. The flags keep it from calling home, which an offline machine refuses.
func newBrowser(t *testing.T, path string) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first action starts the browser; it must run on a context without a deadline, which
	// would end the browser with it.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return &tab{t: t, ctx: ctx}
}

const actionTimeout = 20 * time.Second

func (b *tab) timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, actionTimeout)
}

// do runs actions that do not navigate.
func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
}

// open navigates to url and returns the HTTP status of the page.
func (b *tab) open(url string) int64 {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		b.t.Fatalf("open %s: %v", url, err)
	}
	return resp.Status
}

// click clicks what sel finds and waits for the page it leads to (after any redirect); it
// returns that page's HTTP status.
func (b *tab) click(sel string) int64 {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.Search(sel), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("click %s: %v (at %s)", sel, err, b.location())
	}
	if resp == nil {
		b.t.Fatalf("click %s led to no page (at %s)", sel, b.location())
	}
	return resp.Status
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.Search(sel), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("text of %s: %v (at %s)", sel, err, b.location())
	}
	return strings.TrimSpace(s)
}

// body returns the page's visible text.
func (b *tab) body() string {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		b.t.Fatalf("read page: %v", err)
	}
	return s
}

func (b *tab) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Location())
	return s
}

// attr returns an attribute of the first element sel finds.
func (b *tab) attr(sel, name string) string {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){var e=document.querySelector(`+jsString(sel)+`);return e?(e.getAttribute(`+jsString(name)+`)||""):"<none>";})()`))
	if err != nil {
		b.t.Fatalf("attribute %s of %s: %v", name, sel, err)
	}
	return s
}

// count returns the number of elements the CSS selector finds.
func (b *tab) count(sel string) int {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
	if err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// waitFor reloads the page until its text contains all of want, or fails after a deadline: the
// delivery the page shows happens in the background.
func (b *tab) waitFor(url string, want ...string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		b.open(url)
		text := b.body()
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s never showed %q; it shows:\n%s", url, missing, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
