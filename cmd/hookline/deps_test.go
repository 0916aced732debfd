package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestServerDependencies: building hookline needs only the modules the server uses, so a first
// `go run ./cmd/hookline serve` does not download the test-only ones (the browser driver, the
// Svix SDK, the Standard Webhooks library). The README quotes what the build downloads.
func TestServerDependencies(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var modules []string
	for _, m := range strings.Fields(string(out)) {
		if !slices.Contains(modules, m) {
			modules = append(modules, m)
		}
	}
	slices.Sort(modules)
	for _, testOnly := range []string{"github.com/chromedp/chromedp", "github.com/chromedp/cdproto", "github.com/svix/svix-webhooks",
		"github.com/standard-webhooks/standard-webhooks/libraries"} {
		if slices.Contains(modules, testOnly) {
			t.Errorf("the server build needs %s, a module only tests should use", testOnly)
		}
	}
	for _, needed := range []string{"modernc.org/sqlite", "github.com/jackc/pgx/v5"} {
		if !slices.Contains(modules, needed) {
			t.Errorf("the server build does not list %s: is go list's output what this test expects?\n%s", needed, out)
		}
	}
	t.Logf("%d modules: %s", len(modules), strings.Join(modules, " "))
}
