// Package eventcatalog turns the event-type catalogue into the webhooks section of an OpenAPI
// document and back (Svix's event-type export and import). Each event type is one webhook,
// named for it, whose POST carries the description, the deprecation and, as its request body,
// the latest schema. What OpenAPI has no place for travels in extensions of the operation, so
// an exported catalogue imports as the same catalogue: x-hookline-group-name,
// x-hookline-feature-flag and x-hookline-schemas (every schema version, when there is more than
// version "1").
//
// A document from elsewhere needs none of them: its webhooks (or x-webhooks) become event types
// with schema version "1" taken from the JSON request body, with the document's local $refs
// (#/components/schemas/Pet) resolved in place, so the schema stands alone.
package eventcatalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hookline/hookline"
	"go.yaml.in/yaml/v3"
)

// The operation extensions that carry what OpenAPI has no field for.
const (
	ExtGroupName   = "x-hookline-group-name"
	ExtFeatureFlag = "x-hookline-feature-flag"
	ExtSchemas     = "x-hookline-schemas"
)

// maxRefDepth bounds the nesting of a resolved schema, so a deep (or hostile) document cannot
// exhaust the stack; maxNodes bounds the size of all of them together, so $refs that each use
// the next twice cannot make a document of kilobytes into schemas of gigabytes.
const (
	maxRefDepth = 128
	maxNodes    = 200_000
)

// Export returns the OpenAPI 3.1 document of the event types: one webhook per event type.
func Export(types []hookline.EventType, title, version string) (json.RawMessage, error) {
	webhooks := make(map[string]any, len(types))
	for i := range types {
		et := &types[i]
		op := map[string]any{
			"operationId": et.Name,
			"summary":     et.Name,
			"description": et.Description,
			"deprecated":  et.Deprecated,
			"responses": map[string]any{"2XX": map[string]any{
				"description": "Return any 2XX status to indicate that the data was received successfully"}},
		}
		if et.GroupName != "" {
			op[ExtGroupName] = et.GroupName
		}
		if et.FeatureFlag != "" {
			op[ExtFeatureFlag] = et.FeatureFlag
		}
		if v, schema := et.LatestSchema(); schema != nil {
			op["requestBody"] = map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": schema}}}
			if len(et.Schemas) > 1 || v != "1" {
				op[ExtSchemas] = et.Schemas
			}
		}
		webhooks[et.Name] = map[string]any{"post": op}
	}
	doc := map[string]any{
		"openapi":  "3.1.0",
		"info":     map[string]any{"title": title, "version": version},
		"webhooks": webhooks,
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("eventcatalog: encode document: %w", err)
	}
	return b, nil
}

// ParseRaw reads a document given as text, YAML or JSON (JSON is YAML), into JSON. Errors are
// validation errors located at loc.
func ParseRaw(text string, loc ...string) (json.RawMessage, error) {
	var v any
	if err := yaml.Unmarshal([]byte(text), &v); err != nil {
		return nil, invalid(loc, "is neither YAML nor JSON: "+strings.TrimPrefix(err.Error(), "yaml: "))
	}
	b, err := json.Marshal(v)
	if err != nil {
		// YAML allows what JSON does not, such as maps with non-string keys.
		return nil, invalid(loc, "cannot be read as a JSON document: "+err.Error())
	}
	return b, nil
}

// Import reads the event types of an OpenAPI document (JSON): one per webhook of its webhooks
// section (or x-webhooks, OpenAPI 3.0's custom), in name order. Problems are validation errors
// located under loc. The event types are not validated as event types: the service does that.
func Import(doc json.RawMessage, loc ...string) ([]hookline.EventType, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber() // numbers in schemas stay as written
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, invalid(loc, "is not a JSON document: "+err.Error())
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, invalid(loc, "must be an OpenAPI document (a JSON object)")
	}
	hooks := map[string]any{}
	found := false
	for _, key := range []string{"x-webhooks", "webhooks"} { // webhooks wins a name in both
		if v, ok := obj[key]; ok && v != nil {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, invalid(sub(loc, key), "must be an object of webhooks by name")
			}
			found = true
			for name, item := range m {
				hooks[name] = item
			}
		}
	}
	if !found {
		return nil, invalid(loc, "has no webhooks (or x-webhooks) section")
	}
	names := make([]string, 0, len(hooks))
	for name := range hooks {
		names = append(names, name)
	}
	sort.Strings(names)
	r := resolver{doc: root}
	out := make([]hookline.EventType, 0, len(names))
	for _, name := range names {
		at := sub(loc, "webhooks", name)
		et, err := r.eventType(name, hooks[name], at)
		if err != nil {
			return nil, err
		}
		out = append(out, *et)
	}
	return out, nil
}

