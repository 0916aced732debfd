package ui

import (
	"fmt"
	"strings"
	"testing"
)

// The field table follows a schema's nesting (objects, arrays of objects), keeps the written
// order of properties, and says types, requirement, allowed values and bounds in words.
func TestSchemaFields(t *testing.T) {
	doc := `{"type": "object", "required": ["id", "items"], "properties": {
		"id": {"type": "string", "description": "The order's id"},
		"items": {"type": "array", "items": {"type": "object", "required": ["sku"], "properties": {
			"sku": {"type": "string", "minLength": 3},
			"qty": {"type": "integer", "minimum": 1, "default": 1}}}},
		"state": {"enum": ["open", "closed", 3]},
		"kind": {"const": "order"},
		"note": {"type": ["string", "null"], "maxLength": 500},
		"ref": {"$ref": "#/$defs/Ref"},
		"amount": {"oneOf": [{"type": "integer"}, {"type": "string", "format": "decimal"}]},
		"tags": {"type": "array", "items": {"type": "string"}},
		"meta": {"type": "object", "additionalProperties": false, "properties": {"source": {"title": "Where it came from"}}}
	}}`
	var got []string
	for _, f := range schemaFields([]byte(doc)) {
		got = append(got, fmt.Sprintf("%d %s|%s|%v|%s|%s|%s", f.Depth, f.Path, f.Type, f.Required, f.Description,
			strings.Join(f.Enum, ","), strings.Join(f.Notes, "; ")))
	}
	want := []string{
		"0 id|string|true|The order's id||",
		"0 items|array of object|true|||",
		"1 items[].sku|string|true|||at least 3 characters",
		"1 items[].qty|integer|false|||minimum 1; default 1",
		`0 state|value|false||"open","closed",3|`,
		`0 kind|value|false||"order"|`,
		"0 note|string or null|false|||at most 500 characters",
		"0 ref|see #/$defs/Ref|false|||",
		"0 amount|one of: integer, string (decimal)|false|||",
		"0 tags|array of string|false|||",
		"0 meta|object|false|||no other fields",
		"1 meta.source|any|false|Where it came from||",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("fields:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range []string{``, `[]`, `{"type": "string"}`, `{"properties": 3}`} {
		if f := schemaFields([]byte(bad)); len(f) != 0 {
			t.Errorf("schemaFields(%q) = %v, want none", bad, f)
		}
	}
	// Deep nesting stops at maxFieldDepth.
	deep := `{"type": "string"}`
	for range 20 {
		deep = `{"type": "object", "properties": {"a": ` + deep + `}}`
	}
	if n := len(schemaFields([]byte(deep))); n != maxFieldDepth {
		t.Errorf("a schema 20 objects deep gives %d rows, want %d", n, maxFieldDepth)
	}
}
