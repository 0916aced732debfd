package ui

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/i18n"
)

// The delivery charts are drawn on the server as inline SVG from counts of the attempts table
// (hookline.AttemptStatsStore): no script draws them and the CSP stays as it is. Each chart
// also has its numbers in a table, for screen readers and for anyone who wants them exact.

// chartRange is a period a chart shows, cut into buckets of Step.
type chartRange struct {
	Key, Label string
	// Ago and Mid label the time axis at its start and middle.
	Ago, Mid   string
	Span, Step time.Duration
}

// chartRanges are the periods; their words are message ids, which inLanguage resolves.
var chartRanges = []chartRange{
	{"1h", "chart.lastHour", "chart.agoHour", "chart.ago30Minutes", time.Hour, 5 * time.Minute},
	{"24h", "chart.last24Hours", "chart.ago24Hours", "chart.ago12Hours", 24 * time.Hour, time.Hour},
	{"7d", "chart.last7Days", "chart.ago7Days", "chart.ago3HalfDays", 7 * 24 * time.Hour, 6 * time.Hour},
	{"30d", "chart.last30Days", "chart.ago30Days", "chart.ago15Days", 30 * 24 * time.Hour, 24 * time.Hour},
}

// inLanguage returns the range with its words in p's language.
func (cr chartRange) inLanguage(p *i18n.Printer) chartRange {
	cr.Label, cr.Ago, cr.Mid = p.T(cr.Label), p.T(cr.Ago), p.T(cr.Mid)
	return cr
}

// rangeOf returns the range a query names; the last 24 hours by default.
func rangeOf(key string) chartRange {
	for _, r := range chartRanges {
		if r.Key == key {
			return r
		}
	}
	return chartRanges[1]
}

// bounds returns the range's start and end at now: the end is the end of now's bucket, so
// buckets fall on whole steps (hours, days in UTC) and the last one holds now.
func (cr chartRange) bounds(now time.Time) (since, until time.Time) {
	until = now.Truncate(cr.Step).Add(cr.Step)
	return until.Add(-cr.Span), until
}

// chartBucket is one bucket of a chart: its attempts by outcome, and their latency.
type chartBucket struct {
	Start, End time.Time
	OK, Fail   int
	Latency    latency
	durations  []durationCount
}

type durationCount struct {
	ms int64
	n  int
}

// latency holds the median and 95th percentile response times of some attempts; Has is
// false when there were none.
type latency struct {
	P50, P95 int64
	Has      bool
}

// percentiles computes nearest-rank percentiles of counted durations.
func percentiles(ds []durationCount) latency {
	total := 0
	for _, d := range ds {
		total += d.n
	}
	if total == 0 {
		return latency{}
	}
	ds = slices.Clone(ds)
	slices.SortFunc(ds, func(a, b durationCount) int { return int(a.ms - b.ms) })
	rank := func(q float64) int64 {
		want := int(math.Ceil(q * float64(total)))
		seen := 0
		for _, d := range ds {
			if seen += d.n; seen >= want {
				return d.ms
			}
		}
		return ds[len(ds)-1].ms
	}
	return latency{P50: rank(0.5), P95: rank(0.95), Has: true}
}

// deliveryChart is the deliveries (and optionally latency) chart of an endpoint or an
// application over a range, with its geometry worked out for the template.
type deliveryChart struct {
	p       *i18n.Printer
	Range   chartRange
	Ranges  []chartRange
	Buckets []chartBucket
	OK      int
	Fail    int
	Latency latency
	// WithLatency draws the latency chart too (endpoint pages).
	WithLatency bool

	Bars        []chartBar
	YTicks      []chartTick
	LatencyLine []chartLine
	LatencyTick []chartTick
	Dots        []chartDot
}

// Geometry of the charts' SVG viewBox.
const (
	chartW     = 640
	chartH     = 170
	chartLeft  = 40
	chartRight = 8
	chartTop   = 10
	chartBot   = 22
)

type chartBar struct {
	X, W           float64
	OKY, OKH       float64
	FailY, FailH   float64
	EmptyY         float64
	Title          string
	HasOK, HasFail bool
}

// chartTick is a label on an axis at Pos (y on the value axis, x on the time axis).
type chartTick struct {
	Pos   float64
	Label string
}

type chartLine struct {
	Class  string
	Points string
}

type chartDot struct {
	Class string
	X, Y  float64
	Title string
}

// Total is the number of attempts in the chart.
func (c *deliveryChart) Total() int { return c.OK + c.Fail }

