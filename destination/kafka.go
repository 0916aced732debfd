package destination

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/hookline/hookline"
)

// Kafka: each attempt produces one record to the topic with an idempotent producer and
// acks=all, and succeeds only when the partition's leader answers that every in-sync replica
// has it (the attempt log shows the partition and offset). The record's value is the payload;
// every header is a record header; the key is the webhook-id (by default), the event type or
// none.
//
// URL: kafka://[user:password@]host[:port] (9092 by default) or, for several bootstrap
// brokers, kafka://[user:password@]host:port,host:port,...; kafkas:// is TLS. Options: topic
// (required), key ("webhook-id", the default, "event-type" or "none"), sasl ("plain", the
// default when the URL has a user, "scram-sha-256" or "scram-sha-512").
func init() { Register("kafka", kafkaType{}) }

type kafkaType struct{}

// kafkaTopic is what Kafka accepts as a topic name.
var kafkaTopic = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// kafkaKeys are the choices of options.key: what each record's key is.
var kafkaKeys = []string{"webhook-id", "event-type", "none"}

// kafkaSASL are the choices of options.sasl.
var kafkaSASL = []string{"plain", "scram-sha-256", "scram-sha-512"}

// kafkaConfig is a checked Kafka destination.
type kafkaConfig struct {
	brokers        []string // host:port
	tls            bool
	user, password string
	mechanism      string // one of kafkaSASL, or "" without a user
	topic, key     string
}

// parseKafka checks d and returns its configuration, or what is wrong with it.
func parseKafka(d hookline.Destination) (kafkaConfig, []FieldError) {
	errs := unknownOptions(d, "topic", "key", "sasl")
	c := kafkaConfig{topic: d.Options["topic"], key: d.Options["key"], mechanism: d.Options["sasl"]}
	u, uerrs := checkURL(d.URL, "kafka", "kafkas")
	if _, err := url.Parse(d.URL); err != nil && strings.Contains(d.URL, ",") {
		uerrs = []FieldError{{"url", "is not a valid URL: list several brokers as host:port,host:port (an IPv6 address only as the one broker)"}}
	}
	errs = append(errs, uerrs...)
	if u != nil {
		hosts := strings.Split(u.Host, ",")
		c.tls = u.Scheme == "kafkas"
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, FieldError{"url", "must name only the brokers (the topic is options.topic)"})
		}
		for _, b := range hosts {
			host, port, err := net.SplitHostPort(b)
			if err != nil && len(hosts) == 1 { // one broker without a port: the default
				host, port, err = strings.Trim(b, "[]"), "9092", nil
			}
			if err != nil || host == "" || port == "" || strings.ContainsAny(host, "[]") {
				errs = append(errs, FieldError{"url", fmt.Sprintf("broker %q is not host:port (with several brokers each needs its port)", b)})
				continue
			}
			c.brokers = append(c.brokers, net.JoinHostPort(host, port))
		}
		if u.User != nil {
			var ok bool
			c.user = u.User.Username()
			if c.password, ok = u.User.Password(); !ok || c.user == "" {
				errs = append(errs, FieldError{"url", "SASL needs both a user and a password (kafka://user:password@host:9092)"})
			}
		}
	}
	switch {
	case c.topic == "":
		errs = append(errs, FieldError{"topic", "is required"})
	case !kafkaTopic.MatchString(c.topic) || c.topic == "." || c.topic == "..":
		errs = append(errs, FieldError{"topic", "must be 1 to 249 of the characters a-z A-Z 0-9 . _ - (and not . or ..)"})
	}
	if c.key == "" {
		c.key = "webhook-id"
	} else if !slices.Contains(kafkaKeys, c.key) {
		errs = append(errs, FieldError{"key", "must be one of " + strings.Join(kafkaKeys, ", ")})
	}
	switch {
	case c.mechanism != "" && !slices.Contains(kafkaSASL, c.mechanism):
		errs = append(errs, FieldError{"sasl", "must be one of " + strings.Join(kafkaSASL, ", ")})
	case c.mechanism != "" && c.user == "":
		errs = append(errs, FieldError{"sasl", "needs a user and password in the url (kafka://user:password@host:9092)"})
	case c.mechanism == "" && c.user != "":
		c.mechanism = "plain"
	}
	return c, errs
}

func (kafkaType) Check(d hookline.Destination) []FieldError {
	_, errs := parseKafka(d)
	return errs
}

// kafkaRecordRetries is how often the client itself tries a record within one attempt (a
// leader that moved, metadata that is being loaded) before the attempt fails and the retry
// schedule takes over.
const kafkaRecordRetries = 3

