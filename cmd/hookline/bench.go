package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/hookline/hookline/bench"
)

const benchSummary = `Benchmark Hookline end to end on this machine.

hookline bench starts this binary as a server (serve --dev, a fresh data directory in a
temporary directory, a free loopback port), plays the webhook receivers on loopback, creates the
applications and endpoints through the API, posts messages and reports: accepted messages/s and
API latency, deliveries/s and the latency from the API's 2xx to the arrival at the receiver,
duplicates, the server's RSS and CPU time (per delivery too), the database size, on PostgreSQL
the database server's CPU time and WAL bytes per delivery, and the same receivers' throughput
with a plain HTTP client posting to them directly (the baseline), measured in the same run.

Scenarios: ` + "1ep, 100ep, 100ep-transform, fanout1000, 1000apps, failing10, latency, pending1m, ingest, or all" + `
(each on a fresh server). The destination scenarios ` + "dest-redis, dest-rabbitmq, dest-nats, dest-mqtt, dest-kafka" + `
(or destinations, for all of them) publish to the broker on 127.0.0.1 at its default port
(--redis-url and the like to name another), count the deliveries at a consumer in this process
and compare with the broker's own rate from a plain client. See docs/performance.md for the
targets and the measured numbers.

Examples:
    hookline bench --scenario 100ep
    hookline bench --scenario all --json > results.json
    hookline bench --scenario 100ep --server-flag=--workers=256 --server-flag=--sqlite-synchronous=NORMAL
    hookline bench --scenario latency --target http://127.0.0.1:8080 --token $TOKEN
    hookline bench --scenario destinations --repeat 3`

// stringsFlag collects a repeatable flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, " ") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench", "[flags]", benchSummary)
	var (
		o          bench.Options
		jsonOut    bool
		quiet      bool
		serverFlag stringsFlag
		brokers    = map[string]*string{}
	)
	fs.StringVar(&o.Scenario, "scenario", "100ep", "scenario to run: "+strings.Join(bench.Scenarios(), ", ")+", all (the HTTP ones) or destinations (the dest- ones); several separated by commas")
	fs.Var(&serverFlag, "server-flag", "a flag for the server, such as --server-flag=--workers=256; repeat for more")
	fs.StringVar(&o.DatabaseURL, "database-url", "", "PostgreSQL URL passed to the server (default: SQLite in the temporary data directory); the whole PostgreSQL server's CPU (when on this machine) and WAL are reported")
	fs.StringVar(&o.Binary, "binary", "", "hookline executable to run as the server (default: this one); see bench/profserve for a profiling server")
	fs.StringVar(&o.Target, "target", "", "URL of a running Hookline (in dev mode) to benchmark instead of starting one; no RSS or CPU then")
	fs.StringVar(&o.Token, "token", "", "operator token of the --target server (env HOOKLINE_BENCH_TOKEN)")
	fs.IntVar(&o.Messages, "messages", 0, "messages to post (default: the scenario's)")
	fs.DurationVar(&o.Duration, "duration", 0, "post for this long instead of a number of messages")
	fs.Float64Var(&o.Rate, "rate", 0, "post at this many messages/s on a fixed (open-loop) schedule instead of as fast as possible")
	fs.IntVar(&o.Posters, "posters", 0, "concurrent API requests (default: the scenario's)")
	fs.IntVar(&o.Apps, "apps", 0, "applications (default: the scenario's)")
	fs.IntVar(&o.Endpoints, "endpoints", 0, "endpoints per application (default: the scenario's)")
	fs.IntVar(&o.PayloadSize, "payload-size", 256, "payload size in bytes, about")
	fs.IntVar(&o.Receivers, "receivers", 4, "receiver listeners (distinct host:port pairs the endpoints are spread over)")
	fs.IntVar(&o.Pending, "pending", 0, "pending1m: pending deliveries to create (default 1000000)")
	fs.Float64Var(&o.SlowFraction, "slow-fraction", 0, "fraction of endpoints that answer only after --slow-delay")
	fs.DurationVar(&o.SlowDelay, "slow-delay", 0, "how long a slow endpoint takes to answer (default 200ms)")
	fs.Float64Var(&o.FailFraction, "fail-fraction", 0, "fraction of endpoints that answer 500 (failing10: 0.1)")
	fs.DurationVar(&o.Deadline, "deadline", 0, "longest wait for the deliveries after the last message (default: 1m + 1ms per delivery)")
	fs.DurationVar(&o.Hold, "hold", 0, "pending1m: how long to hold the deliveries pending while sampling memory (default 5s)")
	fs.BoolVar(&o.NoBaseline, "no-baseline", false, "skip the direct-HTTP baseline")
	fs.IntVar(&o.Repeat, "repeat", 1, "run each scenario this many times, each on a fresh server, and print the range of the main figures")
	fs.IntVar(&o.BaselineConcurrency, "baseline-concurrency", 0, "requests in flight in the baseline (default: min(workers, endpoints × endpoint-concurrency))")
	for _, typ := range []string{"redis", "rabbitmq", "nats", "mqtt"} {
		brokers[typ] = fs.String(typ+"-url", bench.DefaultBrokerURLs[typ], "the "+typ+" broker of the dest-"+typ+" scenario")
	}
	brokers["kafka"] = fs.String("kafka-url", "", "the Kafka broker of the dest-kafka scenario, kafka://host:port (default: 127.0.0.1:9092 if a broker answers there, otherwise franz-go's kfake in this process)")
	fs.BoolVar(&o.KeepData, "keep-data", false, "keep the server's temporary data directory and log")
	fs.BoolVar(&jsonOut, "json", false, "print the results as JSON instead of a table")
	fs.BoolVar(&quiet, "quiet", false, "no progress line on stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if o.Token == "" {
		o.Token = e.getenv("HOOKLINE_BENCH_TOKEN")
	}
	o.ServerFlags = serverFlag
	o.BrokerURLs = map[string]string{}
	for typ, u := range brokers {
		o.BrokerURLs[typ] = *u
	}
	if !quiet {
		o.Progress = e.stderr
	}
	results, err := bench.Run(ctx, o)
	if len(results) > 0 {
		var werr error
		if jsonOut {
			werr = bench.WriteJSON(e.stdout, results)
		} else {
			werr = bench.WriteTable(e.stdout, results)
		}
		if err == nil {
			err = werr
		}
	}
	return err
}
