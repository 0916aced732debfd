package destination

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline"
)

// RabbitMQ (AMQP 0-9-1) with publisher confirms: each attempt publishes one persistent message
// to the exchange with the routing key, on a channel in confirm mode, and succeeds only when the
// broker confirms it (basic.ack). With mandatory (the default), a message no queue is bound to
// receive is returned by the broker and the attempt fails, instead of the message being dropped.
// The body is the payload; the headers are AMQP headers, and the message id, event type,
// content type and timestamp are also the message's properties.
//
// URL: amqp://user:password@host[:port]/vhost, or amqps:// (TLS). Options: exchange (the empty
// default exchange routes by queue name), routingKey (one of the two is required), mandatory
// ("true" by default, or "false").
func init() { Register("rabbitmq", rabbitType{}) }

type rabbitType struct{}

func (rabbitType) Check(d hookline.Destination) []FieldError {
	errs := unknownOptions(d, "exchange", "routingKey", "mandatory")
	if _, uerrs := checkURL(d.URL, "amqp", "amqps"); uerrs != nil {
		errs = append(errs, uerrs...)
	} else if _, err := amqp.ParseURI(d.URL); err != nil {
		errs = append(errs, FieldError{"url", err.Error()})
	}
	if d.Options["exchange"] == "" && d.Options["routingKey"] == "" {
		errs = append(errs, FieldError{"routingKey", "is required when there is no exchange (the default exchange routes by queue name)"})
	}
	if v, ok := d.Options["mandatory"]; ok {
		if _, err := strconv.ParseBool(v); err != nil {
			errs = append(errs, FieldError{"mandatory", `must be "true" or "false"`})
		}
	}
	return errs
}

func (rabbitType) Open(d hookline.Destination, dial DialFunc) (Publisher, error) {
	mandatory := true
	if v, ok := d.Options["mandatory"]; ok {
		mandatory, _ = strconv.ParseBool(v)
	}
	return &rabbitPublisher{url: d.URL, dial: dial, exchange: d.Options["exchange"], key: d.Options["routingKey"],
		mandatory: mandatory, idle: make(chan *rabbitChannel, rabbitIdleChannels)}, nil
}

// rabbitIdleChannels is how many confirm-mode channels a publisher keeps open between attempts.
const rabbitIdleChannels = 16

type rabbitPublisher struct {
	url, exchange, key string
	mandatory          bool
	dial               DialFunc

	mu     sync.Mutex
	conn   *amqp.Connection // nil until the first attempt, and after Close
	closed bool
	idle   chan *rabbitChannel
}

// rabbitChannel is a channel in confirm mode with one publish at a time, so a basic.return or
// a channel error seen before its confirmation belongs to that publish.
type rabbitChannel struct {
	conn    *amqp.Connection
	ch      *amqp.Channel
	returns chan amqp.Return
	closes  chan *amqp.Error
}

// connection returns the open connection, dialling a new one when there is none or the last
// one died (a broker restart).
func (p *rabbitPublisher) connection(ctx context.Context) (*amqp.Connection, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("publisher closed")
	}
	if p.conn != nil && !p.conn.IsClosed() {
		return p.conn, nil
	}
	cfg := amqp.Config{
		Dial:       func(network, addr string) (net.Conn, error) { return p.dial(ctx, network, addr) },
		Properties: amqp.Table{"connection_name": "hookline"},
	}
	conn, err := amqp.DialConfig(p.url, cfg)
	if err != nil {
		return nil, err
	}
	p.conn = conn
	return conn, nil
}

// channel takes an idle channel of the current connection, or opens one.
func (p *rabbitPublisher) channel(ctx context.Context) (*rabbitChannel, error) {
	conn, err := p.connection(ctx)
	if err != nil {
		return nil, err
	}
	for {
		select {
		case c := <-p.idle:
			if c.conn == conn && !c.ch.IsClosed() {
				return c, nil
			}
			c.ch.Close()
			continue
		default:
		}
		break
	}
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	if err := ch.Confirm(false); err != nil {
		ch.Close()
		return nil, err
	}
	c := &rabbitChannel{conn: conn, ch: ch, returns: ch.NotifyReturn(make(chan amqp.Return, 1)),
		closes: ch.NotifyClose(make(chan *amqp.Error, 1))}
	return c, nil
}

// release puts c back for the next attempt, or closes it when there is no room.
func (p *rabbitPublisher) release(c *rabbitChannel) {
	select {
	case p.idle <- c:
	default:
		c.ch.Close()
	}
}

func (p *rabbitPublisher) Publish(ctx context.Context, msg Message) (Result, error) {
	c, err := p.channel(ctx)
	if err != nil {
		return Result{}, err
	}
	pub := amqp.Publishing{
		Headers:      make(amqp.Table, len(msg.Headers)),
		ContentType:  msg.Headers["content-type"],
		DeliveryMode: amqp.Persistent,
		MessageId:    msg.Headers["webhook-id"],
		Type:         msg.Headers[EventTypeHeader],
		Timestamp:    time.Now(),
		Body:         msg.Body,
	}
	for k, v := range msg.Headers {
		pub.Headers[k] = v
	}
	dc, err := c.ch.PublishWithDeferredConfirmWithContext(ctx, p.exchange, p.key, p.mandatory, false, pub)
	if err != nil {
		c.ch.Close()
		return Result{}, err
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		// No confirmation in time: the channel has a publish outstanding, so it goes.
		c.ch.Close()
		return Result{}, err
	}
	if !acked {
		c.ch.Close()
		select {
		case e := <-c.closes:
			if e != nil {
				return Result{}, fmt.Errorf("the broker closed the channel: %w", e)
			}
		default:
		}
		return Result{}, errors.New("the broker did not confirm the message (basic.nack)")
	}
	select {
	case r := <-c.returns:
		p.release(c)
		return Result{}, fmt.Errorf("the broker returned the message as unroutable: %d %s (exchange %q, routing key %q)",
			r.ReplyCode, r.ReplyText, r.Exchange, r.RoutingKey)
	default:
	}
	p.release(c)
	return Result{Answer: fmt.Sprintf("confirmed by the broker (exchange %q, routing key %q, delivery tag %d)",
		p.exchange, p.key, dc.DeliveryTag)}, nil
}

func (p *rabbitPublisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.conn == nil {
		return nil
	}
	err := p.conn.Close()
	p.conn = nil
	return err
}

func (rabbitType) Describe() Description {
	return Description{Title: "RabbitMQ", URLPlaceholder: "amqp://rabbitmq.example.com:5672/vhost",
		URLHint: "amqp:// or amqps:// (TLS); the path is the vhost (%2F for /, empty for the default).",
		Options: []Option{
			{Name: "exchange", Label: "Exchange", Placeholder: "webhooks", Hint: "Empty for the default exchange, which routes by queue name."},
			{Name: "routingKey", Label: "Routing key", Placeholder: "orders", Hint: "With the default exchange: the queue's name. One of exchange and routing key is required."},
			{Name: "mandatory", Label: "Unroutable messages", Choices: []string{"true", "false"}, Hint: "true: the broker returns a message no queue receives and the attempt fails and is retried; false: it is dropped."},
		}}
}
