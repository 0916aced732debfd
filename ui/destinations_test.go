package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/testserver"
)

// TestDestinationForms: the create form makes a broker endpoint without an HTTP URL; refused
// fields are shown next to the field and nothing is made; the endpoint page shows the type and
// target and never the password, which an empty field keeps; the page switches the endpoint to
// another broker and back to HTTP; a read-only portal sees the destination but has no form and
// cannot post one.
func TestDestinationForms(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	var app struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	b := newBrowser(t, srv.URL)
	b.signIn(srv.Token)
	appPath := "/dashboard/apps/" + app.ID
	const secret = "broker-pass-Qx19"
	ctx := context.Background()
	count := func() int {
		list, err := srv.Server.Store().ListEndpoints(ctx, app.ID, hookline.ListOptions{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return len(list.Data)
	}

	// Refused: no stream, a URL of another scheme. Nothing is created.
	form := url.Values{"csrf": {csrfOf(t, b.get(appPath+"/endpoints/new"))}, "description": {"Orders"}, "enabled": {"on"},
		"type": {"redis"}, "url": {""}, "redis-url": {"http://redis.example.com"}, "redis-password": {secret}}
	p := b.post(appPath+"/endpoints", form)
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="redis-opt-stream-error"`) ||
		!strings.Contains(p.Body, "Stream is required") || !strings.Contains(p.Body, "scheme must be redis or rediss") {
		t.Fatalf("a refused broker endpoint: status %d:\n%s", p.Status, p.Body)
	}
	if strings.Contains(p.Body, secret) || strings.Contains(p.Body, "The URL is required") {
		t.Fatal("the refused form shows the password, or asks for an HTTP URL")
	}
	if !strings.Contains(p.Body, `id="type-redis" value="redis" checked`) {
		t.Fatal("the refused form does not keep the chosen type")
	}
	if n := count(); n != 0 {
		t.Fatalf("%d endpoints after a refused form", n)
	}

	// Created, without an HTTP URL.
	form.Set("redis-url", "redis://redis.example.com:6379/2")
	form.Set("redis-user", "hooks")
	form.Set("redis-opt-stream", "orders")
	p = b.post(appPath+"/endpoints", form)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("create: status %d:\n%s", p.Status, p.Body)
	}
	epPath := p.Header.Get("Location")
	list, err := srv.Server.Store().ListEndpoints(ctx, app.ID, hookline.ListOptions{Limit: 10})
	if err != nil || len(list.Data) != 1 {
		t.Fatalf("endpoints %v %v", list.Data, err)
	}
	ep := list.Data[0]
	if d := ep.Destination; d == nil || d.Type != "redis" || d.URL != "redis://hooks:"+secret+"@redis.example.com:6379/2" || d.Options["stream"] != "orders" {
		t.Fatalf("stored destination %+v", ep.Destination)
	}
	p = b.get(epPath)
	for _, want := range []string{"Redis Streams", "redis://redis.example.com:6379/2", "<dt>Stream</dt><dd><code>orders</code>", "set; leave empty to keep", "Remove the password"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the endpoint page lacks %q", want)
		}
	}
	if strings.Contains(p.Body, secret) || strings.Contains(p.Body, "destination.invalid") {
		t.Fatal("the endpoint page shows the password or the placeholder URL")
	}
	p = b.get(appPath)
	if !strings.Contains(p.Body, "Redis Streams redis://redis.example.com:6379/2 · stream orders") {
		t.Errorf("the endpoint list does not show the destination:\n%s", p.Body)
	}
	// The edit form has no URL field for it; saving it keeps the destination and its url.
	p = b.get(epPath + "/edit")
	if strings.Contains(p.Body, `name="url"`) || !strings.Contains(p.Body, "Redis Streams") {
		t.Errorf("the edit form of a broker endpoint:\n%s", p.Body)
	}
	if p = b.post(epPath+"/edit", url.Values{"csrf": {csrfOf(t, p)}, "description": {"Orders 2"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", p.Status, p.Body)
	}

	post := func(form url.Values, want int) page {
		t.Helper()
		form.Set("csrf", csrfOf(t, b.get(epPath)))
		p := b.post(epPath+"/destination", form)
		if p.Status != want {
			t.Fatalf("POST destination %v: status %d, want %d:\n%s", form, p.Status, want, p.Body)
		}
		return p
	}
	stored := func() *hookline.Endpoint {
		ep, err := srv.Server.Store().GetEndpoint(ctx, app.ID, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ep
	}
	// Saved again with an empty password: kept. The target changes.
	post(url.Values{"type": {"redis"}, "redis-url": {"redis://redis.example.com:6379/2"}, "redis-user": {"hooks"}, "redis-opt-stream": {"orders-2"},
		"redis-opt-maxLen": {"1000"}}, http.StatusSeeOther)
	if got := stored(); got.Description != "Orders 2" || got.Destination.URL != "redis://hooks:"+secret+"@redis.example.com:6379/2" ||
		got.Destination.Options["maxLen"] != "1000" || got.Destination.Options["stream"] != "orders-2" {
		t.Fatalf("after saving without a password: %+v %+v", got, got.Destination)
	}
	// Another broker: the API's checks, next to the fields.
	p = post(url.Values{"type": {"mqtt"}, "mqtt-url": {"mqtt://mqtt.example.com"}, "mqtt-opt-topic": {"orders/#"}, "mqtt-opt-qos": {"2"}}, http.StatusUnprocessableEntity)
	if !strings.Contains(p.Body, `id="mqtt-opt-topic-error"`) || !strings.Contains(p.Body, "Topic must not hold the wildcards") ||
		!strings.Contains(p.Body, `value="orders/#"`) {
		t.Fatalf("a refused MQTT topic is not shown next to its field")
	}
	post(url.Values{"type": {"mqtt"}, "mqtt-url": {"mqtt://mqtt.example.com"}, "mqtt-opt-topic": {"orders"}, "mqtt-opt-qos": {"2"}}, http.StatusSeeOther)
	if got := stored().Destination; got.Type != "mqtt" || got.URL != "mqtt://mqtt.example.com" || got.Options["qos"] != "2" {
		t.Fatalf("after switching to MQTT: %+v", got)
	}
	// Back to HTTP: a URL is required, then it is the endpoint's.
	p = post(url.Values{"type": {"http"}, "url": {""}}, http.StatusUnprocessableEntity)
	if !strings.Contains(p.Body, `id="url-error"`) {
		t.Fatalf("HTTP without a URL is not refused next to the field")
	}
	if got := stored(); got.Destination == nil {
		t.Fatal("a refused switch to HTTP dropped the destination")
	}
	post(url.Values{"type": {"http"}, "url": {"https://example.com/hook"}}, http.StatusSeeOther)
	if got := stored(); got.Destination != nil || got.URL != "https://example.com/hook" {
		t.Fatalf("after switching to HTTP: %q %+v", got.URL, got.Destination)
	}

	// A read-only portal sees the destination, without a form, and cannot post one.
	post(url.Values{"type": {"redis"}, "redis-url": {"redis://redis.example.com:6379/2"}, "redis-password": {secret}, "redis-opt-stream": {"orders"}}, http.StatusSeeOther)
	var access struct{ URL string }
	srv.Op("POST", "/api/v1/auth/app-portal-access/"+app.ID, map[string]any{"readOnly": true}, 200).JSON(t, &access)
	ro := newBrowser(t, srv.URL)
	if p := ro.get(strings.TrimPrefix(access.URL, srv.URL)); p.Status != http.StatusSeeOther && p.Status != http.StatusOK {
		t.Fatalf("portal link: %d", p.Status)
	}
	p = ro.get(epPath)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Redis Streams") || strings.Contains(p.Body, `action="`+epPath+`/destination"`) || strings.Contains(p.Body, secret) {
		t.Fatalf("read-only portal's endpoint page: %d", p.Status)
	}
	m := csrfField.FindStringSubmatch(p.Body)
	csrf := ""
	if m != nil {
		csrf = m[1]
	}
	if p := ro.post(epPath+"/destination", url.Values{"csrf": {csrf}, "type": {"http"}, "url": {"https://evil.example.com/"}}); p.Status != http.StatusForbidden {
		t.Fatalf("read-only portal posting a destination: %d, want 403", p.Status)
	}
	if got := stored(); got.Destination == nil || got.Destination.Type != "redis" {
		t.Fatal("a read-only portal changed the destination")
	}
}
