package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/bench"
	"github.com/hookline/hookline/internal/pgtest"
)

// hooklineBin is the hookline binary TestMain builds: the benchmark starts the server as a
// separate process of it, as `hookline bench` does.
var hooklineBin string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "hookline-bench-test-*")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		hooklineBin = filepath.Join(dir, "hookline")
		build := exec.Command("go", "build", "-o", hooklineBin, "github.com/hookline/hookline/cmd/hookline")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build hookline:", err)
			return 1
		}
		return m.Run()
	}())
}

// TestSmoke runs small versions of two scenarios through the command line and checks that
// the harness works: every delivery arrived, the numbers are there, the JSON parses. It makes
// no claim about speed; docs/performance.md has the real runs.
func TestSmoke(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int // deliveries
		msgs int
	}{
		{"1ep", []string{"--scenario", "1ep", "--messages", "300"}, 300, 300},
		{"fanout20", []string{"--scenario", "fanout1000", "--endpoints", "20", "--messages", "2"}, 40, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runBench(t, 60*time.Second, tt.args...)
			if r.APIErrors != 0 || !r.Complete || r.Delivered != tt.want || r.Expected != tt.want || r.Duplicates != 0 {
				t.Errorf("apiErrors %d (%s), complete %v, delivered %d, expected %d, duplicates %d; want no errors and all %d delivered once",
					r.APIErrors, r.FirstAPIError, r.Complete, r.Delivered, r.Expected, r.Duplicates, tt.want)
			}
			positive := map[string]float64{
				"acceptedPerSec": r.AcceptedPerSec, "deliveredPerSec": r.DeliveredPerSec,
				"api p99": r.APILatency.P99, "delivery max": r.DeliveryLatency.Max,
			}
			if r.Server == nil {
				t.Fatal("no server numbers")
			}
			positive["rss"], positive["peak rss"], positive["db size"] = r.Server.RSSMB, r.Server.PeakRSSMB, r.Server.DBMB
			if r.Baseline == nil {
				t.Fatal("no baseline")
			}
			positive["baseline"], positive["baseline ratio"] = r.Baseline.PerSec, r.BaselineRatio
			for name, v := range positive {
				if !(v > 0) {
					t.Errorf("%s = %v, want > 0", name, v)
				}
			}
			if r.DeliveryLatency.N != tt.want {
				t.Errorf("delivery latency from %d samples, want %d", r.DeliveryLatency.N, tt.want)
			}
			// The server's own histograms: it saw every message request, and (SQLite with
			// synchronous=FULL) answered them after WAL fsyncs (one per group commit).
			if in := r.Inside; in == nil || in.APIRequests != tt.msgs || in.APIP99AtMostMs <= 0 || in.WALSyncs <= 0 || in.WALSyncP99AtMost <= 0 {
				t.Errorf("inside = %+v, want %d API requests and WAL fsyncs, with their p99 bounds", in, tt.msgs)
			}
			if r.Scenario == "fanout1000" && len(r.FanoutSeconds) != 2 {
				t.Errorf("fan-out times %v, want one per message", r.FanoutSeconds)
			}
		})
	}
}

