package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Result is what one scenario measured. Times are seconds, latencies milliseconds, sizes MiB.
type Result struct {
	Scenario        string   `json:"scenario"`
	Run             int      `json:"run,omitempty"` // 1, 2, … with --repeat
	About           string   `json:"about"`
	Database        string   `json:"database"`
	ServerFlags     []string `json:"serverFlags,omitempty"`
	Apps            int      `json:"apps"`
	EndpointsPerApp int      `json:"endpointsPerApp"`
	Endpoints       int      `json:"endpoints"`
	Receivers       int      `json:"receivers"`
	Posters         int      `json:"posters"`
	Rate            float64  `json:"rate,omitempty"`
	PayloadBytes    int      `json:"payloadBytes"`
	SetupSeconds    float64  `json:"setupSeconds"`

	Messages       int         `json:"messages"`
	Accepted       int         `json:"accepted"`
	APIErrors      int         `json:"apiErrors"`
	FirstAPIError  string      `json:"firstApiError,omitempty"`
	PostSeconds    float64     `json:"postSeconds"`
	AcceptedPerSec float64     `json:"acceptedPerSec"`
	APILatency     Percentiles `json:"apiLatencyMs"`
	// APIService is the API latency from the start of each request rather than its intended
	// send time: the difference is the load generator's own lag (its timers and scheduling on
	// the shared cores), which APILatency includes, as a real client's would.
	APIService Percentiles `json:"apiServiceMs"`

	Expected         int         `json:"expectedDeliveries"`
	Delivered        int         `json:"delivered"`
	Requests         int         `json:"receiverRequests"`
	Duplicates       int         `json:"duplicates"`
	Complete         bool        `json:"complete"`
	DeliverSeconds   float64     `json:"deliverSeconds"`
	DeliveredPerSec  float64     `json:"deliveredPerSec"`
	DeliveryLatency  Percentiles `json:"deliveryLatencyMs"`
	ArrivedBefore2xx int         `json:"arrivedBefore2xx"`
	FanoutSeconds    []float64   `json:"fanoutSeconds,omitempty"`

	Baseline      *Baseline `json:"baseline,omitempty"`
	BaselineRatio float64   `json:"baselineRatio,omitempty"`
	Failing       *Failing  `json:"failing,omitempty"`
	Pending       *Pending  `json:"pending,omitempty"`
	Server        *Server   `json:"server,omitempty"`
	// Postgres is what the PostgreSQL server spent during the run, with --database-url.
	Postgres *PostgresCost `json:"postgres,omitempty"`
	Engine   *Engine       `json:"engine,omitempty"`
	Inside   *Inside       `json:"inside,omitempty"`
	// Destination is the broker side of a destination scenario (dest-redis, ...).
	Destination *DestinationRun `json:"destination,omitempty"`
}

// Engine is the delivery engine's batching, from the server's /metrics.
type Engine struct {
	Claims      int     `json:"claimQueries"`
	ClaimBatch  float64 `json:"avgClaimBatch"`
	RecordTxns  int     `json:"recordTransactions"`
	RecordBatch float64 `json:"avgRecordBatch"`
}

// Inside is what the server measured itself during the run, from its metrics: its own time
// for the message requests (without the load generator's) and its WAL fsyncs. The figures are
// the upper bounds of histogram buckets.
type Inside struct {
	APIRequests int `json:"apiRequests"`
	// APIP99AtMostMs bounds the p99 of the server's time for POST .../msg; 0 when over the
	// last bucket.
	APIP99AtMostMs float64 `json:"apiP99AtMostMs"`
	// WALSyncs counts the fsyncs of SQLite's WAL that acknowledged commits (synchronous=FULL).
	WALSyncs         int     `json:"walSyncs,omitempty"`
	WALSyncP50AtMost float64 `json:"walSyncP50AtMostMs,omitempty"`
	WALSyncP99AtMost float64 `json:"walSyncP99AtMostMs,omitempty"`
	WALSyncsOver5ms  int     `json:"walSyncsOver5ms,omitempty"`
}

