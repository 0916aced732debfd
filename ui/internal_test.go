package ui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/i18n"
)

func TestCSRFTokenIsBoundToTheSession(t *testing.T) {
	a, b := csrfToken("hlo_session_a"), csrfToken("hlo_session_b")
	if a == b || a != csrfToken("hlo_session_a") || len(a) < 40 {
		t.Fatalf("tokens %q and %q: want stable, distinct, long tokens per session", a, b)
	}
	d := &Dashboard{cop: newCOP()}
	s := &session{CSRF: a}
	for _, tc := range []struct {
		name, form string
		header     map[string]string
		want       bool
	}{
		{"right token", "csrf=" + a, nil, true},
		{"no token", "", nil, false},
		{"other session's token", "csrf=" + b, nil, false},
		{"cross-site", "csrf=" + a, map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"same-origin browser", "csrf=" + a, map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
	} {
		r := httptest.NewRequest("POST", "/dashboard/apps", stringsReader(tc.form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range tc.header {
			r.Header.Set(k, v)
		}
		r.ParseForm()
		if got := d.validCSRF(r, s); got != tc.want {
			t.Errorf("%s: valid=%v, want %v", tc.name, got, tc.want)
		}
	}
	r := httptest.NewRequest("POST", "/dashboard/apps", stringsReader("csrf="+a))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.ParseForm()
	if d.validCSRF(r, nil) {
		t.Error("a form without a session passed the check")
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/dashboard/apps/app_1":  "/dashboard/apps/app_1",
		"https://evil.example/":  "/dashboard/",
		"//evil.example/":        "/dashboard/",
		"/dashboard/\\evil":      "/dashboard/",
		"/api/v1/app":            "/dashboard/",
		"/dashboard/x?next=%0d1": "/dashboard/x?next=%0d1",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCookieAttributes(t *testing.T) {
	r := httptest.NewRequest("GET", "/dashboard/", nil)
	plain := &Dashboard{cfg: Config{FrameAncestors: "'none'"}}
	if c := plain.cookie(r, true, "x", "v", 60); c.Secure || c.SameSite != http.SameSiteLaxMode || !c.HttpOnly || c.Path != "/dashboard" {
		t.Errorf("http cookie: %+v", c)
	}
	embedded := &Dashboard{cfg: Config{FrameAncestors: "https://app.example.com", PublicURL: "https://hooks.example.com"}}
	if c := embedded.cookie(r, true, "x", "v", 60); !c.Secure || c.SameSite != http.SameSiteNoneMode || !c.Partitioned {
		t.Errorf("embeddable portal cookie: %+v, want Secure, SameSite=None, Partitioned", c)
	}
	if c := embedded.cookie(r, false, "x", "v", 60); !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Partitioned {
		t.Errorf("operator cookie on an embeddable server: %+v, want SameSite=Lax", c)
	}
}

func TestRelTime(t *testing.T) {
	now := time.Date(2026, 6, 12, 14, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		10 * time.Second: "just now", 2 * time.Minute: "2 minutes ago", 3 * time.Hour: "3 hours ago",
		30 * time.Hour: "1 day ago", 72 * time.Hour: "3 days ago", -10 * time.Minute: "in 10 minutes",
	} {
		if got := printer(t, "en").Relative(now, now.Add(-d)); got != want {
			t.Errorf("Relative(-%v) = %q, want %q", d, got, want)
		}
	}
}

func TestPager(t *testing.T) {
	r := httptest.NewRequest("GET", "/dashboard/apps/a?status=failed", nil)
	p := makePager(r, hookline.ListOptions{}, false, "x1", "x9")
	if p.Prev != "" || p.Next != "/dashboard/apps/a?iterator=x9&status=failed" {
		t.Errorf("first page: %+v", p)
	}
	r = httptest.NewRequest("GET", "/dashboard/apps/a?iterator=x9", nil)
	p = makePager(r, hookline.ListOptions{Iterator: "x9"}, true, "y1", "y5")
	if p.Next != "" || p.Prev != "/dashboard/apps/a?iterator=-y1" {
		t.Errorf("last page: %+v", p)
	}
}

func TestEveryPageHasATemplate(t *testing.T) {
	d := &Dashboard{staticVer: "test"}
	pages, err := d.parsePages(printer(t, "en"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range allPages {
		if pages[p] == nil {
			t.Errorf("page %s has no template", p)
		}
	}
}

// printer is the shipped catalogue in lang.
func printer(t *testing.T, lang string) *i18n.Printer {
	t.Helper()
	c, err := i18n.New("", nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Printer(lang)
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func newCOP() *http.CrossOriginProtection { return http.NewCrossOriginProtection() }

func TestReasonOf(t *testing.T) {
	r := reasonOf(printer(t, "en"), "automatic: 12 consecutive failed attempts since 2026-12-01T10:00:00Z")
	if r.Text != "It failed 12 delivery attempts in a row" || !r.Since.Equal(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("consecutive failures: %+v", r)
	}
	for stored, want := range map[string]string{
		"the endpoint answered 410 Gone": "It answered 410 Gone, which says the receiver no longer exists",
		"manual":                         "It was turned off by hand",
		"automatic: something new":       "Something new",
	} {
		if got := reasonOf(printer(t, "en"), stored); got.Text != want || !got.Since.IsZero() {
			t.Errorf("reasonOf(%q) = %+v, want %q", stored, got, want)
		}
	}
}

func TestFieldMessage(t *testing.T) {
	for _, c := range []struct{ field, msg, want string }{
		{"url", `url scheme "ftp" is not allowed; use https`, `The URL's scheme "ftp" is not allowed; use https`},
		{"url", "url must use https (plain http is allowed only in dev mode)", "The URL must use https (plain http is allowed only in dev mode)"},
		{"url", `url host "db" is an internal name`, `The URL's host "db" is an internal name`},
		{"url", "is required", "Is required"},
		{"other", "must be short", "Must be short"},
	} {
		if got := fieldMessage(printer(t, "en"), c.field, c.msg); got != c.want {
			t.Errorf("fieldMessage(%q, %q) = %q, want %q", c.field, c.msg, got, c.want)
		}
	}
}

// TestParseDeliveryFilter: every value a filter link may carry is read, or named as wrong.
func TestParseDeliveryFilter(t *testing.T) {
	f, errs := parseDeliveryFilter(printer(t, "en"), url.Values{"since": {"2026-12-06"}, "until": {"2026-12-06"}, "status": {"failed"},
		"code": {"none"}, "q": {" vip "}})
	if len(errs) != 0 || f.Since != "2026-12-06T00:00" || f.Until != "2026-12-07T00:00" || *f.status != hookline.StatusFail ||
		*f.codeClass != 0 || f.Q != "vip" {
		t.Errorf("whole-day filter: %+v %v", f, errs)
	}
	if got := f.Link("/x"); got != "/x?code=none&q=vip&since=2026-12-06T00%3A00&status=failed&until=2026-12-07T00%3A00" {
		t.Errorf("link %q", got)
	}
	f, _ = parseDeliveryFilter(printer(t, "en"), url.Values{"since": {"2026-12-06T10:00:00+02:00"}})
	if f.Since != "2026-12-06T08:00" {
		t.Errorf("since with an offset: %q, want it in UTC", f.Since)
	}
	_, errs = parseDeliveryFilter(printer(t, "en"), url.Values{"since": {"yesterday"}, "status": {"done"}, "code": {"6xx"}})
	for _, field := range []string{"since", "status", "code"} {
		if errs[field] == "" {
			t.Errorf("a wrong %s is not named: %v", field, errs)
		}
	}
	_, errs = parseDeliveryFilter(printer(t, "en"), url.Values{"since": {"2026-12-06T10:00"}, "until": {"2026-12-06T09:00"}})
	if errs["until"] != "Until must be later than since" {
		t.Errorf("until before since: %v", errs)
	}
}