type resolver struct {
	doc   any
	nodes int // made so far
}

func (r *resolver) eventType(name string, item any, loc []string) (*hookline.EventType, error) {
	item, err := r.resolve(item, loc, 0, nil)
	if err != nil {
		return nil, err
	}
	pathItem, ok := item.(map[string]any)
	if !ok {
		return nil, invalid(loc, "must be a path item object")
	}
	rawOp, ok := pathItem["post"]
	if !ok {
		return nil, invalid(loc, "has no post operation: a webhook is a POST")
	}
	op, ok := rawOp.(map[string]any)
	if !ok {
		return nil, invalid(sub(loc, "post"), "must be an operation object")
	}
	loc = sub(loc, "post")
	et := &hookline.EventType{Name: name}
	if et.Description, err = firstString(loc, op, "description", "summary"); err != nil {
		return nil, err
	}
	if et.Description == "" {
		if et.Description, err = firstString(loc, pathItem, "description", "summary"); err != nil {
			return nil, err
		}
	}
	if v, ok := op["deprecated"]; ok {
		if et.Deprecated, ok = v.(bool); !ok {
			return nil, invalid(sub(loc, "deprecated"), "must be true or false")
		}
	}
	if et.GroupName, err = firstString(loc, op, ExtGroupName); err != nil {
		return nil, err
	}
	if et.FeatureFlag, err = firstString(loc, op, ExtFeatureFlag); err != nil {
		return nil, err
	}
	if v, ok := op[ExtSchemas]; ok && v != nil {
		versions, ok := v.(map[string]any)
		if !ok {
			return nil, invalid(sub(loc, ExtSchemas), "must be an object of schemas by version")
		}
		et.Schemas = make(map[string]json.RawMessage, len(versions))
		for ver, s := range versions {
			if et.Schemas[ver], err = r.schema(s, sub(loc, ExtSchemas, ver)); err != nil {
				return nil, err
			}
		}
		return et, nil
	}
	schema, at, err := r.bodySchema(op, loc)
	if err != nil || schema == nil {
		return et, err
	}
	raw, err := r.schema(schema, at)
	if err != nil {
		return nil, err
	}
	et.Schemas = map[string]json.RawMessage{"1": raw}
	return et, nil
}

// bodySchema finds the schema of the operation's JSON request body; nil when it has none.
func (r *resolver) bodySchema(op map[string]any, loc []string) (any, []string, error) {
	rb, ok := op["requestBody"]
	if !ok || rb == nil {
		return nil, nil, nil
	}
	loc = sub(loc, "requestBody")
	rb, err := r.resolve(rb, loc, 0, nil)
	if err != nil {
		return nil, nil, err
	}
	body, ok := rb.(map[string]any)
	if !ok {
		return nil, nil, invalid(loc, "must be a request body object")
	}
	content, ok := body["content"].(map[string]any)
	if !ok {
		return nil, nil, nil
	}
	// application/json, else the first JSON media type (application/vnd.x+json).
	types := make([]string, 0, len(content))
	for t := range content {
		types = append(types, t)
	}
	sort.Strings(types)
	pick := ""
	for _, t := range types {
		if t == "application/json" {
			pick = t
			break
		}
		if pick == "" && strings.HasSuffix(strings.ToLower(strings.SplitN(t, ";", 2)[0]), "json") {
			pick = t
		}
	}
	if pick == "" {
		return nil, nil, nil
	}
	media, ok := content[pick].(map[string]any)
	if !ok {
		return nil, nil, invalid(sub(loc, "content", pick), "must be a media type object")
	}
	s, ok := media["schema"]
	if !ok {
		return nil, nil, nil
	}
	return s, sub(loc, "content", pick, "schema"), nil
}

