package signature_test

// These tests check the svix profile against the official Svix Go SDK's verifier.

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookline/hookline/signature"
)

// TestSvixVerifiesWithSvixSDK sends svix-profile deliveries over loopback and checks them with
// the Svix SDK's verifier, once per secret of a rotation.
func TestSvixVerifiesWithSvixSDK(t *testing.T) {
	t.Parallel()
	for _, secrets := range [][]string{{secretA}, {secretA, secretB}} {
		t.Run(fmt.Sprintf("%d secrets", len(secrets)), func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if err := signature.Svix().Sign(h, "msg_2wK3pZ8Q1nR4", time.Now(), "", []byte(testBody), secrets); err != nil {
				t.Fatal(err)
			}
			got := deliver(t, h, []byte(testBody))
			if got.header.Get("svix-id") == "" || got.header.Get("webhook-id") != "" {
				t.Fatalf("headers = %v, want svix- headers only", got.header)
			}
			for _, s := range secrets {
				wh, err := svix.NewWebhook(s)
				if err != nil {
					t.Fatal(err)
				}
				if err := wh.Verify(got.body, got.header); err != nil {
					t.Errorf("Svix SDK rejects signature for %s: %v", s, err)
				}
			}
			wh, _ := svix.NewWebhook("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
			if err := wh.Verify(got.body, got.header); err == nil {
				t.Error("Svix SDK accepts a wrong secret")
			}
			if err := wh.Verify([]byte(testBody+" "), got.header); err == nil {
				t.Error("Svix SDK accepts a tampered body")
			}
		})
	}
}
