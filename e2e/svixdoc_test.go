package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/testserver"
)

// svixDocPath is Svix's own OpenAPI document (the one its SDKs are generated from), beside the
// repository: see ../shared/svix/README.md.
var svixDocPath = filepath.Join("..", "..", "shared", "svix", "openapi.json")

// skipOrFail skips the test with the message, or fails it when CI=true: CI must run every test.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (CI=true: this test must run)", args...)
	}
	t.Skipf(format+" (skipped; fails under CI=true)", args...)
}

// svixDoc is Svix's OpenAPI document, read for what the tests compare.
type svixDoc struct {
	Paths      map[string]map[string]svixOperation `json:"paths"`
	Components struct {
		Schemas map[string]map[string]any `json:"schemas"`
	} `json:"components"`
}

type svixOperation struct {
	OperationID string                     `json:"operationId"`
	Responses   map[string]svixResponseDoc `json:"responses"`
}

type svixResponseDoc struct {
	Content map[string]struct {
		Schema map[string]any `json:"schema"`
	} `json:"content"`
}

// readSvixDoc reads Svix's document, skipping the test when it is absent (failing under CI).
func readSvixDoc(t testing.TB) *svixDoc {
	t.Helper()
	data, err := os.ReadFile(svixDocPath)
	if err != nil {
		skipOrFail(t, "Svix's API document is not at %s: %v", svixDocPath, err)
	}
	var doc svixDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", svixDocPath, err)
	}
	return &doc
}

// routeKey is a method and a path template with its parameter names left out, so that
// /api/v1/app/{app_id} and /api/v1/app/{appId} are the same route.
type routeKey struct{ Method, Path string }

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

func keyOf(method, path string) routeKey {
	return routeKey{strings.ToUpper(method), pathParam.ReplaceAllString(path, "{}")}
}

func (k routeKey) String() string { return k.Method + " " + k.Path }

// svixOp is one operation of Svix's document.
type svixOp struct {
	Method, Path, OperationID string
	op                        svixOperation
}

// operations lists every operation of the document, sorted by path and method.
func (d *svixDoc) operations() []svixOp {
	var ops []svixOp
	for path, methods := range d.Paths {
		for method, op := range methods {
			switch method {
			case "get", "post", "put", "patch", "delete":
				ops = append(ops, svixOp{strings.ToUpper(method), path, op.OperationID, op})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	return ops
}

// servedRoutes returns the routes of the running server's own OpenAPI document, which is
// generated from the same table that registers the handlers (api/routes.go), with their
// operation ids.
func servedRoutes(t testing.TB, openapiJSON []byte) map[routeKey]string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatalf("the server's OpenAPI document: %v", err)
	}
	routes := map[routeKey]string{}
	for path, methods := range doc.Paths {
		for method, op := range methods {
			switch method {
			case "get", "post", "put", "patch", "delete":
				routes[keyOf(method, path)] = op.OperationID
			}
		}
	}
	if len(routes) < 20 {
		t.Fatalf("the server's OpenAPI document lists only %d routes", len(routes))
	}
	return routes
}

// checkResponse checks a response body against the schema Svix's document gives for it: every
// required property present, and every present property of the declared JSON type (null only
// where the document allows it), nested objects and arrays included. It returns the problems.
func (d *svixDoc) checkResponse(op svixOperation, status int, body []byte) []string {
	resp, ok := op.Responses[fmt.Sprint(status)]
	if !ok {
		var declared []string
		for code := range op.Responses {
			if strings.HasPrefix(code, "2") {
				declared = append(declared, code)
			}
		}
		sort.Strings(declared)
		return []string{fmt.Sprintf("status %d, Svix answers %s", status, strings.Join(declared, " or "))}
	}
	content, ok := resp.Content["application/json"]
	if !ok {
		return nil
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return []string{fmt.Sprintf("empty body; Svix's clients parse a JSON body (%v)", content.Schema)}
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return []string{fmt.Sprintf("body is not JSON: %v", err)}
	}
	var problems []string
	d.checkValue(content.Schema, v, "$", &problems, 0)
	return problems
}

func (d *svixDoc) resolve(s map[string]any) map[string]any {
	for range 10 {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		s = d.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
	}
	return s
}

func (d *svixDoc) checkValue(schema map[string]any, v any, at string, problems *[]string, depth int) {
	if depth > 20 || schema == nil {
		return
	}
	nullable, _ := schema["nullable"].(bool) // beside a $ref, it applies to what the $ref names
	schema = d.resolve(schema)
	if v == nil {
		if n, _ := schema["nullable"].(bool); !n && !nullable && schema["type"] != nil {
			*problems = append(*problems, at+": null, Svix's document does not allow it")
		}
		return
	}
	for _, k := range []string{"allOf"} {
		if subs, ok := schema[k].([]any); ok {
			for _, s := range subs {
				if m, ok := s.(map[string]any); ok {
					d.checkValue(m, v, at, problems, depth+1)
				}
			}
		}
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if subs, ok := schema[k].([]any); ok {
			var best []string
			for i, s := range subs {
				m, ok := s.(map[string]any)
				if !ok {
					continue
				}
				var p []string
				d.checkValue(m, v, at, &p, depth+1)
				if i == 0 || len(p) < len(best) {
					best = p
				}
			}
			*problems = append(*problems, best...)
		}
	}
	typ, _ := schema["type"].(string)
	switch typ {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			*problems = append(*problems, fmt.Sprintf("%s: %T, Svix's document says object", at, v))
			return
		}
		req, _ := schema["required"].([]any)
		for _, r := range req {
			name, _ := r.(string)
			if _, ok := obj[name]; !ok {
				*problems = append(*problems, fmt.Sprintf("%s.%s: required by Svix's document, missing", at, name))
			}
		}
		props, _ := schema["properties"].(map[string]any)
		for name, val := range obj {
			if ps, ok := props[name].(map[string]any); ok {
				d.checkValue(ps, val, at+"."+name, problems, depth+1)
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			*problems = append(*problems, fmt.Sprintf("%s: %T, Svix's document says array", at, v))
			return
		}
		items, _ := schema["items"].(map[string]any)
		for i, x := range arr {
			d.checkValue(items, x, fmt.Sprintf("%s[%d]", at, i), problems, depth+1)
		}
	case "string":
		if _, ok := v.(string); !ok {
			*problems = append(*problems, fmt.Sprintf("%s: %T, Svix's document says string", at, v))
		}
	case "integer", "number":
		f, ok := v.(float64)
		if !ok || (typ == "integer" && f != float64(int64(f))) {
			*problems = append(*problems, fmt.Sprintf("%s: %v, Svix's document says %s", at, v, typ))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			*problems = append(*problems, fmt.Sprintf("%s: %T, Svix's document says boolean", at, v))
		}
	}
	if enum, ok := schema["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				found = true
			}
		}
		if !found {
			*problems = append(*problems, fmt.Sprintf("%s: %v is not one of Svix's %v", at, v, enum))
		}
	}
}