// schema resolves the document's $refs inside a schema and encodes it.
func (r *resolver) schema(s any, loc []string) (json.RawMessage, error) {
	s, err := r.resolve(s, loc, 0, nil)
	if err != nil {
		return nil, err
	}
	if _, ok := s.(map[string]any); !ok {
		if _, isBool := s.(bool); !isBool {
			return nil, invalid(loc, "must be a JSON Schema (an object or a boolean)")
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, invalid(loc, "cannot be encoded: "+err.Error())
	}
	return json.RawMessage(bytes.TrimRight(b.Bytes(), "\n")), nil
}

// resolve returns v with every {"$ref": "#/..."} replaced by what it points to in the
// document (a copy; members beside the $ref are kept over the target's). A $ref outside the
// document, or one that leads back to itself, is refused: the schema must stand alone.
func (r *resolver) resolve(v any, loc []string, depth int, seen []string) (any, error) {
	if depth > maxRefDepth {
		return nil, invalid(loc, fmt.Sprintf("nests deeper than %d levels", maxRefDepth))
	}
	if r.nodes++; r.nodes > maxNodes {
		return nil, invalid(loc, fmt.Sprintf("resolves to more than %d values in all; the document's $refs expand too far", maxNodes))
	}
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok {
			if !strings.HasPrefix(ref, "#/") && ref != "#" {
				return nil, invalid(loc, fmt.Sprintf("$ref %q points outside the document; only local references (#/...) can be resolved", ref))
			}
			for _, s := range seen {
				if s == ref {
					return nil, invalid(loc, fmt.Sprintf("$ref %q refers to itself (a recursive schema), which cannot be resolved in place", ref))
				}
			}
			target, ok := pointer(r.doc, ref)
			if !ok {
				return nil, invalid(loc, fmt.Sprintf("$ref %q points to nothing in the document", ref))
			}
			res, err := r.resolve(target, loc, depth+1, append(seen[:len(seen):len(seen)], ref))
			if err != nil {
				return nil, err
			}
			if len(x) == 1 {
				return res, nil
			}
			m, ok := res.(map[string]any)
			if !ok {
				return res, nil
			}
			merged := make(map[string]any, len(m)+len(x))
			for k, v := range m {
				merged[k] = v
			}
			for k, v := range x {
				if k == "$ref" {
					continue
				}
				rv, err := r.resolve(v, sub(loc, k), depth+1, seen)
				if err != nil {
					return nil, err
				}
				merged[k] = rv
			}
			return merged, nil
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.resolve(e, sub(loc, k), depth+1, seen)
			if err != nil {
				return nil, err
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			rv, err := r.resolve(e, sub(loc, fmt.Sprint(i)), depth+1, seen)
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	}
	return v, nil
}

// pointer follows a JSON pointer in URI fragment form ("#/components/schemas/Pet").
func pointer(doc any, ref string) (any, bool) {
	cur := doc
	rest := strings.TrimPrefix(strings.TrimPrefix(ref, "#"), "/")
	if rest == "" {
		return cur, true
	}
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		tok = unescapeFragment(tok)
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i := 0
			if _, err := fmt.Sscanf(tok, "%d", &i); err != nil || i < 0 || i >= len(c) || fmt.Sprint(i) != tok {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// unescapeFragment undoes the percent-encoding of a URI fragment (%20 and the like).
func unescapeFragment(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+3], "%02x", &c); err == nil {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// firstString returns the first of the keys present in m, which must be a string.
func firstString(loc []string, m map[string]any, keys ...string) (string, error) {
	for _, k := range keys {
		v, ok := m[k]
		if !ok || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return "", invalid(sub(loc, k), "must be a string")
		}
		if s != "" {
			return s, nil
		}
	}
	return "", nil
}

func invalid(loc []string, msg string) error {
	where := strings.Join(loc, ".")
	return &hookline.Error{Code: hookline.EINVALID, Message: where + ": " + msg,
		Fields: []hookline.FieldError{{Loc: append([]string(nil), loc...), Msg: msg, Type: "value"}}}
}

// sub returns loc with more elements, in a slice of its own.
func sub(loc []string, more ...string) []string {
	return append(append(make([]string, 0, len(loc)+len(more)), loc...), more...)
}
