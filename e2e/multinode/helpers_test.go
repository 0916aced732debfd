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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testload"
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

// startPosters starts n posters (see testload) that post to the nodes targets returns, in
// turn, until halted or max messages are accepted (0: no limit). during may be nil.
func startPosters(t testing.TB, appID string, n, max int, targets func() []*node, during func() bool) *testload.Posters {
	return testload.Start(t, testload.Options{AppID: appID, Token: operatorToken, Goroutines: n, Max: max, During: during,
		RetryAfter: 10 * time.Millisecond, Targets: func() []testload.Target {
			nodes := targets()
			out := make([]testload.Target, len(nodes))
			for i, n := range nodes {
				out[i] = testload.Target{Name: n.Name, URL: n.URL}
			}
			return out
		}})
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
