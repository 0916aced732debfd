package destination

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookline/hookline"
)

// NATS JetStream: each attempt publishes one message to the subject and succeeds only when a
// stream has stored it and acknowledged it (a PubAck with the stream and its sequence, which
// the attempt log shows). The message carries the webhook-id as Nats-Msg-Id too, so the stream
// drops a message it already holds within its duplicate window (the attempt then says
// "duplicate"). The body is the payload; every header is a NATS header.
//
// URL: nats://[user:password@ | token@]host[:port], or tls://. Options: subject (required),
// stream (when set, only that stream may acknowledge the message).
func init() { Register("nats", natsType{}) }

type natsType struct{}

func (natsType) Check(d hookline.Destination) []FieldError {
	errs := unknownOptions(d, "subject", "stream")
	if _, uerrs := checkURL(d.URL, "nats", "tls"); uerrs != nil {
		errs = append(errs, uerrs...)
	}
	if d.Options["subject"] == "" {
		errs = append(errs, FieldError{"subject", "is required"})
	}
	return errs
}

func (natsType) Open(d hookline.Destination, dial DialFunc) (Publisher, error) {
	return &natsPublisher{url: d.URL, dial: dial, subject: d.Options["subject"], stream: d.Options["stream"]}, nil
}

type natsPublisher struct {
	url, subject, stream string
	dial                 DialFunc

	mu     sync.Mutex
	conn   *nats.Conn
	js     jetstream.JetStream
	closed bool
}

// natsDialer makes the client's connection through the egress policy, and keeps the last
// dial error: nats.go answers only "no servers available" when every dial failed.
type natsDialer struct {
	dial    DialFunc
	lastErr error
}

func (d *natsDialer) Dial(network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := d.dial(ctx, network, addr)
	d.lastErr = err
	return conn, err
}

// client returns the connection's JetStream context, connecting when there is no connection
// or the last one was lost.
func (p *natsPublisher) client() (jetstream.JetStream, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("publisher closed")
	}
	if p.conn != nil {
		if p.conn.Status() == nats.CONNECTED {
			return p.js, nil
		}
		// The connection was lost (a server restart). nats.go would reconnect in the background,
		// a second or more apart, and every publish meanwhile would fail at once ("outbound
		// buffer limit exceeded"): the attempt dials afresh instead, so one that comes once the
		// server is back succeeds, and one that finds it down fails with the reason.
		p.conn.Close()
		p.conn, p.js = nil, nil
	}
	d := &natsDialer{dial: p.dial} // used by this Connect only: the connection never reconnects
	conn, err := nats.Connect(p.url, nats.Name("hookline"), nats.SetCustomDialer(d), nats.NoReconnect())
	if err != nil {
		if errors.Is(err, nats.ErrNoServers) && d.lastErr != nil {
			return nil, d.lastErr
		}
		return nil, err
	}
	js, err := jetstream.New(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	p.conn, p.js = conn, js
	return js, nil
}

func (p *natsPublisher) Publish(ctx context.Context, msg Message) (Result, error) {
	js, err := p.client()
	if err != nil {
		return Result{}, err
	}
	m := nats.NewMsg(p.subject)
	m.Data = msg.Body
	for _, k := range msg.HeaderNames() {
		m.Header.Set(k, msg.Headers[k])
	}
	opts := []jetstream.PublishOpt{jetstream.WithRetryAttempts(0)}
	if id := msg.Headers["webhook-id"]; id != "" {
		opts = append(opts, jetstream.WithMsgID(id))
	}
	if p.stream != "" {
		opts = append(opts, jetstream.WithExpectStream(p.stream))
	}
	ack, err := js.PublishMsg(ctx, m, opts...)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) {
			return Result{}, fmt.Errorf("no stream stores subject %q: %w", p.subject, err)
		}
		return Result{}, err
	}
	answer := fmt.Sprintf("stored in stream %s at sequence %d", ack.Stream, ack.Sequence)
	if ack.Duplicate {
		answer = fmt.Sprintf("duplicate: stream %s already holds the message at sequence %d", ack.Stream, ack.Sequence)
	}
	return Result{Answer: answer}, nil
}

func (p *natsPublisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
	return nil
}

func (natsType) Describe() Description {
	return Description{Title: "NATS JetStream", URLPlaceholder: "nats://nats.example.com:4222", TokenAuth: true,
		URLHint: "nats:// or tls:// (TLS). A password without a user name is a token.",
		Options: []Option{
			{Name: "subject", Label: "Subject", Placeholder: "webhooks.orders", Required: true, Hint: "A subject a stream stores."},
			{Name: "stream", Label: "Stream", Placeholder: "WEBHOOKS", Hint: "When set, only this stream may acknowledge the message."},
		}}
}
