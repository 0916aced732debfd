package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSummarize runs `go test -json` on a small module whose tests pass, fail, skip for want of
// PostgreSQL, Chromium and Node.js, and panic, and checks what the summary shows: the plain
// `go test` lines, the failures' output, and one line of the skipped tests by reason.
func TestSummarize(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.22\n")
	write("good/good_test.go", `package good
import "testing"
func TestPasses(t *testing.T) { t.Log("chatter that plain go test hides") }
func TestNeedsPostgres(t *testing.T) { t.Skip("PostgreSQL is not reachable at 127.0.0.1:5432") }
func TestNeedsChromium(t *testing.T) {
	for _, n := range []string{"a", "b"} {
		t.Run(n, func(t *testing.T) { t.Skipf("no Chromium found (set HOOKLINE_TEST_CHROME)") })
	}
}
`)
	write("bad/bad_test.go", `package bad
import "testing"
func TestFails(t *testing.T) { t.Error("the reason it failed") }
func TestSub(t *testing.T) {
	t.Run("ok", func(t *testing.T) {})
	t.Run("broken", func(t *testing.T) { t.Fatal("sub failed here") })
}
func TestNeedsNode(t *testing.T) { t.Skip("Node.js (node) is not installed") }
func TestOther(t *testing.T) { t.Skip("git is not installed") }
`)
	write("crash/crash_test.go", `package crash
import "testing"
func TestPanics(t *testing.T) { panic("boom at the crash site") }
`)
	write("nothing/nothing.go", "package nothing\n")
	cmd := exec.Command("go", "test", "-count=1", "-json", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	stream, err := cmd.Output()
	if err == nil {
		t.Fatal("go test passed a module with failing tests")
	}
	var out bytes.Buffer
	failed, err := summarize(bytes.NewReader(stream), &out)
	if err != nil {
		t.Fatal(err)
	}
	if !failed {
		t.Error("summarize did not report the failures")
	}
	got := out.String()
	for _, want := range []string{
		"ok  \texample.com/m/good\t",
		"--- FAIL: TestFails", "the reason it failed",
		"--- FAIL: TestSub/broken", "sub failed here",
		"FAIL\texample.com/m/bad\t",
		"boom at the crash site", "FAIL\texample.com/m/crash\t",
		"?   \texample.com/m/nothing\t[no test files]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the summary lacks %q:\n%s", want, got)
		}
	}
	for _, hidden := range []string{"chatter that plain go test hides", "--- PASS", "=== RUN", "TestSub/ok"} {
		if strings.Contains(got, hidden) {
			t.Errorf("the summary shows %q, which plain go test hides:\n%s", hidden, got)
		}
	}
	lines := strings.Split(strings.TrimSpace(got), "\n")
	last := lines[len(lines)-1]
	want := "SKIPPED: 5 tests; no Chromium: 2 (example.com/m/good); git is not installed: 1 (example.com/m/bad); " +
		"no Node.js: 1 (example.com/m/bad); no PostgreSQL: 1 (example.com/m/good)"
	if last != want {
		t.Errorf("last line:\n%s\nwant\n%s", last, want)
	}

	// A run without skips says so.
	out.Reset()
	if _, err := summarize(strings.NewReader(`{"Action":"pass","Package":"p"}`+"\n"), &out); err != nil || out.String() != "SKIPPED: none\n" {
		t.Errorf("no skips: %q, %v", out.String(), err)
	}
}
