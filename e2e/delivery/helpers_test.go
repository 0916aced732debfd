package delivery

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/clocktest"
	"github.com/hookline/hookline/internal/testserver"
)

// request is one delivery as a receiver saw it.
type request struct {
	N      int // 1 for the receiver's first request
	Path   string
	Header http.Header
	Body   []byte
	At     time.Time
}

// ID returns the webhook-id header: the message id.
func (r request) ID() string { return r.Header.Get("webhook-id") }

// receiver is a webhook receiver on a loopback port that records every request and answers
// through respond (200 with an empty body when respond is nil).
type receiver struct {
	srv     *httptest.Server
	URL     string
	respond func(w http.ResponseWriter, r *http.Request, n int)

	mu      sync.Mutex
	reqs    []request
	arrived chan request
}

// newReceiver starts a receiver; it is closed when the test ends. Handlers that block must be
// released by a cleanup registered after this call (cleanups run last first).
//
// The receiver answers under a path of its own, which ends rc.URL; respond and request.Path see
// the path below it. A request for any other path is a stray, which it answers 404 without
// recording it: its port is an ephemeral one that may have been, a moment before, the port of
// another test's receiver, to which that test's server may still send.
func newReceiver(t testing.TB, respond func(w http.ResponseWriter, r *http.Request, n int)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond, arrived: make(chan request, 10000)}
	prefix := receiverPath()
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok || rest != "" && !strings.HasPrefix(rest, "/") {
			http.NotFound(w, r)
			return
		}
		if rest == "" {
			rest = "/"
		}
		r.URL.Path, r.URL.RawPath = rest, ""
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		req := request{N: len(rc.reqs) + 1, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, At: time.Now()}
		rc.reqs = append(rc.reqs, req)
		rc.mu.Unlock()
		select {
		case rc.arrived <- req:
		default:
		}
		if rc.respond != nil {
			rc.respond(w, r, req.N)
		}
	}))
	rc.URL = rc.srv.URL + prefix
	t.Cleanup(rc.srv.Close)
	return rc
}

// receiverPath returns a path no other receiver has: "/r" and 16 random hex digits.
func receiverPath() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "/r" + hex.EncodeToString(b)
}

// requests returns a copy of what arrived so far.
func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

// count returns how many requests arrived.
func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

// next waits for the next request not yet taken with next.
func (rc *receiver) next(t testing.TB, timeout time.Duration) request {
	t.Helper()
	select {
	case r := <-rc.arrived:
		return r
	case <-time.After(timeout):
		t.Fatalf("no request arrived at %s within %s (%d so far)", rc.URL, timeout, rc.count())
		return request{}
	}
}

// status answers every request with code.
func status(code int) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(code) }
}

// hang makes rc's handler block until the test ends.
func (rc *receiver) hang(t testing.TB) {
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	rc.respond = func(w http.ResponseWriter, r *http.Request, _ int) {
		<-release
	}
}

// pollUntil is testserver.PollUntil: it calls cond until it returns true, failing the test
// after timeout.
func pollUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testserver.PollUntil(t, timeout, what, cond)
}

// env is a test server with a settable clock.
type env struct {
	*testserver.Instance
	clock *clocktest.Clock
}

// start starts a server on the fake clock (set to the current second) with configure applied.
func start(t *testing.T, configure func(*config.Config)) *env {
	t.Helper()
	clock := clocktest.New(time.Now().UTC().Truncate(time.Second))
	inst := testserver.Start(t, testserver.Options{Clock: clock, Configure: configure})
	return &env{Instance: inst, clock: clock}
}

// startOn starts a server as start does, on SQLite when dbURL is "" and otherwise on that
// PostgreSQL database with a main key of its own; configure (which may be nil) is applied after.
func startOn(t *testing.T, dbURL string, configure func(*config.Config)) *env {
	t.Helper()
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		t.Fatal(err)
	}
	return start(t, func(c *config.Config) {
		if dbURL != "" {
			c.DatabaseURL, c.MainKey = dbURL, hex.EncodeToString(key[:])
		}
		if configure != nil {
			configure(c)
		}
	})
}

// advanceTo moves the clock to at (if it is later) and wakes the dispatcher.
func (e *env) advanceTo(at time.Time) {
	if at.After(e.clock.Now()) {
		e.clock.Set(at)
	}
	e.Server.Dispatcher().Notify()
}