// Rate is the share of attempts that delivered, in words: "83.3%"; "" without attempts.
func (c *deliveryChart) Rate() string { return successRate(c.p, c.OK, c.Fail) }

func successRate(p *i18n.Printer, ok, fail int) string {
	if ok+fail == 0 {
		return ""
	}
	return p.Percent(float64(ok) / float64(ok+fail))
}

// XLabels are the labels under the time axis: the start, the middle and now.
func (c *deliveryChart) XLabels() []chartTick {
	return []chartTick{{chartLeft, c.Range.Ago}, {chartLeft + float64(chartW-chartLeft-chartRight)/2, c.Range.Mid},
		{chartW - chartRight, c.p.T("chart.now")}}
}

// ViewBox is the SVG viewBox of the charts.
func (c *deliveryChart) ViewBox() string { return fmt.Sprintf("0 0 %d %d", chartW, chartH) }

// Base is the y of the time axis.
func (c *deliveryChart) Base() float64 { return chartH - chartBot }

// newDeliveryChart builds the chart of counts over cr at now.
func newDeliveryChart(p *i18n.Printer, cr chartRange, now time.Time, counts []hookline.AttemptCount, withLatency bool) *deliveryChart {
	since, _ := cr.bounds(now)
	n := int(cr.Span / cr.Step)
	c := &deliveryChart{p: p, Range: cr.inLanguage(p), WithLatency: withLatency, Buckets: make([]chartBucket, n)}
	for _, r := range chartRanges {
		c.Ranges = append(c.Ranges, r.inLanguage(p))
	}
	for i := range c.Buckets {
		c.Buckets[i].Start = since.Add(time.Duration(i) * cr.Step)
		c.Buckets[i].End = c.Buckets[i].Start.Add(cr.Step)
	}
	var all []durationCount
	for _, ct := range counts {
		if ct.Bucket < 0 || ct.Bucket >= n {
			continue
		}
		b := &c.Buckets[ct.Bucket]
		if ct.Status == hookline.StatusSuccess {
			b.OK += ct.N
			c.OK += ct.N
		} else {
			b.Fail += ct.N
			c.Fail += ct.N
		}
		if withLatency {
			b.durations = append(b.durations, durationCount{ct.DurationMs, ct.N})
			all = append(all, durationCount{ct.DurationMs, ct.N})
		}
	}
	if withLatency {
		c.Latency = percentiles(all)
		for i := range c.Buckets {
			c.Buckets[i].Latency = percentiles(c.Buckets[i].durations)
		}
	}
	c.layout()
	return c
}

// niceMax rounds a chart's largest value up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func (c *deliveryChart) layout() {
	plotW := float64(chartW - chartLeft - chartRight)
	plotH := float64(chartH - chartTop - chartBot)
	base := float64(chartH - chartBot)
	n := len(c.Buckets)
	slot := plotW / float64(n)
	maxTotal := 0
	var maxMs int64
	for _, b := range c.Buckets {
		maxTotal = max(maxTotal, b.OK+b.Fail)
		maxMs = max(maxMs, b.Latency.P95)
	}
	yMax := niceMax(float64(maxTotal))
	c.YTicks = []chartTick{{base, "0"}, {base - plotH/2, c.p.Decimal(yMax/2, 1)}, {base - plotH, c.p.Decimal(yMax, 1)}}
	msMax := niceMax(float64(maxMs))
	c.LatencyTick = []chartTick{{base, "0"}, {base - plotH/2, c.p.T("chart.ms", "n", c.p.Decimal(msMax/2, 1))}, {base - plotH, c.p.T("chart.ms", "n", c.p.Decimal(msMax, 1))}}
	var p50, p95 []string
	flush := func() {
		if len(p50) > 1 {
			c.LatencyLine = append(c.LatencyLine, chartLine{"line-p50", strings.Join(p50, " ")}, chartLine{"line-p95", strings.Join(p95, " ")})
		}
		p50, p95 = nil, nil
	}
	for i, b := range c.Buckets {
		x := float64(chartLeft) + float64(i)*slot
		okH := plotH * float64(b.OK) / yMax
		failH := plotH * float64(b.Fail) / yMax
		bar := chartBar{X: round1(x + slot*0.15), W: round1(slot * 0.7), OKH: round1(okH), OKY: round1(base - okH),
			FailH: round1(failH), FailY: round1(base - okH - failH), EmptyY: base - 1, HasOK: b.OK > 0, HasFail: b.Fail > 0,
			Title: c.p.T("chart.barTitle", "period", bucketLabel(c.p, b.Start, b.End), "ok", b.OK, "fail", b.Fail)}
		c.Bars = append(c.Bars, bar)
		if !b.Latency.Has {
			flush()
			continue
		}
		cx := round1(x + slot/2)
		y50 := round1(base - plotH*float64(b.Latency.P50)/msMax)
		y95 := round1(base - plotH*float64(b.Latency.P95)/msMax)
		p50 = append(p50, fmt.Sprintf("%g,%g", cx, y50))
		p95 = append(p95, fmt.Sprintf("%g,%g", cx, y95))
		label := bucketLabel(c.p, b.Start, b.End)
		c.Dots = append(c.Dots, chartDot{"dot-p95", cx, y95, c.p.T("chart.dotP95", "period", label, "ms", int(b.Latency.P95))},
			chartDot{"dot-p50", cx, y50, c.p.T("chart.dotP50", "period", label, "ms", int(b.Latency.P50))})
	}
	flush()
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// bucketLabel names a bucket's period in UTC: "6 Dec, 14:00–15:00 UTC", or days for day
// buckets, as p's language writes them.
func bucketLabel(p *i18n.Printer, start, end time.Time) string {
	start, end = start.UTC(), end.UTC()
	day := p.T("date.dayMonth", "day", strconv.Itoa(start.Day()), "month", p.Month(start.Month()))
	if end.Sub(start) >= 24*time.Hour {
		return p.T("chart.bucketDay", "day", day)
	}
	return p.T("chart.bucketHours", "day", day, "from", start.Format("15:04"), "to", end.Format("15:04"))
}

