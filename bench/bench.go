// Package bench measures Hookline end to end: it starts the real server as a separate process
// (or targets a running one), plays the webhook receivers on loopback, creates applications
// and endpoints through the API, posts messages, and reports API and delivery throughput,
// latency from the API's 2xx to the arrival at the receiver, the server's memory and CPU, and
// the same receivers' throughput when a plain HTTP client posts to them directly (the
// baseline). `hookline bench` is its command line; docs/performance.md has the targets.
package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/internal/procstat"
)

// Options configure a benchmark run. Zero fields take the scenario's defaults.
type Options struct {
	// Scenario is a scenario name (see Scenarios) or "all".
	Scenario string
	// Binary is the hookline executable started as the server; empty means this executable.
	Binary string
	// ServerFlags are passed to `hookline serve` after the benchmark's own, such as
	// --workers=256.
	ServerFlags []string
	// DatabaseURL is passed to the server as --database-url (PostgreSQL).
	DatabaseURL string
	// Target is the URL of a running server to use instead of starting one; Token is its
	// operator token. The server must run in dev mode to accept loopback endpoints.
	Target, Token string

	Messages    int           // messages to post
	Duration    time.Duration // post for this long instead of a number of messages
	Rate        float64       // messages/s on an open-loop schedule; 0 is as fast as possible
	Posters     int           // concurrent API requests
	Apps        int           // applications
	Endpoints   int           // endpoints per application
	PayloadSize int           // payload bytes, about
	Receivers   int           // receiver listeners (distinct host:port)
	Pending     int           // pending1m: deliveries to hold pending

	SlowFraction float64       // fraction of endpoints that answer after SlowDelay
	SlowDelay    time.Duration // how long a slow endpoint takes
	FailFraction float64       // fraction of endpoints that answer 500

	// Deadline bounds the wait for deliveries after the last message; 0 picks one from the
	// number of deliveries.
	Deadline time.Duration
	// Hold is how long pending1m keeps its deliveries pending while it samples memory.
	Hold time.Duration
	// NoBaseline skips the direct-HTTP baseline.
	NoBaseline bool
	// Repeat runs each scenario this many times, each on a fresh server (0 or 1: once). On a
	// shared, noisy machine the range over a few runs says more than any one of them.
	Repeat int
	// BaselineConcurrency overrides the baseline's requests in flight; by default the
	// server's effective delivery concurrency, min(workers, endpoints × endpoint-concurrency).
	BaselineConcurrency int
	// BrokerURLs are the brokers of the destination scenarios by type (redis, rabbitmq, nats,
	// mqtt); a type not named uses DefaultBrokerURLs.
	BrokerURLs map[string]string
	// KeepData keeps the server's temporary directory (data and log) and reports its path.
	KeepData bool
	// Progress receives a one-line progress report about twice a second; nil for none.
	Progress io.Writer
}

// scenario is one benchmark setup.
type scenario struct {
	name, about string
	apps        int
	perApp      int
	messages    int
	duration    time.Duration
	rate        float64
	posters     int
	fail        float64
	hang        bool   // pending1m: receivers never answer while the run lasts
	oneByOne    bool   // fanout: post one message, wait for all its deliveries, repeat
	ingest      bool   // ingest: API only, then API with one endpoint
	transform   bool   // every endpoint has a transformation (benchTransformation)
	dest        string // every endpoint publishes to a broker of this type (destination.go)
}

