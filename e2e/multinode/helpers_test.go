package multinode

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testproc"
)

// The tests run the real binary (see testproc), each node with the same main key.
var (
	// mainKey is the main key every node of a test shares (hex of 32 random bytes).
	mainKey string
)

// operatorToken is the operator token every node accepts.
const operatorToken = "hlo_multinode_test_operator_token_0123456789"

func TestMain(m *testing.M) {
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mainKey = hex.EncodeToString(k[:])
	testproc.Main(m)
}

// node is one `hookline serve` process.
type node struct {
	*testproc.Process
	URL string
}

// nodeArgs are the flags every node gets: dev mode for loopback receivers, and a short lease
// and delivery timeout, so deliveries of a killed node come back within seconds.
var nodeArgs = []string{"--dev", "--lease", "5s", "--delivery-timeout", "2s", "--log-format", "json", "--shutdown-timeout", "10s"}

// startNode starts `hookline serve` on dbURL with the shared main key and operator token,
// plus extra flags, and returns without waiting for it (see waitReady). The process gets
// SIGTERM, then SIGKILL, when the test ends.
func startNode(t testing.TB, name, dbURL string, extra ...string) *node {
	t.Helper()
	return startNodeToken(t, name, dbURL, operatorToken, extra...)
}

// startNodeToken is startNode with HOOKLINE_OPERATOR_TOKEN set to token, or unset when it is "".
func startNodeToken(t testing.TB, name, dbURL, token string, extra ...string) *node {
	t.Helper()
	addr := testproc.FreeAddr(t)
	args := append([]string{"serve", "--listen", addr, "--database-url", dbURL, "--data-dir", filepath.Join(t.TempDir(), "data")}, nodeArgs...)
	env := []string{"HOOKLINE_MAIN_KEY=" + mainKey}
	if token != "" {
		env = append(env, "HOOKLINE_OPERATOR_TOKEN="+token)
	}
	return &node{Process: testproc.Start(t, name, env, append(args, extra...)...), URL: "http://" + addr}
}

// stop ends the process gracefully, or kills it when it takes too long.
func (n *node) stop() { n.Stop(15 * time.Second) }

// kill sends SIGKILL and waits for the process to be gone.
func (n *node) kill() { n.Kill() }

// waitReady waits until the node answers /readyz with 200.
func (n *node) waitReady(t testing.TB) {
	t.Helper()
	n.WaitReady(t, n.URL+"/readyz", 30*time.Second)
}

// startNodes starts nodes at once (so they migrate and seed the database concurrently, as a
// fleet rolling out does) and waits until all are ready.
func startNodes(t testing.TB, dbURL string, names []string, extra ...string) []*node {
	t.Helper()
	nodes := make([]*node, len(names))
	for i, name := range names {
		nodes[i] = startNode(t, name, dbURL, extra...)
	}
	for _, n := range nodes {
		n.waitReady(t)
	}
	return nodes
}

// client is the HTTP client of the tests; posters reuse connections to every node.
var client = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second},
}

// response is an API response; Status is 0 when the request itself failed (Err says why).
type response struct {
	Status int
	Header http.Header
	Body   []byte
	Err    error
}

// Code returns the "code" of an error body, or "".
func (r response) Code() string {
	var e struct {
		Code string `json:"code"`
	}
	json.Unmarshal(r.Body, &e)
	return e.Code
}

// ID returns the "id" of the body, or "".
func (r response) ID() string {
	var e struct {
		ID string `json:"id"`
	}
	json.Unmarshal(r.Body, &e)
	return e.ID
}

// call sends an API request with the operator token; body is JSON-encoded unless it is a
// string. header adds headers (name, value, name, value, ...).
func call(ctx context.Context, method, url string, body any, header ...string) response {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return response{Err: err}
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return response{Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+operatorToken)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data, Err: err}
}

// op sends an API request to the node and fails the test unless the status is want.
func (n *node) op(t testing.TB, method, path string, body any, want int) response {
	t.Helper()
	r := call(t.Context(), method, n.URL+path, body)
	if r.Err != nil || r.Status != want {
		t.Fatalf("%s: %s %s: %d %v, want %d: %s", n.Name, method, path, r.Status, r.Err, want, r.Body)
	}
	return r
}

