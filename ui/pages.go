package ui

import (
	"slices"
	"strings"
)

// Page is a GET route of the dashboard that answers with a page of its own, as the route
// table registers it. Tools and tests that must visit every page (the page-weight budget, the
// screenshots in docs/screenshots) read them here, so a new page is visited as soon as it is
// routed.
type Page struct {
	// Pattern is the route's pattern without its method: "/dashboard/apps/{app}/endpoints/{ep}".
	Pattern string
	// Portal is true when a customer's portal session may open the page; false for the
	// operators' pages.
	Portal bool
	// SignedIn is true when the page needs a session, false when anyone may open it.
	SignedIn bool
}

// notPages are the GET routes that answer with something other than a page: a redirect, a
// stylesheet, an image, or the rows of a list that follows new attempts.
var notPages = []string{
	"GET /dashboard/{$}",
	"GET /dashboard/portal/login",
	"GET /dashboard/brand.css",
	"GET /dashboard/language",
	"GET /dashboard/brand/logo",
	"GET /dashboard/brand/favicon",
	"GET /dashboard/apps/{app}/endpoints/{ep}/history/live",
	"GET /dashboard/apps/{app}/attempts/live",
}

// NotPages lists the GET routes that are not pages (a redirect, a file, live rows), as
// patterns without their method: a link may lead to one.
func NotPages() []string {
	out := make([]string, len(notPages))
	for i, p := range notPages {
		out[i] = strings.TrimPrefix(p, "GET ")
	}
	return out
}

// Pages lists the dashboard's pages in the order the route table has them. A GET route is a
// page unless notPages lists it.
func Pages() []Page {
	var pages []Page
	for _, rt := range (&Dashboard{}).routes() {
		path, ok := strings.CutPrefix(rt.pattern, "GET ")
		if !ok || slices.Contains(notPages, rt.pattern) {
			continue
		}
		pages = append(pages, Page{Pattern: path, Portal: rt.access != operatorOnly, SignedIn: rt.access != public})
	}
	return pages
}
