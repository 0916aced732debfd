package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testproc"
	"github.com/hookline/hookline/internal/testserver"
	"github.com/hookline/hookline/server"
	"github.com/hookline/hookline/storecache"
)

// These tests call run, the whole command minus os.Args and os.Exit, with buffers for its
// output and a map for its environment; the commands work on real SQLite files.

// result is what one run of the command did.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command with args and the environment env.
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &stdout, &stderr, func(k string) string { return env[k] })
	return result{code, stdout.String(), stderr.String()}
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// want fails the test unless the run exited with code and its stdout and stderr contain the
// given strings.
func (r result) want(t *testing.T, code int, inStdout, inStderr []string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\n%s", r.code, code, r)
	}
	for _, s := range inStdout {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q\n%s", s, r)
		}
	}
	for _, s := range inStderr {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q\n%s", s, r)
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"help"}, {"--help"}, {"-h"}} {
		r := runCLI(t, nil, args...)
		r.want(t, 0, []string{"Usage: hookline <command>", "serve", "migrate", "token", "version", "docs/configuration.md"}, nil)
	}
	// help <command> shows the command's flags, with their environment variables.
	runCLI(t, nil, "help", "serve").want(t, 0, nil, []string{"Usage: hookline serve", "-listen", "HOOKLINE_LISTEN", "-data-dir", "-dev"})
	runCLI(t, nil, "serve", "--help").want(t, 0, nil, []string{"Usage: hookline serve", "-max-body-size", "HOOKLINE_MAX_BODY_SIZE"})
	runCLI(t, nil, "migrate", "--help").want(t, 0, nil, []string{"Usage: hookline migrate", "-data-dir"})
	runCLI(t, nil, "token", "--help").want(t, 0, nil, []string{"create", "list", "revoke"})
	runCLI(t, nil, "token", "create", "--help").want(t, 0, nil, []string{"-app", "-expires-in"})
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "frobnicate")
	r.want(t, 2, nil, []string{`unknown command "frobnicate"`, "Usage: hookline <command>"})
	if r.stdout != "" {
		t.Errorf("unknown command wrote to stdout: %q", r.stdout)
	}
	runCLI(t, nil, "token").want(t, 2, nil, []string{"Usage: hookline token create|list|revoke"})
	runCLI(t, nil, "token", "burn").want(t, 2, nil, []string{"Usage: hookline token"})
	runCLI(t, nil, "serve", "--no-such-flag").want(t, 2, nil, []string{"no-such-flag"})
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "version")
	r.want(t, 0, nil, nil)
	if !strings.HasPrefix(r.stdout, "hookline "+server.Version+"\n") || !strings.Contains(r.stdout, "\ngo       go1.") {
		t.Errorf("version printed %q", r.stdout)
	}
	if r2 := runCLI(t, nil, "--version"); r2.code != 0 || r2.stdout != r.stdout {
		t.Errorf("--version printed %q (exit %d), version %q", r2.stdout, r2.code, r.stdout)
	}
}

var tokenLine = regexp.MustCompile(`^(hl[oa]_[0-9A-Za-z]{20,})\n$`)
var tokenID = regexp.MustCompile(`tok_[0-9A-Za-z]+`)

