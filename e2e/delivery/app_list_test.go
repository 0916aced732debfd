package delivery

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

// TestApplicationListFilters drives Svix's exclude_apps_with_* on the application list, with an
// operator token and with an application token (whose list holds its own application, if it
// passes), and the endpoint stats' since and until.
func TestApplicationListFilters(t *testing.T) {
	t.Parallel()
	e := start(t, nil)
	rc := newReceiver(t, status(204))
	none := e.app("none")
	disabled := e.app("disabled")
	ep := e.endpoint(disabled, map[string]any{"url": rc.URL, "disabled": true})
	plain := e.app("plain")
	e.endpoint(plain, map[string]any{"url": rc.URL})
	names := map[string]string{none: "none", disabled: "disabled", plain: "plain"}
	list := func(token, query string) []string {
		t.Helper()
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		r := e.Do("GET", "/api/v1/app?limit=250&"+query, token, nil)
		if r.Status != 200 {
			t.Fatalf("GET /api/v1/app?%s: %d %s", query, r.Status, r.Body)
		}
		r.JSON(t, &page)
		var got []string
		for _, a := range page.Data {
			if n, ok := names[a.ID]; ok {
				got = append(got, n)
			}
		}
		return got
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"none", "disabled", "plain"}},
		{"exclude_apps_with_no_endpoints=true", []string{"disabled", "plain"}},
		{"exclude_apps_with_disabled_endpoints=true", []string{"none", "plain"}},
		{"exclude_apps_with_no_endpoints=true&exclude_apps_with_disabled_endpoints=true", []string{"plain"}},
		{"exclude_apps_with_svix_play_endpoints=false", []string{"none", "disabled", "plain"}},
	} {
		if got := list(e.Token, tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("operator, %q: %v, want %v", tc.query, got, tc.want)
		}
	}
	appToken := mustAppToken(t, e, disabled)
	if got := list(appToken, ""); !slices.Equal(got, []string{"disabled"}) {
		t.Errorf("application token: %v, want its application", got)
	}
	if got := list(appToken, "exclude_apps_with_disabled_endpoints=true"); len(got) != 0 {
		t.Errorf("application token, only disabled endpoints excluded: %v, want none", got)
	}
	if r := e.Do("GET", "/api/v1/app?exclude_apps_with_no_endpoints=maybe", e.Token, nil); r.Status != 422 {
		t.Errorf("exclude_apps_with_no_endpoints=maybe: %d %s, want 422", r.Status, r.Body)
	}

	// The endpoint's stats in a window: nothing was sent to it, and a bad time is refused.
	stats := "/api/v1/app/" + disabled + "/endpoint/" + ep + "/stats"
	since := url.QueryEscape(e.clock.Now().Add(-time.Hour).Format(time.RFC3339))
	e.Op("GET", stats+"?since="+since+"&until="+since, nil, 200)
	if r := e.Do("GET", stats+"?since=yesterday", e.Token, nil); r.Status != 422 || !detailAt(r.Body, "query", "since") {
		t.Errorf("stats since=yesterday: %d %s, want 422 naming query.since", r.Status, r.Body)
	}
}
