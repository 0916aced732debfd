package openapi_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookline/hookline/openapi"
)

// Sample API types, shaped like the real ones.

type ApplicationIn struct {
	Name      string            `json:"name" doc:"Application name." example:"Acme"`
	UID       *string           `json:"uid,omitempty" doc:"Your own id for the application."`
	RateLimit *int              `json:"rateLimit"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	Internal  string            `json:"-"`
	secret    string
}

type ApplicationOut struct {
	Timestamps
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	UID       *string           `json:"uid"`
	RateLimit *int              `json:"rateLimit" required:"false"`
	Metadata  map[string]string `json:"metadata"`
	Status    string            `json:"status" enum:"active,disabled"`
	Version   int32             `json:"version" enum:"1,2"`
	Secret    Secret            `json:"secret"`
	Filters   []string          `json:"filterTypes,omitempty" enum:"a.b,c.d"`
	Count     int64             `json:"count,string"`
}

// Timestamps is embedded: its fields are promoted into the embedding struct.
type Timestamps struct {
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type ListResponse[T any] struct {
	Data     []T     `json:"data"`
	Iterator *string `json:"iterator"`
	Done     bool    `json:"done"`
}

type MessageIn struct {
	EventType string          `json:"eventType"`
	Payload   json.RawMessage `json:"payload"`
	Tags      []string        `json:"tags,omitempty"`
	Channels  []string        `json:"channels" required:"false"`
	Extra     any             `json:"extra,omitempty"`
}

// Node is recursive, directly and through a slice.
type Node struct {
	Name     string `json:"name"`
	Parent   *Node  `json:"parent"`
	Children []Node `json:"children"`
}

// Secret describes itself.
type Secret string

func (Secret) JSONSchema() map[string]any {
	return map[string]any{"type": "string", "pattern": "^whsec_"}
}

type ListQuery struct {
	Limit    int       `query:"limit" doc:"How many items to return."`
	Iterator string    `query:"iterator"`
	Before   time.Time `query:"before"`
	Types    []string  `query:"event_types" doc:"Only these event types."`
	WithBody bool      `query:"with_content" required:"true"`
	Channel  *string   `query:"channel"`
	NotQuery string
}

func sampleOps() []openapi.Operation {
	return []openapi.Operation{
		{
			Method: "GET", Path: "/api/v1/app", ID: "v1.application.list", Summary: "List applications",
			Tag: "Application", Response: ListResponse[ApplicationOut]{}, Query: ListQuery{},
			Errors: []int{400, 422},
		},
		{
			Method: "POST", Path: "/api/v1/app", ID: "v1.application.create", Summary: "Create application",
			Tag: "Application", Request: ApplicationIn{}, Response: ApplicationOut{}, Status: 201,
			Errors:       []int{409, 422},
			ExtraHeaders: []openapi.Param{{Name: "Idempotency-Key", Description: "Makes retries safe."}},
		},
		{
			Method: "GET", Path: "/api/v1/app/{app_id}", ID: "v1.application.get", Tag: "Application",
			Response: &ApplicationOut{}, Errors: []int{404},
		},
		{
			Method: "DELETE", Path: "/api/v1/app/{app_id}", ID: "v1.application.delete", Tag: "Application",
			Errors: []int{404},
		},
		{
			Method: "POST", Path: "/api/v1/app/{app_id}/msg", ID: "v1.message.create", Tag: "Message",
			Request: MessageIn{}, Response: Node{}, Status: 202, Errors: []int{413, 422, 429},
		},
		{
			Method: "GET", Path: "/api/v1/health/{$}", ID: "v1.health.get", Tag: "Health", Public: true,
		},
		{
			Method: "GET", Path: "/static/{file...}", ID: "static", Public: true, Response: json.RawMessage{},
		},
	}
}

func build(t *testing.T) (raw []byte, doc map[string]any) {
	t.Helper()
	raw, err := openapi.Build(openapi.Info{Title: "Hookline", Version: "1.0.0", Description: "Webhooks <fast>"}, sampleOps())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return raw, doc
}

// at follows a path of object keys and array indexes through decoded JSON.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for i, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not an object at %v", path, path[:i])
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("%v: no %q at %v (have %v)", path, k, path[:i], slices.Sorted(keys(m)))
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("%v: no index %d at %v", path, k, path[:i])
			}
			v = a[k]
		}
	}
	return v
}

func keys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func eq(t *testing.T, what string, got any, wantJSON string) {
	t.Helper()
	var want any
	if err := json.Unmarshal([]byte(wantJSON), &want); err != nil {
		t.Fatal(err)
	}
	// Round-trip got as well, so []string and []any compare equal.
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(g, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, g, wantJSON)
	}
}

func TestDocument(t *testing.T) {
	t.Parallel()
	raw, doc := build(t)
	eq(t, "openapi", doc["openapi"], `"3.1.0"`)
	eq(t, "info", doc["info"], `{"title":"Hookline","version":"1.0.0","description":"Webhooks <fast>"}`)
	if !bytes.Contains(raw, []byte("<fast>")) {
		t.Error("HTML characters were escaped")
	}
	eq(t, "paths", slices.Sorted(keys(at(t, doc, "paths").(map[string]any))),
		`["/api/v1/app","/api/v1/app/{app_id}","/api/v1/app/{app_id}/msg","/api/v1/health/","/static/{file}"]`)
	eq(t, "methods", slices.Sorted(keys(at(t, doc, "paths", "/api/v1/app/{app_id}").(map[string]any))), `["delete","get"]`)
	eq(t, "tags", doc["tags"], `[{"name":"Application"},{"name":"Health"},{"name":"Message"}]`)
	eq(t, "security scheme", at(t, doc, "components", "securitySchemes", "bearerAuth", "scheme"), `"bearer"`)
	eq(t, "global security", doc["security"], `[{"bearerAuth":[]}]`)
}

func TestOperations(t *testing.T) {
	t.Parallel()
	_, doc := build(t)
	list := at(t, doc, "paths", "/api/v1/app", "get")
	eq(t, "list id", at(t, list, "operationId"), `"v1.application.list"`)
	eq(t, "list tags", at(t, list, "tags"), `["Application"]`)
	eq(t, "list parameters", at(t, list, "parameters"), `[
		{"name":"limit","in":"query","description":"How many items to return.","schema":{"type":"integer","format":"int64"}},
		{"name":"iterator","in":"query","schema":{"type":"string"}},
		{"name":"before","in":"query","schema":{"type":"string","format":"date-time"}},
		{"name":"event_types","in":"query","description":"Only these event types.","style":"form","explode":true,
		 "schema":{"type":"array","items":{"type":"string"}}},
		{"name":"with_content","in":"query","required":true,"schema":{"type":"boolean"}},
		{"name":"channel","in":"query","schema":{"type":"string"}}
	]`)
	eq(t, "list 200", at(t, list, "responses", "200", "content", "application/json", "schema"),
		`{"$ref":"#/components/schemas/ListResponse_ApplicationOut_"}`)
	eq(t, "list errors", slices.Sorted(keys(at(t, list, "responses").(map[string]any))), `["200","400","401","422"]`)
	eq(t, "validation error body", at(t, list, "responses", "422", "content", "application/json", "schema"),
		`{"$ref":"#/components/schemas/HTTPValidationError"}`)
	eq(t, "error body", at(t, list, "responses", "400", "content", "application/json", "schema"),
		`{"$ref":"#/components/schemas/HttpError"}`)
	if _, ok := list.(map[string]any)["security"]; ok {
		t.Error("an authenticated operation overrides the global security")
	}

	create := at(t, doc, "paths", "/api/v1/app", "post")
	eq(t, "create body", at(t, create, "requestBody"),
		`{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/ApplicationIn"}}}}`)
	eq(t, "create 201", at(t, create, "responses", "201", "content", "application/json", "schema"),
		`{"$ref":"#/components/schemas/ApplicationOut"}`)
	eq(t, "create header", at(t, create, "parameters"),
		`[{"name":"Idempotency-Key","in":"header","description":"Makes retries safe.","schema":{"type":"string"}}]`)

	get := at(t, doc, "paths", "/api/v1/app/{app_id}", "get")
	eq(t, "path parameter", at(t, get, "parameters"),
		`[{"name":"app_id","in":"path","required":true,"schema":{"type":"string"}}]`)
	eq(t, "pointer response is the type", at(t, get, "responses", "200", "content", "application/json", "schema"),
		`{"$ref":"#/components/schemas/ApplicationOut"}`)

	del := at(t, doc, "paths", "/api/v1/app/{app_id}", "delete")
	eq(t, "204 without body", at(t, del, "responses", "204"), `{"description":"No Content"}`)

	health := at(t, doc, "paths", "/api/v1/health/", "get")
	eq(t, "public security", at(t, health, "security"), `[]`)
	eq(t, "public responses", at(t, health, "responses"), `{"204":{"description":"No Content"}}`)

	static := at(t, doc, "paths", "/static/{file}", "get")
	eq(t, "wildcard parameter", at(t, static, "parameters", 0, "name"), `"file"`)
	eq(t, "raw response", at(t, static, "responses", "200", "content", "application/json", "schema"), `{}`)
}

func TestSchemas(t *testing.T) {
	t.Parallel()
	_, doc := build(t)
	schemas := at(t, doc, "components", "schemas").(map[string]any)
	eq(t, "components", slices.Sorted(keys(schemas)),
		`["ApplicationIn","ApplicationOut","HTTPValidationError","HttpError","ListResponse_ApplicationOut_","MessageIn","Node","ValidationError"]`)

	eq(t, "ApplicationIn", schemas["ApplicationIn"], `{
		"type":"object",
		"required":["name"],
		"properties":{
			"name":{"type":"string","description":"Application name.","examples":["Acme"]},
			"uid":{"type":["string","null"],"description":"Your own id for the application."},
			"rateLimit":{"type":["integer","null"],"format":"int64"},
			"metadata":{"type":"object","additionalProperties":{"type":"string"}}
		}
	}`)
	eq(t, "ApplicationOut", schemas["ApplicationOut"], `{
		"type":"object",
		"required":["createdAt","updatedAt","id","name","metadata","status","version","secret","count"],
		"properties":{
			"createdAt":{"type":"string","format":"date-time"},
			"updatedAt":{"type":"string","format":"date-time"},
			"id":{"type":"string"},
			"name":{"type":"string"},
			"uid":{"type":["string","null"]},
			"rateLimit":{"type":["integer","null"],"format":"int64"},
			"metadata":{"type":"object","additionalProperties":{"type":"string"}},
			"status":{"type":"string","enum":["active","disabled"]},
			"version":{"type":"integer","format":"int32","enum":[1,2]},
			"secret":{"type":"string","pattern":"^whsec_"},
			"filterTypes":{"type":"array","items":{"type":"string","enum":["a.b","c.d"]}},
			"count":{"type":"string"}
		}
	}`)
	eq(t, "generic", schemas["ListResponse_ApplicationOut_"], `{
		"type":"object",
		"required":["data","done"],
		"properties":{
			"data":{"type":"array","items":{"$ref":"#/components/schemas/ApplicationOut"}},
			"iterator":{"type":["string","null"]},
			"done":{"type":"boolean"}
		}
	}`)
	eq(t, "MessageIn", schemas["MessageIn"], `{
		"type":"object",
		"required":["eventType","payload"],
		"properties":{
			"eventType":{"type":"string"},
			"payload":{},
			"tags":{"type":"array","items":{"type":"string"}},
			"channels":{"type":"array","items":{"type":"string"}},
			"extra":{}
		}
	}`)
	eq(t, "recursive", schemas["Node"], `{
		"type":"object",
		"required":["name","children"],
		"properties":{
			"name":{"type":"string"},
			"parent":{"anyOf":[{"$ref":"#/components/schemas/Node"},{"type":"null"}]},
			"children":{"type":"array","items":{"$ref":"#/components/schemas/Node"}}
		}
	}`)
	eq(t, "HttpError required", at(t, schemas, "HttpError", "required"), `["code","detail"]`)
	eq(t, "HttpError detail", at(t, schemas, "HttpError", "properties", "detail", "type"), `"string"`)
	eq(t, "HTTPValidationError required", at(t, schemas, "HTTPValidationError", "required"), `["code","detail"]`)
	eq(t, "HTTPValidationError detail", at(t, schemas, "HTTPValidationError", "properties", "detail", "items"),
		`{"$ref":"#/components/schemas/ValidationError"}`)
	eq(t, "ValidationError", at(t, schemas, "ValidationError", "properties"), `{
		"loc":{"type":"array","items":{"type":"string"}},
		"msg":{"type":"string"},
		"type":{"type":"string"}
	}`)
}

func TestStableOutput(t *testing.T) {
	t.Parallel()
	first, _ := build(t)
	for range 5 {
		again, _ := build(t)
		if !bytes.Equal(first, again) {
			t.Fatal("two builds of the same operations differ")
		}
	}
}

// compileComponents compiles every component schema of the document with a 2020-12 validator,
// which also checks each against the 2020-12 metaschema.
func compileComponents(t *testing.T, raw []byte) map[string]*jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	const base = "mem:///openapi.json"
	if err := c.AddResource(base, doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]*jsonschema.Schema{}
	for name := range doc.(map[string]any)["components"].(map[string]any)["schemas"].(map[string]any) {
		s, err := c.Compile(base + "#/components/schemas/" + name)
		if err != nil {
			t.Errorf("component %s is not valid JSON Schema 2020-12: %v", name, err)
			continue
		}
		out[name] = s
	}
	return out
}

