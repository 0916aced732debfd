package openapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Describer is implemented by types whose JSON form reflection cannot see, such as a type with
// its own MarshalJSON. JSONSchema returns the type's schema; it is called on the zero value.
type Describer interface {
	JSONSchema() map[string]any
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	describerType   = reflect.TypeFor[Describer]()
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	componentPrefix = "#/components/schemas/"
)

// generator turns Go types into JSON Schemas, collecting named struct types as components.
type generator struct {
	components map[string]map[string]any
	names      map[reflect.Type]string // types with a component, or one being built
	owners     map[string]reflect.Type // the reverse, to catch two types with one name
}

func newGenerator() *generator {
	return &generator{
		components: map[string]map[string]any{},
		names:      map[reflect.Type]string{},
		owners:     map[string]reflect.Type{},
	}
}

// schema returns the schema of t: a $ref for named structs, an inline schema otherwise.
func (g *generator) schema(t reflect.Type) (map[string]any, error) {
	if s, ok := describe(t); ok {
		return s, nil
	}
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}, nil
	case rawMessageType:
		return map[string]any{}, nil
	}
	// A type that marshals itself has a shape reflection cannot know; the text form of a
	// TextMarshaler, though, is always a JSON string.
	if implements(t, jsonMarshaler) {
		return map[string]any{}, nil
	}
	if implements(t, textMarshaler) {
		return map[string]any{"type": "string"}, nil
	}

	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return map[string]any{"type": "integer", "format": "int32"}, nil
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}, nil
	case reflect.Uint8, reflect.Uint16:
		return map[string]any{"type": "integer", "format": "int32", "minimum": 0}, nil
	case reflect.Uint, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return map[string]any{"type": "integer", "format": "int64", "minimum": 0}, nil
	case reflect.Float32:
		return map[string]any{"type": "number", "format": "float"}, nil
	case reflect.Float64:
		return map[string]any{"type": "number", "format": "double"}, nil
	case reflect.Interface:
		return map[string]any{}, nil
	case reflect.Pointer:
		elem, err := g.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		return nullable(elem), nil
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && !implements(t.Elem(), jsonMarshaler) && !implements(t.Elem(), textMarshaler) {
			// encoding/json writes byte slices as base64 strings.
			return map[string]any{"type": "string", "contentEncoding": "base64"}, nil
		}
		items, err := g.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		s := map[string]any{"type": "array", "items": items}
		if t.Kind() == reflect.Array {
			s["minItems"], s["maxItems"] = t.Len(), t.Len()
		}
		return s, nil
	case reflect.Map:
		k := t.Key()
		if k.Kind() != reflect.String && !implements(k, textMarshaler) && !isInt(k.Kind()) {
			return nil, fmt.Errorf("openapi: %s: map keys must be strings, integers or TextMarshalers", t)
		}
		values, err := g.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "object", "additionalProperties": values}, nil
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		return g.component(t)
	}
	return nil, fmt.Errorf("openapi: %s: no JSON Schema for kind %s", t, t.Kind())
}

// component registers t under its clean name, building its schema once, and returns a $ref.
// The name is claimed before the fields are visited, so recursive types end in a $ref to
// themselves instead of recursing forever.
func (g *generator) component(t reflect.Type) (map[string]any, error) {
	if name, ok := g.names[t]; ok {
		return ref(name), nil
	}
	name := ComponentName(t)
	if other, ok := g.owners[name]; ok {
		return nil, fmt.Errorf("openapi: %s and %s would both be component %q", other, t, name)
	}
	g.names[t], g.owners[name] = name, t
	s, err := g.object(t)
	if err != nil {
		return nil, err
	}
	g.components[name] = s
	return ref(name), nil
}

// field is one JSON property of a struct, after encoding/json's rules for embedding.
type field struct {
	name     string
	sf       reflect.StructField
	optional bool // omitempty/omitzero, a pointer, required:"false", or promoted through a pointer
	quoted   bool // the ",string" option
}