// scenarios lists every scenario in the order `all` runs them.
var scenarios = []scenario{
	{name: "1ep", about: "1 application, 1 endpoint", apps: 1, perApp: 1, messages: 20000, posters: 32},
	{name: "100ep", about: "1 application, 100 endpoints; every message goes to all 100", apps: 1, perApp: 100, messages: 2000, posters: 16},
	{name: "100ep-transform", about: "100ep with a transformation on every endpoint (it wraps the payload and adds a header)", apps: 1, perApp: 100, messages: 2000, posters: 16, transform: true},
	{name: "fanout1000", about: "one message to 1,000 endpoints, repeated: time until all are delivered", apps: 1, perApp: 1000, messages: 5, posters: 1, oneByOne: true},
	{name: "1000apps", about: "1,000 applications with one endpoint each; messages spread over them", apps: 1000, perApp: 1, messages: 20000, posters: 32},
	{name: "failing10", about: "100 endpoints, 10 % of them answer 500: healthy throughput and retries", apps: 1, perApp: 100, messages: 1000, posters: 16, fail: 0.1},
	{name: "latency", about: "1,000 msg/s on a fixed schedule to 1 endpoint: API and delivery latency", apps: 1, perApp: 1, duration: 10 * time.Second, rate: 1000, posters: 128},
	{name: "pending1m", about: "deliveries held pending (100 endpoints that never answer): server memory", apps: 1, perApp: 100, posters: 16, hang: true},
	{name: "ingest", about: "API ingest: an application without endpoints, then one with one endpoint", apps: 1, perApp: 0, messages: 20000, posters: 32, ingest: true},
}

// Scenarios returns the scenario names: the HTTP ones ("all" runs them), then the destination
// ones ("destinations" runs them).
func Scenarios() []string {
	var names []string
	for _, s := range slices.Concat(scenarios, destScenarios) {
		names = append(names, s.name)
	}
	return names
}

// defaultPending is pending1m's number of pending deliveries.
const defaultPending = 1_000_000

// Run runs the scenario the options name, or every scenario for "all", each on a fresh server
// and data directory (unless Target is set). It returns the results of the scenarios that ran;
// ingest gives two.
func Run(ctx context.Context, o Options) ([]Result, error) {
	var list []scenario
	for _, name := range strings.Split(o.Scenario, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case "all":
			list = append(list, scenarios...)
			continue
		case "destinations":
			list = append(list, destScenarios...)
			continue
		}
		known := slices.Concat(scenarios, destScenarios)
		i := slices.IndexFunc(known, func(s scenario) bool { return s.name == name })
		if i < 0 {
			return nil, fmt.Errorf("unknown scenario %q: use one of %s, all or destinations", name, strings.Join(Scenarios(), ", "))
		}
		list = append(list, known[i])
	}
	if o.Binary == "" && o.Target == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the hookline executable: %w", err)
		}
		o.Binary = exe
	}
	if o.Target != "" && o.Token == "" {
		return nil, errors.New("--target needs --token, an operator token of that server")
	}
	var all []Result
	for _, sc := range list {
		for run := 1; run <= max(o.Repeat, 1); run++ {
			res, err := runScenario(ctx, o, sc)
			if o.Repeat > 1 {
				for i := range res {
					res[i].Run = run
				}
			}
			all = append(all, res...)
			if err != nil {
				return all, fmt.Errorf("scenario %s: %w", sc.name, err)
			}
		}
	}
	return all, nil
}

// flagValue returns the last value given to a server flag such as --workers, or def.
func flagValue(flags []string, name string, def int) int {
	v := def
	for i, f := range flags {
		f = strings.TrimLeft(f, "-")
		if val, ok := strings.CutPrefix(f, name+"="); ok {
			if n, err := strconv.Atoi(val); err == nil {
				v = n
			}
		} else if f == name && i+1 < len(flags) {
			if n, err := strconv.Atoi(flags[i+1]); err == nil {
				v = n
			}
		}
	}
	return v
}

// Server defaults the baseline concurrency is derived from (config/settings.go).
const (
	serverDefaultWorkers             = 128
	serverDefaultEndpointConcurrency = 16
)

// endpointKinds spreads the slow and failing endpoints evenly over n endpoints.
func endpointKinds(n int, slow, fail float64, hang bool) []behaviour {
	kinds := make([]behaviour, n)
	crosses := func(i int, f float64) bool { return int(float64(i+1)*f) > int(float64(i)*f) }
	for i := range kinds {
		switch {
		case hang:
			kinds[i] = answerHang
		case fail > 0 && crosses(i, fail):
			kinds[i] = answerFail
		case slow > 0 && crosses(i, slow):
			kinds[i] = answerSlow
		}
	}
	return kinds
}

