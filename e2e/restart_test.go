package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testproc"
	"github.com/hookline/hookline/internal/testserver"
)

// The restart tests run the real hookline binary, built once per test run, as an operator
// would: `hookline serve` on a data directory, stopped with SIGTERM, started again.

func TestMain(m *testing.M) { testproc.Main(m) }

// process is a running `hookline serve`.
type process struct {
	cmd    *exec.Cmd
	addr   string
	stdout *testproc.Output
	stderr *testproc.Output
	done   chan error // receives cmd.Wait's result
	exited bool       // set once the result was taken from done
}

// shutdownTimeout is what the test processes are configured with; they must exit well within it
// (plus start-up slack for the wait below).
const shutdownTimeout = 5 * time.Second

// startHookline runs `hookline serve` on dataDir and waits for its "listening" log line. env
// adds HOOKLINE_* variables to a copy of the test's environment without any.
func startHookline(t *testing.T, dataDir string, env map[string]string) *process {
	t.Helper()
	cmd := exec.Command(testproc.Binary(t), "serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0")
	cmd.Env = testproc.Env("HOOKLINE_SHUTDOWN_TIMEOUT="+shutdownTimeout.String(), "HOOKLINE_LOG_LEVEL=info")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{cmd: cmd, stdout: &testproc.Output{}, stderr: &testproc.Output{}, done: make(chan error, 1)}
	cmd.Stdout = p.stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start hookline: %v", err)
	}
	addrCh := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.stderr.Write([]byte(line + "\n"))
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" && rec.Addr != "" {
				select {
				case addrCh <- rec.Addr:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() {
		<-copied // Wait must not run before the pipe is drained.
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if !p.exited {
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("hookline stdout:\n%s\nhookline stderr:\n%s", p.stdout, p.stderr)
		}
	})
	select {
	case p.addr = <-addrCh:
	case err := <-p.done:
		p.exited = true
		t.Fatalf("hookline exited before listening: %v\nstderr:\n%s", err, p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("hookline did not log \"listening\" within 30s\nstderr:\n%s", p.stderr)
	}
	return p
}

// client returns a request helper for the process's API with the given token.
func (p *process) client(t *testing.T, token string) *testserver.Instance {
	return &testserver.Instance{URL: "http://" + p.addr, Token: token, T: t}
}

// stop sends SIGTERM and requires a clean exit (status 0) within the shutdown timeout.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case err := <-p.done:
		p.exited = true
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("hookline exited with %v after SIGTERM\nstderr:\n%s", err, p.stderr)
		} else if err != nil {
			t.Fatalf("wait: %v", err)
		}
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatalf("hookline did not exit within %s of SIGTERM", shutdownTimeout+5*time.Second)
	}
}

const restartOperatorToken = "hlo_restart_test_operator_token_0123456789"

