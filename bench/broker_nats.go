package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATS JetStream: endpoint ep publishes to the subject prefix.ep, which the stream prefix-ep
// (file storage, the server's defaults) stores; a stream each, because the server sets the
// webhook-id as Nats-Msg-Id and a stream keeps one message per id (so one stream for all the
// endpoints would keep one delivery per message). An ordered consumer reads each stream; the
// streams are deleted at the end.
func init() { brokerTypes["nats"] = openNATS }

type natsBroker struct {
	url, prefix string
	streams     []string
	conn        *nats.Conn
	js          jetstream.JetStream
	consumers   []jetstream.ConsumeContext
}

func openNATS(ctx context.Context, rawURL, prefix string, endpoints int, s *sink) (broker, error) {
	conn, err := nats.Connect(rawURL, nats.Name("hookline-bench consumer"))
	if err != nil {
		return nil, err
	}
	b := &natsBroker{url: rawURL, prefix: prefix, conn: conn}
	if b.js, err = jetstream.New(conn); err != nil {
		conn.Close()
		return nil, err
	}
	for ep := range endpoints {
		name := destTarget(prefix, ep)
		st, err := b.js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{b.subject(ep)}, Storage: jetstream.FileStorage})
		if err != nil {
			b.close(ctx)
			return nil, fmt.Errorf("create stream %s: %w", name, err)
		}
		b.streams = append(b.streams, name)
		cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
		if err != nil {
			b.close(ctx)
			return nil, fmt.Errorf("consumer of stream %s: %w", name, err)
		}
		cc, err := cons.Consume(func(m jetstream.Msg) { s.arrive(m.Headers().Get("webhook-id"), ep) },
			jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) { s.fail(err) }))
		if err != nil {
			b.close(ctx)
			return nil, fmt.Errorf("consume stream %s: %w", name, err)
		}
		b.consumers = append(b.consumers, cc)
	}
	return b, nil
}

func (b *natsBroker) subject(ep int) string { return b.prefix + "." + strconv.Itoa(ep) }

func (b *natsBroker) destination(ep int) map[string]any {
	return map[string]any{"type": "nats", "url": b.url, "options": map[string]string{"subject": b.subject(ep), "stream": b.streams[ep]}}
}

func (b *natsBroker) describe() brokerInfo {
	return brokerInfo{
		targets:  fmt.Sprintf("%d file streams %s…%s, one subject each", len(b.streams), b.streams[0], b.streams[len(b.streams)-1]),
		consumer: "an ordered consumer a stream, on one connection",
		client:   "nats.go JetStream publish with Nats-Msg-Id, waiting for each PubAck",
	}
}

func (b *natsBroker) close(ctx context.Context) error {
	for _, cc := range b.consumers {
		cc.Stop()
	}
	var errs []error
	for _, name := range b.streams {
		if err := b.js.DeleteStream(ctx, name); err != nil {
			errs = append(errs, fmt.Errorf("delete stream %s: %w", name, err))
		}
	}
	b.conn.Close()
	return errors.Join(errs...)
}

// natsClient is the baseline's: one connection a lane, each publish waiting for its PubAck,
// with the options the server's publisher gives (message id, expected stream, no retry).
type natsClient struct {
	b     *natsBroker
	conns []*nats.Conn
	js    []jetstream.JetStream
}

func (b *natsBroker) client(ctx context.Context, lanes int) (brokerClient, error) {
	c := &natsClient{b: b}
	for range lanes {
		conn, err := nats.Connect(b.url, nats.Name("hookline-bench baseline"))
		if err != nil {
			c.close()
			return nil, err
		}
		c.conns = append(c.conns, conn)
		js, err := jetstream.New(conn)
		if err != nil {
			c.close()
			return nil, err
		}
		c.js = append(c.js, js)
	}
	return c, nil
}

func (c *natsClient) publish(ctx context.Context, ep int, body []byte, headers map[string]string) error {
	m := nats.NewMsg(c.b.subject(ep))
	m.Data = body
	for _, k := range sortedHeaderNames(headers) {
		m.Header.Set(k, headers[k])
	}
	_, err := c.js[ep%len(c.js)].PublishMsg(ctx, m, jetstream.WithRetryAttempts(0),
		jetstream.WithMsgID(headers["webhook-id"]), jetstream.WithExpectStream(c.b.streams[ep]))
	return err
}

func (c *natsClient) close() {
	for _, conn := range c.conns {
		conn.Close()
	}
}
