package signing

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
	"github.com/hookline/hookline/server"
	"github.com/hookline/hookline/signature"
)

// oddPayload is valid JSON that any re-serialisation would change: spaces and a tab and a
// newline between tokens, keys out of order and repeated in case only, escapes that a decoder
// would turn into other bytes (\u00e9, a surrogate pair, \/), raw UTF-8, numbers beyond
// float64 and int64 precision, and a -0 and an exponent. The signature is over the bytes, so
// the receiver must get exactly these.
const oddPayload = "{ \"zeta\" :1,\t\"alpha\":  [ 1.0, 2E+3, -0.0, 1e-7 ],\n" +
	`  "big": 123456789012345678901234567890.000000000000000000001, "id": 9007199254740993,` +
	` "unicode":"caf\u00e9 \ud83d\ude00 \"quoted\" \/slash \\ back", "Unicode": "naïve 日本 ☃",` +
	` "nested":{"b":true , "a":null, "empty": {}, "list": []} }`

// fastRetry makes the first retry come 50 ms after a failure, without jitter.
func fastRetry(cfg *config.Config) {
	cfg.RetrySchedule = []time.Duration{50 * time.Millisecond, 50 * time.Millisecond}
	cfg.RetryJitter = 0
}

func TestStandardDelivery(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{Configure: fastRetry})
	// The receiver fails the first try, so the same message comes twice.
	rcv := newReceiver(t, 500)
	appID := newApp(t, srv, "order.paid")
	epID := newEndpoint(t, srv, appID, map[string]any{
		"url":     rcv.URL + "/webhooks/hookline",
		"headers": map[string]string{"X-Environment": "production", "X-Routing-Key": "acme-eu"},
	})
	secret := endpointSecret(t, srv, appID, epID)
	msgID := send(t, srv, appID, "order.paid", oddPayload)

	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("standardwebhooks.NewWebhook: %v", err)
	}
	var ids []string
	for try := 1; try <= 2; try++ {
		d := rcv.next(t)
		if d.Method != "POST" || d.Path != "/webhooks/hookline" {
			t.Errorf("try %d: %s %s, want POST /webhooks/hookline", try, d.Method, d.Path)
		}
		if !bytes.Equal(d.Body, []byte(oddPayload)) {
			t.Errorf("try %d: body differs from the payload posted:\n got  %q\n want %q", try, d.Body, oddPayload)
		}
		if err := wh.Verify(d.Body, d.Header); err != nil {
			t.Errorf("try %d: the Standard Webhooks library rejects the delivery: %v\nheaders: %v", try, err, d.Header)
		}
		if err := signature.Verify(signature.Standard(), d.Header, d.Body, []string{secret}, time.Now(), 0); err != nil {
			t.Errorf("try %d: signature.Verify rejects the delivery: %v", try, err)
		}
		// Any change of the body breaks both verifiers.
		tampered := bytes.Replace(d.Body, []byte(`"zeta" :1`), []byte(`"zeta" :2`), 1)
		if wh.Verify(tampered, d.Header) == nil || signature.Verify(signature.Standard(), d.Header, tampered, []string{secret}, time.Now(), 0) == nil {
			t.Errorf("try %d: a changed body still verifies", try)
		}

		ts, err := strconv.ParseInt(d.Header.Get("webhook-timestamp"), 10, 64)
		if err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
			t.Errorf("try %d: webhook-timestamp %q is not the send time in unix seconds", try, d.Header.Get("webhook-timestamp"))
		}
		sig := d.Header.Get("webhook-signature")
		if !strings.HasPrefix(sig, "v1,") || strings.Contains(sig, " ") {
			t.Errorf("try %d: webhook-signature %q, want one v1 entry", try, sig)
		}
		for name, want := range map[string]string{
			"User-Agent":    "Hookline/" + server.Version,
			"Content-Type":  "application/json",
			"X-Environment": "production",
			"X-Routing-Key": "acme-eu",
		} {
			if got := d.Header.Get(name); got != want {
				t.Errorf("try %d: %s = %q, want %q", try, name, got, want)
			}
		}
		ids = append(ids, d.Header.Get("webhook-id"))
	}
	if ids[0] != msgID || ids[1] != msgID {
		t.Errorf("webhook-id of the two tries = %q, want the message id %q both times", ids, msgID)
	}
}

func TestSvixProfileDelivery(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		cfg.SignatureProfile = signature.Svix()
	}})
	rcv := newReceiver(t)
	appID := newApp(t, srv, "event_attendee.joined_event")
	epID := newEndpoint(t, srv, appID, map[string]any{"url": rcv.URL + "/webhooks/allfly",
		"headers": map[string]string{"X-Environment": "production"}})
	secret := endpointSecret(t, srv, appID, epID)
	payload := `{"type":"event_attendee.joined_event","data":{"attendee_id":"att_5e6f7a8b","event_id":"ev_1a2b3c4d"}}`
	msgID := send(t, srv, appID, "event_attendee.joined_event", payload)

	d := rcv.next(t)
	if string(d.Body) != payload {
		t.Errorf("body %q, want %q", d.Body, payload)
	}
	if err := verifySvix(secret, d); err != nil {
		t.Errorf("the Svix SDK rejects the delivery: %v\nheaders: %v", err, d.Header)
	}
	if err := signature.Verify(signature.Svix(), d.Header, d.Body, []string{secret}, time.Now(), 0); err != nil {
		t.Errorf("signature.Verify(Svix) rejects the delivery: %v", err)
	}
	if got := d.Header.Get("svix-id"); got != msgID {
		t.Errorf("svix-id = %q, want %q", got, msgID)
	}
	for _, h := range []string{"svix-timestamp", "svix-signature"} {
		if d.Header.Get(h) == "" {
			t.Errorf("header %s missing: %v", h, d.Header)
		}
	}
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		if d.Header.Get(h) != "" {
			t.Errorf("the svix profile also sent %s", h)
		}
	}
	if d.Header.Get("X-Environment") != "production" {
		t.Errorf("custom header missing: %v", d.Header)
	}
}
