package dashboard

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/hookline/hookline/internal/testserver"
)

const redisAddr = "127.0.0.1:6379"

// needRedis skips the test when no Redis answers on its default port, and fails it under
// CI=true, where .ci/run starts Redis.
func needRedis(t *testing.T) *redis.Client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", redisAddr, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis is not reachable at %s: %v", redisAddr, err)
		}
		t.Skipf("Redis is not reachable at %s (%v); start it to run this test", redisAddr, err)
	}
	conn.Close()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// waitEntries polls the stream until it holds n entries, and returns them.
func waitEntries(t *testing.T, rdb *redis.Client, stream string, n int) []redis.XMessage {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		entries, err := rdb.XRange(context.Background(), stream, "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) >= n {
			return entries
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s holds %d entries, want %d", stream, len(entries), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// visible reports whether the element with the id is shown (not hidden by the stylesheet).
func (b *tab) visible(id string) bool {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){var e=document.getElementById(`+jsString(id)+`);return !!e && e.offsetParent !== null;})()`))
	if err != nil {
		b.t.Fatalf("visibility of #%s: %v", id, err)
	}
	return v
}

// fill replaces the value of the input with the id.
func (b *tab) fill(id, value string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById(`+jsString(id)+`).value = ""`), chromedp.SendKeys(chromedp.Search("#"+id), value))
}

// chooseRedis picks Redis Streams in the destination chooser and fills its fields.
func (b *tab) chooseRedis(stream string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.Search(`//label[normalize-space()="Redis Streams"]`), chromedp.NodeVisible))
	if b.visible("url") || !b.visible("redis-url") || !b.visible("redis-opt-stream") {
		b.t.Fatalf("with Redis Streams chosen, the form shows the HTTP URL or hides Redis's fields")
	}
	b.fill("redis-url", "redis://"+redisAddr+"/0")
	b.fill("redis-opt-stream", stream)
}

