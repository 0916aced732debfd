package signing

import (
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/clocktest"
	"github.com/hookline/hookline/internal/testserver"
	"github.com/hookline/hookline/signature"
)

func TestSecretRotation(t *testing.T) {
	t.Parallel()
	const grace = time.Minute
	// The server runs on a clock the test moves, so the grace period ends without waiting.
	// The clock starts at the real time and moves only a little past the grace period: the
	// official library checks webhook-timestamp against the real clock (5 minutes either way).
	clock := clocktest.New(time.Now())
	srv := testserver.Start(t, testserver.Options{Clock: clock, Configure: func(cfg *config.Config) {
		cfg.SecretGracePeriod = grace
	}})
	rcv := newReceiver(t)
	oldSecret, _ := testSecret(0x01)
	newSecret, _ := testSecret(0x02)
	appID := newApp(t, srv, "order.paid")
	epID := newEndpoint(t, srv, appID, map[string]any{"url": rcv.URL, "secret": oldSecret})
	oldWH, err := standardwebhooks.NewWebhook(oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	newWH, err := standardwebhooks.NewWebhook(newSecret)
	if err != nil {
		t.Fatal(err)
	}

	srv.Op("POST", "/api/v1/app/"+appID+"/endpoint/"+epID+"/secret/rotate", map[string]any{"key": newSecret}, 204)
	if got := endpointSecret(t, srv, appID, epID); got != newSecret {
		t.Fatalf("secret after rotation = %q, want the new one", got)
	}

	// During the grace period: two signatures, and a receiver with either secret accepts.
	send(t, srv, appID, "order.paid", `{"n":1}`)
	d := rcv.next(t)
	if sigs := strings.Fields(d.Header.Get("webhook-signature")); len(sigs) != 2 {
		t.Errorf("during the grace period webhook-signature = %q, want two v1 entries", d.Header.Get("webhook-signature"))
	}
	if err := oldWH.Verify(d.Body, d.Header); err != nil {
		t.Errorf("during the grace period the old secret does not verify: %v", err)
	}
	if err := newWH.Verify(d.Body, d.Header); err != nil {
		t.Errorf("during the grace period the new secret does not verify: %v", err)
	}
	for _, s := range []string{oldSecret, newSecret} {
		if err := signature.Verify(signature.Standard(), d.Header, d.Body, []string{s}, clock.Now(), 0); err != nil {
			t.Errorf("signature.Verify with one of the two secrets: %v", err)
		}
	}

	// After the grace period: only the new secret signs. The first delivery must be recorded
	// before the clock jumps, or its lease would expire on the fake clock and it would be sent
	// again, as at-least-once delivery requires.
	if a := waitAttempt(t, srv, appID, epID); a.Status != 0 {
		t.Fatalf("first attempt: %+v, want success", a)
	}
	clock.Advance(grace + time.Second)
	send(t, srv, appID, "order.paid", `{"n":2}`)
	d = rcv.next(t)
	if string(d.Body) != `{"n":2}` {
		t.Fatalf("unexpected received %s", d.Body)
	}
	if sigs := strings.Fields(d.Header.Get("webhook-signature")); len(sigs) != 1 {
		t.Errorf("after the grace period webhook-signature = %q, want one v1 entry", d.Header.Get("webhook-signature"))
	}
	if err := newWH.Verify(d.Body, d.Header); err != nil {
		t.Errorf("after the grace period the new secret does not verify: %v", err)
	}
	if err := oldWH.Verify(d.Body, d.Header); err == nil {
		t.Error("after the grace period the old secret still verifies")
	}
}
