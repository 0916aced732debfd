package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
	"github.com/hookline/hookline/signature"
)

// verifySvix checks a delivery with the official Svix Go SDK, as an Allfly customer would.
func verifySvix(secret string, d received) error {
	wh, err := svix.NewWebhook(secret)
	if err != nil {
		return err
	}
	return wh.Verify(d.Body, d.Header)
}

// TestPresetsOnTheWire delivers with each platform preset and recomputes, with crypto/hmac
// alone, the signature that platform's documentation describes (docs/signatures.md, seeds
// 000-003). Nothing from the signature package is used to compute the expected values.
func TestPresetsOnTheWire(t *testing.T) {
	t.Parallel()
	secret, key := testSecret(0x5a)
	const eventType = "ticket.sold"
	payload := `{"id":"evt_3f9a2b7c1d4e5f60","event":"ticket.sold","created_at":"2026-06-12T14:05:00.000Z",` +
		`"organization_id":"org_abc123","data":{"orderId":"ord_9f8e7d6c","ticketCount":2,"totalAmount":"50.00"}}`

	tests := []struct {
		preset string
		// want returns the expected signature header name and value for a delivery.
		want func(t *testing.T, d received, msgID string) (header, value string)
		// also are headers the platform documents besides the signature, with their values.
		also func(d received, msgID string) map[string]string
	}{
		{
			// Seed 000: X-Webhook-Signature is the hex HMAC of "<timestamp>.<body>", and
			// X-Webhook-Timestamp lets receivers reject replays.
			preset: "usetix",
			want: func(t *testing.T, d received, _ string) (string, string) {
				ts := d.Header.Get("X-Webhook-Timestamp")
				checkRecent(t, ts)
				return "X-Webhook-Signature", hexHMAC(key, ts+"."+string(d.Body))
			},
		},
		{
			// Seed 001: X-ClearTix-Signature: sha256=<hex HMAC of the raw body>, and
			// X-ClearTix-Event: the event type.
			preset: "cleartix",
			want: func(t *testing.T, d received, _ string) (string, string) {
				return "X-ClearTix-Signature", "sha256=" + hexHMAC(key, string(d.Body))
			},
			also: func(received, string) map[string]string { return map[string]string{"X-ClearTix-Event": eventType} },
		},
		{
			// Seed 003: X-SHOWPASS-SIGNATURE is the hex HMAC of the raw body.
			preset: "showpass",
			want: func(t *testing.T, d received, _ string) (string, string) {
				return "X-SHOWPASS-SIGNATURE", hexHMAC(key, string(d.Body))
			},
		},
		{
			// Seed 002: Allfly runs on Svix: svix-signature: v1,<base64 HMAC of "id.timestamp.body">.
			preset: "allfly",
			want: func(t *testing.T, d received, msgID string) (string, string) {
				ts := d.Header.Get("svix-timestamp")
				checkRecent(t, ts)
				mac := hmac.New(sha256.New, key)
				mac.Write([]byte(msgID + "." + ts + "." + string(d.Body)))
				if err := verifySvix(secret, d); err != nil {
					t.Errorf("the Svix SDK rejects the allfly delivery: %v", err)
				}
				return "svix-signature", "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
			},
			also: func(_ received, msgID string) map[string]string { return map[string]string{"svix-id": msgID} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			t.Parallel()
			profile, ok := signature.Preset(tt.preset)
			if !ok {
				t.Fatalf("no preset %q", tt.preset)
			}
			srv := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) { cfg.SignatureProfile = profile }})
			rcv := newReceiver(t)
			appID := newApp(t, srv, eventType)
			newEndpoint(t, srv, appID, map[string]any{"url": rcv.URL + "/webhooks/" + tt.preset, "secret": secret})
			msgID := send(t, srv, appID, eventType, payload)

			d := rcv.next(t)
			if string(d.Body) != payload {
				t.Fatalf("body %q, want the payload %q", d.Body, payload)
			}
			header, want := tt.want(t, d, msgID)
			if got := d.Header.Values(header); len(got) != 1 || got[0] != want {
				t.Errorf("%s = %q, want exactly %q\nall headers: %v", header, got, want, d.Header)
			}
			if tt.also != nil {
				for h, v := range tt.also(d, msgID) {
					if got := d.Header.Get(h); got != v {
						t.Errorf("%s = %q, want %q", h, got, v)
					}
				}
			}
			// And Hookline's own receiver package agrees.
			if err := signature.Verify(profile, d.Header, d.Body, []string{secret}, time.Now(), 0); err != nil {
				t.Errorf("signature.Verify(%s): %v", tt.preset, err)
			}
		})
	}
}

func hexHMAC(key []byte, content string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(content))
	return hex.EncodeToString(mac.Sum(nil))
}

// checkRecent fails the test unless ts is unix seconds within a minute of now.
func checkRecent(t *testing.T, ts string) {
	t.Helper()
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
		t.Errorf("timestamp header %q is not the send time in unix seconds", ts)
	}
}
