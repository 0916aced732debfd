package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// RabbitMQ: endpoint ep publishes through the default exchange to the durable queue prefix-ep
// (persistent messages, publisher confirms, mandatory). One connection consumes every queue
// (auto-ack); the queues are deleted at the end.
func init() { brokerTypes["rabbitmq"] = openRabbitMQ }

type rabbitBroker struct {
	url    string
	queues []string
	conn   *amqp.Connection
	ch     *amqp.Channel
	done   chan struct{} // closed when every consumer ended; nil until they start
}

func openRabbitMQ(ctx context.Context, rawURL, prefix string, endpoints int, s *sink) (broker, error) {
	conn, err := amqp.DialConfig(rawURL, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second),
		Properties: amqp.Table{"connection_name": "hookline-bench consumer"}})
	if err != nil {
		return nil, err
	}
	b := &rabbitBroker{url: rawURL, conn: conn}
	if b.ch, err = conn.Channel(); err != nil {
		conn.Close()
		return nil, err
	}
	var deliveries []<-chan amqp.Delivery
	for ep := range endpoints {
		q := destTarget(prefix, ep)
		if _, err := b.ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			b.close(ctx)
			return nil, fmt.Errorf("declare queue %s: %w", q, err)
		}
		b.queues = append(b.queues, q)
		d, err := b.ch.Consume(q, q, true, false, false, false, nil)
		if err != nil {
			b.close(ctx)
			return nil, fmt.Errorf("consume queue %s: %w", q, err)
		}
		deliveries = append(deliveries, d)
	}
	// A goroutine a queue: the channels close when the consumer's channel does.
	b.done = make(chan struct{})
	remaining := make(chan struct{}, len(deliveries))
	for ep, d := range deliveries {
		go func() {
			for m := range d {
				s.arrive(m.MessageId, ep)
			}
			remaining <- struct{}{}
		}()
	}
	go func() {
		for range deliveries {
			<-remaining
		}
		close(b.done)
	}()
	return b, nil
}

func (b *rabbitBroker) destination(ep int) map[string]any {
	return map[string]any{"type": "rabbitmq", "url": b.url, "options": map[string]string{"routingKey": b.queues[ep]}}
}

func (b *rabbitBroker) describe() brokerInfo {
	return brokerInfo{
		targets:  fmt.Sprintf("%d durable queues %s…%s", len(b.queues), b.queues[0], b.queues[len(b.queues)-1]),
		consumer: "one channel consumes them all (auto-ack)",
		client:   "amqp091-go, persistent, mandatory, one confirm-mode channel a connection with the publishes in flight on it",
	}
}

func (b *rabbitBroker) close(ctx context.Context) error {
	var errs []error
	// Deleting the queues ends their consumers.
	for _, q := range b.queues {
		if _, err := b.ch.QueueDelete(q, false, false, false); err != nil {
			errs = append(errs, fmt.Errorf("delete queue %s: %w", q, err))
			if b.ch.IsClosed() {
				break
			}
		}
	}
	b.conn.Close()
	if b.done != nil {
		select {
		case <-b.done:
		case <-ctx.Done():
		}
	}
	return errors.Join(errs...)
}

// rabbitClient is the baseline's: one connection a lane with one channel in confirm mode, on
// which the lane's publishes are in flight together (each waits for its own confirmation).
type rabbitClient struct {
	b     *rabbitBroker
	conns []*amqp.Connection
	chans []*amqp.Channel
}

func (b *rabbitBroker) client(ctx context.Context, lanes int) (brokerClient, error) {
	c := &rabbitClient{b: b}
	for range lanes {
		conn, err := amqp.DialConfig(b.url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second),
			Properties: amqp.Table{"connection_name": "hookline-bench baseline"}})
		if err != nil {
			c.close()
			return nil, err
		}
		c.conns = append(c.conns, conn)
		ch, err := conn.Channel()
		if err == nil {
			err = ch.Confirm(false)
		}
		if err != nil {
			c.close()
			return nil, err
		}
		c.chans = append(c.chans, ch)
	}
	return c, nil
}

func (c *rabbitClient) publish(ctx context.Context, ep int, body []byte, headers map[string]string) error {
	pub := amqp.Publishing{
		Headers:      make(amqp.Table, len(headers)),
		ContentType:  headers["content-type"],
		DeliveryMode: amqp.Persistent,
		MessageId:    headers["webhook-id"],
		Type:         headers["event-type"],
		Timestamp:    time.Now(),
		Body:         body,
	}
	for k, v := range headers {
		pub.Headers[k] = v
	}
	dc, err := c.chans[ep%len(c.chans)].PublishWithDeferredConfirmWithContext(ctx, "", c.b.queues[ep], true, false, pub)
	if err != nil {
		return err
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		return err
	}
	if !acked {
		return errors.New("basic.nack")
	}
	return nil
}

func (c *rabbitClient) close() {
	for _, conn := range c.conns {
		conn.Close()
	}
}
