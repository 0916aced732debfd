package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// serverProc is a Hookline server the benchmark started as a separate process, so that its
// memory and CPU time can be read from /proc without counting the benchmark's own.
type serverProc struct {
	cmd     *exec.Cmd
	url     string
	token   string
	root    string // temporary directory: data/ and server.log
	dataDir string
	logPath string
	logFile *os.File
	exited  chan struct{}
	waitErr error
}

// startServer runs `<binary> serve --dev` on a free loopback port with a fresh data directory
// and waits until /readyz answers.
func startServer(ctx context.Context, binary string, flags []string, databaseURL string) (*serverProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "hookline-bench-*")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	p := &serverProc{root: root, dataDir: filepath.Join(root, "data"), logPath: filepath.Join(root, "server.log"),
		url: "http://127.0.0.1:" + strconv.Itoa(port), token: newToken(), exited: make(chan struct{})}
	args := []string{"serve", "--dev", "--data-dir", p.dataDir, "--listen", "127.0.0.1:" + strconv.Itoa(port),
		"--log-level=warn", "--log-format=text"}
	if databaseURL != "" {
		args = append(args, "--database-url", databaseURL)
	}
	// The caller's flags come last so they override the ones above.
	args = append(args, flags...)
	p.logFile, err = os.Create(p.logPath)
	if err != nil {
		os.RemoveAll(root)
		return nil, fmt.Errorf("server log: %w", err)
	}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = append(os.Environ(), "HOOKLINE_OPERATOR_TOKEN="+p.token)
	if databaseURL != "" && os.Getenv("HOOKLINE_MAIN_KEY") == "" {
		// A shared database needs the main key given, not generated in the data directory.
		key := make([]byte, 32)
		rand.Read(key)
		p.cmd.Env = append(p.cmd.Env, "HOOKLINE_MAIN_KEY="+hex.EncodeToString(key))
	}
	p.cmd.Stdout, p.cmd.Stderr = p.logFile, p.logFile
	if err := p.cmd.Start(); err != nil {
		p.logFile.Close()
		os.RemoveAll(root)
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	if err := waitReady(ctx, p.url, 60*time.Second, p.exited); err != nil {
		tail := p.logTail()
		p.stop(false)
		return nil, fmt.Errorf("%w: %v; server log:\n%s", errNotReady, err, tail)
	}
	return p, nil
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "hlo_bench_" + hex.EncodeToString(b)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls url/readyz until it answers 200; exited (may be nil) closing means the
// server died.
func waitReady(ctx context.Context, url string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/readyz did not answer 200 within %s", url, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return fmt.Errorf("the server exited")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logTail returns the end of the server's log, for error messages.
func (p *serverProc) logTail() string {
	data, _ := os.ReadFile(p.logPath)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// stop ends the server gracefully (SIGTERM), killing it if it does not stop in time, and
// removes its directory unless keep.
func (p *serverProc) stop(keep bool) error {
	var err error
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
			err = fmt.Errorf("the server did not stop within 20s of SIGTERM; killed")
		}
	}
	p.logFile.Close()
	if !keep {
		os.RemoveAll(p.root)
	}
	return err
}

// dbSize returns the sizes of the SQLite database and its write-ahead log in dir.
func dbSize(dir string) (db, wal int64) {
	if fi, err := os.Stat(filepath.Join(dir, "hookline.db")); err == nil {
		db = fi.Size()
	}
	if fi, err := os.Stat(filepath.Join(dir, "hookline.db-wal")); err == nil {
		wal = fi.Size()
	}
	return db, wal
}