// attemptStats counts the attempts of the application (or of one endpoint) over cr.
func (d *Dashboard) attemptStats(r *http.Request, appID, endpointID string, cr chartRange, withLatency bool) ([]hookline.AttemptCount, error) {
	since, until := cr.bounds(d.svc.Now())
	return d.store.AttemptStats(r.Context(), appID, hookline.AttemptStatsQuery{EndpointID: endpointID, Since: since, Until: until,
		Step: cr.Step, Latency: withLatency})
}

// endpointHealth is an endpoint's last 24 hours at a glance, for the endpoints table: its
// success rate and a spark line of hourly attempts.
type endpointHealth struct {
	OK, Fail int
	Bars     []sparkBar
	p        *i18n.Printer
}

type sparkBar struct {
	X, OKY, OKH, FailY, FailH float64
}

// Rate is the share of delivered attempts in words; "" without attempts.
func (h endpointHealth) Rate() string { return successRate(h.p, h.OK, h.Fail) }

// Summary says the numbers behind the spark line.
func (h endpointHealth) Summary() string {
	return h.p.T("chart.healthSummary", "ok", h.OK, "fail", h.Fail)
}

// Bad reports a success rate under 90%, which the table marks.
func (h endpointHealth) Bad() bool {
	return h.OK+h.Fail > 0 && float64(h.OK) < 0.9*float64(h.OK+h.Fail)
}

// healthByEndpoint turns the application's hourly counts of the last 24 hours into each
// endpoint's health.
func healthByEndpoint(p *i18n.Printer, counts []hookline.AttemptCount) map[string]*endpointHealth {
	const n, w, h = 24, 3.0, 20.0
	type hour struct{ ok, fail int }
	hours := map[string]*[n]hour{}
	out := map[string]*endpointHealth{}
	for _, c := range counts {
		if c.Bucket < 0 || c.Bucket >= n {
			continue
		}
		if hours[c.EndpointID] == nil {
			hours[c.EndpointID] = &[n]hour{}
			out[c.EndpointID] = &endpointHealth{p: p}
		}
		if c.Status == hookline.StatusSuccess {
			hours[c.EndpointID][c.Bucket].ok += c.N
			out[c.EndpointID].OK += c.N
		} else {
			hours[c.EndpointID][c.Bucket].fail += c.N
			out[c.EndpointID].Fail += c.N
		}
	}
	for id, hs := range hours {
		top := 0
		for _, x := range hs {
			top = max(top, x.ok+x.fail)
		}
		for i, x := range hs {
			okH := round1(h * float64(x.ok) / float64(top))
			failH := round1(h * float64(x.fail) / float64(top))
			out[id].Bars = append(out[id].Bars, sparkBar{X: float64(i) * (w + 1), OKY: h - okH, OKH: okH, FailY: h - okH - failH, FailH: failH})
		}
	}
	return out
}