// runState is one scenario's server, receivers and counters.
type runState struct {
	o      Options
	sc     scenario
	t0     time.Time
	srv    *serverProc // nil with a target
	pg     *pgProbe    // nil unless the server uses PostgreSQL (--database-url)
	api    *apiClient
	rv     *receivers
	dest   *destRun // a destination scenario's broker; nil for HTTP endpoints
	runID  string
	posted atomic.Int64
	rec    atomic.Pointer[recorder]
	phase  atomic.Pointer[string]
	want   atomic.Int64 // expected deliveries, for progress; 0 when not known yet
	peak   atomic.Int64 // highest RSS sampled
}

func runScenario(ctx context.Context, o Options, sc scenario) (results []Result, err error) {
	if o.Apps > 0 && !sc.ingest {
		sc.apps = o.Apps
	}
	if o.Endpoints > 0 && !sc.ingest {
		sc.perApp = o.Endpoints
	}
	if o.Messages > 0 {
		sc.messages, sc.duration = o.Messages, 0
	}
	if o.Duration > 0 {
		sc.duration, sc.messages = o.Duration, 0
	}
	if o.Rate > 0 {
		sc.rate = o.Rate
	}
	if o.Posters > 0 {
		sc.posters = o.Posters
	}
	if o.FailFraction > 0 {
		sc.fail = o.FailFraction
	}
	if sc.dest != "" {
		// A broker accepts every publish: no failing or slow endpoints.
		sc.fail, o.SlowFraction = 0, 0
	}
	if sc.hang {
		pending := o.Pending
		if pending <= 0 {
			pending = defaultPending
		}
		sc.messages = max(1, pending/max(1, sc.apps*sc.perApp))
		sc.duration = 0
	}
	if sc.messages == 0 && sc.duration == 0 {
		sc.messages = 1000
	}
	if o.PayloadSize <= 0 {
		o.PayloadSize = 256
	}
	if o.Receivers <= 0 {
		o.Receivers = 4
	}
	if o.SlowDelay <= 0 {
		o.SlowDelay = 200 * time.Millisecond
	}
	if o.Hold <= 0 {
		o.Hold = 5 * time.Second
	}
	endpoints := sc.apps * sc.perApp
	if sc.ingest {
		endpoints = 1
	}

	st := &runState{o: o, sc: sc, t0: time.Now(), runID: strconv.FormatInt(time.Now().UnixMilli(), 36)}
	st.setPhase("receivers")
	st.rv, err = newReceivers(o.Receivers, endpointKinds(endpoints, o.SlowFraction, sc.fail, sc.hang), o.SlowDelay)
	if err != nil {
		return nil, err
	}
	defer st.rv.close()

	stopProgress := st.progress(ctx)
	defer stopProgress()

	if sc.dest != "" {
		st.setPhase("broker")
		st.dest, err = startDestination(ctx, o, sc.dest, endpoints)
		if err != nil {
			return nil, err
		}
		// Deferred before the server's stop, so it runs after it: no publish is under way
		// when the targets go.
		defer st.dest.finish()
	}

	base := Result{Scenario: sc.name, About: sc.about, Apps: sc.apps, EndpointsPerApp: sc.perApp,
		Posters: sc.posters, Rate: sc.rate, PayloadBytes: len(messageBody(0, o.PayloadSize)) - len(`{"eventType":"`+eventType+`","payload":}`),
		ServerFlags: o.ServerFlags, Receivers: o.Receivers, Database: "sqlite"}
	if o.DatabaseURL != "" {
		base.Database = "postgres"
	}
	if o.Target != "" {
		base.Database = "target " + o.Target
	}
	workers := flagValue(o.ServerFlags, "workers", serverDefaultWorkers)
	epConc := flagValue(o.ServerFlags, "endpoint-concurrency", serverDefaultEndpointConcurrency)

	// The baseline runs first, on an idle machine, against the same receivers.
	var baseline *Baseline
	// A fixed-rate run measures latency, not throughput: no baseline to compare with.
	if !o.NoBaseline && !sc.hang && !sc.ingest && sc.rate == 0 {
		// As many requests as deliveries: each message goes to its application's endpoints.
		n := sc.messages * sc.perApp
		if n == 0 {
			n = int(sc.rate*sc.duration.Seconds()) * sc.perApp
		}
		conc := o.BaselineConcurrency
		if conc <= 0 {
			conc = min(workers, endpoints*epConc)
		}
		st.setPhase("baseline")
		st.want.Store(int64(n))
		if st.dest != nil {
			baseline, err = runBrokerBaseline(ctx, st.dest, endpoints, n, conc, o.PayloadSize, st.deadline(n), &st.posted)
			if err != nil {
				return nil, err
			}
		} else {
			b := runBaseline(ctx, st.rv, endpoints, n, conc, o.PayloadSize, &st.posted)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			baseline = &Baseline{Requests: b.requests, Errors: b.errors, Concurrency: b.concurrency, Seconds: b.elapsed.Seconds(),
				PerSec: float64(b.requests-b.errors) / b.elapsed.Seconds(), Latency: percentiles(b.latencies)}
		}
		st.posted.Store(0)
		st.want.Store(0)
	}

	st.setPhase("server")
	if o.Target != "" {
		if err := waitReady(ctx, strings.TrimRight(o.Target, "/"), 10*time.Second, nil); err != nil {
			return nil, err
		}
		st.api = newAPIClient(o.Target, o.Token, max(sc.posters, setupConcurrency)+8)
	} else {
		st.srv, err = startServer(ctx, o.Binary, o.ServerFlags, o.DatabaseURL)
		if err != nil {
			return nil, err
		}
		defer func() {
			st.rv.unhang()
			if serr := st.srv.stop(o.KeepData); serr != nil && err == nil {
				err = serr
			}
		}()
		st.api = newAPIClient(st.srv.url, st.srv.token, max(sc.posters, setupConcurrency)+8)
	}

	if o.DatabaseURL != "" {
		st.pg, err = openPGProbe(ctx, o.DatabaseURL)
		if err != nil {
			return nil, err
		}
		defer st.pg.close()
	}

	switch {
	case sc.ingest:
		return st.runIngest(ctx, base)
	default:
		r, err := st.runDeliveries(ctx, base, endpoints, baseline)
		return []Result{r}, err
	}
}

