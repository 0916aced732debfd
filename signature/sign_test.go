package signature_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookline/hookline/signature"
)

const testBody = `{"type":"order.paid","data":{"orderId":"ord_9f8e7d6c","total":"45.00"}}`

// TestStandardVerifiesWithOfficialLibrary sends a standard-profile delivery over loopback and
// checks it with the Standard Webhooks reference library, once per secret of a rotation.
func TestStandardVerifiesWithOfficialLibrary(t *testing.T) {
	t.Parallel()
	for _, secrets := range [][]string{{secretA}, {secretA, secretB}, {secretB, secretA}} {
		t.Run(fmt.Sprintf("%d secrets", len(secrets)), func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if err := signature.Standard().Sign(h, "msg_2wK3pZ8Q1nR4", time.Now(), "order.paid", []byte(testBody), secrets); err != nil {
				t.Fatal(err)
			}
			got := deliver(t, h, []byte(testBody))
			if n := len(strings.Fields(got.header.Get("webhook-signature"))); n != len(secrets) {
				t.Fatalf("webhook-signature has %d signatures, want %d", n, len(secrets))
			}
			for _, s := range secrets {
				wh, err := standardwebhooks.NewWebhook(s)
				if err != nil {
					t.Fatal(err)
				}
				if err := wh.Verify(got.body, got.header); err != nil {
					t.Errorf("official library rejects signature for %s: %v", s, err)
				}
			}
			wh, _ := standardwebhooks.NewWebhook("whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
			if err := wh.Verify(got.body, got.header); err == nil {
				t.Error("official library accepts a wrong secret")
			}
		})
	}
}

// TestStandardWireFormat pins the exact bytes for a fixed input, computed independently.
func TestStandardWireFormat(t *testing.T) {
	t.Parallel()
	ts := time.Unix(1781273100, 0)
	for _, tc := range []struct {
		profile signature.Profile
		prefix  string
	}{
		{signature.Standard(), "webhook"},
		{signature.Profile{}, "webhook"}, // the zero profile is the default
		{signature.Svix(), "svix"},
		{signature.Profile{HeaderPrefix: "acme-hook"}, "acme-hook"},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if err := tc.profile.Sign(h, "msg_1", ts, "a.b", []byte(testBody), []string{secretA, secretB}); err != nil {
				t.Fatal(err)
			}
			signed := "msg_1.1781273100." + testBody
			want := map[string]string{
				tc.prefix + "-id":        "msg_1",
				tc.prefix + "-timestamp": "1781273100",
				tc.prefix + "-signature": "v1," + hmacB64(t, secretA, signed) + " v1," + hmacB64(t, secretB, signed),
			}
			for name, v := range want {
				if got := h.Get(name); got != v {
					t.Errorf("%s = %q, want %q", name, got, v)
				}
			}
			if len(h) != 3 {
				t.Errorf("headers = %v, want only the three %s- headers", h, tc.prefix)
			}
			if err := signature.Verify(tc.profile, h, []byte(testBody), []string{secretB}, ts, 0); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// TestHexPresets checks each hex preset against the seed's description of the platform, with an
// HMAC the test computes itself, after a trip over loopback HTTP.
func TestHexPresets(t *testing.T) {
	t.Parallel()
	now := time.Now()
	unix := fmt.Sprint(now.Unix())
	for _, tc := range []struct {
		preset string
		want   func(secret string) map[string]string
	}{
		{"usetix", func(s string) map[string]string {
			return map[string]string{
				"X-Webhook-Signature": hmacHex(t, s, unix+"."+testBody),
				"X-Webhook-Timestamp": unix,
			}
		}},
		{"cleartix", func(s string) map[string]string {
			return map[string]string{
				"X-ClearTix-Signature": "sha256=" + hmacHex(t, s, testBody),
				"X-ClearTix-Event":     "ticket.sold",
			}
		}},
		{"showpass", func(s string) map[string]string {
			return map[string]string{"X-SHOWPASS-SIGNATURE": hmacHex(t, s, testBody)}
		}},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			t.Parallel()
			p, ok := signature.Preset(tc.preset)
			if !ok {
				t.Fatalf("no preset %q", tc.preset)
			}
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{secretA, secretB} {
				h := http.Header{}
				if err := p.Sign(h, "msg_1", now, "ticket.sold", []byte(testBody), []string{secret}); err != nil {
					t.Fatal(err)
				}
				got := deliver(t, h, []byte(testBody))
				for name, v := range tc.want(secret) {
					if g := got.header.Get(name); g != v {
						t.Errorf("%s = %q, want %q", name, g, v)
					}
				}
				if err := signature.Verify(p, got.header, got.body, []string{secret}, time.Time{}, 0); err != nil {
					t.Errorf("Verify: %v", err)
				}
			}
		})
	}
}

