package ui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/clocktest"
	"github.com/hookline/hookline/internal/testserver"
)

// TestSendTestShowsTheMessageOnItsWay sends a test to a receiver that holds the request: the
// history page the form leads to says the test is on its way and reloads itself (never "No
// deliveries yet"); once the receiver answers, the attempt is listed and the reloading stops.
func TestSendTestShowsTheMessageOnItsWay(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	release := make(chan struct{})
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		io.WriteString(w, "ok")
	}))
	defer rc.Close()
	defer close(release)
	var app, ep struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": rc.URL}, 201).JSON(t, &ep)
	b := newBrowser(t, srv.URL)
	b.signIn(srv.Token)
	epURL := "/dashboard/apps/" + app.ID + "/endpoints/" + ep.ID
	sent := b.post(epURL+"/test", url.Values{"csrf": {csrfOf(t, b.get(epURL))}, "eventType": {"test.webhook"}})
	loc := sent.Header.Get("Location")
	if sent.Status != http.StatusSeeOther || !strings.HasPrefix(loc, epURL+"/history?sent=msg_") {
		t.Fatalf("send test: %d to %q, want the history with the sent message", sent.Status, loc)
	}
	p := b.get(loc)
	if !strings.Contains(p.Body, "Your test is on its way") || strings.Contains(p.Body, "No deliveries yet") ||
		!strings.Contains(p.Body, `<noscript><meta http-equiv="refresh" content="2"></noscript>`) || !strings.Contains(p.Body, "Test test.webhook sent") {
		t.Fatalf("history right after the test send:\n%s", p.Body)
	}
	release <- struct{}{}
	waitAttempt(t, srv, app.ID, ep.ID)
	p = b.get(loc)
	if strings.Contains(p.Body, "on its way") || strings.Contains(p.Body, `http-equiv="refresh"`) || !strings.Contains(p.Body, "test.webhook") {
		t.Fatalf("history once the attempt is recorded:\n%s", p.Body)
	}
}

// TestTestPickerOffersSubscribedTypes: an endpoint subscribed to order.paid is offered test
// sends of test.webhook and order.paid, not of order.shipped, which it would never receive.
func TestTestPickerOffersSubscribedTypes(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	for _, name := range []string{"order.paid", "order.shipped"} {
		srv.Op("POST", "/api/v1/event-type", map[string]any{"name": name, "description": name,
			"schemas": map[string]any{"1": map[string]any{"type": "object", "examples": []any{map[string]any{"id": "1"}}}}}, 201)
	}
	var app, ep struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": "https://example.com/hook", "filterTypes": []string{"order.paid"}}, 201).JSON(t, &ep)
	b := newBrowser(t, srv.URL)
	b.signIn(srv.Token)
	p := b.get("/dashboard/apps/" + app.ID + "/endpoints/" + ep.ID)
	picker := regexp.MustCompile(`(?s)<select id="eventType".*?</select>`).FindString(p.Body)
	options := regexp.MustCompile(`<option value="([^"]+)">`).FindAllStringSubmatch(picker, -1)
	var got []string
	for _, o := range options {
		got = append(got, o[1])
	}
	if strings.Join(got, ",") != "test.webhook,order.paid" {
		t.Fatalf("test picker offers %v, want [test.webhook order.paid]", got)
	}
}

