package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestGitignore: what building and running Hookline in a checkout leaves behind (the default
// data directory, binaries, the SDK tests' node_modules) does not show in `git status`, and
// the sources do.
func TestGitignore(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	check := func(path string) bool {
		err := exec.Command("git", "-C", "../..", "check-ignore", "-q", "--no-index", path).Run()
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
			return false
		} else if err != nil {
			t.Fatalf("git check-ignore %s: %v", path, err)
		}
		return true
	}
	for _, p := range []string{"hookline-data/hookline.db", "hookline-data/main.key", "hookline", "cmd/hookline/hookline",
		"e2e/sdk/node_modules/svix/package.json", "node_modules/x", "cmd/hookline/hookline.test"} {
		if !check(p) {
			t.Errorf("%s is not ignored", p)
		}
	}
	for _, p := range []string{"cmd/hookline/main.go", "README.md", "docs/api.md", "sqlite/migrations/0001_init.sql", "e2e/sdk/package.json"} {
		if check(p) {
			t.Errorf("%s is ignored", p)
		}
	}
	if out, err := exec.Command("git", "-C", "../..", "ls-files", "--cached", "--ignored", "--exclude-standard").Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		t.Errorf("tracked files that .gitignore names:\n%s", out)
	}
}