// eventType creates an event type (a second call with the same name is harmless).
func (e *env) eventType(name string, schema any) {
	e.T.Helper()
	body := map[string]any{"name": name, "description": name}
	if schema != nil {
		body["schemas"] = map[string]any{"1": schema}
	}
	if r := e.Do("POST", "/api/v1/event-type", e.Token, body); r.Status != 201 && r.Status != 409 {
		e.T.Fatalf("create event type %s: %d %s", name, r.Status, r.Body)
	}
}

// app creates an application and returns its id.
func (e *env) app(name string) string {
	e.T.Helper()
	var out struct {
		ID string `json:"id"`
	}
	e.Op("POST", "/api/v1/app", map[string]any{"name": name}, 201).JSON(e.T, &out)
	return out.ID
}

// endpoint creates an endpoint with the given fields (url at least) and returns its id.
func (e *env) endpoint(appID string, body map[string]any) string {
	e.T.Helper()
	var out struct {
		ID string `json:"id"`
	}
	e.Op("POST", "/api/v1/app/"+appID+"/endpoint", body, 201).JSON(e.T, &out)
	return out.ID
}

// send posts a message and returns its id.
func (e *env) send(appID, eventType string, payload any) string {
	e.T.Helper()
	var out struct {
		ID string `json:"id"`
	}
	e.Op("POST", "/api/v1/app/"+appID+"/msg", map[string]any{"eventType": eventType, "payload": payload}, 202).JSON(e.T, &out)
	return out.ID
}

// endpointMsg is a message with its state at one endpoint (GET .../endpoint/{ep}/msg).
type endpointMsg struct {
	ID          string     `json:"id"`
	EventType   string     `json:"eventType"`
	Status      int        `json:"status"`
	NextAttempt *time.Time `json:"nextAttempt"`
}

// endpointMsgs lists the messages sent to an endpoint, newest first.
func (e *env) endpointMsgs(appID, epID string) []endpointMsg {
	e.T.Helper()
	var page struct {
		Data []endpointMsg `json:"data"`
	}
	e.Op("GET", "/api/v1/app/"+appID+"/endpoint/"+epID+"/msg?limit=250", nil, 200).JSON(e.T, &page)
	return page.Data
}

// endpointMsgState returns the state of one message at an endpoint.
func (e *env) endpointMsgState(appID, epID, msgID string) endpointMsg {
	e.T.Helper()
	for _, m := range e.endpointMsgs(appID, epID) {
		if m.ID == msgID {
			return m
		}
	}
	e.T.Fatalf("message %s is not listed at endpoint %s", msgID, epID)
	return endpointMsg{}
}

// attempt is one attempt as the API shows it.
type attempt struct {
	ID                 string    `json:"id"`
	EndpointID         string    `json:"endpointId"`
	MsgID              string    `json:"msgId"`
	URL                string    `json:"url"`
	Response           string    `json:"response"`
	ResponseStatusCode int       `json:"responseStatusCode"`
	ResponseDurationMs int64     `json:"responseDurationMs"`
	Status             int       `json:"status"`
	TriggerType        int       `json:"triggerType"`
	Timestamp          time.Time `json:"timestamp"`
}

// attempts lists an endpoint's attempts, newest first.
func (e *env) attempts(appID, epID string) []attempt {
	e.T.Helper()
	var page struct {
		Data []attempt `json:"data"`
	}
	e.Op("GET", "/api/v1/app/"+appID+"/attempt/endpoint/"+epID+"?limit=250", nil, 200).JSON(e.T, &page)
	return page.Data
}

// waitAttempts waits until the endpoint has at least n attempts recorded and returns them,
// newest first. An attempt is recorded with its delivery's next state, in one transaction.
func (e *env) waitAttempts(appID, epID string, n int) []attempt {
	e.T.Helper()
	var got []attempt
	pollUntil(e.T, 10*time.Second, fmt.Sprintf("%d attempts at %s", n, epID), func() bool {
		got = e.attempts(appID, epID)
		return len(got) >= n
	})
	return got
}

// endpointDisabled reports whether the endpoint is disabled.
func (e *env) endpointDisabled(appID, epID string) bool {
	e.T.Helper()
	var out struct {
		Disabled bool `json:"disabled"`
	}
	e.Op("GET", "/api/v1/app/"+appID+"/endpoint/"+epID, nil, 200).JSON(e.T, &out)
	return out.Disabled
}

// stats returns the endpoint's message counts by status.
func (e *env) stats(appID, epID string) map[string]int {
	e.T.Helper()
	var out map[string]int
	e.Op("GET", "/api/v1/app/"+appID+"/endpoint/"+epID+"/stats", nil, 200).JSON(e.T, &out)
	return out
}