func (st *runState) setPhase(p string) { st.phase.Store(&p) }

// setup creates the event type, the applications and their endpoints.
func (st *runState) setup(ctx context.Context, label string, apps, perApp, firstEndpoint int) ([]string, []string, time.Duration, error) {
	st.setPhase("setup")
	start := time.Now()
	if err := st.api.ensureEventType(ctx); err != nil {
		return nil, nil, 0, err
	}
	appIDs, err := st.api.createApps(ctx, st.runID, label, apps)
	if err != nil {
		return nil, nil, 0, err
	}
	var epIDs []string
	if perApp > 0 {
		url := st.rv.endpointURL
		if st.dest != nil {
			url = unusedEndpointURL
		}
		epIDs, err = st.api.createEndpoints(ctx, appIDs, perApp, firstEndpoint, url)
		if err != nil {
			return nil, nil, 0, err
		}
		if st.dest != nil {
			if err := st.api.setDestinations(ctx, appIDs, perApp, epIDs, st.dest.b.destination); err != nil {
				return nil, nil, 0, err
			}
		}
		if st.sc.transform {
			if err := st.api.setTransformations(ctx, appIDs, perApp, epIDs); err != nil {
				return nil, nil, 0, err
			}
		}
	}
	return appIDs, epIDs, time.Since(start), nil
}

// deadline is how long to wait for n deliveries after the last message was accepted.
func (st *runState) deadline(n int) time.Duration {
	if st.o.Deadline > 0 {
		return st.o.Deadline
	}
	// Generous: a tenth of the 10,000/s target, plus a minute.
	return time.Minute + time.Duration(n)*time.Second/1000
}

