package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
)

// svixJSDir is the npm project of the JavaScript SDK tests: the newest `svix` from the npm
// registry, pinned in its package-lock.json and installed by ./scripts/test (npm ci).
const svixJSDir = "svixjs"

// recorded is one API exchange of the JavaScript tests, as lib.mjs appends it.
type recorded struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Query  string `json:"query"`
	Status int    `json:"status"`
	Body   string `json:"body"`
	SDK    bool   `json:"sdk"`
}

// TestSvixJSSDK drives a real Hookline (SQLite file, loopback receivers) with the official Svix
// JavaScript SDK, the newest svix from npm, on this machine's Node.js: the tests are
// e2e/svixjs/test/*.test.mjs, run with `node --test`. Every delivery is verified with the SDK's
// Webhook class and compared byte for byte with what was sent; every SDK result is checked
// against the SDK's own model declarations.
//
// It then checks what those tests did, from the record of every request they made:
//   - every route the server serves that Svix's document has was called and answered 2xx at
//     least once, through the SDK's own method whenever svix has one;
//   - every 2xx answer has the shape Svix's document gives it (required fields, types, enums).
func TestSvixJSSDK(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		skipOrFail(t, "Node.js is not installed: the Svix JavaScript SDK tests need it")
	}
	if _, err := os.Stat(filepath.Join(svixJSDir, "node_modules", "svix", "package.json")); err != nil {
		skipOrFail(t, "the svix npm package is not installed in e2e/%s: run ./scripts/test, or npm ci there", svixJSDir)
	}
	version := svixVersion(t)
	t.Logf("svix %s on Node.js %s", version, nodeVersion(t, node))

	// No retries: a failed first attempt leaves the message failed at once, so that the tests
	// try it again only when they say so (resend, recover).
	srv := testserver.Start(t, testserver.Options{Configure: func(c *config.Config) {
		c.RetrySchedule = []time.Duration{}
	}})
	record := filepath.Join(t.TempDir(), "requests.jsonl")
	cmd := exec.CommandContext(t.Context(), node, "--test", "--test-reporter=spec", "test/")
	cmd.Dir = svixJSDir
	cmd.Env = append(os.Environ(), "HOOKLINE_URL="+srv.URL, "HOOKLINE_TOKEN="+srv.Token, "HOOKLINE_RECORD="+record, "NO_COLOR=1")
	cmd.Env = append(cmd.Env, svixJSPKI(t)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("node --test in e2e/%s failed (%v):\n%s", svixJSDir, err, out)
	} else {
		t.Logf("node --test:\n%s", testLines(out))
	}

	calls := readRecord(t, record)
	served := servedRoutes(t, srv.Op("GET", "/api/v1/openapi.json", nil, 200).Body)
	sdkPaths := sdkRoutes(t)

	doc := readSvixDoc(t)
	ops := map[routeKey]svixOp{}
	for _, op := range doc.operations() {
		ops[keyOf(op.Method, op.Path)] = op
	}

	// Every served route of Svix's API was called, and answered 2xx at least once, through the
	// SDK where it can. (Hookline's own routes, which Svix's document and SDKs do not have, are
	// left to the Go tests.)
	templates := make([]routeKey, 0, len(served))
	for k := range served {
		templates = append(templates, k)
	}
	hits := map[routeKey][]recorded{}
	for _, c := range calls {
		if k, ok := matchRoute(templates, c.Method, c.Path); ok {
			hits[k] = append(hits[k], c)
		} else {
			t.Errorf("the tests called %s %s, which the server does not serve (status %d)", c.Method, c.Path, c.Status)
		}
	}
	for _, k := range sortedKeys(served) {
		id := served[k]
		if _, inSvix := ops[k]; !inSvix {
			continue
		}
		ok, viaSDK := false, false
		for _, c := range hits[k] {
			if c.Status >= 200 && c.Status < 300 {
				ok = true
				viaSDK = viaSDK || c.SDK
			}
		}
		switch {
		case !ok:
			t.Errorf("%s (%s) is served but no JavaScript SDK test called it successfully: add it to e2e/%s/test", k, id, svixJSDir)
		case sdkPaths[k] && !viaSDK:
			t.Errorf("%s (%s) was called without the SDK although svix %s has a method for it", k, id, version)
		}
	}

	// Every answer has Svix's shape.
	reported := map[string]bool{}
	for _, c := range calls {
		if c.Status < 200 || c.Status > 299 {
			continue
		}
		k, _ := matchRoute(templates, c.Method, c.Path)
		op, ok := ops[k]
		if !ok {
			continue
		}
		for _, p := range doc.checkResponse(op.op, c.Status, []byte(c.Body)) {
			id := served[k]
			msg := k.String() + " (" + id + "): " + p
			if !reported[msg] {
				reported[msg] = true
				t.Errorf("%s\n  body: %s", msg, strings.TrimSpace(c.Body))
			}
		}
	}
}

