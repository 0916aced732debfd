package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/destination"
)

// The destination scenarios (dest-redis, dest-rabbitmq, ...) are 100ep with every endpoint
// publishing to a message broker instead of an HTTP receiver: each endpoint has a target of its
// own (a stream, queue, JetStream stream or topic, named for the run) on the broker at its
// default address on 127.0.0.1, set through PUT .../endpoint/{id}/destination. A consumer in the
// benchmark process reads every target and records each delivery as the HTTP receivers do (by
// webhook-id and endpoint, counting duplicates), so delivery latency is from the API's 2xx to the
// arrival at the consumer. The baseline is the broker's own rate: a plain client of the same
// library publishes the same payload and headers, with the same acknowledgement, as many
// publishes in flight as the server can have and one connection per endpoint (as the server
// opens), to the same targets, counted by the same consumer. Every target is deleted afterwards.

// destPrefix starts the names of a scenario's scenarios: dest-redis is type redis.
const destPrefix = "dest-"

// destScenarios are the destination scenarios; "destinations" runs them all (and "all" does
// not: they need the brokers).
var destScenarios = []scenario{
	destScenario("redis", "Redis Streams: one stream per endpoint, XADD; counted by XREAD"),
	destScenario("rabbitmq", "RabbitMQ: one durable queue per endpoint, persistent messages with publisher confirms; counted by a consumer"),
	destScenario("nats", "NATS JetStream: one file stream per endpoint, acknowledged publishes; counted by ordered consumers"),
	destScenario("mqtt", "MQTT 5: one topic per endpoint, QoS 1 (PUBACK); counted by QoS 1 subscribers"),
	destScenario("kafka", "Kafka: one topic per endpoint, idempotent producer with acks=all; counted by a consumer"),
}

func destScenario(typ, about string) scenario {
	return scenario{name: destPrefix + typ, about: "100 endpoints publishing to " + about, apps: 1, perApp: 100,
		messages: 1000, posters: 16, dest: typ}
}

// DefaultBrokerURLs are the brokers the destination scenarios use unless Options.BrokerURLs
// names others: the default address of each on 127.0.0.1 (for Kafka, see broker_kafka.go).
var DefaultBrokerURLs = map[string]string{
	"redis":    "redis://127.0.0.1:6379/0",
	"rabbitmq": "amqp://guest:guest@127.0.0.1:5672/",
	"nats":     "nats://127.0.0.1:4222",
	"mqtt":     "mqtt://127.0.0.1:1883",
	// Empty: 127.0.0.1:9092 when a broker answers there, otherwise an in-process kfake.
	"kafka": "",
}

// DestinationRun describes a destination scenario's broker side.
type DestinationRun struct {
	Type string `json:"type"`
	// Broker is the broker's URL without its password.
	Broker string `json:"broker"`
	// Targets names what the endpoints publish to (one each).
	Targets string `json:"targets"`
	// Consumer says how deliveries are read and counted.
	Consumer string `json:"consumer"`
	// Note says anything else a reader of the numbers must know.
	Note string `json:"note,omitempty"`
	// ConsumerErrors counts errors the consumer met while reading (each retried); FirstError
	// is the first of them.
	ConsumerErrors int    `json:"consumerErrors"`
	FirstError     string `json:"firstConsumerError,omitempty"`
	// Cleanup is what went wrong deleting the targets, if anything did.
	Cleanup string `json:"cleanupError,omitempty"`
}

// broker is one broker type's side of a destination scenario: its targets, its consumer and
// the plain client of the baseline. It is made by open and removes its targets in close.
type broker interface {
	// destination is endpoint ep's body for PUT .../endpoint/{id}/destination.
	destination(ep int) map[string]any
	// client opens the baseline's plain client with one connection per lane; publish sends to
	// endpoint ep's target on lane ep mod lanes and returns when the broker acknowledged.
	client(ctx context.Context, lanes int) (brokerClient, error)
	// describe says what the run publishes to, how it consumes and what the baseline's client
	// does.
	describe() brokerInfo
	// close stops the consumer and deletes the targets.
	close(ctx context.Context) error
}

type brokerInfo struct {
	targets, consumer, client, note string
}

type brokerClient interface {
	publish(ctx context.Context, ep int, body []byte, headers map[string]string) error
	close()
}

// openBroker is a broker type's constructor: it creates the run's targets (named from prefix,
// one per endpoint) on the broker at rawURL and starts consuming them into sink.
type openBroker func(ctx context.Context, rawURL, prefix string, endpoints int, sink *sink) (broker, error)

var brokerTypes = map[string]openBroker{}

// destTarget is the name of endpoint ep's target: prefix-ep.
func destTarget(prefix string, ep int) string { return prefix + "-" + strconv.Itoa(ep) }

// targetEndpoint is the endpoint a target name belongs to, or -1.
func targetEndpoint(prefix, name string) int {
	rest, ok := strings.CutPrefix(name, prefix+"-")
	if !ok {
		return -1
	}
	ep, err := strconv.Atoi(rest)
	if err != nil {
		return -1
	}
	return ep
}

