package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testproc"
	"github.com/hookline/hookline/signature"
)

// listening is a running `hookline listen`.
type listening struct {
	url            string
	stdout, stderr *testproc.Output
	stop           func() int // cancels the context and returns the exit code
}

var listenAddr = regexp.MustCompile(`receiving webhooks on (http://\S+)`)

// startListen runs `hookline listen --addr 127.0.0.1:0 args...` and waits until it listens.
func startListen(t *testing.T, env map[string]string, args ...string) *listening {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	l := &listening{stdout: &testproc.Output{}, stderr: &testproc.Output{}}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"listen", "--addr", "127.0.0.1:0"}, args...), l.stdout, l.stderr,
			func(k string) string { return env[k] })
	}()
	var once sync.Once
	code := -1
	l.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("hookline listen did not stop after its context was canceled")
			}
		})
		return code
	}
	t.Cleanup(func() { l.stop() })

	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := listenAddr.FindStringSubmatch(l.stderr.String()); m != nil {
			l.url = m[1]
			return l
		}
		select {
		case c := <-done:
			t.Fatalf("hookline listen exited with %d: %s", c, l.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hookline listen did not start: %s", l.stderr)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline for the start-up line
	}
}

// post sends body to path with the headers and returns the status and response text.
func post(t *testing.T, url string, h http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// signed returns the headers of a delivery signed by profile p with secret.
func signed(t *testing.T, p signature.Profile, msgID, eventType, body, secret string) http.Header {
	t.Helper()
	h := http.Header{}
	if err := p.Sign(h, msgID, time.Now(), eventType, []byte(body), []string{secret}); err != nil {
		t.Fatal(err)
	}
	return h
}

const (
	listenSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	otherSecret  = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
)

func TestListenVerifiesAndPrints(t *testing.T) {
	t.Parallel()
	l := startListen(t, nil, "--secret", listenSecret)
	body := `{"type":"order.paid","data":{"orderId":"ord_9f8e7d6c","total":"45.00"}}`

	status, reply := post(t, l.url+"/webhooks/hookline", signed(t, signature.Standard(), "msg_good1", "order.paid", body, listenSecret), body)
	if status != http.StatusOK {
		t.Errorf("signed delivery: status %d (%s), want 200", status, reply)
	}
	out := l.stdout.String()
	for _, want := range []string{"POST /webhooks/hookline", "msg_good1", "order.paid", "verified", `"orderId": "ord_9f8e7d6c"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// Signed with another secret: refused, and the output says why.
	status, reply = post(t, l.url+"/webhooks/hookline", signed(t, signature.Standard(), "msg_bad1", "order.paid", body, otherSecret), body)
	if status != http.StatusUnauthorized || !strings.Contains(reply, "invalid signature") {
		t.Errorf("wrongly signed delivery: status %d (%s), want 401 invalid signature", status, reply)
	}
	// A body changed after signing: refused too.
	h := signed(t, signature.Standard(), "msg_bad2", "order.paid", body, listenSecret)
	status, _ = post(t, l.url+"/x", h, strings.Replace(body, "45.00", "0.01", 1))
	if status != http.StatusUnauthorized {
		t.Errorf("tampered delivery: status %d, want 401", status)
	}
	out = l.stdout.String()
	if strings.Count(out, "invalid signature") < 2 || !strings.Contains(out, "msg_bad1") {
		t.Errorf("output does not report both invalid signatures:\n%s", out)
	}

	// Only POST is a delivery.
	resp, err := http.Get(l.url + "/webhooks/hookline")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", resp.StatusCode)
	}

	if code := l.stop(); code != 0 {
		t.Errorf("exit code after cancel = %d, want 0; stderr: %s", code, l.stderr)
	}
	if _, err := http.Post(l.url, "application/json", strings.NewReader("{}")); err == nil {
		t.Error("still answering after its context was canceled")
	}
}

func TestListenJSONWithHexProfileAndRotation(t *testing.T) {
	t.Parallel()
	// Two secrets from the environment, as during a rotation; the cleartix profile.
	l := startListen(t, map[string]string{"HOOKLINE_LISTEN_SECRET": otherSecret + "," + listenSecret}, "--profile", "cleartix", "--json", "--status", "204")
	p, _ := signature.Preset("cleartix")
	body := `{"id":"evt_1","event":"ticket.sold","data":{"orderId":"ord_1","ticketCount":2}}`

	status, _ := post(t, l.url+"/hooks", signed(t, p, "msg_1", "ticket.sold", body, listenSecret), body)
	if status != http.StatusNoContent {
		t.Errorf("status %d, want --status 204", status)
	}
	status, _ = post(t, l.url+"/hooks", http.Header{"X-Cleartix-Signature": {"sha256=" + strings.Repeat("0", 64)}}, body)
	if status != http.StatusUnauthorized {
		t.Errorf("forged delivery: status %d, want 401", status)
	}

	lines := strings.Split(strings.TrimSpace(l.stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one JSON line per delivery, got:\n%s", l.stdout)
	}
	var recs [2]struct {
		EventType string          `json:"eventType"`
		Verified  bool            `json:"verified"`
		Verdict   string          `json:"verdict"`
		Body      json.RawMessage `json:"body"`
		Headers   map[string]string
	}
	for i, line := range lines {
		if err := json.Unmarshal([]byte(line), &recs[i]); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i, err, line)
		}
	}
	if !recs[0].Verified || recs[0].EventType != "ticket.sold" || string(recs[0].Body) != body || recs[0].Headers["X-Cleartix-Event"] != "ticket.sold" {
		t.Errorf("first record %+v, want verified ticket.sold with the body", recs[0])
	}
	if recs[1].Verified || !strings.Contains(recs[1].Verdict, "invalid signature") {
		t.Errorf("second record %+v, want an invalid signature", recs[1])
	}
}

func TestListenWithoutSecretWarns(t *testing.T) {
	t.Parallel()
	l := startListen(t, nil)
	if !strings.Contains(l.stderr.String(), "signatures are NOT checked") {
		t.Errorf("no warning about unchecked signatures: %s", l.stderr)
	}
	status, _ := post(t, l.url+"/", nil, `{"hello":"world"}`)
	if status != http.StatusOK {
		t.Errorf("status %d, want 200", status)
	}
	if out := l.stdout.String(); !strings.Contains(out, "not checked") || !strings.Contains(out, `"hello": "world"`) {
		t.Errorf("output:\n%s", out)
	}
}

func TestListenBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"listen", "--profile", "nosuch"},
		{"listen", "--profile", `{"kind":"hmac-hex"}`},
		{"listen", "--status", "99"},
		{"listen", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), args, &stdout, &stderr, func(string) string { return "" }); code == 0 {
			t.Errorf("%q: exit code 0, want an error", args)
		}
	}
}
