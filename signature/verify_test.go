package signature_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/signature"
)

func TestVerifyFailures(t *testing.T) {
	t.Parallel()
	now := time.Unix(1781273100, 0)
	body := []byte(testBody)
	usetix, _ := signature.Preset("usetix")
	cleartix, _ := signature.Preset("cleartix")

	// signed returns fresh headers for p signed at ts, then edited by edit.
	signed := func(p signature.Profile, ts time.Time, edit func(http.Header)) http.Header {
		h := http.Header{}
		if err := p.Sign(h, "msg_1", ts, "ticket.sold", body, []string{secretA}); err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(h)
		}
		return h
	}
	del := func(name string) func(http.Header) { return func(h http.Header) { h.Del(name) } }
	set := func(name, v string) func(http.Header) { return func(h http.Header) { h.Set(name, v) } }

	for _, tc := range []struct {
		name    string
		profile signature.Profile
		header  http.Header
		body    string
		secrets []string
		want    error // nil means Verify must succeed
	}{
		{"standard ok", signature.Standard(), signed(signature.Standard(), now, nil), testBody, nil, nil},
		{"standard tampered body", signature.Standard(), signed(signature.Standard(), now, nil), testBody + " ", nil, signature.ErrInvalidSignature},
		{"standard wrong secret", signature.Standard(), signed(signature.Standard(), now, nil), testBody, []string{secretB}, signature.ErrInvalidSignature},
		{"standard old", signature.Standard(), signed(signature.Standard(), now.Add(-6*time.Minute), nil), testBody, nil, signature.ErrTimestampTooOld},
		{"standard future", signature.Standard(), signed(signature.Standard(), now.Add(6*time.Minute), nil), testBody, nil, signature.ErrTimestampTooNew},
		{"standard at tolerance edge", signature.Standard(), signed(signature.Standard(), now.Add(-5*time.Minute), nil), testBody, nil, nil},
		{"standard one second past edge", signature.Standard(), signed(signature.Standard(), now.Add(-5*time.Minute-time.Second), nil), testBody, nil, signature.ErrTimestampTooOld},
		{"standard missing id", signature.Standard(), signed(signature.Standard(), now, del("webhook-id")), testBody, nil, signature.ErrMissingHeaders},
		{"standard missing timestamp", signature.Standard(), signed(signature.Standard(), now, del("webhook-timestamp")), testBody, nil, signature.ErrMissingHeaders},
		{"standard missing signature", signature.Standard(), signed(signature.Standard(), now, del("webhook-signature")), testBody, nil, signature.ErrMissingHeaders},
		{"standard timestamp moved within tolerance", signature.Standard(), signed(signature.Standard(), now, set("webhook-timestamp", "1781273101")), testBody, nil, signature.ErrInvalidSignature},
		{"standard id changed", signature.Standard(), signed(signature.Standard(), now, set("webhook-id", "msg_2")), testBody, nil, signature.ErrInvalidSignature},
		{"standard garbage timestamp", signature.Standard(), signed(signature.Standard(), now, set("webhook-timestamp", "soon")), testBody, nil, signature.ErrInvalidTimestamp},
		{"standard signed timestamp", signature.Standard(), signed(signature.Standard(), now, set("webhook-timestamp", "+1781273100")), testBody, nil, signature.ErrInvalidTimestamp},
		{"standard unknown version only", signature.Standard(), signed(signature.Standard(), now, func(h http.Header) {
			h.Set("webhook-signature", strings.Replace(h.Get("webhook-signature"), "v1,", "v2,", 1))
		}), testBody, nil, signature.ErrInvalidSignature},
		{"standard extra entries tolerated", signature.Standard(), signed(signature.Standard(), now, func(h http.Header) {
			h.Set("webhook-signature", "v1a,Zm9v v1,bm9wZQ== "+h.Get("webhook-signature")+" garbage")
		}), testBody, nil, nil},
		{"svix headers on standard profile", signature.Standard(), signed(signature.Svix(), now, nil), testBody, nil, signature.ErrMissingHeaders},
		{"no secrets", signature.Standard(), signed(signature.Standard(), now, nil), testBody, []string{}, signature.ErrNoSecrets},
		{"empty secret skipped", signature.Standard(), signed(signature.Standard(), now, nil), testBody, []string{"", secretA}, nil},

		{"usetix ok", usetix, signed(usetix, now, nil), testBody, nil, nil},
		{"usetix tampered body", usetix, signed(usetix, now, nil), `{}`, nil, signature.ErrInvalidSignature},
		{"usetix wrong secret", usetix, signed(usetix, now, nil), testBody, []string{secretB}, signature.ErrInvalidSignature},
		{"usetix old", usetix, signed(usetix, now.Add(-time.Hour), nil), testBody, nil, signature.ErrTimestampTooOld},
		{"usetix future", usetix, signed(usetix, now.Add(time.Hour), nil), testBody, nil, signature.ErrTimestampTooNew},
		{"usetix missing timestamp", usetix, signed(usetix, now, del("X-Webhook-Timestamp")), testBody, nil, signature.ErrMissingHeaders},
		{"usetix missing signature", usetix, signed(usetix, now, del("X-Webhook-Signature")), testBody, nil, signature.ErrMissingHeaders},
		{"usetix timestamp moved", usetix, signed(usetix, now, set("X-Webhook-Timestamp", "1781273099")), testBody, nil, signature.ErrInvalidSignature},
		{"usetix uppercase hex", usetix, signed(usetix, now, func(h http.Header) {
			h.Set("X-Webhook-Signature", strings.ToUpper(h.Get("X-Webhook-Signature")))
		}), testBody, nil, nil},

		{"cleartix ok", cleartix, signed(cleartix, now, nil), testBody, nil, nil},
		// No timestamp header: nothing to hold the time against, so an old delivery still verifies.
		{"cleartix old still verifies", cleartix, signed(cleartix, now.Add(-24*time.Hour), nil), testBody, nil, nil},
		{"cleartix tampered body", cleartix, signed(cleartix, now, nil), strings.ToUpper(testBody), nil, signature.ErrInvalidSignature},
		{"cleartix wrong secret", cleartix, signed(cleartix, now, nil), testBody, []string{secretB}, signature.ErrInvalidSignature},
		{"cleartix missing signature", cleartix, signed(cleartix, now, del("X-ClearTix-Signature")), testBody, nil, signature.ErrMissingHeaders},
		{"cleartix empty signature", cleartix, signed(cleartix, now, set("X-ClearTix-Signature", " ")), testBody, nil, signature.ErrMissingHeaders},
		{"cleartix prefix missing", cleartix, signed(cleartix, now, func(h http.Header) {
			h.Set("X-ClearTix-Signature", strings.TrimPrefix(h.Get("X-ClearTix-Signature"), "sha256="))
		}), testBody, nil, signature.ErrInvalidSignature},
		{"cleartix repeated header fields", cleartix, signed(cleartix, now, func(h http.Header) {
			v := h.Get("X-ClearTix-Signature")
			h.Set("X-ClearTix-Signature", "sha256=00")
			h.Add("X-ClearTix-Signature", v)
		}), testBody, nil, nil},
		{"cleartix comma list without spaces", cleartix, signed(cleartix, now, func(h http.Header) {
			h.Set("X-ClearTix-Signature", "sha256=zz,"+h.Get("X-ClearTix-Signature"))
		}), testBody, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secrets := tc.secrets
			if secrets == nil {
				secrets = []string{secretA}
			}
			err := signature.Verify(tc.profile, tc.header, []byte(tc.body), secrets, now, 0)
			switch {
			case tc.want == nil && err != nil:
				t.Errorf("Verify = %v, want success", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyCustomTolerance(t *testing.T) {
	t.Parallel()
	now := time.Unix(1781273100, 0)
	h := http.Header{}
	if err := signature.Standard().Sign(h, "msg_1", now.Add(-time.Minute), "", []byte("{}"), []string{secretA}); err != nil {
		t.Fatal(err)
	}
	if err := signature.Verify(signature.Standard(), h, []byte("{}"), []string{secretA}, now, 30*time.Second); !errors.Is(err, signature.ErrTimestampTooOld) {
		t.Errorf("30s tolerance: Verify = %v, want ErrTimestampTooOld", err)
	}
	if err := signature.Verify(signature.Standard(), h, []byte("{}"), []string{secretA}, now, 2*time.Minute); err != nil {
		t.Errorf("2m tolerance: Verify = %v", err)
	}
}
