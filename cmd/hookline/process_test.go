package main

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/hookline/hookline/internal/testproc"
	"github.com/hookline/hookline/internal/testserver"
)

// These tests run the built binary as a real process where the process matters: its exit
// code, what it creates on disk, and what it prints before it stops.

func TestMain(m *testing.M) { testproc.Main(m) }

// hooklineCmd returns the binary as a command with only the environment given, so that the
// test process's own HOOKLINE_* variables do not leak in.
func hooklineCmd(t *testing.T, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(t.Context(), testproc.Binary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	return cmd
}

// TestFirstStartOnATakenPort: a first start whose port is taken fails before it creates
// anything, and says how to get a token; the next start, on a free port, creates the data
// directory and shows the first operator token, which is not lost.
func TestFirstStartOnATakenPort(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dataDir := filepath.Join(t.TempDir(), "hookline-data")

	var stdout, stderr strings.Builder
	cmd := hooklineCmd(t, nil, "serve", "--data-dir", dataDir, "--listen", taken.Addr().String())
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("serve on a taken port: %v, want exit code 1\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"listen on " + taken.Addr().String(), "address already in use", "Nothing was created", "--listen", "hookline token create"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the error lacks %q:\n%s", want, stderr.String())
		}
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		entries, _ := os.ReadDir(dataDir)
		t.Errorf("the failed start created the data directory (%v): %v", err, entries)
	}
	if strings.Contains(stdout.String(), "hlo_") {
		t.Errorf("the failed start printed a token:\n%s", stdout.String())
	}

	// The next start, with the port free, is the first start: it shows the token.
	stdout2 := &testproc.Output{}
	stderr2 := &testproc.Output{}
	cmd = hooklineCmd(t, []string{"HOOKLINE_DEV=true"}, "serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = stdout2, stderr2
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var token, dashboard string
	poll(t, "the first operator token", func() bool {
		token = regexp.MustCompile(`hlo_[0-9A-Za-z]{20,}`).FindString(stdout2.String())
		dashboard = regexp.MustCompile(`http://127\.0\.0\.1:\d+/dashboard/`).FindString(stdout2.String())
		return token != "" && dashboard != ""
	})
	api := &testserver.Instance{URL: strings.TrimSuffix(dashboard, "/dashboard/"), Token: token, T: t}
	api.Op("POST", "/api/v1/app", map[string]any{"name": "After a taken port"}, 201)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v\n%s", err, stderr2.String())
	}
}

// TestBanner: serve says where the dashboard, the API, its OpenAPI document, health and
// metrics are, and each of those addresses answers.
func TestBanner(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr testproc.Output
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0",
			"--operator-token", "hlo_banner_test_token_1234567890"}, &stdout, &stderr, func(string) string { return "" })
	}()
	var urls map[string]string
	poll(t, "the banner", func() bool {
		urls = map[string]string{}
		for _, m := range regexp.MustCompile(`(?m)^    (\w[\w ]*?)\s{2,}(http://\S+?),?(?:\s|$)`).FindAllStringSubmatch(stdout.String(), -1) {
			urls[m[1]] = m[2]
		}
		return len(urls) == 5
	})
	base := strings.TrimSuffix(urls["Dashboard"], "/dashboard/")
	want := map[string]string{"Dashboard": base + "/dashboard/", "API": base + "/api/v1", "API docs": base + "/api/v1/openapi.json",
		"Health": base + "/healthz", "Metrics": base + "/metrics"}
	for k, v := range want {
		if urls[k] != v {
			t.Errorf("banner line %q: %q, want %q\n%s", k, urls[k], v, stdout.String())
		}
	}
	api := &testserver.Instance{URL: base, Token: "hlo_banner_test_token_1234567890", T: t}
	for _, path := range []string{"/dashboard/", "/api/v1/openapi.json", "/healthz", "/readyz", "/metrics"} {
		api.Op("GET", path, nil, 200)
	}
	api.Op("GET", "/api/v1/app", nil, 200)
	cancel()
	<-done
}

// TestWrongFlag: a flag that does not exist gets the error and one line on where the flags
// are, not the whole list of flags.
func TestWrongFlag(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"serve", "--no-such-flag"}, {"migrate", "--nope"}, {"token", "create", "--bad=1"},
		{"listen", "--x"}, {"bench", "--y"}} {
		r := runCLI(t, nil, args...)
		name := strings.Join(args[:len(args)-1], " ")
		r.want(t, 2, nil, []string{"flag provided but not defined", "Run `hookline " + name + " --help` for its flags."})
		if lines := strings.Count(strings.TrimSpace(r.stderr), "\n") + 1; lines != 2 {
			t.Errorf("%v: %d lines on stderr, want 2:\n%s", args, lines, r.stderr)
		}
	}
	// --help still shows every flag.
	if r := runCLI(t, nil, "serve", "--help"); strings.Count(r.stderr, "\n") < 20 {
		t.Errorf("serve --help shows %d lines", strings.Count(r.stderr, "\n"))
	}
}

// TestVersionOfTheBinary: `hookline --version` and `hookline version` of a built binary print
// the same thing, from the module's build information.
func TestVersionOfTheBinary(t *testing.T) {
	t.Parallel()
	a, err := hooklineCmd(t, nil, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	b, err := hooklineCmd(t, nil, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Errorf("--version printed %q, version %q", a, b)
	}
	if !regexp.MustCompile(`^hookline \S+\n(commit   [0-9a-f]{40}.*\n)?module   github.com/hookline/hookline \S+\ngo       go1\.\S+ \S+/\S+\n$`).Match(a) {
		t.Errorf("version printed:\n%s", a)
	}
}