// Percentiles summarise latencies, in milliseconds.
type Percentiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Baseline is the receivers' throughput with a plain HTTP client posting to them directly.
type Baseline struct {
	Requests    int         `json:"requests"`
	Errors      int         `json:"errors"`
	Concurrency int         `json:"concurrency"`
	Seconds     float64     `json:"seconds"`
	PerSec      float64     `json:"perSec"`
	Latency     Percentiles `json:"latencyMs"`
	// Broker is set when the baseline published to a broker (a destination scenario) instead
	// of posting to the receivers; Latency is then until the broker's acknowledgement.
	Broker *BrokerBaseline `json:"broker,omitempty"`
}

// Failing describes the failing endpoints of failing10.
type Failing struct {
	Endpoints     int `json:"endpoints"`
	ExpectedFirst int `json:"expectedFirstAttempts"`
	Deliveries    int `json:"deliveriesSeen"`
	Requests      int `json:"requests"`
	Retried       int `json:"retried"`
}

// Pending describes pending1m's held deliveries.
type Pending struct {
	Created        int             `json:"created"`
	HoldSeconds    float64         `json:"holdSeconds"`
	SampleEndpoint *EndpointCounts `json:"sampleEndpoint,omitempty"`
}

// EndpointCounts are one endpoint's deliveries by status, from the API.
type EndpointCounts struct {
	Pending int64 `json:"pending"`
	Sending int64 `json:"sending"`
	Success int64 `json:"success"`
	Fail    int64 `json:"fail"`
}

// Server is the server process's resources, read from /proc; absent with --target.
type Server struct {
	PID        int     `json:"pid"`
	RSSMB      float64 `json:"rssMiB"`
	PeakRSSMB  float64 `json:"peakRssMiB"`
	CPUSeconds float64 `json:"cpuSeconds"`
	CPUPercent float64 `json:"cpuPercentOfOneCore"`
	// CPUPerDeliveryUs is CPUSeconds per successful delivery, in microseconds.
	CPUPerDeliveryUs float64 `json:"cpuPerDeliveryUs,omitempty"`
	DBMB             float64 `json:"dbMiB"`
	WALMB            float64 `json:"walMiB"`
	Dir              string  `json:"dir,omitempty"`
}

// PostgresCost is what the PostgreSQL server spent from the first message posted to the last
// delivery: the whole server's, so on a server that other work shares it counts that work too.
// Per delivery is per successful delivery.
type PostgresCost struct {
	// CPUSeconds is the user and system CPU time of the server's processes (the postmaster,
	// its children, and the children that exited meanwhile), from /proc; 0 with CPUNote saying
	// why when the server is not on this machine or its processes cannot be read.
	CPUSeconds       float64 `json:"cpuSeconds"`
	CPUPerDeliveryUs float64 `json:"cpuPerDeliveryUs"`
	CPUNote          string  `json:"cpuNote,omitempty"`
	PostmasterPID    int     `json:"postmasterPid,omitempty"`
	// WALBytes is how far pg_current_wal_lsn() moved.
	WALBytes            int64   `json:"walBytes"`
	WALBytesPerDelivery float64 `json:"walBytesPerDelivery"`
	// Error is why the costs could not be read at all.
	Error string `json:"error,omitempty"`
}

// atMost prints a histogram bound in milliseconds: 0 means over the last bucket.
func atMost(ms float64) string {
	if ms == 0 {
		return "over the last bucket"
	}
	return "≤ " + strconv.FormatFloat(ms, 'g', -1, 64) + "ms"
}

// percentiles sorts ns (nanoseconds) and summarises them.
func percentiles(ns []int64) Percentiles {
	if len(ns) == 0 {
		return Percentiles{}
	}
	slices.Sort(ns)
	at := func(q float64) float64 {
		i := int(q*float64(len(ns))+0.5) - 1
		return float64(ns[min(max(i, 0), len(ns)-1)]) / 1e6
	}
	return Percentiles{N: len(ns), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: float64(ns[len(ns)-1]) / 1e6}
}

func (p Percentiles) String() string {
	if p.N == 0 {
		return "-"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s", ms(p.P50), ms(p.P90), ms(p.P99), ms(p.Max))
}

// pct formats a ratio as a percentage, with a decimal when it is small.
func pct(ratio float64) string {
	if ratio < 0.1 {
		return fmt.Sprintf("%.1f %%", 100*ratio)
	}
	return fmt.Sprintf("%.0f %%", 100*ratio)
}

func ms(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.2fs", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0fms", v)
	default:
		return fmt.Sprintf("%.2fms", v)
	}
}

