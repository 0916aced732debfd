package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/hookline/hookline/internal/testproc"
)

// TestReadmeQuickstart runs the README's five-minute quickstart as written, each shell block in
// bash with the built binary for `go run ./cmd/hookline` and free ports for 8080 and 9876: the
// server, the set-up requests, `hookline listen --secret` with the secret the set-up printed, and
// the message. The listener must print the delivery as verified, as the README shows.
func TestReadmeQuickstart(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the quickstart needs it", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "## Five-minute quickstart")
	if start < 0 {
		t.Fatal("README has no quickstart")
	}
	section := text[start+3:]
	section = section[:strings.Index(section, "\n## ")]
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	find := func(what string) string {
		for _, b := range blocks {
			if strings.Contains(b, what) {
				return b
			}
		}
		t.Fatalf("no quickstart block has %q:\n%s", what, section)
		return ""
	}
	serveBlock, setupBlock := find("serve --dev"), find("/secret")
	listenBlock, messageBlock := find("listen --addr"), find("/msg -d")
	if !strings.Contains(listenBlock, "--secret whsec_") {
		t.Errorf("the quickstart's listener does not verify signatures (no --secret):\n%s", listenBlock)
	}

	api, receiver := testproc.FreeAddr(t), testproc.FreeAddr(t)
	bin := testproc.Binary(t)
	home := t.TempDir()
	adapt := func(block string) string {
		block = strings.ReplaceAll(block, "go run ./cmd/hookline", "exec "+bin)
		block = strings.ReplaceAll(block, "127.0.0.1:8080", api)
		block = strings.ReplaceAll(block, "127.0.0.1:9876", receiver)
		return block
	}
	bash := func(block string) *exec.Cmd {
		cmd := exec.CommandContext(t.Context(), "bash", "-euc", block)
		cmd.Dir = home // the server's ./hookline-data goes here
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
		return cmd
	}
	background := func(name, block string) *testproc.Output {
		out := &testproc.Output{}
		cmd := bash(block)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
			if t.Failed() {
				t.Logf("%s printed:\n%s", name, out)
			}
		})
		return out
	}
	// The server block ends with "serve --dev"; it must listen where the other blocks expect.
	serveOut := background("serve", strings.Replace(adapt(serveBlock), "serve --dev", "serve --dev --listen "+api, 1))
	poll(t, "the server's banner", func() bool { return strings.Contains(serveOut.String(), "/dashboard/") })

	setup, err := bash(adapt(setupBlock)).CombinedOutput()
	if err != nil {
		t.Fatalf("set-up: %v\n%s", err, setup)
	}
	secret := regexp.MustCompile(`"key":"(whsec_[A-Za-z0-9+/=]+)"`).FindStringSubmatch(string(setup))
	if secret == nil {
		t.Fatalf("the set-up printed no signing secret:\n%s", setup)
	}
	listen := adapt(regexp.MustCompile(`whsec_\S+`).ReplaceAllString(listenBlock, secret[1]))
	listenOut := background("listen", listen)
	poll(t, "the listener", func() bool { return strings.Contains(listenOut.String(), "receiving webhooks") })

	// The message block needs the set-up's variables (TOKEN, API, auth).
	sent, err := bash(adapt(setupVars(setupBlock) + messageBlock)).CombinedOutput()
	if err != nil {
		t.Fatalf("message: %v\n%s", err, sent)
	}
	id := regexp.MustCompile(`"id":"(msg_\w+)"`).FindStringSubmatch(string(sent))
	if id == nil {
		t.Fatalf("the message was not accepted:\n%s", sent)
	}
	poll(t, "the verified delivery", func() bool {
		out := listenOut.String()
		return strings.Contains(out, id[1]) && strings.Contains(out, "✔ verified")
	})
}

// setupVars returns the variable assignments at the top of the set-up block.
func setupVars(block string) string {
	var b strings.Builder
	for _, line := range strings.Split(block, "\n") {
		if regexp.MustCompile(`^[A-Za-z_]+=`).MatchString(line) {
			fmt.Fprintln(&b, line)
		}
	}
	return b.String()
}