// sink takes the consumers' arrivals to the current recorder, as the HTTP receivers do, and
// counts the consumers' errors.
type sink struct {
	endpoints int
	rec       atomic.Pointer[recorder]
	errors    atomic.Int64
	mu        sync.Mutex
	firstErr  string
}

func (s *sink) record(rec *recorder) { s.rec.Store(rec) }

// arrive records one message read from endpoint ep's target.
func (s *sink) arrive(id string, ep int) {
	rec := s.rec.Load()
	if rec == nil || id == "" || ep < 0 || ep >= s.endpoints {
		return
	}
	rec.arrive(id, int32(ep), rec.now(), true)
}

// fail counts a consumer error.
func (s *sink) fail(err error) {
	if s.errors.Add(1) == 1 {
		s.mu.Lock()
		s.firstErr = err.Error()
		s.mu.Unlock()
	}
}

// destRun is a destination scenario's broker, consumer and description.
type destRun struct {
	b      broker
	sink   *sink
	info   DestinationRun
	client string // the baseline client, for the report
}

// startDestination creates the run's targets on the scenario's broker and starts its consumer.
func startDestination(ctx context.Context, o Options, typ string, endpoints int) (*destRun, error) {
	open, ok := brokerTypes[typ]
	if !ok {
		return nil, fmt.Errorf("no destination scenario for type %q", typ)
	}
	raw := o.BrokerURLs[typ]
	if raw == "" {
		raw = DefaultBrokerURLs[typ]
	}
	suffix := make([]byte, 3)
	rand.Read(suffix)
	prefix := "hookline-bench-" + strconv.FormatInt(time.Now().UnixMilli(), 36) + hex.EncodeToString(suffix)
	d := &destRun{sink: &sink{endpoints: endpoints}, info: DestinationRun{Type: typ, Broker: redactURL(raw)}}
	var err error
	d.b, err = open(ctx, raw, prefix, endpoints, d.sink)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w (start it, or name another with --%s-url)", typ, d.info.Broker, err, typ)
	}
	if k, ok := d.b.(*kafkaBroker); ok {
		d.info.Broker = redactURL(k.url) // the broker found, or the in-process one
	}
	bi := d.b.describe()
	d.info.Targets, d.info.Consumer, d.info.Note, d.client = bi.targets, bi.consumer, bi.note, bi.client
	return d, nil
}

// finish stops the consumer, deletes the targets and fills in the consumer's errors.
func (d *destRun) finish() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := d.b.close(ctx); err != nil {
		d.info.Cleanup = err.Error()
	}
	d.sink.mu.Lock()
	d.info.ConsumerErrors, d.info.FirstError = int(d.sink.errors.Load()), d.sink.firstErr
	d.sink.mu.Unlock()
}

// redactURL is raw without its password.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}

// setDestinations makes every endpoint (epIDs in the order createEndpoints returns them)
// publish to its target.
func (c *apiClient) setDestinations(ctx context.Context, apps []string, perApp int, epIDs []string, dest func(ep int) map[string]any) error {
	return c.eachEndpoint(ctx, apps, perApp, epIDs, http.MethodPut, "/destination", http.StatusOK,
		func(i int) ([]byte, error) { return json.Marshal(dest(i)) })
}

// unusedEndpointURL is the url of an endpoint that publishes to a broker: the API requires one,
// and it is not used while the endpoint has a destination.
func unusedEndpointURL(int) string { return "https://example.com/hookline-bench-unused" }

// payloadBody is the payload of message seq as Hookline delivers it: messageBody's payload.
func payloadBody(seq, size int) []byte {
	b := messageBody(seq, size)
	prefix := len(`{"eventType":"` + eventType + `","payload":`)
	return b[prefix : len(b)-1]
}

// baselineHeaders are headers of the shape and size of a delivery's: the signature headers of
// the default profile (a message id of the same length, a timestamp and one v1 signature),
// the content type and the event type.
func baselineHeaders(i int) map[string]string {
	return map[string]string{
		"content-type":      "application/json",
		"event-type":        eventType,
		"webhook-id":        fmt.Sprintf("base_%026d", i),
		"webhook-timestamp": strconv.FormatInt(time.Now().Unix(), 10),
		"webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
	}
}

// sortedHeaderNames lists h's names in order, as the server's publishers do.
func sortedHeaderNames(h map[string]string) []string {
	return destination.Message{Headers: h}.HeaderNames()
}