// WriteJSON writes the results as one JSON document.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Results []Result `json:"results"`
	}{results})
}

// WriteTable writes the results for people: a block per scenario, then a summary table.
func WriteTable(w io.Writer, results []Result) error {
	var b strings.Builder
	for _, r := range results {
		if r.Run > 0 {
			fmt.Fprintf(&b, "== %s (run %d): %s\n", r.Scenario, r.Run, r.About)
		} else {
			fmt.Fprintf(&b, "== %s: %s\n", r.Scenario, r.About)
		}
		fmt.Fprintf(&b, "   setup       %d apps × %d endpoints (%d receiver listeners, %s) in %.1fs; %d posters",
			r.Apps, r.EndpointsPerApp, r.Receivers, r.Database, r.SetupSeconds, r.Posters)
		if r.Rate > 0 {
			fmt.Fprintf(&b, ", fixed rate %.0f msg/s", r.Rate)
		}
		fmt.Fprintf(&b, ", payload %d B", r.PayloadBytes)
		if len(r.ServerFlags) > 0 {
			fmt.Fprintf(&b, "; server %s", strings.Join(r.ServerFlags, " "))
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "   API         %d accepted in %.2fs = %.0f msg/s; latency %s", r.Accepted, r.PostSeconds, r.AcceptedPerSec, r.APILatency)
		if r.Rate > 0 {
			fmt.Fprintf(&b, "\n               from the request's start (without the sender's lag): %s", r.APIService)
		}
		if r.APIErrors > 0 {
			fmt.Fprintf(&b, "; %d ERRORS (first: %s)", r.APIErrors, r.FirstAPIError)
		}
		b.WriteString("\n")
		if r.Expected > 0 && r.Pending == nil {
			state := "all delivered"
			if !r.Complete {
				state = "INCOMPLETE"
			}
			reads := "receiver requests"
			if r.Destination != nil {
				reads = "messages the consumer read"
			}
			fmt.Fprintf(&b, "   delivery    %d/%d %s in %.2fs = %.0f deliveries/s; %s %d, duplicates %d\n",
				r.Delivered, r.Expected, state, r.DeliverSeconds, r.DeliveredPerSec, reads, r.Requests, r.Duplicates)
			fmt.Fprintf(&b, "   2xx→arrival %s", r.DeliveryLatency)
			if r.ArrivedBefore2xx > 0 {
				fmt.Fprintf(&b, " (%d arrived before the poster had its 2xx: counted as 0)", r.ArrivedBefore2xx)
			}
			b.WriteString("\n")
		}
		if len(r.FanoutSeconds) > 0 {
			parts := make([]string, len(r.FanoutSeconds))
			for i, s := range r.FanoutSeconds {
				parts[i] = ms(s * 1000)
			}
			fmt.Fprintf(&b, "   fan-out     2xx → last of %d deliveries, per message: %s\n", r.Endpoints, strings.Join(parts, ", "))
		}
		if f := r.Failing; f != nil {
			fmt.Fprintf(&b, "   failing     %d endpoints answer 500: %d deliveries seen of %d, %d requests, %d deliveries retried\n",
				f.Endpoints, f.Deliveries, f.ExpectedFirst, f.Requests, f.Retried)
		}
		if p := r.Pending; p != nil {
			fmt.Fprintf(&b, "   pending     %d deliveries created, held %.0fs", p.Created, p.HoldSeconds)
			if c := p.SampleEndpoint; c != nil {
				fmt.Fprintf(&b, "; endpoint 0 has %d pending, %d sending, %d failed, %d succeeded", c.Pending, c.Sending, c.Fail, c.Success)
			}
			b.WriteString("\n")
		}
		writeDestination(&b, r)
		if bl := r.Baseline; bl != nil && bl.Broker != nil {
			writeBrokerBaseline(&b, r)
		} else if bl != nil {
			fmt.Fprintf(&b, "   baseline    direct HTTP: %d requests, %d in flight, %.2fs = %.0f req/s (latency %s)",
				bl.Requests, bl.Concurrency, bl.Seconds, bl.PerSec, bl.Latency)
			if r.BaselineRatio > 0 {
				fmt.Fprintf(&b, "; Hookline = %.1f %% of it", 100*r.BaselineRatio)
			}
			b.WriteString("\n")
		}
		if s := r.Server; s != nil {
			fmt.Fprintf(&b, "   server      RSS %.0f MiB (peak %.0f MiB), CPU %.1fs = %.0f %% of one core",
				s.RSSMB, s.PeakRSSMB, s.CPUSeconds, s.CPUPercent)
			if s.CPUPerDeliveryUs > 0 {
				fmt.Fprintf(&b, " = %.0f µs/delivery", s.CPUPerDeliveryUs)
			}
			if r.Database == "sqlite" {
				fmt.Fprintf(&b, ", database %.1f MiB + WAL %.1f MiB", s.DBMB, s.WALMB)
			}
			if s.Dir != "" {
				fmt.Fprintf(&b, "; kept in %s", s.Dir)
			}
			b.WriteString("\n")
		}
		if pg := r.Postgres; pg != nil {
			b.WriteString("   postgres   ")
			switch {
			case pg.Error != "":
				fmt.Fprintf(&b, " costs not read: %s", pg.Error)
			default:
				if pg.CPUNote == "" {
					fmt.Fprintf(&b, " CPU %.1fs", pg.CPUSeconds)
					if pg.CPUPerDeliveryUs > 0 {
						fmt.Fprintf(&b, " = %.0f µs/delivery", pg.CPUPerDeliveryUs)
						if s := r.Server; s != nil && s.CPUPerDeliveryUs > 0 {
							fmt.Fprintf(&b, " (Hookline %.0f µs/delivery; together %.0f µs)", s.CPUPerDeliveryUs, s.CPUPerDeliveryUs+pg.CPUPerDeliveryUs)
						}
					}
					b.WriteString(";")
				}
				fmt.Fprintf(&b, " WAL %.1f MiB", mb(pg.WALBytes))
				if pg.WALBytesPerDelivery > 0 {
					fmt.Fprintf(&b, " = %.0f B/delivery", pg.WALBytesPerDelivery)
				}
				if pg.CPUNote != "" {
					fmt.Fprintf(&b, "; no CPU: %s", pg.CPUNote)
				}
			}
			b.WriteString("\n")
		}
		if in := r.Inside; in != nil && (in.APIRequests > 0 || in.WALSyncs > 0) {
			b.WriteString("   inside     ")
			if in.APIRequests > 0 {
				fmt.Fprintf(&b, " API p99 %s by the server's own clock (%d requests)", atMost(in.APIP99AtMostMs), in.APIRequests)
			}
			if in.WALSyncs > 0 {
				if in.APIRequests > 0 {
					b.WriteString(";")
				}
				fmt.Fprintf(&b, " %d WAL fsyncs: p50 %s, p99 %s, %d over 5ms",
					in.WALSyncs, atMost(in.WALSyncP50AtMost), atMost(in.WALSyncP99AtMost), in.WALSyncsOver5ms)
			}
			b.WriteString("\n")
		}
		if e := r.Engine; e != nil && (e.Claims > 0 || e.RecordTxns > 0) {
			fmt.Fprintf(&b, "   engine      %d claim queries (%.1f deliveries each), %d record transactions (%.1f outcomes each)\n",
				e.Claims, e.ClaimBatch, e.RecordTxns, e.RecordBatch)
		}
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tmsg/s\tAPI p99\tdeliveries/s\tvs direct\tdelivery p50\tp99\tRSS MiB\tpeak\tCPU %\tµs/dlv\tPG µs/dlv\tPG WAL B/dlv\t")
	for _, r := range results {
		row := []string{r.Scenario, fmt.Sprintf("%.0f", r.AcceptedPerSec), ms(r.APILatency.P99), "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"}
		if r.Delivered > 0 {
			row[3] = fmt.Sprintf("%.0f", r.DeliveredPerSec)
			row[5], row[6] = ms(r.DeliveryLatency.P50), ms(r.DeliveryLatency.P99)
		}
		if r.BaselineRatio > 0 {
			row[4] = pct(r.BaselineRatio)
		}
		if s := r.Server; s != nil {
			row[7], row[8], row[9] = fmt.Sprintf("%.0f", s.RSSMB), fmt.Sprintf("%.0f", s.PeakRSSMB), fmt.Sprintf("%.0f", s.CPUPercent)
			if s.CPUPerDeliveryUs > 0 {
				row[10] = fmt.Sprintf("%.0f", s.CPUPerDeliveryUs)
			}
		}
		if pg := r.Postgres; pg != nil && pg.Error == "" && r.Delivered > 0 {
			if pg.CPUNote == "" {
				row[11] = fmt.Sprintf("%.0f", pg.CPUPerDeliveryUs)
			}
			row[12] = fmt.Sprintf("%.0f", pg.WALBytesPerDelivery)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeRanges(w, results)
}

// writeRanges prints, for each scenario run more than once, the lowest, median and highest of
// its main figures over the runs.
func writeRanges(w io.Writer, results []Result) error {
	var order []string
	runs := map[string][]Result{}
	for _, r := range results {
		if _, seen := runs[r.Scenario]; !seen {
			order = append(order, r.Scenario)
		}
		runs[r.Scenario] = append(runs[r.Scenario], r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := false
	for _, name := range order {
		rs := runs[name]
		if len(rs) < 2 {
			continue
		}
		if !header {
			fmt.Fprintln(tw, "\nover runs: lowest / median / highest")
			fmt.Fprintln(tw, "scenario\truns\tdeliveries/s\tvs direct\tAPI p99\tdelivery p99\t")
			header = true
		}
		spread := func(get func(Result) float64, format func(float64) string) string {
			var v []float64
			for _, r := range rs {
				if x := get(r); x > 0 {
					v = append(v, x)
				}
			}
			if len(v) == 0 {
				return "-"
			}
			slices.Sort(v)
			return format(v[0]) + " / " + format(median(v)) + " / " + format(v[len(v)-1])
		}
		count := func(x float64) string { return fmt.Sprintf("%.0f", x) }
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", name, len(rs),
			spread(func(r Result) float64 { return r.DeliveredPerSec }, count),
			spread(func(r Result) float64 { return r.BaselineRatio }, func(x float64) string { return fmt.Sprintf("%.1f %%", 100*x) }),
			spread(func(r Result) float64 { return r.APILatency.P99 }, ms),
			spread(func(r Result) float64 { return r.DeliveryLatency.P99 }, ms))
	}
	return tw.Flush()
}

// median of sorted values.
func median(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// progress writes a status line to o.Progress about twice a second until the returned
// function is called.
func (st *runState) progress(ctx context.Context) func() {
	w := st.o.Progress
	if w == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		var lastPosted, lastDelivered int64
		last := time.Now()
		width := 0
		for {
			select {
			case <-ctx.Done():
				fmt.Fprintf(w, "\r%s\r", strings.Repeat(" ", width))
				return
			case <-tick.C:
			}
			now := time.Now()
			secs := now.Sub(last).Seconds()
			last = now
			posted := st.posted.Load()
			var delivered int64
			if rec := st.rec.Load(); rec != nil {
				delivered = rec.delivered.Load()
			}
			phase := "?"
			if p := st.phase.Load(); p != nil {
				phase = *p
			}
			line := fmt.Sprintf("[%s %s] sent %d (%.0f/s)", st.sc.name, phase, posted, float64(posted-lastPosted)/secs)
			if phase != "baseline" {
				line += fmt.Sprintf("  delivered %d", delivered)
				if want := st.want.Load(); want > 0 {
					line += fmt.Sprintf("/%d", want)
				}
				line += fmt.Sprintf(" (%.0f/s)", float64(delivered-lastDelivered)/secs)
			} else if want := st.want.Load(); want > 0 {
				line += fmt.Sprintf(" of %d", want)
			}
			if s := st.procStats(); s.RSS > 0 {
				line += fmt.Sprintf("  server RSS %.0f MiB", mb(s.RSS))
			}
			lastPosted, lastDelivered = posted, delivered
			width = max(width, len(line))
			fmt.Fprintf(w, "\r%-*s", width, line)
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}
