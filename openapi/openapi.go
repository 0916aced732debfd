// Package openapi builds Hookline's OpenAPI 3.1 document from the same Operation values the API
// registers its routes with, so the published description cannot drift from the handlers.
//
// Request, response and query types are described by reflection, following encoding/json:
//
//   - properties are named by the json tag; "-" hides a field, and fields of embedded structs
//     are promoted;
//   - a property is required unless its field is a pointer, has omitempty or omitzero, or has
//     the tag required:"false" (required:"true" forces it);
//   - doc:"..." becomes the description, enum:"a,b" the allowed values (of the items, on a
//     slice), example:"..." an example; enum and example values are converted to the field's
//     JSON type;
//   - pointers are nullable; time.Time is a date-time string; json.RawMessage, interfaces and
//     types with their own MarshalJSON accept any JSON; a type can give its own schema by
//     implementing Describer;
//   - named struct types become components/schemas entries named by ComponentName.
//
// Slices and maps are described as arrays and objects, never null: encoding/json writes a nil
// slice or map as null, so handlers return empty ones (as Svix clients expect) or mark the
// field omitempty.
//
// Query structs use the same rules with query:"name" instead of json; query parameters are
// optional unless tagged required:"true".
package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/hookline/hookline"
)

// Info is the document's info object.
type Info struct {
	Title       string
	Version     string
	Description string
}

// Param is an extra request header of an operation, such as Idempotency-Key.
type Param struct {
	Name        string
	Description string
	Required    bool
}

// Operation describes one route. The API registers the handler under Method and Path and
// passes the same value to Build.
type Operation struct {
	// Method is the HTTP method, such as "GET" or "POST".
	Method string
	// Path is the route as a net/http ServeMux pattern path, such as "/api/v1/app/{app_id}";
	// every {name} (or {name...}) segment is a required string path parameter, and a trailing
	// {$} only marks an exact match.
	Path string
	// ID is the operationId, unique in the document (Svix's ids, such as "v1.application.get").
	ID          string
	Summary     string
	Description string
	Tag         string
	// Request is nil or a value of the request body's type, such as ApplicationIn{}.
	Request any
	// Response is nil or a value of the success response's type.
	Response any
	// Status is the success status; 0 means 200 with a Response and 204 without.
	Status int
	// Query is nil or a struct whose fields, tagged query:"name", are the query parameters.
	Query any
	// Errors lists the error statuses the operation can answer with: 422 with an
	// HTTPValidationError body (Svix's shape: detail is a list of field problems), every other
	// status with an HttpError body; 401 is added to every operation that is not Public.
	Errors []int
	// Public operations need no bearer token.
	Public bool
	// ExtraHeaders are request headers the operation reads, such as Idempotency-Key.
	ExtraHeaders []Param
}

// Names of the components Build adds itself; a Go type of the same name is an error.
const (
	errorComponent      = "HttpError"
	validationComponent = "HTTPValidationError"
	fieldErrorComponent = "ValidationError"
	securityScheme      = "bearerAuth"
)

// pathParam matches the wildcards of a ServeMux pattern.
var pathParam = regexp.MustCompile(`\{([^{}]*)\}`)

// Build returns the OpenAPI 3.1.0 document, as indented JSON, for ops. The output depends only
// on its arguments, and object keys are sorted, so two builds give the same bytes. Build fails
// on an operation it cannot describe faithfully: a duplicate route or id, an unknown method,
// a body with 204, or a type with no JSON Schema.
func Build(info Info, ops []Operation) ([]byte, error) {
	g := newGenerator()
	if err := addErrorComponents(g); err != nil {
		return nil, err
	}

	paths := map[string]map[string]any{}
	ids := map[string]bool{}
	tags := map[string]bool{}
	for _, op := range ops {
		if op.ID == "" {
			return nil, fmt.Errorf("openapi: %s %s: no ID", op.Method, op.Path)
		}
		if ids[op.ID] {
			return nil, fmt.Errorf("openapi: operation ID %q used twice", op.ID)
		}
		ids[op.ID] = true
		path, item, err := buildOperation(g, op)
		if err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", op.ID, err)
		}
		method := strings.ToLower(op.Method)
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		if _, dup := paths[path][method]; dup {
			return nil, fmt.Errorf("openapi: %s: %s %s is described twice", op.ID, op.Method, path)
		}
		paths[path][method] = item
		if op.Tag != "" {
			tags[op.Tag] = true
		}
	}

	infoObj := map[string]any{"title": info.Title, "version": info.Version}
	if info.Description != "" {
		infoObj["description"] = info.Description
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		// Plain 2020-12, not the OAS dialect: the schemas use no OpenAPI-only keywords, and any
		// JSON Schema tool can then read them.
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"info":              infoObj,
		"paths":             paths,
		"components": map[string]any{
			"schemas": g.components,
			"securitySchemes": map[string]any{
				securityScheme: map[string]any{
					"type":        "http",
					"scheme":      "bearer",
					"description": "An API token: Authorization: Bearer <token>.",
				},
			},
		},
		// Every operation needs a token unless it says otherwise (Public sets security: []).
		"security": []any{map[string]any{securityScheme: []any{}}},
	}
	if len(tags) > 0 {
		var list []any
		for _, t := range slices.Sorted(maps.Keys(tags)) {
			list = append(list, map[string]any{"name": t})
		}
		doc["tags"] = list
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Descriptions are prose with quotes and angle brackets; escaping them helps nobody.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("openapi: encode: %w", err)
	}
	return buf.Bytes(), nil
}

