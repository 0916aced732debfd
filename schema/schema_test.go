package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hookline/hookline"
)

// The testdata schemas and examples are Cleartix's, copied verbatim from its public webhook
// documentation (the 001 seed document); each describes the "data" of one event.
var cleartixEvents = []string{"ticket.sold", "ticket.checked_in", "ticket.refunded", "order.created", "event.published"}

func readTestdata(t testing.TB, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustCompile(t testing.TB, raw string) *Schema {
	t.Helper()
	s, err := Compile(json.RawMessage(raw))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

func cleartix(t testing.TB, event string) *Schema {
	t.Helper()
	s, err := Compile(readTestdata(t, event+".schema.json"))
	if err != nil {
		t.Fatalf("Compile %s: %v", event, err)
	}
	return s
}

func TestCleartixExamplesAreValid(t *testing.T) {
	t.Parallel()
	for _, event := range cleartixEvents {
		t.Run(event, func(t *testing.T) {
			t.Parallel()
			s := cleartix(t, event)
			if vs := s.Validate(readTestdata(t, event+".example.json")); vs != nil {
				t.Errorf("documented example fails its schema: %v", vs)
			}
		})
	}
}

func TestViolations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		event   string
		payload string
		want    []Violation
	}{
		{
			name:    "wrong type",
			event:   "ticket.sold",
			payload: `{"orderId":"ord_1","ticketCount":"2","totalAmount":"50.00"}`,
			want:    []Violation{{"/ticketCount", "must be integer, not string"}},
		},
		{
			name:    "integer wanted, number given",
			event:   "ticket.refunded",
			payload: `{"orderId":"ord_1","refundRef":"re_1","refundAmount":25.5}`,
			want:    []Violation{{"/refundAmount", "must be integer, not number"}},
		},
		{
			name:    "minimum",
			event:   "ticket.sold",
			payload: `{"orderId":"ord_1","ticketCount":-1,"totalAmount":"50.00"}`,
			want:    []Violation{{"/ticketCount", "minimum: got -1, want 0"}},
		},
		{
			name:    "missing required",
			event:   "ticket.sold",
			payload: `{"orderId":"ord_1"}`,
			want: []Violation{
				{"/ticketCount", "required property is missing"},
				{"/totalAmount", "required property is missing"},
			},
		},
		{
			name:    "additional property",
			event:   "order.created",
			payload: `{"orderId":"ord_1","status":"paid","coupon":"X"}`,
			want:    []Violation{{"/coupon", "property is not allowed"}},
		},
		{
			name:    "bad date-time",
			event:   "ticket.checked_in",
			payload: `{"ticketId":"tkt_1","eventId":"ev_1","checkedInAt":"2026-06-12 14:05"}`,
			want:    []Violation{{"/checkedInAt", ""}}, // message checked below
		},
		{
			name:    "impossible date",
			event:   "event.published",
			payload: `{"eventId":"ev_1","eventName":"Yoga","startAt":"2026-02-30T09:00:00Z"}`,
			want:    []Violation{{"/startAt", ""}},
		},
		{
			name:    "enum",
			event:   "order.created",
			payload: `{"orderId":"ord_1","status":"pending"}`,
			want:    []Violation{{"/status", "value must be 'paid'"}},
		},
		{
			name:    "not an object",
			event:   "order.created",
			payload: `[1,2]`,
			want:    []Violation{{"", "must be object, not array"}},
		},
		{
			name:    "not JSON",
			event:   "order.created",
			payload: `{"orderId":`,
			want:    []Violation{{"", "payload is not valid JSON"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := cleartix(t, tt.event).Validate(json.RawMessage(tt.payload))
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i].Path != tt.want[i].Path {
					t.Errorf("violation %d at %q, want %q (%v)", i, got[i].Path, tt.want[i].Path, got[i])
				}
				if tt.want[i].Message == "" {
					if !strings.Contains(got[i].Message, "date-time") {
						t.Errorf("message %q does not name the format", got[i].Message)
					}
				} else if got[i].Message != tt.want[i].Message {
					t.Errorf("violation %d says %q, want %q", i, got[i].Message, tt.want[i].Message)
				}
			}
		})
	}
}

