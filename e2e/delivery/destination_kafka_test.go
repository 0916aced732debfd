package delivery

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/hookline/hookline/internal/testproc"
)

// No Kafka server can be installed from the package registries this project uses, so these
// tests run franz-go's kfake, an in-process Kafka cluster that speaks the Kafka protocol, on a
// loopback port of their own; Hookline's client talks to it over TCP as to any broker.

// startKafka starts a one-broker kfake cluster listening on addr (a free loopback address when
// empty) and returns its address; the cluster is closed when the test ends.
func startKafka(t *testing.T, addr string, opts ...kfake.Opt) (string, *kfake.Cluster) {
	t.Helper()
	if addr == "" {
		addr = testproc.FreeAddr(t)
	}
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.Ports(p)}, opts...)...)
	if err != nil {
		t.Fatalf("start the test's Kafka cluster on %s: %v", addr, err)
	}
	t.Cleanup(c.Close)
	return addr, c
}

// kafkaClient is a plain franz-go client of the test's cluster, closed when the test ends.
func kafkaClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// createTopic creates topic with partitions partitions on the cluster at addr.
func createTopic(t *testing.T, addr, topic string, partitions int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, 1
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, kafkaClient(t, addr))
	if err == nil {
		err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// consumeKafka reads the topic from its start until it has at least n records (or the
// deadline passes) and returns them.
func consumeKafka(t *testing.T, addr, topic string, n int, what string, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl := kafkaClient(t, addr, append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	var recs []*kgo.Record
	pollUntil(t, 30*time.Second, what, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
		return len(recs) >= n
	})
	return recs
}

// kafkaHeaders returns a record's headers by name.
func kafkaHeaders(r *kgo.Record) map[string]string {
	h := map[string]string{}
	for _, rh := range r.Headers {
		h[rh.Key] = string(rh.Value)
	}
	return h
}

// refuseProduce makes the cluster answer the next produce request with code for every
// partition in it, as a broker that refuses the write does.
func refuseProduce(c *kfake.Cluster, code int16) {
	c.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req := kreq.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
}

// TestKafkaDestination: a produce to a topic that does not exist is a failed attempt with the
// broker's answer, retried on the schedule; once the topic exists the retry is acknowledged,
// and the record holds the payload byte for byte as its value, the signature headers as record
// headers (verified with the Standard Webhooks library) and the webhook-id as its key. A
// produce the broker refuses (TOPIC_AUTHORIZATION_FAILED) is a failed attempt too, and its
// retry succeeds; the attempt log shows each with the broker's answer.
func TestKafkaDestination(t *testing.T) {
	t.Parallel()
	addr, cluster := startKafka(t, "")
	topic := uniqueName(t)
	e := start(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep, secret := e.brokerEndpoint(app, map[string]any{"type": "kafka", "url": "kafka://" + addr,
		"options": map[string]string{"topic": topic}})
	payload := map[string]any{"order": 1, "note": "café ☕ <b>&</b>", "lines": []any{1.5, "x", nil}}
	msg := e.send(app, "order.paid", payload)

	a := e.waitAttempts(app, ep, 1)[0]
	if a.Status != 2 || a.ResponseStatusCode != 0 || !strings.Contains(a.Response, "UNKNOWN_TOPIC_OR_PARTITION") ||
		a.URL != "kafka://"+addr {
		t.Fatalf("attempt %+v; want a failure with the broker's UNKNOWN_TOPIC_OR_PARTITION", a)
	}
	st := e.endpointMsgState(app, ep, msg)
	if st.Status != 1 || st.NextAttempt == nil {
		t.Fatalf("after the refused produce: %+v; want pending with a next attempt", st)
	}
	createTopic(t, addr, topic, 3)
	e.advanceTo(*st.NextAttempt)
	got := e.waitAttempts(app, ep, 2)
	if got[0].Status != 0 || got[0].ResponseStatusCode != 200 || got[0].MsgID != msg ||
		!strings.HasPrefix(got[0].Response, "acknowledged by all in-sync replicas (topic "+topic+", partition ") {
		t.Fatalf("retry %+v; want a success acknowledged by the broker", got[0])
	}
	recs := consumeKafka(t, addr, topic, 1, "the record in the topic")
	if len(recs) != 1 {
		t.Fatalf("%d records in the topic, want 1", len(recs))
	}
	r := recs[0]
	if want := "partition " + strconv.Itoa(int(r.Partition)) + ", offset " + strconv.FormatInt(r.Offset, 10) + ")"; !strings.HasSuffix(got[0].Response, want) {
		t.Fatalf("the attempt says %q; the record is at %s", got[0].Response, want)
	}
	verifyBrokerMessage(t, secret, msg, "order.paid", payload, r.Value, kafkaHeaders(r))
	if string(r.Key) != msg {
		t.Fatalf("record key %q, want the message id %s", r.Key, msg)
	}

	// Refused: the broker answers the next produce with TOPIC_AUTHORIZATION_FAILED.
	refuseProduce(cluster, kerr.TopicAuthorizationFailed.Code)
	msg2 := e.send(app, "order.paid", map[string]any{"order": 2})
	a = e.waitAttempts(app, ep, 3)[0]
	if a.Status != 2 || a.MsgID != msg2 || !strings.Contains(a.Response, "TOPIC_AUTHORIZATION_FAILED") {
		t.Fatalf("attempt %+v; want a failure with the broker's TOPIC_AUTHORIZATION_FAILED", a)
	}
	st = e.endpointMsgState(app, ep, msg2)
	if st.Status != 1 || st.NextAttempt == nil {
		t.Fatalf("after the refused produce: %+v; want pending with a next attempt", st)
	}
	e.advanceTo(*st.NextAttempt)
	got = e.waitAttempts(app, ep, 4)
	if got[0].Status != 0 || got[0].MsgID != msg2 || got[1].Status != 2 || got[1].MsgID != msg2 {
		t.Fatalf("attempts %+v; want the refused one, then its successful retry", got)
	}
	recs = consumeKafka(t, addr, topic, 2, "both records in the topic")
	if len(recs) != 2 {
		t.Fatalf("%d records in the topic, want 2 (the refused produce wrote nothing)", len(recs))
	}
	for _, r := range recs {
		if string(r.Key) == msg2 {
			verifyBrokerMessage(t, secret, msg2, "order.paid", map[string]any{"order": 2}, r.Value, kafkaHeaders(r))
		}
	}
}

// TestKafkaDestinationSettings: a Kafka destination is refused with a 422 whose code is
// "validation" and whose detail names the field when its URL, topic, key or SASL mechanism is
// wrong; a good one is answered without the URL's password, bootstrap brokers and options kept.
func TestKafkaDestinationSettings(t *testing.T) {
	t.Parallel()
	e := start(t, nil)
	app := e.app("Acme")
	ep := e.endpoint(app, map[string]any{"url": "https://example.com/hook"})
	path := "/api/v1/app/" + app + "/endpoint/" + ep + "/destination"
	topic := map[string]string{"topic": "orders"}
	for _, c := range []struct {
		url     string
		options map[string]string
		loc     []string
	}{
		{"kafka://127.0.0.1:9092", nil, []string{"body", "options", "topic"}},
		{"kafka://127.0.0.1:9092", map[string]string{"topic": "orders/eu"}, []string{"body", "options", "topic"}},
		{"kafka://127.0.0.1:9092", map[string]string{"topic": ".."}, []string{"body", "options", "topic"}},
		{"kafka://127.0.0.1:9092", map[string]string{"topic": strings.Repeat("t", 250)}, []string{"body", "options", "topic"}},
		{"kafka://127.0.0.1:9092", map[string]string{"topic": "orders", "key": "customer"}, []string{"body", "options", "key"}},
		{"kafka://127.0.0.1:9092", map[string]string{"topic": "orders", "sasl": "gssapi"}, []string{"body", "options", "sasl"}},
		{"kafka://127.0.0.1:9092", map[string]string{"topic": "orders", "sasl": "plain"}, []string{"body", "options", "sasl"}},
		{"kafka://127.0.0.1:9092", map[string]string{"topic": "orders", "stream": "s"}, []string{"body", "options", "stream"}},
		{"", topic, []string{"body", "url"}},
		{"redis://127.0.0.1:9092", topic, []string{"body", "url"}},
		{"kafka://127.0.0.1:9092/orders", topic, []string{"body", "url"}},
		{"kafka://127.0.0.1:9092?acks=1", topic, []string{"body", "url"}},
		{"kafka://127.0.0.1:9092,:9093", topic, []string{"body", "url"}},
		{"kafka://k1:9092,k2", topic, []string{"body", "url"}},
		{"kafka://k1,k2:9092", topic, []string{"body", "url"}},
		{"kafka://k1:9092,[::1]:9092", topic, []string{"body", "url"}},
		{"kafka://hookline@127.0.0.1:9092", topic, []string{"body", "url"}},
		{"kafka://:s3cret@127.0.0.1:9092", topic, []string{"body", "url"}},
	} {
		body := map[string]any{"type": "kafka", "url": c.url, "options": c.options}
		r := e.Do("PUT", path, e.Token, body)
		var out struct {
			Code   string `json:"code"`
			Detail []struct {
				Loc  []string `json:"loc"`
				Type string   `json:"type"`
			} `json:"detail"`
		}
		if r.Status != 422 || json.Unmarshal(r.Body, &out) != nil || out.Code != "validation" || len(out.Detail) != 1 ||
			strings.Join(out.Detail[0].Loc, ".") != strings.Join(c.loc, ".") || out.Detail[0].Type != "value" {
			t.Errorf("PUT %v: %d %s; want a 422 with code validation naming %v", body, r.Status, r.Body, c.loc)
		}
	}
	if r := e.Op("GET", path, nil, 200); !strings.Contains(string(r.Body), `"type":"http"`) {
		t.Fatalf("after the refused PUTs the endpoint is %s; want it left an http endpoint", r.Body)
	}

	r := e.Op("PUT", path, map[string]any{"type": "kafka", "url": "kafkas://hookline:s3cret@k1.example.com:9093,k2.example.com:9093",
		"options": map[string]string{"topic": "orders.v1", "key": "event-type", "sasl": "scram-sha-512"}}, 200)
	for _, r := range []string{string(r.Body), string(e.Op("GET", path, nil, 200).Body)} {
		if strings.Contains(r, "s3cret") || !strings.Contains(r, `"url":"kafkas://hookline:xxxxx@k1.example.com:9093,k2.example.com:9093"`) ||
			!strings.Contains(r, `"topic":"orders.v1"`) || !strings.Contains(r, `"sasl":"scram-sha-512"`) {
			t.Fatalf("destination answered %s; want the URL without its password, and the options", r)
		}
	}
}

// kafkaBroker is a kfake cluster that keeps its data in a directory of the test's own, so it
// can be stopped and started again on the same address with the records and producer state it
// had, as a Kafka broker restarts.
type kafkaBroker struct {
	t       *testing.T
	Addr    string
	dir     string
	cluster *kfake.Cluster
}

func startKafkaBroker(t *testing.T) *kafkaBroker {
	b := &kafkaBroker{t: t, dir: t.TempDir()}
	b.Start()
	return b
}

// Start starts the cluster on its address (a free one the first time) with its data.
func (b *kafkaBroker) Start() {
	b.t.Helper()
	b.Addr, b.cluster = startKafka(b.t, b.Addr, kfake.DataDir(b.dir))
}

// Stop closes the cluster and every connection to it; its data stays in its directory.
func (b *kafkaBroker) Stop() { b.cluster.Close() }

// kafkaReceived reads the topic from its start to its end and answers the webhook-ids of
// its records.
func kafkaReceived(addr, topic string) (map[string]bool, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	got := map[string]bool{}
	for empty := 0; empty < 2; {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		if fs.NumRecords() == 0 {
			empty++
		}
		fs.EachRecord(func(r *kgo.Record) { got[kafkaHeaders(r)["webhook-id"]] = true })
	}
	return got, nil
}

// TestKafkaBrokerRestartUnderLoad: the broker is stopped while messages are being sent and
// started again on the same address and data; every accepted message is in the topic, counted
// by webhook-id at a consumer (restartUnderLoad, as for the other types).
func TestKafkaBrokerRestartUnderLoad(t *testing.T) {
	t.Parallel()
	b := startKafkaBroker(t)
	topic := uniqueName(t)
	createTopic(t, b.Addr, topic, 3)
	restartUnderLoad(t, b, map[string]any{"type": "kafka", "url": "kafka://" + b.Addr,
		"options": map[string]string{"topic": topic}}, func() (map[string]bool, error) { return kafkaReceived(b.Addr, topic) })
}

// TestKafkaSASL: the URL's user and password authenticate with the chosen SASL mechanism
// (SCRAM-SHA-256 here); a wrong password is a failed attempt. The
// key option "event-type" makes the event type each record's key.
func TestKafkaSASL(t *testing.T) {
	t.Parallel()
	topic := uniqueName(t)
	addr, _ := startKafka(t, "", kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "hookline", "s3cret"), kfake.SeedTopics(1, topic))
	e := start(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	options := map[string]string{"topic": topic, "sasl": "scram-sha-256", "key": "event-type"}
	bad, _ := e.brokerEndpoint(app, map[string]any{"type": "kafka", "url": "kafka://hookline:wrong@" + addr, "options": options})
	good, secret := e.brokerEndpoint(app, map[string]any{"type": "kafka", "url": "kafka://hookline:s3cret@" + addr, "options": options})
	msg := e.send(app, "order.paid", map[string]any{"order": 1})

	a := e.waitAttempts(app, bad, 1)[0]
	// Kafka answers SASL_AUTHENTICATION_FAILED; kfake closes the connection instead.
	if a.Status != 2 || a.ResponseStatusCode != 0 || a.Response == "" || strings.Contains(a.Response, "wrong") ||
		a.URL != "kafka://hookline:xxxxx@"+addr {
		t.Fatalf("attempt with the wrong password %+v; want a failure, the password in neither the reason nor the URL", a)
	}
	if a := e.waitAttempts(app, good, 1)[0]; a.Status != 0 || !strings.HasPrefix(a.Response, "acknowledged by all in-sync replicas") {
		t.Fatalf("attempt with the right password %+v; want a success", a)
	}
	r := consumeKafka(t, addr, topic, 1, "the record in the topic",
		kgo.SASL(scram.Auth{User: "hookline", Pass: "s3cret"}.AsSha256Mechanism()))[0]
	verifyBrokerMessage(t, secret, msg, "order.paid", map[string]any{"order": 1}, r.Value, kafkaHeaders(r))
	if string(r.Key) != "order.paid" {
		t.Fatalf("record key %q, want the event type", r.Key)
	}
}

// TestKafkaTLSVerifiesTheBroker: kafkas:// speaks TLS to every broker and checks its
// certificate against the system's roots: a broker whose certificate no root signed (here the
// test certificate of net/http/httptest) fails the attempt, which says why.
func TestKafkaTLSVerifiesTheBroker(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	cert := srv.TLS.Certificates[0]
	srv.Close()
	topic := uniqueName(t)
	addr, _ := startKafka(t, "", kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}}), kfake.SeedTopics(1, topic))
	e := start(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep, _ := e.brokerEndpoint(app, map[string]any{"type": "kafka", "url": "kafkas://" + addr, "options": map[string]string{"topic": topic}})
	e.send(app, "order.paid", map[string]any{"order": 1})
	if a := e.waitAttempts(app, ep, 1)[0]; a.Status != 2 || !strings.Contains(a.Response, "certificate signed by unknown authority") {
		t.Fatalf("attempt %+v; want a failure saying the broker's certificate is not trusted", a)
	}
}