// opEndpoint registers an operational-webhook endpoint and returns its signing secret.
func (e *env) opEndpoint(rawURL string) string {
	e.T.Helper()
	var ep struct {
		ID string `json:"id"`
	}
	e.Op("POST", "/api/v1/operational-webhook/endpoint", map[string]any{"url": rawURL}, 201).JSON(e.T, &ep)
	var sec struct {
		Key string `json:"key"`
	}
	e.Op("GET", "/api/v1/operational-webhook/endpoint/"+ep.ID+"/secret", nil, 200).JSON(e.T, &sec)
	return sec.Key
}

// opEvent is an operational webhook as it arrived.
type opEvent struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
	raw       request
}

// opEvents decodes the operational webhooks that arrived at rc, checking each signature with
// secret (the Svix library, ignoring the timestamp: the server's clock is not the real one).
func opEvents(t testing.TB, rc *receiver, secret string) []opEvent {
	t.Helper()
	wh, err := svix.NewWebhook(secret)
	if err != nil {
		t.Fatalf("operational webhook secret: %v", err)
	}
	var out []opEvent
	for _, r := range rc.requests() {
		if err := wh.VerifyIgnoringTimestamp(r.Body, r.Header); err != nil {
			t.Errorf("operational webhook %s: bad signature: %v", r.Body, err)
		}
		var ev opEvent
		if err := json.Unmarshal(r.Body, &ev); err != nil {
			t.Fatalf("operational webhook is not JSON: %s", r.Body)
		}
		ev.raw = r
		out = append(out, ev)
	}
	return out
}

// waitOpEvent waits for an operational webhook of the type whose data matches, and returns
// its data decoded as a generic map.
func waitOpEvent(t testing.TB, rc *receiver, secret, eventType string, match func(data map[string]any) bool) map[string]any {
	t.Helper()
	var found map[string]any
	pollUntil(t, 10*time.Second, "operational webhook "+eventType, func() bool {
		for _, ev := range opEvents(t, rc, secret) {
			if ev.Type != eventType {
				continue
			}
			var data map[string]any
			if err := json.Unmarshal(ev.Data, &data); err != nil {
				t.Fatalf("%s data: %v", eventType, err)
			}
			if match == nil || match(data) {
				found = data
				return true
			}
		}
		return false
	})
	return found
}

// countOpEvents counts the operational webhooks of the type about the endpoint.
func countOpEvents(t testing.TB, rc *receiver, secret, eventType, epID string) int {
	n := 0
	for _, ev := range opEvents(t, rc, secret) {
		var data struct {
			EndpointID string `json:"endpointId"`
		}
		json.Unmarshal(ev.Data, &data)
		if ev.Type == eventType && data.EndpointID == epID {
			n++
		}
	}
	return n
}

// newSDK returns the official Svix client pointed at the server.
func newSDK(t testing.TB, inst *testserver.Instance) *svix.Svix {
	t.Helper()
	u, err := url.Parse(inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	return svix.New(inst.Token, &svix.SvixOptions{ServerUrl: u})
}

// sdkStatus returns the HTTP status of an SDK error, or 0.
func sdkStatus(err error) int {
	if e, ok := err.(*svix.Error); ok {
		return e.Status()
	}
	return 0
}

// within fails the test unless got is in [base*(1-j), base*(1+j)] after from.
func within(t testing.TB, what string, got *time.Time, from time.Time, base time.Duration, j float64) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no next attempt", what)
	}
	lo := from.Add(time.Duration(float64(base) * (1 - j)))
	hi := from.Add(time.Duration(float64(base) * (1 + j)))
	if got.Before(lo) || got.After(hi) {
		t.Fatalf("%s: next attempt %s after the attempt, want %s ± %.0f %% (%s to %s)",
			what, got.Sub(from), base, j*100, lo.Sub(from), hi.Sub(from))
	}
}

// with returns the environment bound to t, for subtests: the helpers fail t, not the parent.
func (e *env) with(t *testing.T) *env {
	inst := *e.Instance
	inst.T = t
	return &env{Instance: &inst, clock: e.clock}
}

// startReal starts a server on the system clock, with configure applied.
func startReal(t *testing.T, configure func(*config.Config)) *env {
	t.Helper()
	return &env{Instance: testserver.Start(t, testserver.Options{Configure: configure})}
}
