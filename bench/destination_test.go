package bench_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookline/hookline/bench"
	"github.com/hookline/hookline/internal/testproc"
)

// TestDestinationSmoke runs a small dest-redis (30 endpoints, 10 messages: 300 deliveries)
// through the command line, and checks the run's streams are gone from Redis afterwards.
func TestDestinationSmoke(t *testing.T) {
	t.Parallel()
	const addr = "127.0.0.1:6379"
	testproc.NeedListener(t, "Redis", addr)
	d := destinationRun(t, "redis", "--redis-url", "redis://"+addr+"/0")
	if d.Broker != "redis://"+addr+"/0" {
		t.Errorf("broker %q", d.Broker)
	}
	prefix := regexp.MustCompile(`hookline-bench-[0-9a-z]+`).FindString(d.Targets)
	if prefix == "" {
		t.Fatalf("no stream name in %q", d.Targets)
	}
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	var keys []string
	it := rdb.Scan(ctx, 0, prefix+"-*", 1000).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		t.Errorf("the run left %d streams behind: %s", len(keys), strings.Join(keys, ", "))
	}
}

// TestDestinationSmokeKafka runs a small dest-kafka: with no Kafka broker on this machine, the
// benchmark runs franz-go's in-process kfake and says so.
func TestDestinationSmokeKafka(t *testing.T) {
	t.Parallel()
	d := destinationRun(t, "kafka")
	if !strings.HasPrefix(d.Broker, "kafka://127.0.0.1:") {
		t.Errorf("broker %q", d.Broker)
	}
	if d.Broker != "kafka://127.0.0.1:9092" && !strings.Contains(d.Note, "kfake") {
		t.Errorf("the run on the in-process kfake has no note saying so: %+v", d)
	}
}

// destinationRun runs dest-typ with 30 endpoints and 10 messages (300 deliveries) through the
// command line and checks that every delivery arrived at the benchmark's consumer once, that
// the baseline's plain client published as many and the consumer read them all, and that the
// JSON has the destination's fields.
func destinationRun(t *testing.T, typ string, args ...string) *bench.DestinationRun {
	t.Helper()
	r := runBench(t, 90*time.Second, append([]string{"--scenario", "dest-" + typ, "--endpoints", "30", "--messages", "10"}, args...)...)
	const want = 300
	if r.APIErrors != 0 || !r.Complete || r.Delivered != want || r.Expected != want || r.Duplicates != 0 || r.DeliveryLatency.N != want {
		t.Errorf("apiErrors %d (%s), complete %v, delivered %d, expected %d, duplicates %d, latencies %d; want all %d delivered once",
			r.APIErrors, r.FirstAPIError, r.Complete, r.Delivered, r.Expected, r.Duplicates, r.DeliveryLatency.N, want)
	}
	d := r.Destination
	if d == nil {
		t.Fatal("no destination in the result")
	}
	if d.Type != typ || d.Targets == "" || d.Consumer == "" || d.ConsumerErrors != 0 || d.Cleanup != "" {
		t.Errorf("destination %+v", d)
	}
	bl := r.Baseline
	if bl == nil || bl.Broker == nil {
		t.Fatalf("baseline %+v, want the broker's", bl)
	}
	if bl.Requests != want || bl.Errors != 0 || bl.Broker.Published != want || bl.Broker.Arrived != want || !bl.Broker.Complete ||
		bl.Broker.Connections != 30 || bl.Broker.ArrivalLatency.N != want || bl.Latency.N != want {
		t.Errorf("baseline %+v, broker %+v; want all %d published and read, over 30 connections", bl, bl.Broker, want)
	}
	positive := map[string]float64{"deliveredPerSec": r.DeliveredPerSec, "baseline": bl.PerSec, "ratio": r.BaselineRatio,
		"delivery max": r.DeliveryLatency.Max}
	if r.Server != nil {
		positive["rss"], positive["cpu"] = r.Server.RSSMB, r.Server.CPUSeconds
	} else {
		t.Error("no server numbers")
	}
	for name, v := range positive {
		if !(v > 0) {
			t.Errorf("%s = %v, want > 0", name, v)
		}
	}
	return d
}

// TestDestinationTable: the readable report of a destination scenario has the broker's line
// and the broker baseline's.
func TestDestinationTable(t *testing.T) {
	r := bench.Result{Scenario: "dest-redis", Accepted: 1, Expected: 1, Delivered: 1, Complete: true, DeliveredPerSec: 5,
		Baseline:      &bench.Baseline{Requests: 1, Concurrency: 1, PerSec: 10, Broker: &bench.BrokerBaseline{Client: "go-redis XADD", Connections: 1, Published: 1, Arrived: 1, Complete: true}},
		BaselineRatio: 0.5, Destination: &bench.DestinationRun{Type: "redis", Broker: "redis://127.0.0.1:6379/0", Targets: "1 stream", Consumer: "XREAD"}}
	var b bytes.Buffer
	if err := bench.WriteTable(&b, []bench.Result{r}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"broker      redis at redis://127.0.0.1:6379/0: 1 stream; XREAD", "baseline    go-redis XADD", "1 read by the consumer", "Hookline = 50.0 %", "publish→consumer"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}