func TestComponentsAreValidJSONSchema(t *testing.T) {
	t.Parallel()
	raw, _ := build(t)
	schemas := compileComponents(t, raw)

	// The schemas describe what encoding/json really writes: marshal values and validate them.
	// (Nil slices and maps would be written as null, which the schemas do not allow: handlers
	// return empty ones, as the package documentation says.)
	uid, limit := "my-app", 5
	values := map[string]any{
		"ApplicationOut": ApplicationOut{
			Timestamps: Timestamps{CreatedAt: time.Now()}, ID: "app_1", UID: &uid, RateLimit: &limit,
			Status: "active", Version: 2, Secret: "whsec_x", Filters: []string{"a.b"}, Count: 7,
			Metadata: map[string]string{"k": "v"},
		},
		"ListResponse_ApplicationOut_": ListResponse[ApplicationOut]{Data: []ApplicationOut{{Status: "disabled", Version: 1, Secret: "whsec_", Metadata: map[string]string{}}}},
		"ApplicationIn":                ApplicationIn{Name: "Acme"},
		"Node":                         Node{Name: "root", Children: []Node{{Name: "leaf", Parent: &Node{Name: "root", Children: []Node{}}, Children: []Node{}}}},
		"MessageIn":                    MessageIn{EventType: "a.b", Payload: json.RawMessage(`{"x":1}`), Channels: []string{"c"}},
	}
	for name, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas[name].Validate(inst); err != nil {
			t.Errorf("%s: marshalled value %s fails its schema: %v", name, b, err)
		}
	}

	// And the schemas reject what they should.
	bad := map[string]string{
		"ApplicationIn":       `{"rateLimit": null}`,                        // name missing
		"ApplicationOut":      `{"status": "deleted"}`,                      // not in enum (and more)
		"Node":                `{"name": "n", "parent": 5, "children": []}`, // neither Node nor null
		"HttpError":           `{"code": "validation", "detail": [{"loc": ["body"], "msg": "x", "type": "value"}]}`,
		"HTTPValidationError": `{"code": "validation", "detail": "x"}`,
	}
	for name, body := range bad {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if schemas[name].Validate(inst) == nil {
			t.Errorf("%s accepted %s", name, body)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	type Other struct{ X string }
	type weird struct {
		C chan int `json:"c"`
	}
	tests := []struct {
		name string
		ops  []openapi.Operation
		want string
	}{
		{"no id", []openapi.Operation{{Method: "GET", Path: "/a"}}, "no ID"},
		{"duplicate id", []openapi.Operation{{Method: "GET", Path: "/a", ID: "x"}, {Method: "GET", Path: "/b", ID: "x"}}, "used twice"},
		{"duplicate route", []openapi.Operation{{Method: "GET", Path: "/a/{id}", ID: "x"}, {Method: "GET", Path: "/a/{id}", ID: "y"}}, "described twice"},
		{"bad method", []openapi.Operation{{Method: "get", Path: "/a", ID: "x"}}, "method"},
		{"relative path", []openapi.Operation{{Method: "GET", Path: "a", ID: "x"}}, "does not start with /"},
		{"repeated param", []openapi.Operation{{Method: "GET", Path: "/a/{id}/{id}", ID: "x"}}, "repeated parameter"},
		{"body with 204", []openapi.Operation{{Method: "GET", Path: "/a", ID: "x", Response: Other{}, Status: 204}}, "cannot have a response body"},
		{"bad error status", []openapi.Operation{{Method: "GET", Path: "/a", ID: "x", Errors: []int{200}}}, "not 4xx"},
		{"channel", []openapi.Operation{{Method: "GET", Path: "/a", ID: "x", Response: weird{}}}, "no JSON Schema"},
		{"query not struct", []openapi.Operation{{Method: "GET", Path: "/a", ID: "x", Query: 5}}, "not a struct"},
		{"query map", []openapi.Operation{{Method: "GET", Path: "/a", ID: "x", Query: struct {
			M map[string]string `query:"m"`
		}{}}}, "cannot be a query parameter"},
		{"reserved name", []openapi.Operation{{Method: "GET", Path: "/a", ID: "x", Response: HttpError{}}}, "would both be component"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := openapi.Build(openapi.Info{Title: "t", Version: "1"}, tt.ops)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// HttpError clashes with the component Build writes itself.
type HttpError struct{ Code string }

func TestComponentName(t *testing.T) {
	t.Parallel()
	type Pair[A, B any] struct{}
	tests := []struct {
		t    reflect.Type
		want string
	}{
		{reflect.TypeFor[ApplicationOut](), "ApplicationOut"},
		{reflect.TypeFor[ListResponse[ApplicationOut]](), "ListResponse_ApplicationOut_"},
		{reflect.TypeFor[ListResponse[*time.Time]](), "ListResponse__Time_"},
		{reflect.TypeFor[Pair[string, []int]](), "Pair_string___int_"},
		{reflect.TypeFor[ListResponse[map[string]Node]](), "ListResponse_map_string_Node_"},
	}
	for _, tt := range tests {
		if got := openapi.ComponentName(tt.t); got != tt.want {
			t.Errorf("ComponentName(%s) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

// Two different Go types that would get the same component name are an error, not a silent
// overwrite.
func TestComponentNameClash(t *testing.T) {
	t.Parallel()
	type Node struct{ Other string }
	_, err := openapi.Build(openapi.Info{Title: "t", Version: "1"}, []openapi.Operation{
		{Method: "GET", Path: "/a", ID: "a", Response: Node{}},
		{Method: "GET", Path: "/b", ID: "b", Response: sampleNode()},
	})
	if err == nil || !strings.Contains(err.Error(), `both be component "Node"`) {
		t.Errorf("got %v", err)
	}
}

func sampleNode() Node { return Node{} }