// TestRotationTwoSecrets signs with two secrets and verifies with either one alone, for every
// preset, and pins the multi-signature format of each kind.
func TestRotationTwoSecrets(t *testing.T) {
	t.Parallel()
	now := time.Unix(1781273100, 0)
	for _, name := range signature.PresetNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, _ := signature.Preset(name)
			h := http.Header{}
			if err := p.Sign(h, "msg_rot", now, "ticket.sold", []byte(testBody), []string{secretA, "", secretB}); err != nil {
				t.Fatal(err)
			}
			if p.Kind == signature.KindHMACHex {
				v := h.Get(p.SignatureHeader)
				parts := strings.Split(v, ", ")
				if len(parts) != 2 || !strings.HasPrefix(parts[0], p.SignaturePrefix) || !strings.HasPrefix(parts[1], p.SignaturePrefix) {
					t.Errorf("%s = %q, want two %q-prefixed digests joined by \", \"", p.SignatureHeader, v, p.SignaturePrefix)
				}
			}
			for _, secrets := range [][]string{{secretA}, {secretB}, {"whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", secretB}} {
				if err := signature.Verify(p, h, []byte(testBody), secrets, now, 0); err != nil {
					t.Errorf("Verify with %v: %v", secrets, err)
				}
			}
			if err := signature.Verify(p, h, []byte(testBody), []string{"whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, now, 0); !errors.Is(err, signature.ErrInvalidSignature) {
				t.Errorf("Verify with an unrelated secret = %v, want ErrInvalidSignature", err)
			}
		})
	}
}

func TestSignReplacesEarlierHeaders(t *testing.T) {
	t.Parallel()
	p, _ := signature.Preset("cleartix")
	h := http.Header{}
	h.Add("X-ClearTix-Signature", "sha256=stale")
	if err := p.Sign(h, "", time.Unix(1, 0), "", []byte("x"), []string{secretA}); err != nil {
		t.Fatal(err)
	}
	if v := h.Values("X-ClearTix-Signature"); len(v) != 1 || v[0] == "sha256=stale" {
		t.Errorf("signature header = %q, want only the fresh signature", v)
	}
	if _, ok := h["X-Cleartix-Event"]; ok {
		t.Error("event header set for an empty event type")
	}
}

func TestSignErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		profile signature.Profile
		msgID   string
		secrets []string
		want    error
	}{
		{"no secrets", signature.Standard(), "msg_1", nil, signature.ErrNoSecrets},
		{"only empty secrets", signature.Svix(), "msg_1", []string{""}, signature.ErrNoSecrets},
		{"hex no secrets", signature.Profile{Kind: signature.KindHMACHex, SignatureHeader: "X-Sig"}, "", nil, signature.ErrNoSecrets},
		{"standard without id", signature.Standard(), "", []string{secretA}, nil},
		{"unknown kind", signature.Profile{Kind: "rsa"}, "msg_1", []string{secretA}, nil},
		{"hex without signature header", signature.Profile{Kind: signature.KindHMACHex}, "msg_1", []string{secretA}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.profile.Sign(http.Header{}, tc.msgID, time.Now(), "", nil, tc.secrets)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("Sign = %v, want an error (%v)", err, tc.want)
			}
		})
	}
}

// BenchmarkSignStandard is the delivery engine's hot path: one 1 KB body, one secret.
func BenchmarkSignStandard(b *testing.B) {
	body := []byte(strings.Repeat("x", 1024))
	secrets := []string{secretA}
	ts := time.Unix(1781273100, 0)
	p := signature.Standard()
	h := http.Header{}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Sign(h, "msg_2wK3pZ8Q1nR4tY6uV9xA0bC5dE7", ts, "order.paid", body, secrets); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSecretEncodingRaw covers secrets imported from a hex-HMAC platform: the receiver keys its
// HMAC with the string itself, even when the string happens to be valid base64.
func TestSecretEncodingRaw(t *testing.T) {
	t.Parallel()
	const imported = "3f9a2b7c1d4e5f60aabbccddeeff0011" // valid base64, but meant as a raw string
	raw := func() string {
		m := hmac.New(sha256.New, []byte(imported))
		m.Write([]byte(testBody))
		return hex.EncodeToString(m.Sum(nil))
	}()
	showpass, _ := signature.Preset("showpass")
	rawShowpass := showpass
	rawShowpass.SecretEncoding = signature.SecretRaw
	if err := rawShowpass.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		profile  signature.Profile
		wantsRaw bool
	}{{rawShowpass, true}, {showpass, false}} {
		h := http.Header{}
		if err := tc.profile.Sign(h, "", time.Unix(1, 0), "", []byte(testBody), []string{imported}); err != nil {
			t.Fatal(err)
		}
		if got := h.Get("X-Showpass-Signature"); (got == raw) != tc.wantsRaw {
			t.Errorf("secretEncoding %q: signature %s, raw-key HMAC %s", tc.profile.SecretEncoding, got, raw)
		}
		if err := signature.Verify(tc.profile, h, []byte(testBody), []string{imported}, time.Unix(1, 0), 0); err != nil {
			t.Errorf("secretEncoding %q: Verify: %v", tc.profile.SecretEncoding, err)
		}
	}
}
