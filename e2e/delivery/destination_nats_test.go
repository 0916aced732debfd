package delivery

import (
	"context"
	"strconv"
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

// natsBroker runs a NATS server with JetStream of the test's own (never the machine's shared
// one); its streams' files are under its directory, so they outlive a restart.
func natsBroker(t *testing.T) *privateBroker {
	t.Helper()
	return startPrivateBroker(t, brokerSpec{name: "NATS", binaries: []string{"nats-server", "/usr/sbin/nats-server"},
		command: func(b *privateBroker) ([]string, []string) {
			return []string{"-a", "127.0.0.1", "-p", strconv.Itoa(b.Ports[0]), "-js", "-sd", b.Dir}, nil
		},
		ready: func(b *privateBroker) error { // JetStream answers once it has read its streams back
			nc, err := nats.Connect("nats://"+b.Addr, nats.NoReconnect())
			if err != nil {
				return err
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err != nil {
				return err
			}
			_, err = js.AccountInfo(context.Background())
			return err
		}})
}

// TestNATSRestartUnderLoad: the NATS destination's server is stopped and started again while
// messages keep coming, and loses none it acknowledged (see restartUnderLoad). The stream
// stores its messages in files; the consumer reads the stream after the restart.
func TestNATSRestartUnderLoad(t *testing.T) {
	t.Parallel()
	b := natsBroker(t)
	name := uniqueName(t)
	subject := "hookline.test." + name
	ctx := context.Background()
	nc, err := nats.Connect("nats://" + b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subject}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	atts := restartUnderLoad(t, b, map[string]any{"type": "nats", "url": "nats://" + b.Addr,
		"options": map[string]string{"subject": subject, "stream": name}}, func() (map[string]bool, error) {
		nc, err := nats.Connect("nats://"+b.Addr, nats.NoReconnect())
		if err != nil {
			return nil, err
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return nil, err
		}
		stream, err := js.Stream(ctx, name)
		if err != nil {
			return nil, err
		}
		info, err := stream.Info(ctx)
		if err != nil {
			return nil, err
		}
		got := map[string]bool{}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
			m, err := stream.GetMsg(ctx, seq)
			if err != nil {
				return nil, err
			}
			for k, v := range m.Header {
				if strings.ToLower(k) == "webhook-id" {
					got[v[0]] = true
				}
			}
		}
		return got, nil
	})
	noTimeouts(t, atts)
}
