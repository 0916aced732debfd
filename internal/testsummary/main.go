// Command testsummary reads the JSON stream of `go test -json` on stdin and prints what plain
// `go test` prints (the "ok" line of each passing package; the output of failed tests and
// packages), then one line that says which tests were skipped and why, grouped by reason
// ("no PostgreSQL", "no Chromium", "no Node.js", or the test's own message). scripts/test pipes
// the test run through it, so a missing PostgreSQL, Chromium or Node.js shows at the end of the
// run instead of hiding behind "ok". It exits 1 if any test or package failed, or if the stream
// was not JSON.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail
	Test       string
	Output     string
}

// skip is one skipped test.
type skip struct {
	pkg, test, reason string
}

func main() {
	failed, err := summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	if failed {
		os.Exit(1)
	}
}

// summarize copies the plain `go test` output of the JSON stream in to out, followed by the
// line of skipped tests. It reports whether anything failed.
func summarize(in io.Reader, out io.Writer) (failed bool, err error) {
	type key struct{ pkg, test string }
	buffered := map[key][]string{}   // output of tests (and packages) not yet finished
	running := map[string][]string{} // tests of each package that have started but not ended
	var skips []skip
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// Not an event: go test itself writes some errors as plain text.
			fmt.Fprintln(out, string(line))
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "build-output":
			fmt.Fprint(out, e.Output)
		case "build-fail":
			failed = true
		case "run":
			running[e.Package] = append(running[e.Package], e.Test)
		case "output":
			buffered[k] = append(buffered[k], e.Output)
		case "pass", "skip", "fail":
			if e.Test == "" {
				// The package ended: a passing one shows its "ok" line, a failing one all of
				// its own output and that of tests that never ended (a panic, a timeout).
				pkgOut := buffered[k]
				if e.Action == "fail" {
					failed = true
					for _, t := range running[e.Package] {
						printTestOutput(out, buffered[key{e.Package, t}])
						delete(buffered, key{e.Package, t})
					}
					fmt.Fprint(out, strings.Join(pkgOut, ""))
				} else {
					for _, l := range pkgOut {
						if strings.HasPrefix(l, "ok ") || strings.HasPrefix(l, "?") || strings.HasPrefix(l, "ok\t") {
							fmt.Fprint(out, l)
						}
					}
				}
				delete(buffered, k)
				delete(running, e.Package)
				continue
			}
			running[e.Package] = slices.DeleteFunc(running[e.Package], func(t string) bool { return t == e.Test })
			switch e.Action {
			case "fail":
				failed = true
				printTestOutput(out, buffered[k])
			case "skip":
				skips = append(skips, skip{e.Package, e.Test, skipReason(buffered[k])})
			}
			delete(buffered, k)
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	fmt.Fprintln(out, skipLine(skips))
	return failed, nil
}

// printTestOutput prints a test's output without the "=== RUN" (PAUSE, CONT, NAME) lines that
// only verbose go test shows.
func printTestOutput(out io.Writer, lines []string) {
	for _, l := range lines {
		if !strings.HasPrefix(l, "=== ") {
			fmt.Fprint(out, l)
		}
	}
}

// logPrefix is what t.Log puts before a message: indentation and "file_test.go:12: ".
var logPrefix = regexp.MustCompile(`^\s*\S+\.go:\d+: `)

// skipReason returns the message a skipped test logged: its first line that is not one of the
// "=== RUN" or "--- SKIP" lines of the test framework.
func skipReason(lines []string) string {
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		return strings.TrimSpace(logPrefix.ReplaceAllString(l, ""))
	}
	return "no reason given"
}

// group names the reason a test was skipped for: the three things a machine may lack, or the
// test's own message.
func group(reason string) string {
	r := strings.ToLower(reason)
	switch {
	case strings.Contains(r, "postgres"):
		return "no PostgreSQL"
	case strings.Contains(r, "chrom"):
		return "no Chromium"
	case strings.Contains(r, "node") || strings.Contains(r, "npm"):
		return "no Node.js"
	}
	return reason
}

// skipLine is the one line that lists the skipped tests by reason, most first, with the
// packages they are in.
func skipLine(skips []skip) string {
	if len(skips) == 0 {
		return "SKIPPED: none"
	}
	type bucket struct {
		name  string
		count int
		pkgs  []string
	}
	var buckets []*bucket
	for _, s := range skips {
		name := group(s.reason)
		i := slices.IndexFunc(buckets, func(b *bucket) bool { return b.name == name })
		if i < 0 {
			buckets = append(buckets, &bucket{name: name})
			i = len(buckets) - 1
		}
		b := buckets[i]
		b.count++
		if p := shortPackage(s.pkg); !slices.Contains(b.pkgs, p) {
			b.pkgs = append(b.pkgs, p)
		}
	}
	slices.SortFunc(buckets, func(a, b *bucket) int {
		if a.count != b.count {
			return b.count - a.count
		}
		return strings.Compare(a.name, b.name)
	})
	parts := make([]string, len(buckets))
	for i, b := range buckets {
		slices.Sort(b.pkgs)
		parts[i] = fmt.Sprintf("%s: %d (%s)", b.name, b.count, strings.Join(b.pkgs, ", "))
	}
	return fmt.Sprintf("SKIPPED: %d tests; %s", len(skips), strings.Join(parts, "; "))
}

// shortPackage drops the module path from a package path.
func shortPackage(p string) string {
	if rest, ok := strings.CutPrefix(p, "github.com/hookline/hookline/"); ok {
		return rest
	}
	if p == "github.com/hookline/hookline" {
		return "."
	}
	return p
}