// runDeliveries runs every scenario but ingest: post, wait for the deliveries, measure.
func (st *runState) runDeliveries(ctx context.Context, r Result, endpoints int, baseline *Baseline) (Result, error) {
	sc := st.sc
	appIDs, epIDs, setupTime, err := st.setup(ctx, sc.name, sc.apps, sc.perApp, 0)
	if err != nil {
		return r, err
	}
	r.SetupSeconds = setupTime.Seconds()
	r.Endpoints = endpoints

	hint := sc.messages * endpoints
	if sc.hang {
		hint = 0 // nothing is recorded twice; the map would only cost memory
	}
	rec := newRecorder(st.t0, hint)
	st.rec.Store(rec)
	if st.dest != nil {
		st.dest.sink.record(rec)
	} else {
		st.rv.record(rec)
	}
	// healthy[a] is how many endpoints of application a answer 2xx: the deliveries each of
	// its messages must make.
	healthy := make([]int, sc.apps)
	for i, k := range st.rv.kinds {
		if k != answerFail {
			healthy[i/sc.perApp]++
		}
	}

	before := st.snap(ctx)
	st.setPhase("posting")
	spec := loadSpec{apps: appIDs, messages: sc.messages, duration: sc.duration, rate: sc.rate,
		posters: sc.posters, payload: st.o.PayloadSize, t0: st.t0}
	var load loadResult
	if sc.oneByOne {
		load, err = st.postOneByOne(ctx, spec, rec, healthy[0])
		if err != nil {
			return r, err
		}
	} else {
		if sc.messages > 0 {
			st.want.Store(int64(sc.messages * healthy[0]))
		}
		load = st.api.post(ctx, spec, &st.posted)
	}
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	st.fillAPI(&r, load)
	var expected int64
	for _, m := range load.sent {
		expected += int64(healthy[m.app])
	}
	r.Expected = int(expected)
	st.want.Store(expected)

	if sc.hang {
		return st.holdPending(ctx, r, appIDs, epIDs, load, before)
	}

	st.setPhase("delivering")
	complete, err := rec.waitDelivered(ctx, expected, time.Now().Add(st.deadline(int(expected))))
	if err != nil {
		return r, err
	}
	r.Complete = complete
	end := rec.lastOK.Load()
	if sc.fail > 0 {
		// Retries of the failing endpoints' deliveries come after the first delay of the
		// retry schedule (5 s by default): wait for one retry of each, within a bound.
		st.setPhase("retries")
		failing := int64(len(load.sent)*sc.perApp) - expected
		deadline := time.Now().Add(max(st.deadline(int(failing)), 20*time.Second))
		for rec.requests.Load() < expected+2*failing && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	after := st.snap(ctx)

	r.Delivered = int(rec.delivered.Load())
	r.Requests = int(rec.requests.Load())
	r.Duplicates = int(rec.duplicates.Load())
	if end > load.start {
		r.DeliverSeconds = float64(end-load.start) / 1e9
		r.DeliveredPerSec = float64(r.Delivered) / r.DeliverSeconds
	}
	st.latencies(&r, rec, load)
	if sc.fail > 0 {
		st.failing(&r, rec, len(load.sent))
	}
	if baseline != nil {
		r.Baseline = baseline
		if baseline.PerSec > 0 {
			r.BaselineRatio = r.DeliveredPerSec / baseline.PerSec
		}
	}
	st.fillServer(&r, before, after)
	if st.dest != nil {
		r.Destination = &st.dest.info
	}
	return r, nil
}

// postOneByOne posts the scenario's messages one at a time, each after every delivery of the
// one before arrived.
func (st *runState) postOneByOne(ctx context.Context, spec loadSpec, rec *recorder, healthy int) (loadResult, error) {
	var all loadResult
	all.start = int64(time.Since(st.t0))
	n := spec.messages
	spec.messages, spec.posters, spec.rate = 1, 1, 0
	for i := range n {
		st.want.Store(int64((i + 1) * healthy))
		one := st.api.post(ctx, spec, &st.posted)
		all.sent = append(all.sent, one.sent...)
		all.errors += one.errors
		if all.firstError == "" {
			all.firstError = one.firstError
		}
		if len(one.sent) == 0 {
			continue
		}
		ok, err := rec.waitDelivered(ctx, int64(len(all.sent)*healthy), time.Now().Add(st.deadline(healthy)))
		if err != nil {
			return all, err
		}
		if !ok {
			break
		}
	}
	all.end = int64(time.Since(st.t0))
	return all, nil
}

// fillAPI sets the API numbers from a load.
func (st *runState) fillAPI(r *Result, load loadResult) {
	r.Messages = len(load.sent) + load.errors
	r.Accepted = len(load.sent)
	r.APIErrors = load.errors
	r.FirstAPIError = load.firstError
	r.PostSeconds = float64(load.end-load.start) / 1e9
	if r.PostSeconds > 0 {
		r.AcceptedPerSec = float64(r.Accepted) / r.PostSeconds
	}
	lat := make([]int64, len(load.sent))
	service := make([]int64, len(load.sent))
	for i, s := range load.sent {
		lat[i], service[i] = s.latency, s.service
	}
	r.APILatency = percentiles(lat)
	r.APIService = percentiles(service)
}

// latencies joins the arrivals with the accepted messages: delivery latency is from the
// message's 2xx, as the poster saw it, to the delivery's first successful arrival. For fan-out
// it also gives each message's time until its last delivery arrived.
func (st *runState) latencies(r *Result, rec *recorder, load loadResult) {
	accepted := make(map[string]int64, len(load.sent))
	for _, s := range load.sent {
		accepted[s.id] = s.acceptAt
	}
	lat := make([]int64, 0, r.Delivered)
	var lastByMsg map[string]int64
	if st.sc.oneByOne {
		lastByMsg = make(map[string]int64, len(load.sent))
	}
	early := 0
	rec.each(func(k arrivalKey, a arrival) {
		at, ok := accepted[k.id]
		if !ok || !a.ok {
			return
		}
		d := a.first - at
		if d < 0 {
			// The delivery beat the API's answer back to the poster.
			early++
			d = 0
		}
		lat = append(lat, d)
		if lastByMsg != nil && d > lastByMsg[k.id] {
			lastByMsg[k.id] = d
		}
	})
	r.DeliveryLatency = percentiles(lat)
	r.ArrivedBefore2xx = early
	if lastByMsg != nil {
		for _, s := range load.sent {
			r.FanoutSeconds = append(r.FanoutSeconds, float64(lastByMsg[s.id])/1e9)
		}
	}
}

// failing counts the failing endpoints' requests and retries.
func (st *runState) failing(r *Result, rec *recorder, messages int) {
	f := &Failing{}
	rec.each(func(k arrivalKey, a arrival) {
		if st.rv.kinds[k.ep] != answerFail {
			return
		}
		f.Deliveries++
		f.Requests += int(a.n)
		if a.n > 1 {
			f.Retried++
		}
	})
	for _, k := range st.rv.kinds {
		if k == answerFail {
			f.Endpoints++
		}
	}
	f.ExpectedFirst = messages * f.Endpoints
	r.Failing = f
}

// holdPending keeps pending1m's deliveries pending for a while and samples the server.
func (st *runState) holdPending(ctx context.Context, r Result, appIDs, epIDs []string, load loadResult, before snapshot) (Result, error) {
	st.setPhase("holding")
	p := &Pending{Created: r.Expected, HoldSeconds: st.o.Hold.Seconds()}
	end := time.Now().Add(st.o.Hold)
	for time.Now().Before(end) && ctx.Err() == nil {
		time.Sleep(250 * time.Millisecond)
		st.procStats()
	}
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	// One endpoint's counts show how many of its deliveries are still pending.
	if len(epIDs) > 0 {
		var stats struct {
			Success, Pending, Sending, Fail int64
		}
		status, data, err := st.api.do(ctx, http.MethodGet, "/api/v1/app/"+appIDs[0]+"/endpoint/"+epIDs[0]+"/stats", nil)
		if err == nil && status == http.StatusOK {
			if jerr := json.Unmarshal(data, &stats); jerr == nil {
				p.SampleEndpoint = &EndpointCounts{Pending: stats.Pending, Sending: stats.Sending, Success: stats.Success, Fail: stats.Fail}
			}
		}
	}
	after := st.snap(ctx)
	r.Pending = p
	st.fillServer(&r, before, after)
	return r, nil
}

// runIngest measures the API alone: an application without endpoints, then one with one
// endpoint (whose deliveries compete with the API for the database).
func (st *runState) runIngest(ctx context.Context, base Result) ([]Result, error) {
	var out []Result
	for _, withEndpoint := range []bool{false, true} {
		r := base
		perApp := 0
		r.Scenario, r.About = "ingest/0ep", "API ingest: an application without endpoints"
		if withEndpoint {
			perApp = 1
			r.Scenario, r.About = "ingest/1ep", "API ingest: an application with one endpoint"
		}
		r.EndpointsPerApp, r.Endpoints = perApp, perApp
		appIDs, _, setupTime, err := st.setup(ctx, r.Scenario[len("ingest/"):], 1, perApp, 0)
		if err != nil {
			return out, err
		}
		r.SetupSeconds = setupTime.Seconds()
		rec := newRecorder(st.t0, st.sc.messages*perApp)
		st.rec.Store(rec)
		st.rv.record(rec)
		st.posted.Store(0)
		st.want.Store(0)
		before := st.snap(ctx)
		st.setPhase("posting")
		load := st.api.post(ctx, loadSpec{apps: appIDs, messages: st.sc.messages, duration: st.sc.duration, rate: st.sc.rate,
			posters: st.sc.posters, payload: st.o.PayloadSize, t0: st.t0}, &st.posted)
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		st.fillAPI(&r, load)
		r.Expected = len(load.sent) * perApp
		if perApp > 0 {
			st.want.Store(int64(r.Expected))
			st.setPhase("delivering")
			complete, err := rec.waitDelivered(ctx, int64(r.Expected), time.Now().Add(st.deadline(r.Expected)))
			if err != nil {
				return out, err
			}
			r.Complete = complete
			r.Delivered = int(rec.delivered.Load())
			r.Requests = int(rec.requests.Load())
			r.Duplicates = int(rec.duplicates.Load())
			if end := rec.lastOK.Load(); end > load.start {
				r.DeliverSeconds = float64(end-load.start) / 1e9
				r.DeliveredPerSec = float64(r.Delivered) / r.DeliverSeconds
			}
			st.latencies(&r, rec, load)
		} else {
			r.Complete = true
		}
		st.fillServer(&r, before, st.snap(ctx))
		out = append(out, r)
	}
	return out, nil
}

// snapshot is the server's state at one moment: its process, its delivery metrics and, on
// PostgreSQL, the database server's WAL position and CPU time (pg, valid when pgErr is nil).
type snapshot struct {
	proc    procstat.Stats
	metrics map[string]float64
	pg      pgSample
	pgErr   error
}

// snap reads the server's process and metrics, and the database server's.
func (st *runState) snap(ctx context.Context) snapshot {
	s := snapshot{proc: st.procStats(), metrics: st.api.metrics(ctx)}
	if st.pg != nil {
		s.pg, s.pgErr = st.pg.sample(ctx)
	}
	return s
}

// procStats reads the server process and keeps the highest RSS seen.
func (st *runState) procStats() procstat.Stats {
	if st.srv == nil {
		return procstat.Stats{}
	}
	s, err := procstat.Read(st.srv.cmd.Process.Pid)
	if err != nil {
		return procstat.Stats{}
	}
	for {
		p := st.peak.Load()
		if s.RSS <= p || st.peak.CompareAndSwap(p, s.RSS) {
			break
		}
	}
	return s
}

// fillServer sets the server's memory, CPU and database size, and on PostgreSQL the database
// server's CPU and WAL.
func (st *runState) fillServer(r *Result, before, after snapshot) {
	r.Engine = engineStats(before.metrics, after.metrics)
	r.Inside = insideStats(before.metrics, after.metrics)
	if st.pg != nil {
		if err := cmp.Or(before.pgErr, after.pgErr); err != nil {
			r.Postgres = &PostgresCost{Error: err.Error()}
		} else {
			r.Postgres = st.pg.cost(before.pg, after.pg, r.Delivered)
		}
	}
	if st.srv == nil {
		return
	}
	wall := r.PostSeconds
	if r.DeliverSeconds > wall {
		wall = r.DeliverSeconds
	}
	if r.Pending != nil {
		wall += r.Pending.HoldSeconds
	}
	db, wal := dbSize(st.srv.dataDir)
	s := &Server{
		RSSMB:      mb(after.proc.RSS),
		PeakRSSMB:  mb(max(after.proc.HWM, st.peak.Load())),
		CPUSeconds: (after.proc.CPU - before.proc.CPU).Seconds(),
		DBMB:       mb(db),
		WALMB:      mb(wal),
		PID:        st.srv.cmd.Process.Pid,
	}
	if wall > 0 {
		s.CPUPercent = 100 * s.CPUSeconds / wall
	}
	if r.Delivered > 0 {
		s.CPUPerDeliveryUs = s.CPUSeconds * 1e6 / float64(r.Delivered)
	}
	if st.o.KeepData {
		s.Dir = st.srv.root
	}
	r.Server = s
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// engineStats derives the delivery engine's batching from two metric snapshots: how many
// claim queries and record transactions ran, and their average sizes.
func engineStats(before, after map[string]float64) *Engine {
	if after == nil {
		return nil
	}
	delta := func(name string) float64 { return after[name] - before[name] }
	e := &Engine{
		Claims:     int(delta("hookline_delivery_claim_batch_size_count")),
		RecordTxns: int(delta("hookline_delivery_record_batch_size_count")),
	}
	if e.Claims > 0 {
		e.ClaimBatch = delta("hookline_delivery_claim_batch_size_sum") / float64(e.Claims)
	}
	if e.RecordTxns > 0 {
		e.RecordBatch = delta("hookline_delivery_record_batch_size_sum") / float64(e.RecordTxns)
	}
	return e
}

// The histograms the benchmark reads off the server, with their labels.
const (
	apiDurationName   = "hookline_http_request_duration_seconds"
	apiDurationLabels = `route="POST /api/v1/app/{app_id}/msg"`
	walSyncName       = "hookline_sqlite_wal_sync_duration_seconds"
)

// insideStats reads what the server measured itself between two metric snapshots.
func insideStats(before, after map[string]float64) *Inside {
	if after == nil {
		return nil
	}
	in := &Inside{}
	api := histogramDelta(before, after, apiDurationName, apiDurationLabels)
	in.APIRequests = int(api.count)
	in.APIP99AtMostMs = api.quantileBound(0.99)
	wal := histogramDelta(before, after, walSyncName, "")
	in.WALSyncs = int(wal.count)
	in.WALSyncP50AtMost = wal.quantileBound(0.50)
	in.WALSyncP99AtMost = wal.quantileBound(0.99)
	in.WALSyncsOver5ms = int(wal.count - wal.within(0.005))
	return in
}

// histogram is the change of a Prometheus histogram between two snapshots.
type histogram struct {
	bounds []float64 // seconds, ascending
	cum    []float64 // observations at most bounds[i]
	count  float64
}

// histogramDelta reads the change of the histogram name{labels} between two snapshots.
func histogramDelta(before, after map[string]float64, name, labels string) histogram {
	var h histogram
	count := name + "_count"
	prefix := name + "_bucket{" + labels
	if labels != "" {
		count += "{" + labels + "}"
		prefix += ","
	}
	prefix += `le="`
	h.count = after[count] - before[count]
	series := map[float64]string{} // bucket bound → its series
	for k := range after {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		le, err := strconv.ParseFloat(strings.TrimSuffix(rest, `"}`), 64)
		if err != nil || math.IsInf(le, 1) {
			continue
		}
		series[le] = k
		h.bounds = append(h.bounds, le)
	}
	slices.Sort(h.bounds)
	for _, le := range h.bounds {
		h.cum = append(h.cum, after[series[le]]-before[series[le]])
	}
	return h
}

// quantileBound is the upper bound, in milliseconds, of the bucket holding quantile q; 0 when
// it is past the last bucket or there are no observations.
func (h histogram) quantileBound(q float64) float64 {
	if h.count == 0 {
		return 0
	}
	for i, c := range h.cum {
		if c >= q*h.count {
			return h.bounds[i] * 1000
		}
	}
	return 0
}

// within counts the observations of at most le seconds (le must be a bucket bound).
func (h histogram) within(le float64) float64 {
	for i, b := range h.bounds {
		if b == le {
			return h.cum[i]
		}
	}
	return h.count
}