func TestRestartKeepsEverything(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"HOOKLINE_OPERATOR_TOKEN": restartOperatorToken, "HOOKLINE_DEV": "1"}

	p := startHookline(t, dataDir, env)
	api := p.client(t, restartOperatorToken)
	api.Op("POST", "/api/v1/event-type", map[string]any{"name": "ticket.sold", "description": "Ticket sold", "groupName": "tickets",
		"schemas": map[string]any{"1": json.RawMessage(ticketSoldSchema)}}, 201)
	api.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.created", "description": "Order created"}, 201)
	api.Op("DELETE", "/api/v1/event-type/order.created", nil, 204) // archived, and must stay so
	api.Op("POST", "/api/v1/event-type", map[string]any{"name": "ticket.refunded", "description": "Refund"}, 201)
	var appIDs []string
	for i, name := range []string{"Acme", "Globex"} {
		var app struct {
			ID string `json:"id"`
		}
		api.Op("POST", "/api/v1/app", map[string]any{"name": name, "uid": strings.ToLower(name), "rateLimit": 10 + i,
			"metadata": map[string]string{"plan": "pro"}}, 201).JSON(t, &app)
		appIDs = append(appIDs, app.ID)
	}
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	var ep struct {
		ID string `json:"id"`
	}
	api.Op("POST", "/api/v1/app/acme/endpoint", map[string]any{"url": "http://127.0.0.1:9/acme", "uid": "sync", "secret": secret,
		"filterTypes": []string{"ticket.sold"}, "channels": []string{"europe"}, "metadata": map[string]string{"team": "sync"},
		"headers": map[string]string{"X-Tenant": "acme", "Authorization": "Bearer downstream"}}, 201).JSON(t, &ep)
	api.Op("POST", "/api/v1/app/globex/endpoint", map[string]any{"url": "https://globex.example/hooks"}, 201)
	var rotated struct {
		ID string `json:"id"`
	}
	api.Op("POST", "/api/v1/app/globex/endpoint", map[string]any{"url": "https://globex.example/rotated", "uid": "rot"}, 201).JSON(t, &rotated)
	api.Op("POST", "/api/v1/app/globex/endpoint/rot/secret/rotate", map[string]any{}, 204)
	for i := range 3 {
		api.Op("POST", "/api/v1/app/acme/msg", map[string]any{"eventType": "ticket.sold", "eventId": fmt.Sprintf("sale-%d", i),
			"payload": ticketSold(i), "channels": []string{"europe"}}, 202)
	}
	// A payload whose exact bytes (spacing, escapes, key order) must come back unchanged.
	raw := `{"id":"evt_raw","event":"ticket.sold","created_at":"2026-06-12T14:05:00.000Z","organization_id":"org_abc123","data":{ "totalAmount" : "0", "orderId":"ord_\u00e9", "ticketCount":0 }}`
	var rawMsg struct {
		ID string `json:"id"`
	}
	api.Op("POST", "/api/v1/app/globex/msg", `{"eventType":"ticket.sold","eventId":"raw-1","payload":`+raw+`}`, 202).JSON(t, &rawMsg)
	_, appToken := createToken(t, api, map[string]any{"kind": "application", "appId": "acme", "name": "acme key"})

	before := snapshot(t, api)
	if before.apps != 2 || before.endpoints != 3 || before.messages != 4 || before.eventTypes != 3 || before.tokens != 2 {
		t.Fatalf("before restart: %s", before)
	}
	key, err := os.ReadFile(filepath.Join(dataDir, "main.key"))
	if err != nil {
		t.Fatalf("main key: %v", err)
	}
	if strings.Contains(p.stdout.String(), "hlo_") {
		t.Errorf("a start with HOOKLINE_OPERATOR_TOKEN printed a token:\n%s", p.stdout)
	}
	p.stop(t)

	p = startHookline(t, dataDir, env)
	api = p.client(t, restartOperatorToken)
	after := snapshot(t, api)
	if after.dump != before.dump {
		t.Errorf("state changed across the restart: before %s, after %s\nbefore:\n%s\nafter:\n%s", before, after, before.dump, after.dump)
	}
	if key2, err := os.ReadFile(filepath.Join(dataDir, "main.key")); err != nil || !bytes.Equal(key, key2) {
		t.Errorf("main.key changed across the restart (%v)", err)
	}
	var sec struct {
		Key string `json:"key"`
	}
	api.Op("GET", "/api/v1/app/acme/endpoint/sync/secret", nil, 200).JSON(t, &sec)
	if sec.Key != secret {
		t.Errorf("secret after restart %q, want %q", sec.Key, secret)
	}
	var hdrs struct {
		Headers   map[string]string `json:"headers"`
		Sensitive []string          `json:"sensitive"`
	}
	api.Op("GET", "/api/v1/app/acme/endpoint/sync/headers", nil, 200).JSON(t, &hdrs)
	if hdrs.Headers["X-Tenant"] != "acme" || len(hdrs.Sensitive) != 1 || hdrs.Sensitive[0] != "Authorization" {
		t.Errorf("headers after restart: %+v", hdrs)
	}
	r := api.Op("GET", "/api/v1/app/globex/msg/raw-1", nil, 200)
	var got struct {
		ID      string          `json:"id"`
		Payload json.RawMessage `json:"payload"`
	}
	r.JSON(t, &got)
	// The API's JSON encoder drops insignificant whitespace, but key order, escapes and number
	// forms must be the platform's: the payload was never decoded and encoded again.
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	if got.ID != rawMsg.ID || string(got.Payload) != compact.String() {
		t.Errorf("raw payload after restart:\n got  %s\n want %s", got.Payload, compact.String())
	}
	// The application token still works, and only for its application.
	if r := p.client(t, appToken).Do("GET", "/api/v1/app/acme/msg", appToken, nil); r.Status != 200 {
		t.Errorf("application token after restart: %d %s", r.Status, r.Body)
	}
	if r := p.client(t, appToken).Do("GET", "/api/v1/app/globex", appToken, nil); r.Status != 404 {
		t.Errorf("application token on another app after restart: %d %s", r.Status, r.Body)
	}
	// The restarted server takes new work next to the old.
	api.Op("POST", "/api/v1/app/acme/msg", map[string]any{"eventType": "ticket.sold", "eventId": "sale-after", "payload": ticketSold(9)}, 202)
	if r := api.Do("POST", "/api/v1/app/acme/msg", api.Token, map[string]any{"eventType": "ticket.sold", "eventId": "sale-0", "payload": ticketSold(0)}); r.Status != 409 {
		t.Errorf("eventId from before the restart reused: %d %s, want 409", r.Status, r.Body)
	}
	if r := api.Do("POST", "/api/v1/app/acme/msg", api.Token, map[string]any{"eventType": "order.created", "payload": orderCreated(1)}); r.Status != 422 {
		t.Errorf("archived event type after restart: %d %s, want 422", r.Status, r.Body)
	}
	p.stop(t)
}

var operatorTokenPattern = regexp.MustCompile(`hlo_[0-9A-Za-z]{20,}`)

func TestFirstStartPrintsOperatorToken(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"HOOKLINE_DEV": "1"}

	p := startHookline(t, dataDir, env)
	var token string
	pollUntil(t, 10*time.Second, "the operator token on stdout", func() bool {
		token = operatorTokenPattern.FindString(p.stdout.String())
		return token != ""
	})
	api := p.client(t, token)
	api.Op("POST", "/api/v1/app", map[string]any{"name": "First"}, 201)
	api.Op("GET", "/api/v1/app", nil, 200)
	if r := api.Do("GET", "/api/v1/app", "hlo_not_the_printed_token_0123456789", nil); r.Status != 401 {
		t.Errorf("a made-up token: %d", r.Status)
	}
	if !strings.Contains(p.stdout.String(), "http://"+p.addr) {
		t.Errorf("the first-start message does not show the server's URL %s:\n%s", p.addr, p.stdout)
	}
	p.stop(t)
	first := p.stdout.String()
	if n := len(operatorTokenPattern.FindAllString(first, -1)); n < 1 {
		t.Errorf("stdout of the first start:\n%s", first)
	}

	p = startHookline(t, dataDir, env)
	api = p.client(t, token)
	var list struct {
		Data []struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	api.Op("GET", "/api/v1/app", nil, 200).JSON(t, &list)
	if len(list.Data) != 1 || list.Data[0].Name != "First" {
		t.Errorf("apps after restart: %+v", list.Data)
	}
	p.stop(t) // after a clean exit, stdout is complete
	if out := p.stdout.String(); operatorTokenPattern.MatchString(out) {
		t.Errorf("the second start printed a token:\n%s", out)
	}
}