// TestAutoDisabledReasonInWords: an endpoint that answers 410 Gone is turned off by the
// delivery engine, and its page and the endpoints table say why in words.
func TestAutoDisabledReasonInWords(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) }))
	defer rc.Close()
	var app, ep struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": rc.URL, "description": "Gone"}, 201).JSON(t, &ep)
	srv.Op("POST", "/api/v1/app/"+app.ID+"/msg", map[string]any{"eventType": "test.webhook", "payload": map[string]any{}}, 202)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got struct{ Disabled bool }
		srv.Op("GET", "/api/v1/app/"+app.ID+"/endpoint/"+ep.ID, nil, 200).JSON(t, &got)
		if got.Disabled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the endpoint answering 410 was not turned off within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	b := newBrowser(t, srv.URL)
	b.signIn(srv.Token)
	p := b.get("/dashboard/apps/" + app.ID + "/endpoints/" + ep.ID)
	if !strings.Contains(p.Body, "This endpoint was turned off automatically") ||
		!strings.Contains(p.Body, "It answered 410 Gone, which says the receiver no longer exists.") ||
		strings.Contains(p.Body, "the endpoint answered 410 Gone") {
		t.Errorf("endpoint page does not give the reason in words:\n%s", p.Body)
	}
	p = b.get("/dashboard/apps/" + app.ID)
	if !strings.Contains(p.Body, "Turned off automatically") || strings.Contains(p.Body, `title="the endpoint answered`) {
		t.Errorf("endpoints table does not give the reason in words:\n%s", p.Body)
	}
}

// TestRotationNoticeReadsWell: after a rotation the endpoint page says until when the
// previous secret signs, as a date followed by the relative time.
func TestRotationNoticeReadsWell(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	var app, ep struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": "https://example.com/hook"}, 201).JSON(t, &ep)
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint/"+ep.ID+"/secret/rotate", map[string]any{}, 204)
	b := newBrowser(t, srv.URL)
	b.signIn(srv.Token)
	text := visibleText(b.get("/dashboard/apps/" + app.ID + "/endpoints/" + ep.ID).Body)
	notice := regexp.MustCompile(`A previous secret still signs deliveries until \d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d UTC \(in 24 hours\)\.`)
	if !notice.MatchString(text) || strings.Contains(text, "until in") {
		t.Fatalf("rotation notice does not read well:\n%s", text)
	}
}

// visibleText strips tags and collapses white space, roughly what a reader sees.
func visibleText(html string) string {
	text := regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(html, "")
	return strings.Join(strings.Fields(text), " ")
}

// TestBadPortalLinkSaysWhy: a link that never was one is "not valid", an expired one "has
// expired"; neither opens the portal.
func TestBadPortalLinkSaysWhy(t *testing.T) {
	clock := clocktest.New(time.Now())
	srv := testserver.Start(t, testserver.Options{Clock: clock})
	var app struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	var link struct{ URL, Token string }
	srv.Op("POST", "/api/v1/auth/app-portal-access/"+app.ID, map[string]any{"expiry": 3600}, 200).JSON(t, &link)
	for _, tc := range []struct{ token, want string }{
		{"hlp_not-a-token", "This link is not valid"},
		{"", "This link is not valid"},
		{srv.Token, "This link is not valid"}, // an operator token is no portal link
	} {
		p := newBrowser(t, srv.URL).get("/dashboard/portal/login?token=" + url.QueryEscape(tc.token))
		if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, tc.want) || strings.Contains(p.Body, "expired") {
			t.Errorf("portal link with token %q: status %d, want 401 saying %q:\n%s", tc.token, p.Status, tc.want, p.Body)
		}
	}
	clock.Advance(2 * time.Hour)
	p := newBrowser(t, srv.URL).get(strings.TrimPrefix(link.URL, srv.URL))
	if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "This link has expired") {
		t.Errorf("expired portal link: status %d:\n%s", p.Status, p.Body)
	}
}

// TestEndpointFormErrorsReadWell: a refused URL is explained in a sentence that names the
// field as its label does ("The URL"), not as "Url scheme".
func TestEndpointFormErrorsReadWell(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	var app struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	b := newBrowser(t, srv.URL)
	b.signIn(srv.Token)
	path := "/dashboard/apps/" + app.ID + "/endpoints"
	p := b.post(path, url.Values{"csrf": {csrfOf(t, b.get(path+"/new"))}, "url": {"ftp://example.com/hook"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "The URL&#39;s scheme &#34;ftp&#34; is not allowed; use https") ||
		strings.Contains(p.Body, "Url scheme") {
		t.Errorf("endpoint form with an ftp URL: status %d:\n%s", p.Status, p.Body)
	}
}