var methods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodTrace,
}

// buildOperation returns the OpenAPI path (ServeMux syntax removed) and operation object.
func buildOperation(g *generator, op Operation) (string, map[string]any, error) {
	if !slices.Contains(methods, op.Method) {
		return "", nil, fmt.Errorf("method %q is not an upper-case HTTP method", op.Method)
	}
	if !strings.HasPrefix(op.Path, "/") {
		return "", nil, fmt.Errorf("path %q does not start with /", op.Path)
	}

	params := []any{}
	seen := map[string]bool{}
	var badParam error
	path := pathParam.ReplaceAllStringFunc(op.Path, func(m string) string {
		name := m[1 : len(m)-1]
		if name == "$" {
			return ""
		}
		name = strings.TrimSuffix(name, "...")
		if name == "" || seen[name] {
			badParam = fmt.Errorf("path %q: empty or repeated parameter %q", op.Path, name)
		}
		seen[name] = true
		params = append(params, map[string]any{
			"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"},
		})
		return "{" + name + "}"
	})
	if badParam != nil {
		return "", nil, badParam
	}

	if op.Query != nil {
		qs, err := queryParams(g, reflect.TypeOf(op.Query))
		if err != nil {
			return "", nil, err
		}
		params = append(params, qs...)
	}
	for _, h := range op.ExtraHeaders {
		p := map[string]any{"name": h.Name, "in": "header", "schema": map[string]any{"type": "string"}}
		if h.Description != "" {
			p["description"] = h.Description
		}
		if h.Required {
			p["required"] = true
		}
		params = append(params, p)
	}

	o := map[string]any{"operationId": op.ID}
	if op.Summary != "" {
		o["summary"] = op.Summary
	}
	if op.Description != "" {
		o["description"] = op.Description
	}
	if op.Tag != "" {
		o["tags"] = []any{op.Tag}
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if op.Public {
		o["security"] = []any{}
	}

	if op.Request != nil {
		s, err := g.schema(bodyType(op.Request))
		if err != nil {
			return "", nil, fmt.Errorf("request: %w", err)
		}
		o["requestBody"] = map[string]any{"required": true, "content": jsonContent(s)}
	}

	responses, err := buildResponses(g, op)
	if err != nil {
		return "", nil, err
	}
	o["responses"] = responses
	return path, o, nil
}

func buildResponses(g *generator, op Operation) (map[string]any, error) {
	status := op.Status
	if status == 0 {
		status = http.StatusOK
		if op.Response == nil {
			status = http.StatusNoContent
		}
	}
	if status < 100 || status > 399 {
		return nil, fmt.Errorf("success status %d is not 1xx-3xx", status)
	}
	success := map[string]any{"description": http.StatusText(status)}
	if op.Response != nil {
		if status == http.StatusNoContent || status == http.StatusNotModified {
			return nil, fmt.Errorf("status %d cannot have a response body", status)
		}
		s, err := g.schema(bodyType(op.Response))
		if err != nil {
			return nil, fmt.Errorf("response: %w", err)
		}
		success["content"] = jsonContent(s)
	}
	responses := map[string]any{fmt.Sprint(status): success}

	errs := slices.Clone(op.Errors)
	if !op.Public && !slices.Contains(errs, http.StatusUnauthorized) {
		// The auth middleware answers 401 before any handler runs.
		errs = append(errs, http.StatusUnauthorized)
	}
	for _, code := range errs {
		if code < 400 || code > 599 {
			return nil, fmt.Errorf("error status %d is not 4xx or 5xx", code)
		}
		body := errorComponent
		if code == http.StatusUnprocessableEntity {
			body = validationComponent
		}
		responses[fmt.Sprint(code)] = map[string]any{
			"description": http.StatusText(code),
			"content":     jsonContent(ref(body)),
		}
	}
	return responses, nil
}

