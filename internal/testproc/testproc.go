// Package testproc runs the real hookline binary as a separate process for tests: where the
// process itself matters (a SIGKILL, its memory, its exit code, several nodes on one database).
// It builds ./cmd/hookline once per test binary, starts it with a clean environment, collects
// its output, waits until it is ready and stops it when the test ends. The API requests the
// tests send go through internal/testserver's Instance.
package testproc

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Binary builds ./cmd/hookline on first use and returns the path of the executable. Main
// removes it when the tests are done.
func Binary(t testing.TB) string {
	t.Helper()
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "hookline-test-binary-")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "hookline")
		out, err := exec.Command("go", "build", "-o", binary.path, "github.com/hookline/hookline/cmd/hookline").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build ./cmd/hookline: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// Main runs the tests of a package that uses Binary and removes the built binary afterwards.
// Call it from TestMain; it does not return.
func Main(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// Env returns the test process's environment without any HOOKLINE_* variable, plus extra
// (NAME=value each), so that a developer's own settings do not leak into a test.
func Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKLINE_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// FreeAddr returns a loopback address with a port that was free a moment ago, for a process
// about to listen on it (and perhaps to be stopped and started again on it).
//
// The port lies below the kernel's ephemeral range when there is room there: an ephemeral
// port (what listening on port 0 gives) may be taken, between this call and the process's
// listen or while the process is stopped, by any process's outgoing connection, and tests make
// thousands of those; the kernel never gives a port below that range to one. Only another
// caller picking the same random port at the same moment could take it.
func FreeAddr(t testing.TB) string {
	t.Helper()
	if low := ephemeralLow(); low > minPort+1000 {
		for range 100 {
			addr := fmt.Sprintf("127.0.0.1:%d", minPort+rand.IntN(low-minPort))
			if ln, err := net.Listen("tcp", addr); err == nil {
				ln.Close()
				return addr
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// minPort is the lowest port FreeAddr picks: below it are the well-known services a test
// machine may run (PostgreSQL's 5432, Redis's 6379, RabbitMQ's 5672, NATS's 4222, 8080).
const minPort = 10000

// ephemeralLow returns the first port of the kernel's ephemeral range (Linux), or 0 when it
// cannot tell.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

// Output collects a process's output while the test may read it.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Output) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Output) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Process is a running hookline process.
type Process struct {
	Name   string // names the process in failure messages
	Cmd    *exec.Cmd
	Out    *Output       // stdout and stderr
	Exited chan struct{} // closed once the process has exited and been reaped
}

// Start runs the binary with args and the environment Env(env...), and returns without waiting
// for it to be ready (see WaitReady). When the test ends the process gets SIGTERM, then SIGKILL
// if it is still there after 15s, and its output goes to the test log if the test failed.
func Start(t testing.TB, name string, env []string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(Binary(t), args...)
	cmd.Env = Env(env...)
	p := &Process{Name: name, Cmd: cmd, Out: &Output{}, Exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Out, p.Out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		cmd.Wait()
		close(p.Exited)
	}()
	t.Cleanup(func() {
		p.Stop(15 * time.Second)
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, p.Out)
		}
	})
	return p
}

// Stop ends the process gracefully (SIGTERM), or kills it when it takes longer than grace.
// It reports whether the process stopped by itself (or was gone already).
func (p *Process) Stop(grace time.Duration) bool {
	select {
	case <-p.Exited:
		return true
	default:
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.Exited:
		return true
	case <-time.After(grace):
		p.Kill()
		return false
	}
}

// Kill sends SIGKILL and returns once the process is gone, with the error of the signal (the
// process had exited already, say).
func (p *Process) Kill() error {
	err := p.Cmd.Process.Kill()
	<-p.Exited
	return err
}

// WaitReady polls url until it answers 200, failing the test when the process exits first or
// after timeout.
func (p *Process) WaitReady(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if code, _ := Get(url); code == http.StatusOK {
			return
		}
		select {
		case <-p.Exited:
			t.Fatalf("%s exited before %s answered 200:\n%s", p.Name, url, p.Out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 on %s within %s:\n%s", p.Name, url, timeout, p.Out)
		}
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

// Get returns the status and body of a GET without a token, or 0 and the error when the
// request failed.
func Get(url string) (int, string) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// Metric returns the sum of every series of a metric on baseURL's /metrics (0 when it has
// none).
func Metric(t testing.TB, baseURL, name string) float64 {
	t.Helper()
	code, body := Get(baseURL + "/metrics")
	if code != http.StatusOK {
		t.Fatalf("%s/metrics: %d %s", baseURL, code, body)
	}
	sum := 0.0
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("%s/metrics: %q: %v", baseURL, line, err)
		}
		sum += v
	}
	return sum
}

// NeedListener skips the test when nothing listens at addr (a broker or another service the
// machine runs at its default port), and fails it under CI=true, where .ci/run starts them.
func NeedListener(t testing.TB, name, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		conn.Close()
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not reachable at %s: %v", name, addr, err)
	}
	t.Skipf("%s is not reachable at %s (%v); start it to run this test", name, addr, err)
}
