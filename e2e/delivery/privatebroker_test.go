package delivery

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testproc"
)

// brokerSpec says how to run one kind of broker as a process of the test's own.
type brokerSpec struct {
	name string // names the broker in messages: "Redis"
	// binaries are the candidates for the server's executable, first found wins: a path, or a
	// name looked up in PATH.
	binaries []string
	// ports is how many free loopback ports the broker takes (1 when zero); the first is the
	// clients' port, Addr.
	ports int
	// command returns the process's arguments and extra environment (KEY=value) for b; it runs
	// at every start, so it may write a configuration file into b.Dir from b's fields.
	command func(b *privateBroker) (args, env []string)
	// ready reports whether the broker serves clients; nil means it accepts a TCP connection
	// at Addr.
	ready func(b *privateBroker) error
}

// privateBroker is a broker process of the test's own on free loopback ports, never the
// machine's shared broker: the test may stop it and start it again, on the same ports with
// the same data directory, as often as it likes. It is stopped when the test ends.
type privateBroker struct {
	t     *testing.T
	spec  brokerSpec
	path  string
	Addr  string // 127.0.0.1:port, where clients connect
	Ports []int  // the ports it takes; Ports[0] is Addr's
	Dir   string // its data and configuration directory, kept across restarts
	// Conf is extra configuration a spec's command may write into its configuration file
	// (Mosquitto's), read at each start.
	Conf string

	cmd    *exec.Cmd
	out    *testproc.Output
	exited chan struct{}
}

// startPrivateBroker finds spec's executable and starts the broker, returning once it serves.
// Without the executable the test skips, and fails under CI=true, where the brokers are
// installed.
func startPrivateBroker(t *testing.T, spec brokerSpec, configure ...func(*privateBroker)) *privateBroker {
	t.Helper()
	b := &privateBroker{t: t, spec: spec, Dir: t.TempDir()}
	for _, c := range spec.binaries {
		if p, err := exec.LookPath(c); err == nil {
			b.path = p
			break
		}
	}
	if b.path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (looked for %v); the test runs a broker of its own", spec.name, spec.binaries)
		}
		t.Skipf("%s is not installed (looked for %v); the test runs a broker of its own", spec.name, spec.binaries)
	}
	n := max(spec.ports, 1)
	for range n {
		_, port, _ := net.SplitHostPort(testproc.FreeAddr(t))
		p, _ := strconv.Atoi(port)
		b.Ports = append(b.Ports, p)
	}
	b.Addr = fmt.Sprintf("127.0.0.1:%d", b.Ports[0])
	for _, c := range configure {
		c(b)
	}
	t.Cleanup(func() {
		b.Stop()
		if t.Failed() {
			t.Logf("output of the test's %s:\n%s", spec.name, b.out)
		}
	})
	b.Start()
	return b
}

// Start starts the broker (again) and returns once it serves; it fails the test when the
// process exits first or does not serve within a minute (RabbitMQ takes several seconds).
func (b *privateBroker) Start() {
	b.t.Helper()
	if b.running() {
		b.t.Fatalf("the test's %s is running already", b.spec.name)
	}
	args, env := b.spec.command(b)
	cmd := exec.Command(b.path, args...)
	cmd.Dir = b.Dir
	cmd.Env = append(os.Environ(), env...)
	// A process group of its own: a broker started by a script (RabbitMQ's) is stopped whole.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if b.out == nil {
		b.out = &testproc.Output{}
	}
	cmd.Stdout, cmd.Stderr = b.out, b.out
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("start the test's %s: %v", b.spec.name, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	b.cmd, b.exited = cmd, exited
	ready := b.spec.ready
	if ready == nil {
		ready = func(b *privateBroker) error {
			c, err := net.DialTimeout("tcp", b.Addr, 2*time.Second)
			if err == nil {
				c.Close()
			}
			return err
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		err := ready(b)
		if err == nil {
			return
		}
		select {
		case <-exited:
			b.t.Fatalf("the test's %s exited before it served (%v):\n%s", b.spec.name, err, b.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the test's %s did not serve at %s within a minute (%v):\n%s", b.spec.name, b.Addr, err, b.out)
		}
	}
}

func (b *privateBroker) running() bool {
	if b.cmd == nil {
		return false
	}
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// Stop stops the broker the way its service manager would (SIGTERM: it closes its clients'
// connections and writes what it keeps to disk), and returns once it has exited; one still
// there after a minute is killed. Stopping a stopped broker does nothing.
func (b *privateBroker) Stop() {
	if b.cmd == nil {
		return
	}
	pgid := b.cmd.Process.Pid
	if b.running() {
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-b.exited:
		case <-time.After(time.Minute):
			b.t.Logf("the test's %s did not stop within a minute of SIGTERM; killing it", b.spec.name)
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-b.exited
		}
	}
	// Whatever the broker started and left in its group goes too.
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		b.t.Logf("kill the rest of the test's %s: %v", b.spec.name, err)
	}
	b.cmd = nil
}