func svixVersion(t *testing.T) string {
	var pkg struct {
		Version string `json:"version"`
	}
	data, err := os.ReadFile(filepath.Join(svixJSDir, "node_modules", "svix", "package.json"))
	if err == nil {
		err = json.Unmarshal(data, &pkg)
	}
	if err != nil {
		t.Fatalf("read the svix package: %v", err)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	data, err = os.ReadFile(filepath.Join(svixJSDir, "package-lock.json"))
	if err == nil {
		err = json.Unmarshal(data, &lock)
	}
	if err != nil {
		t.Fatalf("read e2e/%s/package-lock.json: %v", svixJSDir, err)
	}
	if want := lock.Packages["node_modules/svix"].Version; pkg.Version != want {
		skipOrFail(t, "e2e/%s/node_modules holds svix %s, the lock file pins %s: run ./scripts/test, or npm ci there", svixJSDir, pkg.Version, want)
	}
	return pkg.Version
}

func nodeVersion(t *testing.T, node string) string {
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// testLines keeps of node's spec report the line of each test (passed, failed, skipped and why,
// to do), its diagnostics and the totals.
func testLines(b []byte) string {
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		for _, mark := range []string{"✔", "✖", "﹣", "ℹ", "# "} {
			if strings.HasPrefix(trimmed, mark) {
				keep = append(keep, line)
				break
			}
		}
	}
	return strings.Join(keep, "\n")
}

func readRecord(t *testing.T, path string) []recorded {
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the JavaScript tests recorded no request: %v", err)
	}
	defer f.Close()
	var calls []recorded
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		var c recorded
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("record line %q: %v", sc.Text(), err)
		}
		calls = append(calls, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read record: %v", err)
	}
	if len(calls) == 0 {
		t.Fatal("the JavaScript tests recorded no request")
	}
	return calls
}

// sdkRoutes returns the routes for which the installed svix package has a method: the path
// templates its generated API classes send.
func sdkRoutes(t *testing.T) map[routeKey]bool {
	re := regexp.MustCompile(`HttpMethod\.(GET|POST|PUT|PATCH|DELETE),\s*"([^"]+)"`)
	routes := map[routeKey]bool{}
	for _, dir := range []string{"api", "api_internal"} {
		files, _ := filepath.Glob(filepath.Join(svixJSDir, "node_modules", "svix", "src", dir, "*.ts"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllSubmatch(data, -1) {
				routes[keyOf(string(m[1]), string(m[2]))] = true
			}
		}
	}
	if len(routes) < 50 {
		t.Fatalf("found only %d routes in the svix package's sources", len(routes))
	}
	return routes
}

// matchRoute finds the template a concrete request path belongs to; of several, the one with
// the most literal segments (/msg/bulk-expunge before /msg/{}).
func matchRoute(templates []routeKey, method, path string) (routeKey, bool) {
	segs := strings.Split(path, "/")
	best, bestLit := routeKey{}, -1
	for _, k := range templates {
		if k.Method != method {
			continue
		}
		ts := strings.Split(k.Path, "/")
		if len(ts) != len(segs) {
			continue
		}
		lit := 0
		match := true
		for i := range ts {
			if ts[i] == "{}" {
				continue
			}
			if ts[i] != segs[i] {
				match = false
				break
			}
			lit++
		}
		if match && lit > bestLit {
			best, bestLit = k, lit
		}
	}
	return best, bestLit >= 0
}

func sortedKeys[V any](m map[routeKey]V) []routeKey {
	keys := make([]routeKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}