// runBrokerBaseline publishes requests messages, round-robin over the endpoints' targets, with
// concurrency publishes in flight over min(endpoints, concurrency) connections, through the
// broker type's plain client, and waits until the consumer has read them all (or the deadline
// passes). Its rate counts from the first publish to the later of the last acknowledgement
// and the last arrival at the consumer: the same span as Hookline's deliveries/s.
func runBrokerBaseline(ctx context.Context, d *destRun, endpoints, requests, concurrency, payload int, deadline time.Duration, posted *atomic.Int64) (*Baseline, error) {
	lanes := min(endpoints, concurrency)
	cl, err := d.b.client(ctx, lanes)
	if err != nil {
		return nil, fmt.Errorf("baseline client: %w", err)
	}
	defer cl.close()
	start := time.Now()
	rec := newRecorder(start, requests)
	d.sink.record(rec)
	defer d.sink.record(nil)
	var (
		errs     atomic.Int64
		lastAck  atomic.Int64
		okCount  atomic.Int64
		body     = payloadBody(0, payload)
		sentAt   = make([]int64, requests)
		lat      = make([]int64, requests)
		errMu    sync.Mutex
		firstErr string
	)
	err = parallel(ctx, requests, concurrency, func(ctx context.Context, i int) error {
		h := baselineHeaders(i)
		t := rec.now()
		sentAt[i] = t
		err := cl.publish(ctx, i%endpoints, body, h)
		posted.Add(1)
		if err != nil {
			if errs.Add(1) == 1 {
				errMu.Lock()
				firstErr = err.Error()
				errMu.Unlock()
			}
			return nil
		}
		done := rec.now()
		lat[i] = done - t
		okCount.Add(1)
		for {
			last := lastAck.Load()
			if done <= last || lastAck.CompareAndSwap(last, done) {
				return nil
			}
		}
	})
	if err != nil {
		return nil, err
	}
	complete, err := rec.waitDelivered(ctx, okCount.Load(), time.Now().Add(deadline))
	if err != nil {
		return nil, err
	}
	end := max(lastAck.Load(), rec.lastOK.Load())
	bb := &BrokerBaseline{Client: d.client, Connections: lanes, Published: int(okCount.Load()),
		Arrived: int(rec.delivered.Load()), Complete: complete, FirstError: firstErr}
	b := &Baseline{Requests: requests, Errors: int(errs.Load()), Concurrency: concurrency, Seconds: float64(end) / 1e9, Broker: bb}
	if end > 0 {
		b.PerSec = float64(bb.Arrived) / b.Seconds
	}
	acked := make([]int64, 0, requests)
	for i := range lat {
		if lat[i] > 0 {
			acked = append(acked, lat[i])
		}
	}
	b.Latency = percentiles(acked)
	arrivals := make([]int64, 0, requests)
	rec.each(func(k arrivalKey, a arrival) {
		// Atoi takes the leading zeros of base_000…0123.
		if i, err := strconv.Atoi(strings.TrimPrefix(k.id, "base_")); err == nil && i >= 0 && i < requests {
			arrivals = append(arrivals, max(a.first-sentAt[i], 0))
		}
	})
	bb.ArrivalLatency = percentiles(arrivals)
	return b, nil
}

// BrokerBaseline is what a destination scenario's baseline adds: the broker's own rate with a
// plain client, counted at the same consumer.
type BrokerBaseline struct {
	// Client names the client library and how it publishes.
	Client string `json:"client"`
	// Connections the publishes were spread over (one per endpoint, as the server opens, up to
	// the publishes in flight).
	Connections int `json:"connections"`
	// Published is how many the broker acknowledged; Arrived how many the consumer read;
	// Complete whether it read every acknowledged one before the deadline.
	Published  int    `json:"published"`
	Arrived    int    `json:"arrived"`
	Complete   bool   `json:"complete"`
	FirstError string `json:"firstError,omitempty"`
	// ArrivalLatency is from each publish's start to its arrival at the consumer.
	ArrivalLatency Percentiles `json:"arrivalLatencyMs"`
}

// writeDestination writes a destination run's lines of the readable report.
func writeDestination(b *strings.Builder, r Result) {
	d := r.Destination
	if d == nil {
		return
	}
	fmt.Fprintf(b, "   broker      %s at %s: %s; %s", d.Type, d.Broker, d.Targets, d.Consumer)
	if d.ConsumerErrors > 0 {
		fmt.Fprintf(b, "; %d CONSUMER ERRORS (first: %s)", d.ConsumerErrors, d.FirstError)
	}
	if d.Cleanup != "" {
		fmt.Fprintf(b, "; CLEANUP FAILED: %s", d.Cleanup)
	}
	b.WriteString("\n")
	if d.Note != "" {
		fmt.Fprintf(b, "   note        %s\n", d.Note)
	}
}

// writeBrokerBaseline writes the baseline line of a destination scenario.
func writeBrokerBaseline(b *strings.Builder, r Result) {
	bl, bb := r.Baseline, r.Baseline.Broker
	fmt.Fprintf(b, "   baseline    %s: %d publishes, %d in flight over %d connections; %d acknowledged, %d read by the consumer",
		bb.Client, bl.Requests, bl.Concurrency, bb.Connections, bb.Published, bb.Arrived)
	if !bb.Complete {
		b.WriteString(" (INCOMPLETE)")
	}
	fmt.Fprintf(b, " in %.2fs = %.0f/s", bl.Seconds, bl.PerSec)
	if r.BaselineRatio > 0 {
		fmt.Fprintf(b, "; Hookline = %.1f %% of it", 100*r.BaselineRatio)
	}
	fmt.Fprintf(b, "\n               publish→ack %s\n               publish→consumer %s\n", bl.Latency, bb.ArrivalLatency)
	if bl.Errors > 0 {
		fmt.Fprintf(b, "               %d ERRORS (first: %s)\n", bl.Errors, bb.FirstError)
	}
}