// object builds the schema of a struct's properties.
func (g *generator) object(t reflect.Type) (map[string]any, error) {
	fields, err := jsonFields(t)
	if err != nil {
		return nil, err
	}
	props := map[string]any{}
	required := []string{}
	for _, f := range fields {
		s, err := g.fieldSchema(f.sf, f.quoted)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t, f.sf.Name, err)
		}
		props[f.name] = s
		if !f.optional {
			required = append(required, f.name)
		}
	}
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s, nil
}

// fieldSchema is the schema of one struct field with its doc, enum and example tags applied.
func (g *generator) fieldSchema(sf reflect.StructField, quoted bool) (map[string]any, error) {
	// Every schema g.schema returns is a fresh map (components are referred to, never
	// returned), so the tags below can be written into it.
	var s map[string]any
	if quoted {
		s = map[string]any{"type": "string"}
		if sf.Type.Kind() == reflect.Pointer {
			s = nullable(s)
		}
	} else {
		var err error
		if s, err = g.schema(sf.Type); err != nil {
			return nil, err
		}
	}
	if doc, ok := sf.Tag.Lookup("doc"); ok {
		s["description"] = doc
	}
	if enum, ok := sf.Tag.Lookup("enum"); ok {
		// On a list, such as filterTypes []string, the values are those of the items.
		target := s
		if items, ok := s["items"].(map[string]any); ok && s["type"] == "array" {
			target = clone(items)
			s["items"] = target
		}
		var values []any
		for v := range strings.SplitSeq(enum, ",") {
			values = append(values, tagValue(strings.TrimSpace(v), target))
		}
		if target["type"] != nil && isNullable(target) {
			values = append(values, nil) // a nullable field may still be null
		}
		target["enum"] = values
	}
	if ex, ok := sf.Tag.Lookup("example"); ok {
		s["examples"] = []any{tagValue(ex, s)}
	}
	return s, nil
}

// jsonFields lists the properties encoding/json writes for t, in declaration order. Fields of
// embedded structs without a json name are promoted; a field declared closer to t hides a
// promoted field of the same name (encoding/json's depth rule; ties are dropped as it does).
func jsonFields(t reflect.Type) ([]field, error) {
	type candidate struct {
		field
		depth  int
		tagged bool
	}
	var all []candidate
	var visit func(t reflect.Type, depth int, viaPointer bool, seen map[reflect.Type]bool) error
	visit = func(t reflect.Type, depth int, viaPointer bool, seen map[reflect.Type]bool) error {
		if seen[t] {
			return nil
		}
		seen[t] = true
		defer delete(seen, t)
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			ft := sf.Type
			if sf.Anonymous && name == "" {
				et := ft
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					if err := visit(et, depth+1, viaPointer || ft.Kind() == reflect.Pointer, seen); err != nil {
						return err
					}
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			c := candidate{depth: depth, tagged: tag != "" && !strings.HasPrefix(tag, ",")}
			c.name, c.sf = name, sf
			c.optional = viaPointer || ft.Kind() == reflect.Pointer || hasOpt(opts, "omitempty") || hasOpt(opts, "omitzero")
			switch sf.Tag.Get("required") {
			case "false":
				c.optional = true
			case "true":
				c.optional = false
			case "":
			default:
				return fmt.Errorf("openapi: %s.%s: required tag must be true or false", t, sf.Name)
			}
			c.quoted = hasOpt(opts, "string") && quotable(ft)
			all = append(all, c)
		}
		return nil
	}
	if err := visit(t, 0, false, map[reflect.Type]bool{}); err != nil {
		return nil, err
	}

	var out []field
	for i, c := range all {
		winner := true
		for j, o := range all {
			if i == j || o.name != c.name {
				continue
			}
			// o beats c if shallower, or equally deep and tagged when c is not; two equals
			// hide each other.
			if o.depth < c.depth || (o.depth == c.depth && (o.tagged && !c.tagged || o.tagged == c.tagged)) {
				winner = false
				break
			}
		}
		if winner {
			out = append(out, c.field)
		}
	}
	return out, nil
}

