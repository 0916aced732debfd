package delivery

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testserver"
)

// The crash test runs the real hookline binary, built once per test run.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// hooklineBinary builds ./cmd/hookline on first use and returns its path.
func hooklineBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "hookline-e2e-delivery-")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "hookline")
		out, err := exec.Command("go", "build", "-o", binary.path, "../../cmd/hookline").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build ./cmd/hookline: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lockedBuffer collects a process's output while the test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const crashOperatorToken = "hlo_crash_test_operator_token_0123456789"

// served is a running `hookline serve`.
type served struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited and been reaped
}

// kill sends SIGKILL and returns once the process is gone.
func (p *served) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-p.exited
}

// stop sends SIGTERM, for a graceful stop, and returns once the process has exited.
func (p *served) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("hookline did not stop within 60s of SIGTERM")
	}
}

// serve runs `hookline serve --dev` on dataDir and addr, and returns once it answers
// /healthz. The process is killed at the end of the test if it still runs.
func serve(t *testing.T, dataDir, addr string) *served {
	t.Helper()
	cmd := exec.Command(hooklineBinary(t), "serve", "--dev", "--data-dir", dataDir, "--listen", addr)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKLINE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOOKLINE_OPERATOR_TOKEN="+crashOperatorToken, "HOOKLINE_LOG_LEVEL=info")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start hookline: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("hookline output (%s):\n%s", addr, out)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return &served{cmd: cmd, exited: exited}
			}
		}
		select {
		case <-exited:
			t.Fatalf("hookline exited before answering: %s", out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("hookline did not answer /healthz within 30s: %s", out)
		}
	}
}

// TestCrashLosesNoAcceptedMessage posts a stream of messages from several goroutines, kills
// the process with SIGKILL while posts are in flight, starts it again on the same data
// directory and posts some more: every message that got a 2xx reaches each matching endpoint
// at least once, and none reaches the endpoint whose filter leaves them out.
func TestCrashLosesNoAcceptedMessage(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	addr := freeAddr(t)
	proc := serve(t, dataDir, addr)
	api := &testserver.Instance{URL: "http://" + addr, Token: crashOperatorToken, T: t}

	var mu sync.Mutex
	got := map[string]map[string]int{} // path → webhook-id → deliveries
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		mu.Lock()
		defer mu.Unlock()
		if got[r.URL.Path] == nil {
			got[r.URL.Path] = map[string]int{}
		}
		got[r.URL.Path][r.Header.Get("webhook-id")]++
	})
	api.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "paid"}, 201)
	api.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.shipped", "description": "shipped"}, 201)
	var app struct {
		ID string `json:"id"`
	}
	api.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	for _, ep := range []map[string]any{
		{"url": rc.URL + "/all"},
		{"url": rc.URL + "/paid", "filterTypes": []string{"order.paid"}},
		{"url": rc.URL + "/shipped", "filterTypes": []string{"order.shipped"}},
	} {
		api.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", ep, 201)
	}

	p := startPosters(t, api.URL, crashOperatorToken, app.ID, 4)
	acceptedCount := p.count

	pollUntil(t, 30*time.Second, "150 messages accepted", func() bool { return acceptedCount() >= 150 })
	proc.kill(t) // SIGKILL, with posts in flight
	killedAt := acceptedCount()
	serve(t, dataDir, addr)
	pollUntil(t, 30*time.Second, "100 more messages accepted after the restart", func() bool { return acceptedCount() >= killedAt+100 })
	p.halt()
	ids := p.ids()
	failed := p.failures
	missing := func() (n int, example string) {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			for _, path := range []string{"/all", "/paid"} {
				if got[path][id] == 0 {
					n++
					example = path + " " + id
				}
			}
		}
		return n, example
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, example := missing()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries of accepted messages never arrived, such as %s", n, example)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-t.Context().Done():
			return
		}
	}

	mu.Lock()
	defer mu.Unlock()
	if n := len(got["/shipped"]); n != 0 {
		t.Errorf("the endpoint filtered to order.shipped got %d messages", n)
	}
	dups, extra := 0, 0
	acceptedSet := map[string]bool{}
	for _, id := range ids {
		acceptedSet[id] = true
	}
	for _, path := range []string{"/all", "/paid"} {
		for id, n := range got[path] {
			if n > 1 {
				dups += n - 1
			}
			if !acceptedSet[id] {
				extra++ // accepted by the server, but the client lost the response to the kill
			}
		}
	}
	t.Logf("%d messages accepted (%d before the kill), %d posts failed around the crash; %d duplicate deliveries, %d deliveries of messages whose 2xx the client never saw",
		len(ids), killedAt, failed, dups, extra)
}
