package delivery

import (
	"context"
	"strconv"
	"time"

	"github.com/hookline/hookline"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the dispatcher's Prometheus metrics.
type Metrics struct {
	attempts  *prometheus.CounterVec
	duration  prometheus.Histogram
	lag       prometheus.Histogram
	claimed   prometheus.Histogram
	handedOff prometheus.Histogram
	recorded  prometheus.Histogram
	held      prometheus.Gauge
	exhausted prometheus.Counter
	disabled  prometheus.Counter
}

// NewMetrics creates the metrics and registers them with reg (when not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	batch := prometheus.ExponentialBuckets(1, 2, 11)
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_delivery_attempts_total",
			Help: "Delivery attempts by result (success, http_error, timeout, connection, policy) and status class.",
		}, []string{"result", "status_class"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookline_delivery_attempt_duration_seconds", Help: "Time from request start to the end of the response.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookline_delivery_lag_seconds", Help: "Time from a message's creation (or its retry's due time for retries, counted from creation) to the start of an attempt.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30, 300, 3600, 36000},
		}),
		claimed: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookline_delivery_claim_batch_size", Help: "Deliveries claimed per claim query.", Buckets: batch,
		}),
		handedOff: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookline_delivery_handoff_batch_size", Help: "Messages accepted by this process's API and fanned out together, without a claim.", Buckets: batch,
		}),
		recorded: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookline_delivery_record_batch_size", Help: "Outcomes written per transaction (group commit).", Buckets: batch,
		}),
		held: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookline_delivery_jobs_held", Help: "Deliveries claimed by this process and not yet finished.",
		}),
		exhausted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_delivery_exhausted_total", Help: "Deliveries that failed for good (retries exhausted, 410, manual resend failed).",
		}),
		disabled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_endpoints_disabled_total", Help: "Endpoints disabled automatically.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.attempts, m.duration, m.lag, m.claimed, m.handedOff, m.recorded, m.held, m.exhausted, m.disabled)
	}
	return m
}

func (m *Metrics) observeAttempt(r Result) {
	result := "success"
	switch {
	case r.Kind == FailTimeout:
		result = "timeout"
	case r.Kind == FailConnection:
		result = "connection"
	case r.Kind == FailPolicy:
		result = "policy"
	case r.Kind == FailTransform:
		result = "transformation"
	case !r.OK():
		result = "http_error"
	}
	class := "none"
	if r.StatusCode > 0 {
		class = strconv.Itoa(r.StatusCode/100) + "xx"
	}
	m.attempts.WithLabelValues(result, class).Inc()
	m.duration.Observe(r.Duration.Seconds())
}

// backlogTimeout bounds the store query behind one scrape of the backlog gauges.
const backlogTimeout = 2 * time.Second

// BacklogCollector reports the store's backlog (hookline.DeliveryStore.Backlog) as gauges,
// read when /metrics is scraped. With lazy fan-out a message's deliveries are stored only when
// it is fanned out, so messages awaiting dispatch are where an outage or an overloaded engine
// shows first.
type BacklogCollector struct {
	store    hookline.DeliveryStore
	messages *prometheus.Desc
	pending  *prometheus.Desc
}

// NewBacklogCollector returns a collector of store's backlog.
func NewBacklogCollector(store hookline.DeliveryStore) *BacklogCollector {
	return &BacklogCollector{
		store: store,
		messages: prometheus.NewDesc("hookline_messages_awaiting_dispatch",
			"Messages accepted and not yet fanned out to their endpoints for good (new, or being fanned out).", nil, nil),
		pending: prometheus.NewDesc("hookline_deliveries_pending",
			"Stored deliveries waiting for their next attempt (retries, resends, and what a claim had no room for).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *BacklogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.messages
	ch <- c.pending
}

// Collect implements prometheus.Collector. When the store does not answer, the gauges are left
// out of that scrape (and the error reported to Prometheus).
func (c *BacklogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), backlogTimeout)
	defer cancel()
	b, err := c.store.Backlog(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.messages, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, float64(b.MessagesAwaitingDispatch))
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(b.DeliveriesPending))
}