// TestSmokePostgres runs the harness against PostgreSQL (a schema of its own on the test
// server) and checks that it reports the database server's costs: its WAL, and its CPU when
// the server runs on this machine, each per delivery beside Hookline's CPU per delivery.
func TestSmokePostgres(t *testing.T) {
	dbURL := pgtest.URL(t)
	r := runBench(t, 90*time.Second, "--no-baseline", "--scenario", "100ep", "--endpoints", "10", "--messages", "30",
		"--database-url", dbURL)
	if r.Database != "postgres" || !r.Complete || r.Delivered != 300 || r.Duplicates != 0 {
		t.Fatalf("database %q, complete %v, delivered %d, duplicates %d; want postgres and all 300 delivered once",
			r.Database, r.Complete, r.Delivered, r.Duplicates)
	}
	if r.Server == nil || !(r.Server.CPUPerDeliveryUs > 0) {
		t.Errorf("server = %+v, want Hookline's CPU per delivery", r.Server)
	}
	pg := r.Postgres
	if pg == nil {
		t.Fatal("no postgres costs in the result")
	}
	if pg.Error != "" || pg.WALBytes <= 0 || !(pg.WALBytesPerDelivery > 0) {
		t.Errorf("postgres = %+v, want WAL bytes in all and per delivery", *pg)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if h := u.Hostname(); h == "127.0.0.1" || h == "localhost" || h == "::1" {
		// A server on this machine: its processes are in /proc.
		if pg.CPUNote != "" || !(pg.CPUSeconds > 0) || !(pg.CPUPerDeliveryUs > 0) || pg.PostmasterPID <= 0 {
			t.Errorf("postgres = %+v, want the local server's CPU in all and per delivery", *pg)
		}
	}
}

// runBench runs `hookline bench --json` with args, within timeout, and returns its one result.
func runBench(t *testing.T, timeout time.Duration, args ...string) bench.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args = append([]string{"bench", "--json", "--quiet", "--deadline", "25s"}, args...)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, hooklineBin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("hookline %v: %v\nstderr:\n%s", args, err, stderr.String())
	}
	var out struct {
		Results []bench.Result `json:"results"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out.Results) != 1 {
		t.Fatalf("output is not one result in JSON (%v):\n%s", err, stdout.String())
	}
	return out.Results[0]
}

// TestTable checks that the readable report renders every section.
func TestTable(t *testing.T) {
	r := bench.Result{Scenario: "x", Accepted: 1, Expected: 1, Delivered: 1, Complete: true, Database: "postgres",
		Baseline: &bench.Baseline{PerSec: 10}, BaselineRatio: 0.5, Server: &bench.Server{RSSMB: 1, CPUPerDeliveryUs: 61},
		Engine:   &bench.Engine{Claims: 1, ClaimBatch: 1},
		Postgres: &bench.PostgresCost{CPUSeconds: 1, CPUPerDeliveryUs: 52, WALBytes: 1 << 20, WALBytesPerDelivery: 1234}}
	var b bytes.Buffer
	if err := bench.WriteTable(&b, []bench.Result{r}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"== x", "delivery", "baseline", "50.0 %", "server", "engine", "deliveries/s",
		"postgres    CPU 1.0s = 52 µs/delivery (Hookline 61 µs/delivery; together 113 µs); WAL 1.0 MiB = 1234 B/delivery",
		"PG µs/dlv", "PG WAL B/dlv"} {
		if !bytes.Contains(b.Bytes(), []byte(want)) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// TestRanges: with --repeat the table ends with each repeated scenario's lowest, median and
// highest figures; a scenario run once has no such line.
func TestRanges(t *testing.T) {
	run := func(name string, n int, perSec, ratio, apiP99 float64) bench.Result {
		return bench.Result{Scenario: name, Run: n, Accepted: 1, Expected: 1, Delivered: 1, Complete: true,
			DeliveredPerSec: perSec, BaselineRatio: ratio, APILatency: bench.Percentiles{N: 1, P99: apiP99},
			DeliveryLatency: bench.Percentiles{N: 1, P99: 3}}
	}
	results := []bench.Result{
		run("100ep", 1, 12000, 0.396, 5), run("100ep", 2, 14000, 0.412, 9), run("100ep", 3, 13000, 0.405, 7),
		run("latency", 0, 1000, 0, 6),
	}
	var b bytes.Buffer
	if err := bench.WriteTable(&b, results); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"== 100ep (run 2)", "over runs", "12000 / 13000 / 14000", "39.6 % / 40.5 % / 41.2 %", "5.00ms / 7.00ms / 9.00ms"} {
		if !bytes.Contains(b.Bytes(), []byte(want)) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	_, ranges, _ := strings.Cut(out, "over runs")
	if strings.Contains(ranges, "latency") {
		t.Errorf("a scenario run once has a range line:\n%s", out)
	}
}
