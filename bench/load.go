package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// eventType is the event type every benchmark message has; it has no schema, so the API
// does not validate payloads against one.
const eventType = "bench.event"

// apiClient calls the Hookline API with the operator token over kept-alive connections.
type apiClient struct {
	base, token string
	http        *http.Client
}

func newAPIClient(base, token string, conns int) *apiClient {
	return &apiClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}}
}

// do sends one request and returns the status and body.
func (c *apiClient) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, data, nil
}

// create POSTs v as JSON and returns the new object's id; want is the expected status.
func (c *apiClient) create(ctx context.Context, path string, v any, want int) (string, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	status, data, err := c.do(ctx, http.MethodPost, path, body)
	if err != nil {
		return "", fmt.Errorf("POST %s: %w", path, err)
	}
	if status != want {
		return "", fmt.Errorf("POST %s: status %d: %s", path, status, bytes.TrimSpace(data))
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return "", fmt.Errorf("POST %s: decode: %w", path, err)
	}
	return out.ID, nil
}

// ensureEventType creates the benchmark's event type unless it exists (a reused target).
func (c *apiClient) ensureEventType(ctx context.Context) error {
	body := []byte(`{"name":"` + eventType + `","description":"Hookline benchmark messages"}`)
	status, data, err := c.do(ctx, http.MethodPost, "/api/v1/event-type", body)
	if err != nil {
		return fmt.Errorf("create event type: %w", err)
	}
	if status != http.StatusCreated && status != http.StatusConflict {
		return fmt.Errorf("create event type: status %d: %s", status, bytes.TrimSpace(data))
	}
	return nil
}

