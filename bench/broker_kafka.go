package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kafka: endpoint ep produces to the topic prefix-ep (one partition; the server's producer is
// idempotent with acks=all). One consumer reads every topic from its start; the topics are
// deleted at the end. Without --kafka-url, a broker at 127.0.0.1:9092 is used when one answers
// there, and otherwise franz-go's kfake, an in-process Kafka that speaks the protocol, runs in
// the benchmark process on a loopback port (the run's note says so): the machine's package
// registries have no Kafka server.
func init() { brokerTypes["kafka"] = openKafka }

// defaultKafkaAddr is where the benchmark looks for a Kafka broker when none is named.
const defaultKafkaAddr = "127.0.0.1:9092"

type kafkaBroker struct {
	url, addr string
	topics    []string
	fake      *kfake.Cluster // the in-process cluster, when there is no broker
	admin     *kgo.Client
	consumer  *kgo.Client
	stop      context.CancelFunc
	done      chan struct{}
}

func openKafka(ctx context.Context, rawURL, prefix string, endpoints int, s *sink) (broker, error) {
	b := &kafkaBroker{url: rawURL}
	if rawURL == "" {
		if conn, err := net.DialTimeout("tcp", defaultKafkaAddr, time.Second); err == nil {
			conn.Close()
			b.url = "kafka://" + defaultKafkaAddr
		} else {
			fake, err := kfake.NewCluster(kfake.NumBrokers(1))
			if err != nil {
				return nil, fmt.Errorf("start an in-process kfake cluster: %w", err)
			}
			b.fake = fake
			b.url = "kafka://" + fake.ListenAddrs()[0]
		}
	}
	u, err := url.Parse(b.url)
	if err != nil {
		b.closeFake()
		return nil, err
	}
	if u.Scheme != "kafka" || u.User != nil || strings.Contains(u.Host, ",") {
		b.closeFake()
		return nil, errors.New("the benchmark speaks to one broker, kafka://host:port, without TLS or SASL")
	}
	b.addr = u.Host
	if u.Port() == "" {
		b.addr = net.JoinHostPort(u.Hostname(), "9092")
	}
	for ep := range endpoints {
		b.topics = append(b.topics, destTarget(prefix, ep))
	}
	if b.admin, err = kgo.NewClient(kgo.SeedBrokers(b.addr)); err != nil {
		b.closeFake()
		return nil, err
	}
	if err := b.createTopics(ctx); err != nil {
		b.close(ctx)
		return nil, err
	}
	b.consumer, err = kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.ConsumeTopics(b.topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		b.close(ctx)
		return nil, err
	}
	index := make(map[string]int, len(b.topics))
	for i, t := range b.topics {
		index[t] = i
	}
	cctx, stop := context.WithCancel(context.Background())
	b.stop, b.done = stop, make(chan struct{})
	go func() {
		defer close(b.done)
		for cctx.Err() == nil {
			fetches := b.consumer.PollFetches(cctx)
			fetches.EachError(func(_ string, _ int32, err error) {
				if cctx.Err() == nil && !errors.Is(err, context.Canceled) {
					s.fail(err)
				}
			})
			fetches.EachRecord(func(r *kgo.Record) {
				ep, ok := index[r.Topic]
				if !ok {
					return
				}
				for _, h := range r.Headers {
					if h.Key == "webhook-id" {
						s.arrive(string(h.Value), ep)
						break
					}
				}
			})
		}
	}()
	return b, nil
}

// createTopics creates the run's topics, one partition each.
func (b *kafkaBroker) createTopics(ctx context.Context) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	for _, t := range b.topics {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = t, 1, 1
		req.Topics = append(req.Topics, rt)
	}
	req.TimeoutMillis = 30000
	resp, err := req.RequestWith(ctx, b.admin)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return fmt.Errorf("create topic %s: %w", t.Topic, err)
		}
	}
	return nil
}

func (b *kafkaBroker) destination(ep int) map[string]any {
	return map[string]any{"type": "kafka", "url": b.url, "options": map[string]string{"topic": b.topics[ep]}}
}

func (b *kafkaBroker) describe() brokerInfo {
	bi := brokerInfo{
		targets:  fmt.Sprintf("%d topics %s…%s, one partition each", len(b.topics), b.topics[0], b.topics[len(b.topics)-1]),
		consumer: "one franz-go consumer reads them all",
		client:   "franz-go idempotent producer, acks=all, waiting for each record's acknowledgement",
	}
	if b.fake != nil {
		bi.note = "no Kafka broker answered at " + defaultKafkaAddr + ", so this ran against franz-go's kfake, an in-process " +
			"Kafka (in memory) in the benchmark process, which shares the benchmark's CPU: a measure of Hookline's producer " +
			"path, not of a real Kafka"
	}
	return bi
}

func (b *kafkaBroker) close(ctx context.Context) error {
	if b.stop != nil {
		b.stop()
		<-b.done
	}
	if b.consumer != nil {
		b.consumer.Close()
	}
	var err error
	if b.fake == nil && len(b.topics) > 0 {
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.TopicNames = b.topics
		for _, t := range b.topics {
			dt := kmsg.NewDeleteTopicsRequestTopic()
			dt.Topic = kmsg.StringPtr(t)
			req.Topics = append(req.Topics, dt)
		}
		req.TimeoutMillis = 30000
		var resp *kmsg.DeleteTopicsResponse
		if resp, err = req.RequestWith(ctx, b.admin); err == nil {
			for _, t := range resp.Topics {
				if terr := kerr.ErrorForCode(t.ErrorCode); terr != nil && err == nil {
					err = fmt.Errorf("delete topic %v: %w", t.Topic, terr)
				}
			}
		}
	}
	b.admin.Close()
	b.closeFake()
	return err
}

func (b *kafkaBroker) closeFake() {
	if b.fake != nil {
		b.fake.Close()
	}
}

// kafkaClient is the baseline's: one franz-go client a lane with the producer settings of the
// server's publisher (idempotent, acks=all, no linger, the webhook-id as the key).
type kafkaClient struct {
	b       *kafkaBroker
	clients []*kgo.Client
}

func (b *kafkaBroker) client(ctx context.Context, lanes int) (brokerClient, error) {
	c := &kafkaClient{b: b}
	for range lanes {
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0),
			kgo.RecordRetries(3), kgo.UnknownTopicRetries(1))
		if err != nil {
			c.close()
			return nil, err
		}
		c.clients = append(c.clients, cl)
	}
	return c, nil
}

func (c *kafkaClient) publish(ctx context.Context, ep int, body []byte, headers map[string]string) error {
	r := &kgo.Record{Topic: c.b.topics[ep], Key: []byte(headers["webhook-id"]), Value: body,
		Headers: make([]kgo.RecordHeader, 0, len(headers))}
	for _, k := range sortedHeaderNames(headers) {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(headers[k])})
	}
	return c.clients[ep%len(c.clients)].ProduceSync(ctx, r).FirstErr()
}

func (c *kafkaClient) close() {
	for _, cl := range c.clients {
		cl.Close()
	}
}