func TestTokens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := testserver.Start(t, testserver.Options{DataDir: dir})
	var app struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme", "uid": "acme"}, 201).JSON(t, &app)
	data := []string{"--data-dir", dir, "--log-level", "warn"}

	// An operator token: its text alone on stdout, the rest on stderr.
	r := runCLI(t, nil, append([]string{"token", "create", "--name", "ci deploy"}, data...)...)
	r.want(t, 0, nil, []string{"Created operator token tok_", "shown only this once"})
	m := tokenLine.FindStringSubmatch(r.stdout)
	if m == nil || !strings.HasPrefix(m[1], "hlo_") {
		t.Fatalf("token create printed %q", r.stdout)
	}
	opToken, opID := m[1], tokenID.FindString(r.stderr)
	if resp := srv.Do("POST", "/api/v1/app", opToken, map[string]any{"name": "Made with the CLI token"}); resp.Status != 201 {
		t.Errorf("the CLI's operator token against the server: %d %s", resp.Status, resp.Body)
	}

	// An application token, by the application's uid, with an expiry.
	r = runCLI(t, nil, append([]string{"token", "create", "--app", "acme", "--expires-in", "720h"}, data...)...)
	r.want(t, 0, nil, []string{"Created application token tok_"})
	m = tokenLine.FindStringSubmatch(r.stdout)
	if m == nil || !strings.HasPrefix(m[1], "hla_") {
		t.Fatalf("token create --app printed %q", r.stdout)
	}
	appToken, appTokID := m[1], tokenID.FindString(r.stderr)
	if resp := srv.Do("GET", "/api/v1/app/acme", appToken, nil); resp.Status != 200 {
		t.Errorf("the CLI's application token on its app: %d %s", resp.Status, resp.Body)
	}
	if resp := srv.Do("POST", "/api/v1/app", appToken, map[string]any{"name": "x"}); resp.Status != 403 {
		t.Errorf("the CLI's application token creating an app: %d %s", resp.Status, resp.Body)
	}

	runCLI(t, nil, append([]string{"token", "create", "--app", "nobody"}, data...)...).want(t, 1, nil, []string{`application "nobody" does not exist`})
	runCLI(t, nil, append([]string{"token", "create", "--expires-in", "soon"}, data...)...).want(t, 2, nil, []string{"expires-in"})

	// list shows all three (the test server's own operator token too), never their text.
	r = runCLI(t, nil, append([]string{"token", "list"}, data...)...)
	r.want(t, 0, []string{"ID", "KIND", "STATUS", opID, appTokID, "ci deploy", "operator", "application", app.ID, "expires "}, nil)
	if strings.Contains(r.stdout, opToken) || strings.Contains(r.stdout, appToken) {
		t.Errorf("token list shows a token's text:\n%s", r.stdout)
	}
	if n := len(tokenID.FindAllString(r.stdout, -1)); n != 3 {
		t.Errorf("token list shows %d tokens, want 3:\n%s", n, r.stdout)
	}
	r = runCLI(t, nil, append([]string{"token", "list", "--app", "acme"}, data...)...)
	r.want(t, 0, []string{appTokID}, nil)
	if strings.Contains(r.stdout, opID) {
		t.Errorf("token list --app shows an operator token:\n%s", r.stdout)
	}

	// revoke: the token stops working within the server's cache TTL (a second), and the list
	// says so.
	runCLI(t, nil, append(append([]string{"token", "revoke"}, data...), appTokID)...).want(t, 0, []string{"revoked " + appTokID}, nil)
	deadline := time.Now().Add(storecache.TTL + time.Second)
	for {
		resp := srv.Do("GET", "/api/v1/app/acme", appToken, nil)
		if resp.Status == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked token still accepted after %v: %d %s", storecache.TTL+time.Second, resp.Status, resp.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	runCLI(t, nil, append([]string{"token", "list"}, data...)...).want(t, 0, []string{"revoked "}, nil)
	runCLI(t, nil, append([]string{"token", "revoke"}, data...)...).want(t, 1, nil, []string{"give the id of the token to revoke"})
	runCLI(t, nil, append(append([]string{"token", "revoke"}, data...), "tok_nonexistent")...).want(t, 1, nil, []string{"not found"})
	if resp := srv.Do("GET", "/api/v1/app", opToken, nil); resp.Status != 200 {
		t.Errorf("the other token after a revoke: %d", resp.Status)
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	data := []string{"--data-dir", dir}

	r := runCLI(t, nil, append([]string{"migrate", "status"}, data...)...)
	r.want(t, 0, []string{"0001", "pending"}, nil)
	if strings.Contains(r.stdout, "applied") {
		t.Errorf("status of a new database shows applied migrations:\n%s", r.stdout)
	}
	pending := strings.Count(r.stdout, "pending")

	r = runCLI(t, nil, append([]string{"migrate", "up"}, data...)...)
	r.want(t, 0, []string{"applied 0001"}, nil)
	if n := strings.Count(r.stdout, "applied "); n != pending {
		t.Errorf("up applied %d migrations, status listed %d pending:\n%s", n, pending, r.stdout)
	}
	// Each migration is reported once, not also in a log line.
	if n := strings.Count(r.stdout+r.stderr, "0001_"); n != 1 {
		t.Errorf("up reported the first migration %d times:\n%s", n, r)
	}

	r = runCLI(t, nil, append([]string{"migrate", "status"}, data...)...)
	r.want(t, 0, []string{"applied 20"}, nil)
	if strings.Contains(r.stdout, "pending") {
		t.Errorf("status after up still shows pending migrations:\n%s", r.stdout)
	}
	// up is the default action, and idempotent; the environment names the data directory too.
	runCLI(t, map[string]string{"HOOKLINE_DATA_DIR": dir}, "migrate").want(t, 0, []string{"The database is up to date."}, nil)
}

func TestServeSettingErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string
	}{
		{"postgres", nil, []string{"--database-url", "postgres://hookline@db/hookline"}, 1, []string{"needs the main key"}},
		{"postgres from env", map[string]string{"HOOKLINE_DATABASE_URL": "postgres://x"}, nil, 1, []string{"needs the main key"}},
		{"bad size", nil, []string{"--max-body-size", "lots"}, 1, []string{"max-body-size", "HOOKLINE_MAX_BODY_SIZE", "lots"}},
		{"bad duration", nil, []string{"--shutdown-timeout=soon"}, 1, []string{"shutdown-timeout", "duration"}},
		{"bad CIDR", nil, []string{"--allow-networks", "10.0.0.0/99"}, 1, []string{"allow-networks", "CIDR"}},
		{"bad log level", map[string]string{"HOOKLINE_LOG_LEVEL": "loud"}, nil, 1, []string{"log-level", "HOOKLINE_LOG_LEVEL", "loud"}},
		{"bad database URL", nil, []string{"--database-url", "mysql://root:hunter2@db"}, 1, []string{"database-url", "(hidden)"}},
		{"short operator token", nil, []string{"--operator-token", "short"}, 1, []string{"HOOKLINE_OPERATOR_TOKEN", "24"}},
		{"unexpected argument", nil, []string{"now"}, 1, []string{"unexpected arguments: now"}},
		{"bad listen address", nil, []string{"--listen", "256.0.0.1:80"}, 1, []string{"listen"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"serve", "--data-dir", filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")), "--listen", "127.0.0.1:0"}, c.args...)
			r := runCLI(t, c.env, args...)
			r.want(t, c.code, nil, append([]string{"hookline serve: "}, c.want...))
			if strings.Contains(r.stderr, "hunter2") {
				t.Errorf("the error shows a secret:\n%s", r.stderr)
			}
		})
	}
}

// poll calls cond until it is true, failing the test after 15s.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testserver.PollUntil(t, 15*time.Second, what, cond)
}

func TestServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr testproc.Output
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0"}, &stdout, &stderr,
			func(k string) string {
				return map[string]string{"HOOKLINE_DEV": "true", "HOOKLINE_SHUTDOWN_TIMEOUT": "5s"}[k]
			})
	}()

	var addr, token string
	poll(t, `the "listening" log line and the first operator token`, func() bool {
		for _, line := range strings.Split(stderr.String(), "\n") {
			var rec struct {
				Msg, Addr string
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				addr = rec.Addr
			}
		}
		token = regexp.MustCompile(`hlo_[0-9A-Za-z]{20,}`).FindString(stdout.String())
		return addr != "" && token != ""
	})
	api := &testserver.Instance{URL: "http://" + addr, Token: token, T: t}
	api.Op("POST", "/api/v1/app", map[string]any{"name": "Served"}, 201)
	api.Op("GET", "/api/v1/health", nil, 204)

	cancel() // what SIGTERM does in main
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d after its context ended\nstderr:\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return within 10s of its context ending")
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("no shutdown log:\n%s", stderr.String())
	}
}