// setupApp creates the event types, an application and its endpoints (URLs) through n, and
// returns the application's id.
func setupApp(t testing.TB, n *node, endpoints []map[string]any) string {
	t.Helper()
	for _, et := range []string{"order.paid", "order.shipped"} {
		if r := call(t.Context(), "POST", n.URL+"/api/v1/event-type", map[string]any{"name": et, "description": et}); r.Status != 201 && r.Status != 409 {
			t.Fatalf("create event type %s: %d %v %s", et, r.Status, r.Err, r.Body)
		}
	}
	appID := n.op(t, "POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).ID()
	for _, ep := range endpoints {
		n.op(t, "POST", "/api/v1/app/"+appID+"/endpoint", ep, 201)
	}
	return appID
}

// receiver is a webhook receiver on a loopback port that counts deliveries by path and
// webhook-id, remembers when each first arrived, and answers 204 after delay (so that, as
// with real receivers, requests are in flight when a node dies).
type receiver struct {
	URL string

	mu    sync.Mutex
	got   map[string]map[string]int       // path → webhook-id → deliveries
	first map[string]map[string]time.Time // path → webhook-id → first arrival
}

func newReceiver(t testing.TB, delay time.Duration) *receiver {
	t.Helper()
	rc := &receiver{got: map[string]map[string]int{}, first: map[string]map[string]time.Time{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		now := time.Now()
		id := r.Header.Get("webhook-id")
		rc.mu.Lock()
		if rc.got[r.URL.Path] == nil {
			rc.got[r.URL.Path] = map[string]int{}
			rc.first[r.URL.Path] = map[string]time.Time{}
		}
		rc.got[r.URL.Path][id]++
		if _, ok := rc.first[r.URL.Path][id]; !ok {
			rc.first[r.URL.Path][id] = now
		}
		rc.mu.Unlock()
		if delay > 0 {
			time.Sleep(delay) // the receiver's own work, not the test waiting
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL
	return rc
}

// arrivedAt returns when the message first reached path, if it did.
func (rc *receiver) arrivedAt(path, id string) (time.Time, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	at, ok := rc.first[path][id]
	return at, ok
}

// missing counts the (path, id) pairs that have not arrived yet, and returns one of them.
func (rc *receiver) missing(paths, ids []string) (n int, example string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, id := range ids {
		for _, p := range paths {
			if rc.got[p][id] == 0 {
				n++
				example = p + " " + id
			}
		}
	}
	return n, example
}

// waitDelivered polls until every id reached every path, failing the test at the deadline.
func (rc *receiver) waitDelivered(t testing.TB, timeout time.Duration, paths, ids []string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n, example := rc.missing(paths, ids)
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries of accepted messages never arrived within %s, such as %s", n, timeout, example)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-t.Context().Done():
			t.Fatal("test ended while waiting for deliveries")
		}
	}
}

// tally counts, over paths, deliveries of ids, duplicates (arrivals after the first), and
// deliveries of messages not in ids (accepted by a node whose answer was lost).
func (rc *receiver) tally(paths, ids []string) (received, duplicates, unknown int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	known := make(map[string]bool, len(ids))
	for _, id := range ids {
		known[id] = true
	}
	for _, p := range paths {
		for id, n := range rc.got[p] {
			received += n
			duplicates += n - 1
			if !known[id] {
				unknown++
			}
		}
	}
	return received, duplicates, unknown
}

// firstAfter counts the ids that first reached path after at.
func (rc *receiver) firstAfter(path string, ids []string, at time.Time) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, id := range ids {
		if first, ok := rc.first[path][id]; ok && first.After(at) {
			n++
		}
	}
	return n
}

// count returns how many deliveries reached path.
func (rc *receiver) count(path string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, c := range rc.got[path] {
		n += c
	}
	return n
}

// posters post order.paid messages from several goroutines to the nodes that targets returns
// (round robin), and record every answer.
type posters struct {
	appID   string
	targets func() []*node

	mu       sync.Mutex
	accepted []string         // ids of messages answered with 2xx
	statuses map[string]int   // "status code" → answers (status 0: the request failed)
	during   func() bool      // when set and true at both ends of a request, its answer is counted in duringOK
	duringOK int              // 2xx answers to requests sent and answered while during() held
	errs     map[string]error // one example error per status 0 answer kind

	stop chan struct{}
	wg   sync.WaitGroup
}

// startPosters starts n posters; they post until stop is called or max messages are accepted
// (0: no limit). during may be nil.
func startPosters(t testing.TB, appID string, n, max int, targets func() []*node, during func() bool) *posters {
	p := &posters{appID: appID, targets: targets, during: during, statuses: map[string]int{}, errs: map[string]error{}, stop: make(chan struct{})}
	for w := range n {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-p.stop:
					return
				default:
				}
				if max > 0 && p.count() >= max {
					return
				}
				nodes := p.targets()
				target := nodes[(w+i)%len(nodes)]
				during := p.during
				inside := during != nil && during()
				body := fmt.Sprintf(`{"eventType":"order.paid","payload":{"poster":%d,"n":%d}}`, w, i)
				r := call(context.Background(), "POST", target.URL+"/api/v1/app/"+appID+"/msg", body)
				inside = inside && during != nil && during()
				p.mu.Lock()
				key := strconv.Itoa(r.Status)
				if r.Status >= 400 {
					key += " " + r.Code()
				}
				p.statuses[key]++
				ok := r.Status/100 == 2 && r.ID() != ""
				if ok {
					p.accepted = append(p.accepted, r.ID())
					if inside {
						p.duringOK++
					}
				}
				if r.Err != nil {
					p.errs[target.Name] = r.Err
				}
				p.mu.Unlock()
				if !ok {
					// A node or the database is down: try again shortly rather than spin.
					select {
					case <-p.stop:
						return
					case <-time.After(10 * time.Millisecond):
					}
				}
			}
		}()
	}
	t.Cleanup(p.halt)
	return p
}

// count returns how many messages were accepted so far.
func (p *posters) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.accepted)
}

// halt stops the posters and waits for them; it may be called more than once.
func (p *posters) halt() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
}

// ids returns the accepted message ids.
func (p *posters) ids() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.accepted...)
}

// summary describes the answers.
func (p *posters) summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("answers %v, transport errors %v", p.statuses, p.errs)
}

// json decodes the body into v, failing the test if it is not JSON.
func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %d %s: %v", r.Status, r.Body, err)
	}
}

// problems counts the node's warning and error log lines by message.
func (n *node) problems() map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(n.Out.String(), "\n") {
		var rec struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && (rec.Level == "WARN" || rec.Level == "ERROR") {
			out[rec.Level+" "+rec.Msg]++
		}
	}
	return out
}
