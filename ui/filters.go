package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/i18n"
)

// Finding deliveries: the filters of the delivery history and the message log, and their search
// box (a message id or eventId, or else a tag).

// deliveryFilter is what the delivery history and the message log are filtered by. Every
// field is a query parameter of the page (a GET form), so the URL of a filtered page can be
// shared and opens the same view.
type deliveryFilter struct {
	// As entered, to fill the form again. Since and Until are normalised to the
	// datetime-local form (2006-01-02T15:04, UTC) when they parse.
	Since, Until string
	Status       string // success, failed, pending or sending
	Code         string // none, 1xx, 2xx, 3xx, 4xx or 5xx
	EventType    string
	Endpoint     string // an endpoint id, on the application-wide pages
	Channel      string // the message log only
	Q            string // a message id, an eventId or a tag

	since, until *time.Time
	status       *hookline.MessageStatus
	codeClass    *int
}

func strconvQuote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}

// codeFilters are the choices of the response-code filter: query value, class and the message id of its words.
var codeFilters = []struct {
	Value string
	Class int
	Label string
}{
	{"2xx", 200, "filter.code2xx"}, {"3xx", 300, "filter.code3xx"}, {"4xx", 400, "filter.code4xx"},
	{"5xx", 500, "filter.code5xx"}, {"none", 0, "common.noResponse"}, {"1xx", 100, "filter.code1xx"},
}

// filterTimeLayouts are the forms since and until accept, all UTC unless they name a zone.
var filterTimeLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// parseFilterTime reads a since or until value. A bare date means the start of that day for
// since and its end for until, so since=until=2026-12-06 is that whole day.
func parseFilterTime(s string, until bool) (time.Time, bool) {
	for _, layout := range filterTimeLayouts {
		t, err := time.ParseInLocation(layout, s, time.UTC)
		if err != nil {
			continue
		}
		if layout == "2006-01-02" && until {
			t = t.Add(24 * time.Hour)
		}
		return t.UTC(), true
	}
	return time.Time{}, false
}

// parseDeliveryFilter reads the filter from a page's query. Values it cannot read are left
// out of the filter and reported by field name, so the page says what was wrong.
func parseDeliveryFilter(p *i18n.Printer, q url.Values) (deliveryFilter, map[string]string) {
	f := deliveryFilter{Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until")),
		Status: q.Get("status"), Code: q.Get("code"), EventType: strings.TrimSpace(q.Get("event_type")),
		Endpoint: strings.TrimSpace(q.Get("endpoint")), Channel: strings.TrimSpace(q.Get("channel")), Q: strings.TrimSpace(q.Get("q"))}
	errs := map[string]string{}
	timeHint := p.T("filter.timeHint")
	if f.Since != "" {
		if t, ok := parseFilterTime(f.Since, false); ok {
			f.since, f.Since = &t, t.Format("2006-01-02T15:04")
		} else {
			errs["since"] = timeHint
		}
	}
	if f.Until != "" {
		if t, ok := parseFilterTime(f.Until, true); ok {
			f.until, f.Until = &t, t.Format("2006-01-02T15:04")
		} else {
			errs["until"] = timeHint
		}
	}
	if f.since != nil && f.until != nil && !f.until.After(*f.since) {
		errs["until"] = p.T("filter.untilBeforeSince")
		f.until = nil
	}
	if f.Status != "" {
		if st, ok := statusFilters[f.Status]; ok {
			f.status = &st
		} else {
			errs["status"] = p.T("filter.unknownStatus", "value", strconvQuote(f.Status))
			f.Status = ""
		}
	}
	if f.Code != "" {
		for _, c := range codeFilters {
			if c.Value == f.Code {
				class := c.Class
				f.codeClass = &class
			}
		}
		if f.codeClass == nil {
			errs["code"] = p.T("filter.unknownCode", "value", strconvQuote(f.Code))
			f.Code = ""
		}
	}
	if len(f.Q) > 256 {
		errs["q"] = p.T("filter.searchTooLong")
		f.Q = ""
	}
	if len(errs) == 0 {
		errs = nil
	}
	return f, errs
}

// Active reports whether any filter is set.
func (f deliveryFilter) Active() bool {
	return f.Since != "" || f.Until != "" || f.Status != "" || f.Code != "" || f.EventType != "" ||
		f.Endpoint != "" || f.Channel != "" || f.Q != ""
}

// Query is the filter as the query of a shareable link, without empty values.
func (f deliveryFilter) Query() string {
	q := url.Values{}
	for k, v := range map[string]string{"since": f.Since, "until": f.Until, "status": f.Status, "code": f.Code,
		"event_type": f.EventType, "endpoint": f.Endpoint, "channel": f.Channel, "q": f.Q} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

// Link is the shareable address of the page at base with this filter.
func (f deliveryFilter) Link(base string) string {
	if q := f.Query(); q != "" {
		return base + "?" + q
	}
	return base
}

// after is since as the store's exclusive lower bound: since itself is included.
func (f deliveryFilter) after() *time.Time {
	if f.since == nil {
		return nil
	}
	t := f.since.Add(-time.Microsecond)
	return &t
}

// search is what the search box found: a message by its id or eventId, or else a tag.
type search struct {
	Message *hookline.Message
	Tag     string
}

// resolveSearch looks q up as a message id or eventId of the application; anything else is
// searched as a tag.
func (d *Dashboard) resolveSearch(r *http.Request, app *hookline.Application, q string) (search, error) {
	if q == "" {
		return search{}, nil
	}
	msg, err := d.store.GetMessage(r.Context(), app.ID, q)
	switch {
	case err == nil:
		return search{Message: msg}, nil
	case hookline.IsNotFound(err):
		return search{Tag: q}, nil
	}
	return search{}, err
}

// filterChoices are the options of the filter form's selects.
type filterChoices struct {
	Statuses   []choice
	Codes      []choice
	EventTypes []hookline.EventType
	// Endpoints are the application's endpoints, on the application-wide pages; nil on an
	// endpoint's own history.
	Endpoints []hookline.Endpoint
}

func (d *Dashboard) filterChoices(r *http.Request, s *session, app *hookline.Application, statuses []choice, withEndpoints bool) (filterChoices, error) {
	c := filterChoices{Statuses: statuses}
	for _, cf := range codeFilters {
		c.Codes = append(c.Codes, choice{cf.Value, d.tr(r).T(cf.Label)})
	}
	var err error
	if c.EventTypes, err = d.eventTypes(r); err != nil {
		return c, err
	}
	if withEndpoints {
		page, err := d.store.ListEndpoints(r.Context(), app.ID, hookline.ListOptions{Limit: 250})
		if err != nil {
			return c, err
		}
		c.Endpoints = scopeEndpoints(s, page.Data)
	}
	return c, nil
}