// metrics reads the server's Prometheus metrics, keyed by series as the text format writes
// them: hookline_delivery_claim_batch_size_sum, or
// hookline_sqlite_wal_sync_duration_seconds_bucket{le="0.001"}; nil when they cannot be read.
func (c *apiClient) metrics(ctx context.Context) map[string]float64 {
	status, data, err := c.do(ctx, http.MethodGet, "/metrics", nil)
	if err != nil || status != http.StatusOK {
		return nil
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		// A series, labels and all (a label value may hold spaces), then its value.
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// setupConcurrency is how many creation requests run at once.
const setupConcurrency = 16

// parallel runs fn(0..n-1) on a few goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

// createApps creates n applications and returns their ids.
func (c *apiClient) createApps(ctx context.Context, run, label string, n int) ([]string, error) {
	ids := make([]string, n)
	err := parallel(ctx, n, setupConcurrency, func(ctx context.Context, i int) error {
		uid := fmt.Sprintf("bench-%s-%s-%d", run, label, i)
		id, err := c.create(ctx, "/api/v1/app", map[string]any{"name": "bench " + label + " " + strconv.Itoa(i), "uid": uid}, http.StatusCreated)
		ids[i] = id
		return err
	})
	return ids, err
}

// createEndpoints gives each application perApp endpoints; endpoint j of application a is
// number first+a*perApp+j, at url(number). It returns the endpoint ids in that order.
func (c *apiClient) createEndpoints(ctx context.Context, apps []string, perApp, first int, url func(int) string) ([]string, error) {
	ids := make([]string, len(apps)*perApp)
	err := parallel(ctx, len(ids), setupConcurrency, func(ctx context.Context, i int) error {
		id, err := c.create(ctx, "/api/v1/app/"+apps[i/perApp]+"/endpoint", map[string]any{"url": url(first + i)}, http.StatusCreated)
		ids[i] = id
		return err
	})
	return ids, err
}

// benchTransformation is the transformation of the 100ep-transform scenario: small, as most
// are, and it changes the body the delivery signs.
const benchTransformation = `function handler(webhook) {
  webhook.payload = {type: webhook.eventType, data: webhook.payload};
  webhook.headers["X-Bench"] = "1";
  return webhook;
}`

// setTransformations sets and enables benchTransformation on every endpoint (epIDs in the
// order createEndpoints returns them).
func (c *apiClient) setTransformations(ctx context.Context, apps []string, perApp int, epIDs []string) error {
	body, err := json.Marshal(map[string]any{"code": benchTransformation, "enabled": true})
	if err != nil {
		return err
	}
	return c.eachEndpoint(ctx, apps, perApp, epIDs, http.MethodPatch, "/transformation", http.StatusNoContent,
		func(int) ([]byte, error) { return body, nil })
}

// eachEndpoint sends method to the route under every endpoint (epIDs in the order
// createEndpoints returns them) with body(i) for endpoint i, and expects want.
func (c *apiClient) eachEndpoint(ctx context.Context, apps []string, perApp int, epIDs []string, method, route string, want int, body func(i int) ([]byte, error)) error {
	return parallel(ctx, len(epIDs), setupConcurrency, func(ctx context.Context, i int) error {
		b, err := body(i)
		if err != nil {
			return err
		}
		path := "/api/v1/app/" + apps[i/perApp] + "/endpoint/" + epIDs[i] + route
		status, data, err := c.do(ctx, method, path, b)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		if status != want {
			return fmt.Errorf("%s %s: status %d: %s", method, path, status, bytes.TrimSpace(data))
		}
		return nil
	})
}

// sent is one accepted message.
type sent struct {
	id       string
	app      int   // index of the application in the spec
	acceptAt int64 // when the 2xx arrived, in nanoseconds since t0
	latency  int64 // API latency: from the intended send time to the 2xx
	service  int64 // from the start of the request to the 2xx: latency less the sender's own lag
}

// loadSpec says how to post messages.
type loadSpec struct {
	apps     []string // messages go round-robin over these applications
	messages int      // how many; 0 means until duration has passed
	duration time.Duration
	rate     float64 // messages/s on an open-loop schedule; 0 posts as fast as posters allow
	posters  int     // concurrent requests
	payload  int     // payload bytes, about
	t0       time.Time
}

// loadResult is what came of posting.
type loadResult struct {
	sent       []sent
	errors     int
	firstError string
	start, end int64 // nanoseconds since t0
}

// messageBody returns the body of message seq: a JSON object of about size bytes.
func messageBody(seq, size int) []byte {
	b := make([]byte, 0, size+96)
	b = append(b, `{"eventType":"`+eventType+`","payload":{"seq":`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `,"data":"`...)
	for range max(size-24, 0) {
		b = append(b, 'x')
	}
	return append(b, `"}}`...)
}

// messageID takes the id out of a message response without decoding all of it (it echoes the
// payload): the response starts with {"id":"msg_...".
func messageID(data []byte) string {
	const prefix = `{"id":"`
	if bytes.HasPrefix(data, []byte(prefix)) {
		if end := bytes.IndexByte(data[len(prefix):], '"'); end > 0 {
			return string(data[len(prefix) : len(prefix)+end])
		}
	}
	var out struct {
		ID string `json:"id"`
	}
	json.Unmarshal(data, &out)
	return out.ID
}

// post sends messages as the spec says. posted counts attempts as they finish, for progress.
// In open-loop mode (a rate), each message has an intended send time on a fixed schedule and
// its API latency counts from then, so a slow server cannot hide its slowness by slowing the
// sender down (coordinated omission).
func (c *apiClient) post(ctx context.Context, spec loadSpec, posted *atomic.Int64) loadResult {
	since := func() int64 { return int64(time.Since(spec.t0)) }
	var (
		mu  sync.Mutex
		res = loadResult{start: since()}
	)
	if spec.messages > 0 {
		res.sent = make([]sent, 0, spec.messages)
	}
	stopAt := int64(-1)
	if spec.messages == 0 {
		stopAt = res.start + int64(spec.duration)
	}
	var tickets chan int64 // intended send times, in open-loop mode
	if spec.rate > 0 {
		tickets = make(chan int64, 1<<16)
		go func() {
			defer close(tickets)
			period := float64(time.Second) / spec.rate
			for i := 0; spec.messages == 0 || i < spec.messages; i++ {
				at := res.start + int64(float64(i)*period)
				if stopAt >= 0 && at >= stopAt {
					return
				}
				if d := time.Duration(at - since()); d > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(d):
					}
				}
				select {
				case tickets <- at:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(spec.posters, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []sent
			errs, firstErr := 0, ""
			for ctx.Err() == nil {
				var intended int64
				if tickets != nil {
					at, ok := <-tickets
					if !ok {
						break
					}
					intended = at
				} else {
					intended = since()
					if stopAt >= 0 && intended >= stopAt {
						break
					}
				}
				seq := int(next.Add(1) - 1)
				if tickets == nil && spec.messages > 0 && seq >= spec.messages {
					break
				}
				app := spec.apps[seq%len(spec.apps)]
				started := since()
				status, data, err := c.do(ctx, http.MethodPost, "/api/v1/app/"+app+"/msg", messageBody(seq, spec.payload))
				done := since()
				posted.Add(1)
				if err == nil && status != http.StatusAccepted {
					err = fmt.Errorf("status %d: %s", status, bytes.TrimSpace(data))
				}
				if err != nil {
					if ctx.Err() == nil {
						errs++
						if firstErr == "" {
							firstErr = err.Error()
						}
					}
					continue
				}
				local = append(local, sent{id: messageID(data), app: seq % len(spec.apps), acceptAt: done, latency: done - intended, service: done - started})
			}
			mu.Lock()
			res.sent = append(res.sent, local...)
			res.errors += errs
			if res.firstError == "" {
				res.firstError = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.end = since()
	return res
}

// baselineResult is the direct-HTTP baseline: the receivers posted to by a plain client.
type baselineResult struct {
	requests, errors int
	concurrency      int
	elapsed          time.Duration
	latencies        []int64
}

// runBaseline POSTs requests bodies of about payload bytes to the endpoints round-robin, with
// concurrency requests in flight, through a plain keep-alive client: what the machine can do
// with no database, no signing and no queue in between.
func runBaseline(ctx context.Context, rv *receivers, endpoints, requests, concurrency, payload int, posted *atomic.Int64) baselineResult {
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConns:        concurrency * len(rv.urls),
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}
	defer client.CloseIdleConnections()
	res := baselineResult{requests: requests, concurrency: concurrency, latencies: make([]int64, requests)}
	var (
		next   atomic.Int64
		errs   atomic.Int64
		wg     sync.WaitGroup
		urls   = make([]string, endpoints)
		bodies = messageBody(0, payload)
	)
	for i := range urls {
		urls[i] = rv.endpointURL(i)
	}
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= requests {
					return
				}
				t := time.Now()
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, urls[i%endpoints], bytes.NewReader(bodies))
				if err != nil {
					errs.Add(1)
					continue
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("webhook-id", "base_"+strconv.Itoa(i))
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				res.latencies[i] = int64(time.Since(t))
				posted.Add(1)
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.errors = int(errs.Load())
	return res
}