// queryParams describes the query:"name" fields of a Query struct.
func queryParams(g *generator, t reflect.Type) ([]any, error) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("query: %s is not a struct", t)
	}
	var params []any
	for i := range t.NumField() {
		sf := t.Field(i)
		name, ok := sf.Tag.Lookup("query")
		if !ok && sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			// An embedded struct (such as the pagination parameters) adds its parameters.
			ps, err := queryParams(g, sf.Type)
			if err != nil {
				return nil, err
			}
			params = append(params, ps...)
			continue
		}
		if !ok || name == "-" || !sf.IsExported() {
			continue
		}
		if err := checkQueryType(sf.Type); err != nil {
			return nil, fmt.Errorf("query: %s.%s: %w", t, sf.Name, err)
		}
		// An absent query parameter is the zero value or nil alike; it is never null.
		if sf.Type.Kind() == reflect.Pointer {
			sf.Type = sf.Type.Elem()
		}
		s, err := g.fieldSchema(sf, false)
		if err != nil {
			return nil, fmt.Errorf("query: %s.%s: %w", t, sf.Name, err)
		}
		p := map[string]any{"name": name, "in": "query"}
		// The description belongs to the parameter, where documentation tools show it.
		if d, ok := s["description"]; ok {
			p["description"] = d
			delete(s, "description")
		}
		p["schema"] = s
		if sf.Tag.Get("required") == "true" {
			p["required"] = true
		}
		if sf.Type.Kind() == reflect.Slice {
			// ?event_types=a&event_types=b, as url.Values reads it.
			p["style"], p["explode"] = "form", true
		}
		params = append(params, p)
	}
	return params, nil
}

// checkQueryType accepts the types the API's query decoder parses.
func checkQueryType(t reflect.Type) error {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType, t.Kind() == reflect.String, t.Kind() == reflect.Bool, isInt(t.Kind()):
		return nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return nil
	}
	if _, ok := describe(t); ok {
		return nil
	}
	return fmt.Errorf("type %s cannot be a query parameter", t)
}

// addErrorComponents adds the error bodies the error responses refer to: HttpError (a code and
// a sentence) and, for 422, HTTPValidationError (a code and a list of ValidationError items,
// built from hookline.FieldError so they match what the API writes).
func addErrorComponents(g *generator) error {
	fe, err := g.object(reflect.TypeFor[hookline.FieldError]())
	if err != nil {
		return err
	}
	fe["description"] = "One problem with one field of the request."
	g.claim(fieldErrorComponent, fe)
	g.claim(errorComponent, map[string]any{
		"type":     "object",
		"required": []string{"code", "detail"},
		"properties": map[string]any{
			"code": map[string]any{
				"type":        "string",
				"description": "A stable machine-readable error code, such as not_found or validation.",
			},
			"detail": map[string]any{"type": "string", "description": "A human-readable explanation."},
		},
	})
	g.claim(validationComponent, map[string]any{
		"type":        "object",
		"required":    []string{"code", "detail"},
		"description": "The body of every 422: Svix's HTTPValidationError, with the stable code beside it.",
		"properties": map[string]any{
			"code": map[string]any{
				"type":        "string",
				"description": "A stable machine-readable error code, such as validation or schema_violation.",
			},
			"detail": map[string]any{
				"type":        "array",
				"items":       ref(fieldErrorComponent),
				"description": "The problems, one per field, in request order.",
			},
		},
	})
	return nil
}

// claim adds a hand-written component; no Go type may take its name.
func (g *generator) claim(name string, s map[string]any) {
	g.components[name] = s
	g.owners[name] = reflect.TypeFor[builtIn]()
}

// builtIn owns the hand-written components, so a clash names it in the error.
type builtIn struct{}

// bodyType is the type of a Request or Response value; a pointer stands for its element, since
// a body is never null.
func bodyType(v any) reflect.Type {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}

func jsonContent(s map[string]any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": s}}
}
