package multinode

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testload"
	"github.com/hookline/hookline/internal/testproc"
	"github.com/hookline/hookline/internal/testserver"
)

// privatePG is a PostgreSQL server of one test's own, so that stopping it disturbs no other
// test.
type privatePG struct {
	bin  string // directory of initdb, pg_ctl
	dir  string // socket directory and home of data/ and log
	port int
	user *user.User // the postgres user, when running as root (PostgreSQL refuses root)
	URL  string
}

// startPrivatePG initialises and starts a PostgreSQL server in a temporary directory, on a
// free port, and removes it when the test ends. The binaries come from HOOKLINE_TEST_PG_BIN
// (default /usr/lib/postgresql/15/bin). Without them (or, as root, without runuser and a
// postgres user) the test is skipped; binaries that exist but fail fail it under CI=true and
// skip it otherwise.
func startPrivatePG(t *testing.T) *privatePG {
	t.Helper()
	bin := os.Getenv("HOOKLINE_TEST_PG_BIN")
	if bin == "" {
		bin = "/usr/lib/postgresql/15/bin"
	}
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			t.Skipf("PostgreSQL server binaries not found (%v); set HOOKLINE_TEST_PG_BIN to their directory to run this test", err)
		}
	}
	pg := &privatePG{bin: bin}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("runuser"); err != nil {
			t.Skip("running as root, and runuser is missing to run PostgreSQL as the postgres user")
		}
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root, and there is no postgres user to run PostgreSQL as: %v", err)
		}
		pg.user = u
	}
	failed := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format+" (skipped; fails under CI=true)", args...)
	}

	dir, err := os.MkdirTemp("", "hookline-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg.dir = dir
	t.Cleanup(func() {
		pg.ctl("stop", "-m", "immediate") // may be stopped already
		os.RemoveAll(dir)
	})
	if pg.user != nil {
		uid, _ := strconv.Atoi(pg.user.Uid)
		gid, _ := strconv.Atoi(pg.user.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := pg.command("initdb", "-D", pg.data(), "-A", "trust", "-U", "postgres", "--no-sync").CombinedOutput(); err != nil {
		failed("initdb: %v\n%s", err, out)
	}
	// Stopped and started again on its port: testproc.FreeAddr picks one that no outgoing
	// connection can take meanwhile.
	pg.port, _ = strconv.Atoi(strings.TrimPrefix(testproc.FreeAddr(t), "127.0.0.1:"))
	pg.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
	if out, err := pg.ctl("start"); err != nil {
		failed("pg_ctl start: %v\n%s", err, out)
	}
	return pg
}

func (pg *privatePG) data() string { return filepath.Join(pg.dir, "data") }

// command runs a PostgreSQL program, as the postgres user when we are root.
func (pg *privatePG) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(pg.bin, name)
	if pg.user != nil {
		return exec.Command("runuser", append([]string{"-u", pg.user.Username, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

// ctl runs pg_ctl start or stop (with extra arguments), waiting until it is done.
func (pg *privatePG) ctl(action string, extra ...string) ([]byte, error) {
	args := []string{"-D", pg.data(), "-w", "-t", "30", "-l", filepath.Join(pg.dir, "log")}
	if action == "start" {
		// fsync off: a test server that is only ever stopped cleanly needs no flushes.
		args = append(args, "-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", pg.port, pg.dir))
	}
	return pg.command("pg_ctl", append(append(args, action), extra...)...).CombinedOutput()
}

// log returns the server's log.
func (pg *privatePG) log() string {
	b, _ := os.ReadFile(filepath.Join(pg.dir, "log"))
	return string(b)
}

// TestPostgresRestartUnderLoad stops PostgreSQL for about 3 s while messages are being posted
// and delivered, then starts it again: while it is down the API answers 503 "unavailable" (and
// /readyz 503) and accepts nothing; once it is back the API answers 2xx again by itself, and
// every message that got a 2xx is delivered, without restarting Hookline.
func TestPostgresRestartUnderLoad(t *testing.T) {
	const outage = 3 * time.Second
	pg := startPrivatePG(t)
	n := startNode(t, "node", pg.URL)
	n.waitReady(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("PostgreSQL log:\n%s", pg.log())
		}
	})
	rc := testload.NewReceiver(t, 5*time.Millisecond)
	appID := setupApp(t, n, []map[string]any{{"url": rc.URL + "/all"}})
	paths := []string{"/all"}

	var down atomic.Bool
	p := startPosters(t, appID, 2, 0, func() []*node { return []*node{n} }, down.Load)
	testserver.PollUntil(t, 30*time.Second, "100 messages accepted", func() bool { return p.Count() >= 100 })

	if out, err := pg.ctl("stop", "-m", "fast"); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
	down.Store(true)
	downAt := time.Now()
	beforeStop := p.Count()
	testserver.PollUntil(t, 5*time.Second, "/readyz to answer 503", func() bool {
		code, _ := testproc.Get(n.URL + "/readyz")
		return code == http.StatusServiceUnavailable
	})
	if r := call(t.Context(), "GET", n.URL+"/api/v1/app", nil); r.Status != http.StatusServiceUnavailable || r.Code() != "unavailable" {
		t.Errorf("GET /api/v1/app with the database down: %d %s, want 503 unavailable", r.Status, r.Body)
	}
	// The outage's length is the test's input, not something to wait for.
	<-time.After(outage - time.Since(downAt))
	atRestart := p.Count()
	down.Store(false)
	if out, err := pg.ctl("start"); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
	upAt := time.Now()

	testserver.PollUntil(t, 30*time.Second, "the API to accept messages again", func() bool { return p.Count() > atRestart })
	recovered := time.Since(upAt)
	testserver.PollUntil(t, 30*time.Second, "100 more messages accepted", func() bool { return p.Count() >= atRestart+100 })
	p.Halt()
	ids := p.IDs()
	rc.WaitDelivered(t, 60*time.Second, paths, ids)
	deliveredIn := time.Since(upAt)

	select {
	case <-n.Exited:
		t.Fatal("hookline exited")
	default:
	}
	if code, body := testproc.Get(n.URL + "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after the restart: %d %s", code, body)
	}
	statuses, _, duringOK := p.Answers()
	for k, c := range statuses {
		if k != "202" && k != "503 unavailable" {
			t.Errorf("%d answers %q; want only 202, and 503 unavailable while the database is down", c, k)
		}
	}
	if duringOK != 0 {
		t.Errorf("%d messages were accepted by requests made and answered while PostgreSQL was down", duringOK)
	}
	if statuses["503 unavailable"] == 0 {
		t.Error("no post was refused with 503 while PostgreSQL was down")
	}
	_, dups, _ := rc.Tally(paths, ids)
	t.Logf("%d messages accepted (%d before the stop, %d accepted after the stop by requests already running, %d after the start); %s",
		len(ids), beforeStop, atRestart-beforeStop, len(ids)-atRestart, p.Summary())
	t.Logf("PostgreSQL down for %s; first 2xx %s after the start; every accepted message delivered %s after the start; %d duplicates; node warnings %v",
		upAt.Sub(downAt).Round(time.Millisecond), recovered.Round(time.Millisecond), deliveredIn.Round(time.Millisecond), dups, n.problems())
}