// TestBrokerDestinationInChromium: an operator creates a Redis Streams endpoint through the
// form as a person would (choosing the type, with no HTTP URL to invent, a missing stream
// refused next to its field), sends a test event, finds it on the real Redis and the attempt
// showing Redis's answer, then points the endpoint at another stream. A customer does the same
// in the portal; a read-only portal sees the destination but has nothing to change it with.
func TestBrokerDestinationInChromium(t *testing.T) {
	chromium := findChromium(t)
	rdb := needRedis(t)
	stream := fmt.Sprintf("hookline-test-dashboard-%d", time.Now().UnixNano())
	stream2, stream3 := stream+"-2", stream+"-3"
	t.Cleanup(func() { rdb.Del(context.Background(), stream, stream2, stream3) })
	srv := testserver.Start(t, testserver.Options{})
	createEventTypes(t, srv)
	appID := createApp(t, srv, "Cool Events GmbH", "cool-events")
	appURL := srv.URL + "/dashboard/apps/" + appID

	b := newBrowser(t, chromium)
	b.open(srv.URL + "/dashboard/login")
	b.do(chromedp.SendKeys(chromedp.Search("#token"), srv.Token))
	b.click(`//button[normalize-space()="Sign in"]`)
	b.open(appURL)
	b.click(`//a[normalize-space()="Add endpoint"]`)
	if !b.visible("url") || b.visible("redis-url") {
		t.Fatal("the create form does not start with HTTP chosen")
	}
	b.fill("description", "Order stream")
	b.chooseRedis("")
	if status := b.click(`//button[normalize-space()="Create endpoint"]`); status != http.StatusUnprocessableEntity {
		t.Fatalf("no stream: status %d, want 422", status)
	}
	if got := b.text("#redis-opt-stream-error"); got != "Stream is required" {
		t.Fatalf("no stream: the field says %q", got)
	}
	if !b.visible("redis-url") || b.attr("#redis-url", "value") != "redis://"+redisAddr+"/0" {
		t.Fatal("the refused form lost the chosen type or the URL")
	}
	b.shot("destination-form")
	b.fill("redis-opt-stream", stream)
	b.click(`//button[normalize-space()="Create endpoint"]`)
	body := b.body()
	for _, want := range []string{"Endpoint created", "Order stream", "Redis Streams", "redis://" + redisAddr + "/0", stream} {
		if !strings.Contains(body, want) {
			t.Fatalf("after create the endpoint page lacks %q:\n%s", want, body)
		}
	}
	epURL := b.location()
	if strings.Contains(body, "destination.invalid") {
		t.Error("the endpoint page shows the placeholder URL")
	}

	// A test event arrives on Redis; the attempt shows Redis's answer, not an HTTP status.
	b.click(`//button[normalize-space()="Send test"]`)
	entries := waitEntries(t, rdb, stream, 1)
	if entries[0].Values["webhook-id"] == nil || !strings.Contains(fmt.Sprint(entries[0].Values["body"]), "test.webhook") {
		t.Fatalf("the stream entry %v is not the signed test event", entries[0].Values)
	}
	b.waitFor(epURL+"/history", "Accepted by Redis Streams", "XADD "+stream+" ")
	if strings.Contains(b.body(), "200 OK") {
		t.Error("the history shows an HTTP status for a broker attempt")
	}
	b.shot("destination-history")
	b.click(`//a[normalize-space()="View details"]`)
	body = b.body()
	for _, want := range []string{"Broker's answer", "Accepted by Redis Streams", "The broker's answer", "Redis Streams accepted the message",
		"XADD " + stream + " " + entries[0].ID, "Message headers", "Webhook-Signature"} {
		if !strings.Contains(body, want) {
			t.Errorf("the attempt's details lack %q:\n%s", want, body)
		}
	}
	b.shot("destination-attempt")

	// Edit: another stream.
	b.open(epURL)
	b.shot("endpoint-destination")
	b.do(chromedp.Click(chromedp.Search(`//summary[normalize-space()="Change the destination"]`), chromedp.NodeVisible))
	if !b.visible("redis-opt-stream") || b.attr("#redis-opt-stream", "value") != stream {
		t.Fatal("the destination form does not show the stored stream")
	}
	b.fill("redis-opt-stream", stream2)
	b.click(`//button[normalize-space()="Save destination"]`)
	if body := b.body(); !strings.Contains(body, "Destination saved") || !strings.Contains(body, stream2) {
		t.Fatalf("after saving the destination: %s", body)
	}
	b.click(`//button[normalize-space()="Send test"]`)
	waitEntries(t, rdb, stream2, 1)

	// The portal: the same forms, for the customer.
	link, _ := portalLink(t, srv, appID, map[string]any{})
	p := newBrowser(t, chromium)
	p.open(link)
	p.click(`//a[normalize-space()="Add endpoint"]`)
	p.fill("description", "Portal stream")
	p.chooseRedis(stream3)
	p.click(`//button[normalize-space()="Create endpoint"]`)
	if body := p.body(); !strings.Contains(body, "Endpoint created") || !strings.Contains(body, stream3) {
		t.Fatalf("portal create: %s", body)
	}
	portalEp := p.location()
	p.click(`//button[normalize-space()="Send test"]`)
	waitEntries(t, rdb, stream3, 1)
	p.waitFor(portalEp+"/history", "Accepted by Redis Streams", "XADD "+stream3)
	p.open(portalEp)
	p.do(chromedp.Click(chromedp.Search(`//summary[normalize-space()="Change the destination"]`), chromedp.NodeVisible))
	p.fill("redis-opt-maxLen", "500")
	p.click(`//button[normalize-space()="Save destination"]`)
	if body := p.body(); !strings.Contains(body, "Destination saved") || !strings.Contains(body, "500") {
		t.Fatalf("portal edit: %s", body)
	}
	p.shot("portal-destination")

	// A read-only portal sees the destination and cannot change it.
	roLink, _ := portalLink(t, srv, appID, map[string]any{"readOnly": true})
	ro := newBrowser(t, chromium)
	ro.open(roLink)
	ro.open(portalEp)
	if body := ro.body(); !strings.Contains(body, "Redis Streams") || !strings.Contains(body, stream3) {
		t.Fatalf("read-only portal's endpoint page: %s", body)
	}
	if n := ro.count(`form[action$="/destination"], input[name="type"]`); n != 0 {
		t.Fatalf("a read-only portal has %d destination form elements", n)
	}
	ro.open(appURL)
	if strings.Contains(ro.body(), "Add endpoint") {
		t.Fatal("a read-only portal offers to add an endpoint")
	}
	if status := ro.open(appURL + "/endpoints/new"); status != http.StatusForbidden {
		t.Fatalf("a read-only portal opening the create form: status %d, want 403", status)
	}
}
