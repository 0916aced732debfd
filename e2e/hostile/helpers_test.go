package hostile

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/procstat"
	"github.com/hookline/hookline/internal/testproc"
)

// operatorToken is the operator token of every server the tests start.
const operatorToken = "hlo_hostile_test_operator_token_0123456789"

func TestMain(m *testing.M) { testproc.Main(m) }

// server is one `hookline serve` process on SQLite.
type server struct {
	*testproc.Process
	URL     string
	DataDir string
}

// startServer starts `hookline serve --dev` on a new data directory under dir (a fresh
// temporary directory when dir is "") with extra flags, and waits until it is ready. It gets
// SIGTERM, then SIGKILL, when the test ends.
func startServer(t testing.TB, dataDir string, extra ...string) *server {
	t.Helper()
	if dataDir == "" {
		dataDir = filepath.Join(t.TempDir(), "data")
	}
	addr := testproc.FreeAddr(t)
	args := append([]string{"serve", "--dev", "--listen", addr, "--data-dir", dataDir, "--log-format", "json"}, extra...)
	s := &server{Process: testproc.Start(t, "hookline serve", []string{"HOOKLINE_OPERATOR_TOKEN=" + operatorToken}, args...),
		URL: "http://" + addr, DataDir: dataDir}
	s.WaitReady(t, s.URL+"/readyz", 30*time.Second)
	return s
}

// stop ends the process gracefully, or kills it when it takes too long.
func (s *server) stop() { s.Stop(15 * time.Second) }

// peakRSS returns the highest resident set size of the process so far, in bytes.
func (s *server) peakRSS(t testing.TB) int64 {
	t.Helper()
	st, err := procstat.Read(s.Cmd.Process.Pid)
	if err != nil || st.HWM == 0 {
		t.Fatalf("read the server's /proc status: %v (VmHWM %d)", err, st.HWM)
	}
	return st.HWM
}

var client = &http.Client{Timeout: 10 * time.Second}

// op sends an API request with the operator token, fails the test unless the status is want,
// and decodes the answer into out (when not nil).
func (s *server) op(t testing.TB, method, path string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+operatorToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}