func (kafkaType) Open(d hookline.Destination, dial DialFunc) (Publisher, error) {
	c, errs := parseKafka(d)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	dialer := dial
	if c.tls {
		dialer = tlsDial(dial, nil)
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.brokers...),
		kgo.Dialer(dialer),
		kgo.ClientID("hookline"),
		kgo.DefaultProduceTopic(c.topic),
		// acks=all and the idempotent producer (franz-go's defaults, stated here because the
		// guarantee depends on them): a retried produce is written once per producer session.
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0), // each attempt waits for its record: do not hold it back
		kgo.RecordRetries(kafkaRecordRetries),
		// A metadata load that failed (a broker that does not answer) is tried again soon and
		// counts toward the record's tries, so a dead broker fails the attempt within about two
		// seconds with the dial's error rather than at the attempt's timeout.
		kgo.RequestRetries(kafkaRecordRetries),
		kgo.MetadataMinAge(250 * time.Millisecond),
		kgo.UnknownTopicRetries(1), // a topic that does not exist fails the attempt at once
	}
	if c.mechanism != "" {
		opts = append(opts, kgo.SASL(kafkaMechanism(c)))
	}
	p := &kafkaPublisher{opts: opts, topic: c.topic, key: c.key}
	cl, err := kgo.NewClient(opts...) // it dials on the first produce
	if err != nil {
		return nil, err
	}
	p.client = cl
	return p, nil
}

func kafkaMechanism(c kafkaConfig) sasl.Mechanism {
	switch c.mechanism {
	case "scram-sha-256":
		return scram.Auth{User: c.user, Pass: c.password}.AsSha256Mechanism()
	case "scram-sha-512":
		return scram.Auth{User: c.user, Pass: c.password}.AsSha512Mechanism()
	}
	return plain.Auth{User: c.user, Pass: c.password}.AsMechanism()
}

// kafkaPublisher is one franz-go client per endpoint: it keeps a connection to each broker it
// needs and dials again after a broker restart; its producer id makes the broker drop a
// record the client sends twice (a lost answer) within one producer session.
type kafkaPublisher struct {
	opts       []kgo.Opt
	topic, key string

	mu     sync.Mutex
	client *kgo.Client
	closed bool
}

func (p *kafkaPublisher) current() (*kgo.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("publisher closed")
	}
	return p.client, nil
}

// redial replaces c, which failed an attempt without a broker's answer (a broker that went
// away, no acknowledgement in time), with a new client. The idempotent producer may not give
// up a record it sent and got no answer for, so a record sent to a broker that died would hold
// every later record of its partition in c until the broker came back, and each attempt would
// wait for its whole timeout; closing c fails them all, and the next attempt dials afresh and
// fails at once with the dial's error while the broker is down.
func (p *kafkaPublisher) redial(c *kgo.Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.client != c {
		return
	}
	cl, err := kgo.NewClient(p.opts...)
	if err != nil { // the options were accepted once: this does not happen
		return
	}
	p.client = cl
	go c.Close()
}

func (p *kafkaPublisher) Publish(ctx context.Context, msg Message) (Result, error) {
	c, err := p.current()
	if err != nil {
		return Result{}, err
	}
	// The record's context is the attempt's: a record not yet sent when the attempt ends is
	// given up rather than written after its attempt was recorded as failed.
	r := &kgo.Record{Value: msg.Body, Headers: make([]kgo.RecordHeader, 0, len(msg.Headers)), Context: ctx}
	for _, k := range msg.HeaderNames() {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(msg.Headers[k])})
	}
	switch p.key {
	case "webhook-id":
		r.Key = []byte(msg.Headers["webhook-id"])
	case "event-type":
		r.Key = []byte(msg.Headers[EventTypeHeader])
	}
	done := make(chan error, 1)
	c.Produce(ctx, r, func(_ *kgo.Record, err error) { done <- err })
	select {
	case err = <-done:
	case <-ctx.Done():
		// No answer in time: the record may still be written later, a duplicate the consumer
		// drops by webhook-id.
		err = fmt.Errorf("no acknowledgement: %w", ctx.Err())
	}
	if err != nil {
		if !errors.As(err, new(*kerr.Error)) { // not the broker's answer
			p.redial(c)
		}
		return Result{}, fmt.Errorf("topic %s: %w", p.topic, err)
	}
	return Result{Answer: fmt.Sprintf("acknowledged by all in-sync replicas (topic %s, partition %d, offset %d)",
		r.Topic, r.Partition, r.Offset)}, nil
}

func (p *kafkaPublisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		p.client.Close()
	}
	return nil
}

func (kafkaType) Describe() Description {
	return Description{Title: "Kafka", URLPlaceholder: "kafka://kafka1.example.com:9092,kafka2.example.com:9092",
		URLHint: "kafka:// or kafkas:// (TLS), then one broker, or several as host:port,host:port.",
		Options: []Option{
			{Name: "topic", Label: "Topic", Placeholder: "webhooks", Required: true, Hint: "The topic every record is produced to (acks=all, idempotent)."},
			{Name: "key", Label: "Record key", Choices: kafkaKeys, Hint: "What each record's key is, which picks its partition: the webhook-id, the event type, or none."},
			{Name: "sasl", Label: "SASL mechanism", Choices: append([]string{""}, kafkaSASL...), Hint: "With a user name: plain (the default), scram-sha-256 or scram-sha-512."},
		}}
}