// apiDocRow is one row of docs/api.md's table of Svix's operations.
type apiDocRow struct {
	line                      int
	method, path, operationID string
	served                    bool
	reason                    string
}

var apiDocRowPattern = regexp.MustCompile("^\\| (GET|POST|PUT|PATCH|DELETE) \\| `([^`]+)` \\| `([^`]+)` \\| (.+) \\|$")

// readAPIDocTable reads the table of Svix's operations in docs/api.md.
func readAPIDocTable(t *testing.T) []apiDocRow {
	data, err := os.ReadFile(filepath.Join("..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []apiDocRow
	for i, line := range strings.Split(string(data), "\n") {
		m := apiDocRowPattern.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		r := apiDocRow{line: i + 1, method: m[1], path: m[2], operationID: m[3]}
		switch status := m[4]; {
		case status == "served":
			r.served = true
		case strings.HasPrefix(status, "not served (") && strings.HasSuffix(status, ")") && len(status) > len("not served ()"):
			r.reason = strings.TrimSuffix(strings.TrimPrefix(status, "not served ("), ")")
		default:
			t.Errorf("docs/api.md:%d: %q is neither \"served\" nor \"not served (the reason)\"", r.line, status)
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		t.Fatal("docs/api.md has no table of Svix's operations")
	}
	return rows
}

// TestAPIDocCoversSvix keeps docs/api.md's table of Svix's operations true: every operation of
// Svix's document has its row, and a row says "served" exactly when the server serves the route
// (its own OpenAPI document is generated from the route table that registers the handlers).
func TestAPIDocCoversSvix(t *testing.T) {
	t.Parallel()
	doc := readSvixDoc(t)
	rows := readAPIDocTable(t)
	srv := testserver.Start(t, testserver.Options{})
	served := servedRoutes(t, srv.Op("GET", "/api/v1/openapi.json", nil, 200).Body)

	byKey := map[routeKey]apiDocRow{}
	for _, r := range rows {
		k := keyOf(r.method, r.path)
		if prev, dup := byKey[k]; dup {
			t.Errorf("docs/api.md:%d: %s is in the table twice (also line %d)", r.line, k, prev.line)
		}
		byKey[k] = r
	}
	ops := doc.operations()
	inSvix := map[routeKey]bool{}
	for _, op := range ops {
		k := keyOf(op.Method, op.Path)
		inSvix[k] = true
		r, ok := byKey[k]
		switch {
		case !ok:
			t.Errorf("%s %s (%s) of Svix's document is not in docs/api.md's table: add it, served or not served and why", op.Method, op.Path, op.OperationID)
		case r.operationID != op.OperationID || r.path != op.Path:
			t.Errorf("docs/api.md:%d: %s %s %s; Svix's document says %s %s", r.line, r.path, r.operationID, r.method, op.Path, op.OperationID)
		case r.served && served[k] == "":
			t.Errorf("docs/api.md:%d: %s %s (%s) says served, but the server has no such route", r.line, r.method, r.path, r.operationID)
		case !r.served && served[k] != "":
			t.Errorf("docs/api.md:%d: %s %s (%s) says not served (%s), but the server serves it as %s: mark it served", r.line, r.method, r.path, r.operationID, r.reason, served[k])
		}
	}
	for _, r := range rows {
		if !inSvix[keyOf(r.method, r.path)] {
			t.Errorf("docs/api.md:%d: %s %s is not an operation of Svix's document", r.line, r.method, r.path)
		}
	}
	if len(ops) != len(rows) {
		t.Errorf("Svix's document has %d operations, the table %d rows", len(ops), len(rows))
	}
	n := 0
	for _, r := range rows {
		if r.served {
			n++
		}
	}
	t.Logf("docs/api.md: %d of Svix's %d operations served", n, len(ops))
}
