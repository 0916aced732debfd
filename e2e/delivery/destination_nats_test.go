package delivery

import (
	"context"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const natsURL = "nats://127.0.0.1:4222"

// TestNATSJetStreamDestination: a publish to a subject no stream stores is a failed attempt,
// retried on the schedule; once the stream exists the retry is acknowledged by it, and the
// stream holds the payload byte for byte with the signature headers as NATS headers, verified
// with the Standard Webhooks library, and the webhook-id as Nats-Msg-Id.
func TestNATSJetStreamDestination(t *testing.T) {
	t.Parallel()
	needBroker(t, "NATS", "127.0.0.1:4222")
	ctx := context.Background()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	name := uniqueName(t)
	subject := "hookline.test." + name

	e := start(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep, secret := e.brokerEndpoint(app, map[string]any{"type": "nats", "url": natsURL,
		"options": map[string]string{"subject": subject, "stream": name}})
	payload := map[string]any{"order": 1, "note": "café ☕ <b>&</b>", "lines": []any{1.5, "x", nil}}
	msg := e.send(app, "order.paid", payload)

	a := e.waitAttempts(app, ep, 1)[0]
	if a.Status != 2 || a.ResponseStatusCode != 0 || !strings.Contains(a.Response, "no stream stores subject") {
		t.Fatalf("attempt %+v; want a failure saying no stream stores the subject", a)
	}
	st := e.endpointMsgState(app, ep, msg)
	if st.Status != 1 || st.NextAttempt == nil {
		t.Fatalf("after the refused publish: %+v; want pending with a next attempt", st)
	}
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subject}, Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { js.DeleteStream(context.Background(), name) })
	e.advanceTo(*st.NextAttempt)
	got := e.waitAttempts(app, ep, 2)
	if got[0].Status != 0 || got[0].ResponseStatusCode != 200 || got[0].Response != "stored in stream "+name+" at sequence 1" {
		t.Fatalf("retry %+v; want a success acknowledged by the stream", got[0])
	}
	m, err := stream.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{}
	for k, v := range m.Header {
		headers[strings.ToLower(k)] = v[0]
	}
	verifyBrokerMessage(t, secret, msg, "order.paid", payload, m.Data, headers)
	if m.Header.Get(jetstream.MsgIDHeader) != msg {
		t.Fatalf("Nats-Msg-Id %q, want the message id %s", m.Header.Get(jetstream.MsgIDHeader), msg)
	}
	if info, err := stream.Info(ctx); err != nil || info.State.Msgs != 1 {
		t.Fatalf("stream info %+v %v; want one message", info, err)
	}
}
