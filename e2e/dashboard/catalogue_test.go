package dashboard

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/internal/testserver"
)

// cleartixTypes are seed 001's event types (Cleartix's webhook page), in two groups, with one
// nested type added so the table shows nested fields.
func cleartixTypes(t *testing.T, srv *testserver.Instance) {
	schema := func(required []string, props map[string]any, example map[string]any) map[string]any {
		return map[string]any{"1": map[string]any{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
			"additionalProperties": false, "required": required, "properties": props, "examples": []any{example}}}
	}
	str := map[string]any{"type": "string"}
	for _, et := range []map[string]any{
		{"name": "ticket.sold", "groupName": "Tickets", "description": "A ticket was purchased and paid",
			"schemas": schema([]string{"orderId", "ticketCount", "totalAmount"}, map[string]any{
				"orderId": str, "ticketCount": map[string]any{"type": "integer", "minimum": 0},
				"totalAmount": map[string]any{"type": "string", "description": `Decimal total as a string, e.g. "50.00" ("0" for free orders)`}},
				map[string]any{"orderId": "ord_9f8e7d6c", "ticketCount": 2, "totalAmount": "50.00"})},
		{"name": "ticket.refunded", "groupName": "Tickets", "description": "A ticket was refunded",
			"schemas": schema([]string{"orderId", "refundRef", "refundAmount"}, map[string]any{
				"orderId": str, "refundRef": map[string]any{"type": "string", "description": "Provider refund reference"},
				"refundAmount": map[string]any{"type": "integer", "description": "Refunded amount in cents"}},
				map[string]any{"orderId": "ord_9f8e7d6c", "refundRef": "re_4d3c2b1a", "refundAmount": 2500})},
		// Written as JSON text, so its properties keep the order written: the table follows it.
		{"name": "order.created", "groupName": "Orders", "description": "An order was confirmed (including free orders)",
			"schemas": json.RawMessage(`{"1": {"type": "object", "additionalProperties": false, "required": ["orderId", "status", "buyer"],
				"properties": {"orderId": {"type": "string"}, "status": {"type": "string", "enum": ["paid"]},
					"buyer": {"type": "object", "required": ["email"], "properties": {"email": {"type": "string", "format": "email"}, "name": {"type": "string"}}}},
				"examples": [{"orderId": "ord_9f8e7d6c", "status": "paid", "buyer": {"email": "ada@example.com"}}]}}`)},
		{"name": "event.published", "description": "An event was published and is live"},
	} {
		srv.Op("POST", "/api/v1/event-type", et, 201)
	}
}

// TestEventCatalogueInChromium reads seed 001's event types in the customer portal's catalogue:
// grouped, each with its description, example and a field table that matches its schema
// (nested fields under their parent); a search finds one type by a word of its fields; each type
// has a link of its own; and the page works the same without JavaScript.
func TestEventCatalogueInChromium(t *testing.T) {
	chromium := findChromium(t)
	srv := testserver.Start(t, testserver.Options{})
	cleartixTypes(t, srv)
	appID := createApp(t, srv, "Cleartix customer", "cx")
	b := newBrowser(t, chromium)
	link, _ := portalLink(t, srv, appID, map[string]any{})
	b.open(link)
	b.click(`//nav[@aria-label="Application"]//a[normalize-space()="Event types"]`)
	if loc := b.location(); loc != srv.URL+"/dashboard/catalogue" {
		t.Fatalf("the portal's event types tab is %s", loc)
	}

	// Groups in order, types without a group last.
	groups := strings.ToLower(b.text(`//nav[@aria-label="Event types"]`))
	if i, j, k := strings.Index(groups, "orders"), strings.Index(groups, "tickets"), strings.Index(groups, "other events"); i < 0 || j < i || k < j {
		t.Errorf("the groups read %q, want Orders, Tickets, Other events", groups)
	}

	// The field table of order.created, row by row as its schema says.
	rows := func(typ string) []string {
		t.Helper()
		s, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+jsString(`[id="`+typ+`"] table.fields tbody tr`)+
			`)).map(function(tr){return Array.from(tr.cells).map(function(c){return c.innerText.trim().replace(/\s+/g," ")}).join(" | ")})`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	want := []string{
		"orderId | string | Required |  | any",
		`status | string | Required |  | "paid"`,
		"buyer | object | Required |  | any",
		"buyer.email | string (email) | Required |  | any",
		"buyer.name | string | Optional |  | any",
	}
	got := rows("order.created")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("order.created's fields:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = rows("ticket.sold")
	if len(got) != 3 || got[1] != "ticketCount | integer | Required | minimum 0 | any" ||
		!strings.Contains(got[2], `Decimal total as a string, e.g. "50.00"`) {
		t.Errorf("ticket.sold's fields: %q", got)
	}
	if body := b.body(); !strings.Contains(body, `"refundRef": "re_4d3c2b1a"`) || !strings.Contains(body, "No schema is published for this event type.") {
		t.Errorf("the catalogue lacks an example or the note of a type without schema:\n%s", body)
	}
	b.shot("event-catalogue-groups")

	// A search by a word of a field's description finds that type only, and is a link.
	b.do(chromedp.SendKeys(chromedp.Search("#q"), "cents"))
	b.click(`//form[@role="search"]//button[normalize-space()="Search"]`)
	if loc := b.location(); loc != srv.URL+"/dashboard/catalogue?q=cents" {
		t.Errorf("a search is at %s", loc)
	}
	if n := b.count("article.cattype"); n != 1 || b.count(`[id="ticket.refunded"]`) != 1 || !strings.Contains(b.body(), "1 of 4 event types match") {
		t.Errorf("the search for cents shows %d types:\n%s", n, b.body())
	}
	b.open(srv.URL + "/dashboard/catalogue?q=nothing+like+this")
	if !strings.Contains(b.body(), "No event type matches") {
		t.Errorf("a search that finds nothing: %s", b.body())
	}

	// Each type's link leads to it.
	b.open(srv.URL + "/dashboard/catalogue")
	if href := b.attr(`[id="ticket.refunded"] a[aria-label="Link to ticket.refunded"]`, "href"); href != "/dashboard/catalogue#ticket.refunded" {
		t.Errorf("ticket.refunded's link is %q", href)
	}
	b.open(srv.URL + "/dashboard/apps/" + appID)
	b.open(srv.URL + "/dashboard/catalogue#ticket.refunded")
	if n := b.count(`[id="ticket.refunded"]:target`); n != 1 {
		t.Errorf("the link to ticket.refunded does not target it")
	}

	// Without JavaScript the page and its search are the same HTML.
	c := newClient(t, srv.URL)
	link, _ = portalLink(t, srv, appID, map[string]any{})
	if p := c.get(link[len(srv.URL):]); p.Status != http.StatusSeeOther {
		t.Fatalf("a fresh portal link: %d", p.Status)
	}
	p := c.get("/dashboard/catalogue?q=ticket")
	if p.Status != 200 || !strings.Contains(p.Body, `id="ticket.sold"`) || strings.Contains(p.Body, `id="order.created"`) {
		t.Errorf("the search without a browser: %d", p.Status)
	}
}
