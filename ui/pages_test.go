package ui

import (
	"slices"
	"testing"
)

// TestPagesComeFromTheRouteTable: Pages lists the routed GET pages, with who may open them,
// and every route it leaves out as not a page is still routed.
func TestPagesComeFromTheRouteTable(t *testing.T) {
	var routed []string
	for _, rt := range (&Dashboard{}).routes() {
		routed = append(routed, rt.pattern)
	}
	for _, p := range notPages {
		if !slices.Contains(routed, p) {
			t.Errorf("notPages lists %q, which is not routed", p)
		}
	}
	pages := Pages()
	want := map[string]bool{"/dashboard/login": true, "/dashboard/apps": false, "/dashboard/apps/{app}": true,
		"/dashboard/event-types/new": false, "/dashboard/catalogue": true}
	for pattern, portal := range want {
		i := slices.IndexFunc(pages, func(p Page) bool { return p.Pattern == pattern })
		if i < 0 {
			t.Errorf("Pages lacks %s", pattern)
		} else if pages[i].Portal != portal {
			t.Errorf("Pages: %s Portal=%v, want %v", pattern, pages[i].Portal, portal)
		}
	}
	for _, p := range pages {
		if slices.Contains(NotPages(), p.Pattern) {
			t.Errorf("Pages lists %s, which NotPages lists too", p.Pattern)
		}
	}
	if !slices.Contains(NotPages(), "/dashboard/{$}") || !slices.Contains(NotPages(), "/dashboard/brand.css") {
		t.Errorf("NotPages lacks the home's redirect or the brand's stylesheet: %q", NotPages())
	}
}
