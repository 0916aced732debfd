package destination

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	mqtt311 "github.com/eclipse/paho.mqtt.golang"
)

// MQTT 3.1.1, for brokers that do not speak MQTT 5 (the destination's option version "3.1.1"):
// each attempt publishes one message at QoS 1 (or 2) and succeeds when the broker acknowledges
// it (PUBACK, or PUBCOMP). MQTT 3.1.1 has no properties, so the message is the payload alone:
// the webhook-id, timestamp, event type and signature cannot travel with it, and a consumer
// cannot verify or de-duplicate it as it can with MQTT 5. Nor can a 3.1.1 broker refuse one
// message: one that will not take it closes the connection, which fails the attempt.

// mqtt311Publisher keeps one connection, dialled through the engine's dial function (the
// outbound address policy) on the first attempt and again after it ended; the client never
// reconnects by itself.
type mqtt311Publisher struct {
	mqttTarget
	mu        sync.Mutex
	client    mqtt311.Client // nil until the first attempt, and after the connection ended
	closed    bool
	clientSeq int
}

func (p *mqtt311Publisher) connection(ctx context.Context) (mqtt311.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("publisher closed")
	}
	if p.client != nil {
		if p.client.IsConnectionOpen() {
			return p.client, nil
		}
		p.client.Disconnect(0)
		p.client = nil
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(15 * time.Second)
	}
	p.clientSeq++
	opts := mqtt311.NewClientOptions().
		AddBroker("tcp://" + p.addr).
		SetClientID(fmt.Sprintf("hookline-%p-%d", p, p.clientSeq)).
		SetProtocolVersion(4). // 3.1.1
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetKeepAlive(30 * time.Second).
		SetOrderMatters(false).
		SetConnectTimeout(time.Until(deadline)).
		SetCustomOpenConnectionFn(func(*url.URL, mqtt311.ClientOptions) (net.Conn, error) {
			return p.dial(ctx, "tcp", p.addr)
		})
	if p.user != "" {
		opts.SetUsername(p.user).SetPassword(p.password)
	}
	c := mqtt311.NewClient(opts)
	if err := wait(ctx, c.Connect()); err != nil {
		c.Disconnect(0)
		return nil, err
	}
	p.client = c
	return c, nil
}

// wait waits for a token or the end of ctx.
func wait(ctx context.Context, t mqtt311.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *mqtt311Publisher) Publish(ctx context.Context, msg Message) (Result, error) {
	c, err := p.connection(ctx)
	if err != nil {
		return Result{}, err
	}
	if err := wait(ctx, c.Publish(p.topic, p.qos, false, msg.Body)); err != nil {
		// No acknowledgement: the connection may be broken; the next attempt dials again.
		p.mu.Lock()
		if p.client == c {
			p.client = nil
			go c.Disconnect(0)
		}
		p.mu.Unlock()
		return Result{}, err
	}
	ack := "PUBACK"
	if p.qos == 2 {
		ack = "PUBCOMP"
	}
	return Result{Answer: fmt.Sprintf("%s from the broker (MQTT 3.1.1, topic %q, QoS %d)", ack, p.topic, p.qos)}, nil
}

func (p *mqtt311Publisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.client != nil {
		p.client.Disconnect(0)
		p.client = nil
	}
	return nil
}