// ComponentName is the name under which the named type t appears in components/schemas: its
// Go name, with the type arguments of a generic instantiation reduced to their own short names
// and brackets turned into underscores, so ListResponse[api.ApplicationOut] becomes
// ListResponse_ApplicationOut_. The result only uses characters OpenAPI allows in a
// component name.
func ComponentName(t reflect.Type) string {
	var b strings.Builder
	var word strings.Builder
	flush := func() {
		w := word.String()
		word.Reset()
		// Drop the package path and package name of a qualified identifier.
		if i := strings.LastIndexByte(w, '/'); i >= 0 {
			w = w[i+1:]
		}
		if i := strings.LastIndexByte(w, '.'); i >= 0 {
			w = w[i+1:]
		}
		b.WriteString(w)
	}
	for _, r := range t.Name() {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.' || r == '/' || r == '-' {
			word.WriteRune(r)
			continue
		}
		flush()
		b.WriteByte('_')
	}
	flush()
	return b.String()
}

// describe returns the schema a type gives itself through Describer, on value or pointer.
func describe(t reflect.Type) (map[string]any, bool) {
	switch {
	case t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && t.Implements(describerType):
		return clone(reflect.Zero(t).Interface().(Describer).JSONSchema()), true
	case t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(describerType):
		return clone(reflect.New(t).Interface().(Describer).JSONSchema()), true
	}
	return nil, false
}

// implements reports whether values of t (or pointers to them, as encoding/json checks for
// addressable values) implement iface.
func implements(t reflect.Type, iface reflect.Type) bool {
	if t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface {
		return false
	}
	return t.Implements(iface) || reflect.PointerTo(t).Implements(iface)
}

// nullable widens s to also accept null, the JSON form of a nil pointer.
func nullable(s map[string]any) map[string]any {
	if len(s) == 0 {
		return s // any JSON already includes null
	}
	if _, isRef := s["$ref"]; isRef {
		return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
	}
	s = clone(s)
	switch typ := s["type"].(type) {
	case string:
		s["type"] = []any{typ, "null"}
	case []any:
		s["type"] = append(typ, "null")
	default:
		return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
	}
	if enum, ok := s["enum"].([]any); ok {
		s["enum"] = append(enum, nil)
	}
	return s
}

// tagValue converts a tag's text to the JSON type of the schema it annotates, so enum:"1,2" on
// an integer field gives numbers. Text that does not parse stays a string.
func tagValue(text string, s map[string]any) any {
	types := []any{s["type"]}
	if ts, ok := s["type"].([]any); ok {
		types = ts
	}
	for _, typ := range types {
		switch typ {
		case "integer":
			if n, err := strconv.ParseInt(text, 10, 64); err == nil {
				return n
			}
		case "number":
			if f, err := strconv.ParseFloat(text, 64); err == nil {
				return f
			}
		case "boolean":
			if b, err := strconv.ParseBool(text); err == nil {
				return b
			}
		case "object", "array":
			var v any
			if json.Unmarshal([]byte(text), &v) == nil {
				return v
			}
		}
	}
	return text
}

// isNullable reports whether s's type list admits null.
func isNullable(s map[string]any) bool {
	ts, ok := s["type"].([]any)
	return ok && slices.Contains(ts, any("null"))
}

func ref(name string) map[string]any { return map[string]any{"$ref": componentPrefix + name} }

func clone(s map[string]any) map[string]any {
	c := make(map[string]any, len(s))
	for k, v := range s {
		c[k] = v
	}
	return c
}

func hasOpt(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// quotable reports whether the ",string" option applies to t (encoding/json ignores it on
// other kinds).
func quotable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64:
		return true
	}
	return isInt(t.Kind())
}

func isInt(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}