// A whole-envelope schema reusing an event's data schema through $defs: paths go through the
// envelope and local references resolve without any loader.
func TestEnvelopePathsAndLocalRefs(t *testing.T) {
	t.Parallel()
	data := readTestdata(t, "ticket.sold.schema.json")
	s := mustCompile(t, `{
		"type": "object",
		"required": ["id", "event", "created_at", "data"],
		"properties": {
			"id": {"type": "string"},
			"event": {"const": "ticket.sold"},
			"created_at": {"type": "string", "format": "date-time"},
			"data": {"$ref": "#/$defs/data"},
			"tags": {"type": "array", "items": {"type": "string"}}
		},
		"$defs": {"data": `+string(data)+`}
	}`)
	got := s.Validate(json.RawMessage(`{
		"id": "evt_1", "event": "ticket.sold", "created_at": "2026-06-12T14:05:00.000Z",
		"data": {"orderId": "ord_1", "ticketCount": 2.5, "a/b": 1},
		"tags": ["ok", 7]
	}`))
	want := []Violation{
		{"/data/a~1b", "property is not allowed"},
		{"/data/ticketCount", "must be integer, not number"},
		{"/data/totalAmount", "required property is missing"},
		{"/tags/1", "must be string, not number"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if loc := want[0].Loc(); !slices.Equal(loc, []string{"data", "a/b"}) {
		t.Errorf("Loc() = %q", loc)
	}
}

func TestAlternatives(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, `{"type": "object", "properties": {
		"nullable": {"anyOf": [{"type": "string"}, {"type": "null"}]},
		"either": {"oneOf": [{"type": "string"}, {"type": "integer", "minimum": 3}]}
	}}`)
	got := s.Validate(json.RawMessage(`{"nullable": 5, "either": 1}`))
	want := []Violation{
		{"/either", "minimum: got 1, want 3"},
		{"/either", "must be string, not number"},
		{"/nullable", "must be null or string, not number"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

// One compiled schema serves every request at once.
func TestConcurrentValidate(t *testing.T) {
	t.Parallel()
	s := cleartix(t, "ticket.sold")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				payload := fmt.Sprintf(`{"orderId":"o","ticketCount":%d,"totalAmount":"1"}`, i-4)
				if vs := s.Validate(json.RawMessage(payload)); (i < 4) != (vs != nil) {
					t.Errorf("ticketCount %d: %v", i-4, vs)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestViolationsAreCapped(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, `{"type": "array", "items": {"type": "string"}}`)
	var items []string
	for i := range 100 {
		items = append(items, fmt.Sprint(i))
	}
	got := s.Validate(json.RawMessage("[" + strings.Join(items, ",") + "]"))
	if len(got) != MaxViolations {
		t.Fatalf("got %d violations, want %d", len(got), MaxViolations)
	}
	if !slices.IsSortedFunc(got, func(a, b Violation) int { return strings.Compare(a.Path, b.Path) }) {
		t.Errorf("violations not sorted: %v", got)
	}
}

// Large integers must not lose precision on the way to the validator: 2^53+1 is an integer.
func TestLargeIntegers(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, `{"type": "integer", "maximum": 9007199254740992}`)
	if vs := s.Validate(json.RawMessage(`9007199254740993`)); len(vs) != 1 || !strings.Contains(vs[0].Message, "maximum") {
		t.Errorf("got %v, want a maximum violation", vs)
	}
}

func TestDrafts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		schema string
		valid  string
		bad    string
	}{
		// Without $schema, 2020-12 applies: prefixItems exists, and format is asserted.
		{"default is 2020-12", `{"prefixItems": [{"type": "integer"}]}`, `[1, "x"]`, `["x"]`},
		{"default asserts format", `{"format": "email"}`, `"a@example.com"`, `"not an email"`},
		{"draft-07", `{"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "integer"}], "additionalItems": false}`, `[1]`, `[1, 2]`},
		{"draft 2019-09", `{"$schema": "https://json-schema.org/draft/2019-09/schema", "dependentRequired": {"a": ["b"]}}`, `{"a": 1, "b": 2}`, `{"a": 1}`},
		{"uuid format", `{"format": "uuid"}`, `"0b4f9a9e-3a2b-4c1d-9e8f-1a2b3c4d5e6f"`, `"nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustCompile(t, tt.schema)
			if vs := s.Validate(json.RawMessage(tt.valid)); vs != nil {
				t.Errorf("valid payload rejected: %v", vs)
			}
			if vs := s.Validate(json.RawMessage(tt.bad)); vs == nil {
				t.Errorf("bad payload accepted")
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		schema string
		want   string // substring of the message
	}{
		{"not JSON", `{"type": `, "not valid JSON"},
		{"unknown type", `{"type": "strung"}`, "at /type"},
		{"bad nested keyword", `{"properties": {"n": {"minimum": "zero"}}}`, "at /properties/n/minimum"},
		{"required not array", `{"required": "id"}`, "at /required"},
		{"bad regex", `{"pattern": "(?=lookahead)"}`, "pattern"},
		{"dangling local ref", `{"$ref": "#/$defs/missing"}`, "#/$defs/missing"},
		{"unknown draft", `{"$schema": "https://example.com/my-draft"}`, "external references are not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(json.RawMessage(tt.schema))
			if err == nil {
				t.Fatal("compiled")
			}
			if code := hookline.ErrorCode(err); code != hookline.EINVALID {
				t.Errorf("code %q, want %q", code, hookline.EINVALID)
			}
			msg := hookline.ErrorMessage(err)
			if !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not contain %q", msg, tt.want)
			}
			if strings.Contains(msg, "mem:") {
				t.Errorf("message %q leaks the internal base URL", msg)
			}
			t.Log(msg)
		})
	}
}

// A $ref to another document must fail without being fetched: the server must not make
// requests, into its own network or anywhere else, on behalf of whoever wrote the schema.
func TestExternalRefsAreNeverLoaded(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"type": "string"}`)
	}))
	t.Cleanup(srv.Close)

	file := filepath.Join(t.TempDir(), "s.json")
	if err := os.WriteFile(file, []byte(`{"type": "string"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	refs := []string{
		srv.URL + "/s.json",
		srv.URL + "/s.json#/properties/x",
		"file://" + file,
		"other.json", // relative: resolves against the schema's own (internal) address
	}
	for _, ref := range refs {
		_, err := Compile(json.RawMessage(fmt.Sprintf(`{"properties": {"x": {"$ref": %q}}}`, ref)))
		if err == nil {
			t.Errorf("$ref %q compiled", ref)
			continue
		}
		if !strings.Contains(err.Error(), "external references are not allowed") {
			t.Errorf("$ref %q: unclear error %q", ref, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server was asked %d times", n)
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	c := NewCache(2)
	sold := readTestdata(t, "ticket.sold.schema.json")

	// Concurrent first uses share one compiled schema.
	var wg sync.WaitGroup
	got := make([]*Schema, 8)
	for i := range got {
		wg.Go(func() {
			s, err := c.Get("ticket.sold", sold)
			if err != nil {
				t.Error(err)
			}
			got[i] = s
		})
	}
	wg.Wait()
	for _, s := range got {
		if s != got[0] {
			t.Fatal("the schema was compiled more than once")
		}
	}

	// A changed schema for the same event type is a new entry, never the stale one.
	changed := json.RawMessage(`{"type": "object", "required": ["x"]}`)
	s2, err := c.Get("ticket.sold", changed)
	if err != nil {
		t.Fatal(err)
	}
	if s2 == got[0] || s2.Validate(json.RawMessage(`{}`)) == nil {
		t.Error("cache served the old schema for new content")
	}

	// Compile errors come back from the cache as errors.
	if _, err := c.Get("bad", json.RawMessage(`{"type": 1}`)); hookline.ErrorCode(err) != hookline.EINVALID {
		t.Errorf("got %v, want a validation error", err)
	}
	if c.Len() != 2 {
		t.Errorf("Len() = %d, want the bound 2", c.Len())
	}
	// The first entry was the least recently used, so it went; getting it again recompiles.
	again, err := c.Get("ticket.sold", sold)
	if err != nil {
		t.Fatal(err)
	}
	if again == got[0] {
		t.Error("evicted entry was still cached")
	}
}

func TestCompileErrorIsClientError(t *testing.T) {
	t.Parallel()
	_, err := Compile(json.RawMessage(`{"type": 5}`))
	var herr *hookline.Error
	if !errors.As(err, &herr) {
		t.Fatalf("%T is not a *hookline.Error", err)
	}
}

func BenchmarkValidate(b *testing.B) {
	s := cleartix(b, "ticket.checked_in")
	payload := readTestdata(b, "ticket.checked_in.example.json")
	b.ReportAllocs()
	for b.Loop() {
		if vs := s.Validate(payload); vs != nil {
			b.Fatal(vs)
		}
	}
}

func BenchmarkCacheGet(b *testing.B) {
	c := NewCache(0)
	raw := readTestdata(b, "ticket.checked_in.schema.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get("ticket.checked_in", raw); err != nil {
			b.Fatal(err)
		}
	}
}

// A schema whose references loop without reaching into the payload would fail every message
// at validation time; Compile refuses it once, naming the loop. A reference that descends into
// the payload (a tree of nodes) is recursion, not a loop, and compiles.
func TestRefLoops(t *testing.T) {
	t.Parallel()
	loops := []struct{ name, schema, want string }{
		{"root refers to itself", `{"$ref": "#"}`, "/ -> /"},
		{"two definitions", `{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}`,
			"/$defs/a -> /$defs/b -> /$defs/a"},
		{"through allOf", `{"$defs": {"a": {"allOf": [{"$ref": "#/$defs/a"}]}}, "properties": {"x": {"$ref": "#/$defs/a"}}}`, "/$defs/a"},
		{"through anyOf", `{"anyOf": [{"type": "string"}, {"$ref": "#"}]}`, "/ -> /anyOf/1 -> /"},
		{"through not", `{"$defs": {"a": {"not": {"$ref": "#/$defs/a"}}}, "$ref": "#/$defs/a"}`, "/$defs/a"},
		{"through if/then", `{"if": {"type": "object"}, "then": {"$ref": "#"}}`, "/then"},
		{"inside an array's items", `{"type": "array", "items": {"$defs": {"x": {"$ref": "#/$defs/y"}}, "$ref": "#/$defs/y"}, "$defs": {"y": {"oneOf": [{"$ref": "#/$defs/y"}]}}}`,
			"/$defs/y -> /$defs/y/oneOf/0 -> /$defs/y"},
		{"draft-07 dependencies", `{"$schema": "http://json-schema.org/draft-07/schema#", "dependencies": {"a": {"$ref": "#"}}}`, "/dependencies/a"},
	}
	for _, tt := range loops {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(json.RawMessage(tt.schema))
			if err == nil {
				t.Fatal("a schema whose references loop compiled")
			}
			msg := hookline.ErrorMessage(err)
			if hookline.ErrorCode(err) != hookline.EINVALID || !strings.Contains(msg, "loop") || !strings.Contains(msg, tt.want) {
				t.Errorf("got %q %q, want a validation error naming the loop %q", hookline.ErrorCode(err), msg, tt.want)
			}
			if strings.Contains(msg, "mem:") {
				t.Errorf("message %q leaks the internal base URL", msg)
			}
		})
	}
	recursive := []string{
		`{"type": "object", "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}}}`,
		`{"$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}}, "$ref": "#/$defs/node"}`,
		`{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"type": "string"}}, "allOf": [{"$ref": "#/$defs/a"}, {"$ref": "#/$defs/a"}]}`,
		`{"$defs": {"v": {"anyOf": [{"type": "number"}, {"type": "array", "items": {"$ref": "#/$defs/v"}}, {"type": "object", "additionalProperties": {"$ref": "#/$defs/v"}}]}}, "$ref": "#/$defs/v"}`,
	}
	for _, s := range recursive {
		sch, err := Compile(json.RawMessage(s))
		if err != nil {
			t.Errorf("recursive schema refused: %v\n%s", err, s)
			continue
		}
		if v := sch.Validate(json.RawMessage(`{"name": "a", "children": [{"name": "b", "children": []}], "next": {"next": {}}}`)); len(v) != 0 && s == recursive[0] {
			t.Errorf("tree refused by its recursive schema: %v", v)
		}
	}
}
