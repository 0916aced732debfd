package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// A JSON Schema as a table of fields, for people reading an event type: one row per property,
// nested objects and arrays of objects below their parent with a dotted path (customer.email,
// items[].sku), each with its type, whether it is required, its description and its allowed
// values. It reads what schemas of event types use (type, format, properties, required, items,
// enum, const, description, oneOf/anyOf, additionalProperties, a few bounds); $refs are shown
// as such, not followed.

// schemaField is one row of the table.
type schemaField struct {
	Path        string // the dotted path from the payload's top: customer.email, items[].sku
	Name        string // the last element of Path
	Parent      string // Path before Name, with its dot: "customer.", "items[]."
	Depth       int    // 0 for top-level properties
	Type        string // "string (date-time)", "array of object", "integer", "one of: string, null"
	Required    bool
	Description string
	Enum        []string // allowed values as JSON (strings quoted); one for const
	Notes       []string // bounds and other constraints in words: "minimum 0", "no other fields"
}

// maxFieldDepth bounds how deep the table follows nested objects.
const maxFieldDepth = 8

// maxFields bounds the table's rows.
const maxFields = 500

// rawSchema is a schema node with its properties in document order.
type rawSchema struct {
	Type                 json.RawMessage   `json:"type"`
	Format               string            `json:"format"`
	Description          string            `json:"description"`
	Title                string            `json:"title"`
	Properties           json.RawMessage   `json:"properties"`
	Required             []string          `json:"required"`
	Items                json.RawMessage   `json:"items"`
	Enum                 []json.RawMessage `json:"enum"`
	Const                json.RawMessage   `json:"const"`
	OneOf                []json.RawMessage `json:"oneOf"`
	AnyOf                []json.RawMessage `json:"anyOf"`
	Ref                  string            `json:"$ref"`
	AdditionalProperties json.RawMessage   `json:"additionalProperties"`
	Minimum              *json.Number      `json:"minimum"`
	Maximum              *json.Number      `json:"maximum"`
	MinLength            *int              `json:"minLength"`
	MaxLength            *int              `json:"maxLength"`
	Pattern              string            `json:"pattern"`
	Default              json.RawMessage   `json:"default"`
	Deprecated           bool              `json:"deprecated"`
}

// schemaFields returns the fields of a schema document, in the order its properties are
// written; nil when it has no properties to show.
func schemaFields(doc []byte) []schemaField {
	var out []schemaField
	var root rawSchema
	if json.Unmarshal(doc, &root) != nil {
		return nil
	}
	walkFields(&out, root, "", 0)
	return out
}

func walkFields(out *[]schemaField, s rawSchema, prefix string, depth int) {
	if depth >= maxFieldDepth {
		return
	}
	// An array of objects lists its items' fields under "name[]".
	if len(s.Properties) == 0 && len(s.Items) > 0 {
		var item rawSchema
		if json.Unmarshal(s.Items, &item) == nil && len(item.Properties) > 0 {
			walkFields(out, item, prefix+"[]", depth)
		}
		return
	}
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	var props map[string]json.RawMessage
	json.Unmarshal(s.Properties, &props)
	for _, name := range objectKeys(s.Properties) {
		if len(*out) >= maxFields {
			return
		}
		var p rawSchema
		if json.Unmarshal(props[name], &p) != nil {
			continue
		}
		path, parent := name, ""
		if prefix != "" {
			parent = prefix + "."
			path = parent + name
		}
		f := schemaField{Path: path, Name: name, Parent: parent, Depth: depth, Type: typeText(p), Required: required[name],
			Description: p.Description, Notes: notesOf(p)}
		if f.Description == "" {
			f.Description = p.Title
		}
		for _, e := range p.Enum {
			f.Enum = append(f.Enum, compactJSON(e))
		}
		if len(p.Const) > 0 {
			f.Enum = []string{compactJSON(p.Const)}
		}
		*out = append(*out, f)
		walkFields(out, p, path, depth+1)
	}
}

// typeText says a node's type in words.
func typeText(s rawSchema) string {
	if s.Ref != "" {
		return "see " + s.Ref
	}
	var types []string
	if len(s.Type) > 0 {
		var one string
		if json.Unmarshal(s.Type, &one) == nil {
			types = []string{one}
		} else {
			json.Unmarshal(s.Type, &types)
		}
	}
	if len(types) == 0 {
		var alts []rawSchema
		for _, raw := range append(append([]json.RawMessage{}, s.OneOf...), s.AnyOf...) {
			var a rawSchema
			if json.Unmarshal(raw, &a) == nil {
				alts = append(alts, a)
			}
		}
		if len(alts) > 0 {
			parts := make([]string, len(alts))
			for i, a := range alts {
				parts[i] = typeText(a)
			}
			return "one of: " + strings.Join(parts, ", ")
		}
		switch {
		case len(s.Properties) > 0:
			types = []string{"object"}
		case len(s.Enum) > 0 || len(s.Const) > 0:
			return "value"
		default:
			return "any"
		}
	}
	for i, t := range types {
		switch t {
		case "array":
			if len(s.Items) > 0 {
				var item rawSchema
				if json.Unmarshal(s.Items, &item) == nil {
					t = "array of " + typeText(item)
				}
			}
		case "string":
			if s.Format != "" {
				t = "string (" + s.Format + ")"
			}
		}
		types[i] = t
	}
	return strings.Join(types, " or ")
}

// notesOf lists a node's constraints in words.
func notesOf(s rawSchema) []string {
	var n []string
	if s.Minimum != nil {
		n = append(n, "minimum "+s.Minimum.String())
	}
	if s.Maximum != nil {
		n = append(n, "maximum "+s.Maximum.String())
	}
	if s.MinLength != nil {
		n = append(n, fmt.Sprintf("at least %d characters", *s.MinLength))
	}
	if s.MaxLength != nil {
		n = append(n, fmt.Sprintf("at most %d characters", *s.MaxLength))
	}
	if s.Pattern != "" {
		n = append(n, "matches "+s.Pattern)
	}
	if len(s.Default) > 0 {
		n = append(n, "default "+compactJSON(s.Default))
	}
	if bytes.Equal(bytes.TrimSpace(s.AdditionalProperties), []byte("false")) && len(s.Properties) > 0 {
		n = append(n, "no other fields")
	}
	if s.Deprecated {
		n = append(n, "deprecated")
	}
	return n
}

// objectKeys returns the member names of a JSON object in document order.
func objectKeys(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		k, _ := t.(string)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			break
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return keys
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}
