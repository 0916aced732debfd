// Package schema checks message payloads against the JSON Schemas of their event types.
//
// Schemas are written by API clients, so compiling one must never reach the network or the
// file system: every $ref has to resolve inside the schema itself (or to a standard metaschema,
// which the library embeds). Formats such as "date-time" are asserted, because platforms that
// publish a schema with "format": "date-time" expect a bad timestamp to be rejected, even though
// draft 2020-12 treats format as an annotation by default.
package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/hookline/hookline"
)

// MaxViolations caps the violations Validate reports: enough to fix a payload, not so many that
// one bad array turns the error response into a copy of the payload.
const MaxViolations = 20

// rootURL is the address the client's schema is compiled under. It uses a scheme no loader
// serves, so a relative $ref ("other.json") resolves to an address that is refused like any
// other external reference.
const rootURL = "mem:///schema.json"

// printer renders the library's messages; English is the only language the API speaks.
var printer = message.NewPrinter(language.English)

// Schema is a compiled JSON Schema. It is immutable and safe for concurrent use.
type Schema struct {
	compiled *jsonschema.Schema
}

// Violation is one way in which a payload fails its schema.
type Violation struct {
	// Path is a JSON Pointer (RFC 6901) to the offending value, such as "/data/ticketCount";
	// "" is the payload itself.
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Loc returns Path split into its unescaped tokens, the form hookline.FieldError uses.
func (v Violation) Loc() []string {
	if v.Path == "" {
		return []string{}
	}
	toks := strings.Split(v.Path[1:], "/")
	for i, t := range toks {
		toks[i] = unescaper.Replace(t)
	}
	return toks
}

// Compile compiles a JSON Schema. Schemas without "$schema" are read as draft 2020-12; an
// explicit "$schema" naming draft-04, -06, -07 or 2019-09 is honoured. A schema that cannot be
// compiled yields a *hookline.Error with code EINVALID whose message names the problem.
func Compile(raw json.RawMessage) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, hookline.Errorf(hookline.EINVALID, "schema is not valid JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	// Pinned rather than left to the library, whose default may move to a later draft.
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(refuseLoader{})
	if err := c.AddResource(rootURL, doc); err != nil {
		return nil, fmt.Errorf("schema: add resource: %w", err)
	}
	compiled, err := c.Compile(rootURL)
	if err != nil {
		return nil, hookline.Errorf(hookline.EINVALID, "invalid JSON Schema: %s", compileMessage(err))
	}
	if loop := refLoop(compiled); loop != nil {
		return nil, hookline.Errorf(hookline.EINVALID, "invalid JSON Schema: its references loop without reaching into the payload: %s",
			strings.Join(loop, " -> "))
	}
	return &Schema{compiled: compiled}, nil
}

// refLoop returns the locations of a cycle of subschemas that apply to the same value (through
// $ref, allOf, anyOf, oneOf, not, if/then/else, dependentSchemas and the like), or nil if the
// schema has none. Such a cycle would send every validation round it forever; the library stops
// it at validation time, which would fail every message instead of the schema once.
func refLoop(root *jsonschema.Schema) []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[*jsonschema.Schema]int{}
	var path []*jsonschema.Schema
	var loop []string
	var visit func(s *jsonschema.Schema) bool
	visit = func(s *jsonschema.Schema) bool {
		switch state[s] {
		case onPath:
			i := slices.Index(path, s)
			for _, p := range append(path[i:], s) {
				loop = append(loop, location(p))
			}
			return true
		case done:
			return false
		}
		state[s] = onPath
		path = append(path, s)
		for _, next := range inPlace(s) {
			if visit(next) {
				return true
			}
		}
		path = path[:len(path)-1]
		state[s] = done
		return false
	}
	// Every subschema, also those applied to parts of the value, may start a loop.
	seen := map[*jsonschema.Schema]bool{}
	queue := []*jsonschema.Schema{root}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s == nil || seen[s] {
			continue
		}
		seen[s] = true
		if visit(s) {
			return loop
		}
		queue = append(queue, inPlace(s)...)
		queue = append(queue, applied(s)...)
	}
	return nil
}

// inPlace returns the subschemas of s that apply to the same value as s.
func inPlace(s *jsonschema.Schema) []*jsonschema.Schema {
	out := []*jsonschema.Schema{s.Ref, s.RecursiveRef, s.Not, s.If, s.Then, s.Else}
	if s.DynamicRef != nil {
		out = append(out, s.DynamicRef.Ref)
	}
	out = append(out, s.AllOf...)
	out = append(out, s.AnyOf...)
	out = append(out, s.OneOf...)
	for _, k := range slices.Sorted(maps.Keys(s.DependentSchemas)) {
		out = append(out, s.DependentSchemas[k])
	}
	for _, k := range slices.Sorted(maps.Keys(s.Dependencies)) {
		if d, ok := s.Dependencies[k].(*jsonschema.Schema); ok {
			out = append(out, d)
		}
	}
	return slices.DeleteFunc(out, func(s *jsonschema.Schema) bool { return s == nil })
}

// applied returns the subschemas of s that apply to parts of its value (or to its keys).
func applied(s *jsonschema.Schema) []*jsonschema.Schema {
	out := []*jsonschema.Schema{s.PropertyNames, s.UnevaluatedProperties, s.Contains, s.Items2020,
		s.UnevaluatedItems, s.ContentSchema}
	for _, k := range slices.Sorted(maps.Keys(s.Properties)) {
		out = append(out, s.Properties[k])
	}
	for _, p := range s.PatternProperties {
		out = append(out, p)
	}
	for _, v := range []any{s.AdditionalProperties, s.Items, s.AdditionalItems} {
		switch v := v.(type) {
		case *jsonschema.Schema:
			out = append(out, v)
		case []*jsonschema.Schema:
			out = append(out, v...)
		}
	}
	out = append(out, s.PrefixItems...)
	return slices.DeleteFunc(out, func(s *jsonschema.Schema) bool { return s == nil })
}

// location is where s is in the client's schema, as a JSON Pointer ("/" for the root).
func location(s *jsonschema.Schema) string {
	loc := strings.TrimPrefix(s.Location, rootURL)
	loc = strings.TrimPrefix(loc, "#")
	if loc == "" {
		return "/"
	}
	return loc
}

// Validate checks payload against the schema and returns its violations, sorted by path and
// at most MaxViolations of them; nil means the payload is valid.
func (s *Schema) Validate(payload json.RawMessage) []Violation {
	// UnmarshalJSON keeps numbers as json.Number, so 2^53+1 is still an integer here.
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return []Violation{{Path: "", Message: "payload is not valid JSON"}}
	}
	err = s.compiled.Validate(doc)
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		// Validate only returns *ValidationError; anything else is still a failed payload.
		return []Violation{{Path: "", Message: err.Error()}}
	}
	return flatten(verr)
}

// flatten turns the library's tree of errors (one node per keyword, with the causes below it)
// into its leaves, which are the problems a person can act on.
func flatten(verr *jsonschema.ValidationError) []Violation {
	var out []Violation
	// Under anyOf or oneOf, each alternative's type error is a separate leaf, so a nullable
	// string given 5 would read "must be string" and "must be null"; the wanted types of such
	// leaves are gathered per path into one "must be string or null".
	alternatives := map[string]*kind.Type{}
	var walk func(e *jsonschema.ValidationError, inAlternative bool)
	walk = func(e *jsonschema.ValidationError, inAlternative bool) {
		if len(e.Causes) > 0 {
			switch e.ErrorKind.(type) {
			case *kind.AnyOf, *kind.OneOf:
				inAlternative = true
			}
			for _, c := range e.Causes {
				walk(c, inAlternative)
			}
			return
		}
		if k, ok := e.ErrorKind.(*kind.Type); ok && inAlternative {
			at := pointer(e.InstanceLocation)
			if prev, ok := alternatives[at]; ok {
				prev.Want = append(prev.Want, k.Want...)
			} else {
				alternatives[at] = &kind.Type{Got: k.Got, Want: slices.Clone(k.Want)}
			}
			return
		}
		out = append(out, leaf(e)...)
	}
	walk(verr, false)
	for at, k := range alternatives {
		out = append(out, typeViolation(at, k))
	}
	slices.SortFunc(out, func(a, b Violation) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	out = slices.Compact(out)
	if len(out) > MaxViolations {
		out = out[:MaxViolations]
	}
	return out
}

// leaf renders one leaf error. Missing and unexpected properties are reported at the
// property's own path, which is where a client looks for them, instead of at the parent object.
func leaf(e *jsonschema.ValidationError) []Violation {
	at := pointer(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		vs := make([]Violation, 0, len(k.Missing))
		for _, p := range k.Missing {
			vs = append(vs, Violation{Path: at + "/" + escape(p), Message: "required property is missing"})
		}
		return vs
	case *kind.AdditionalProperties:
		vs := make([]Violation, 0, len(k.Properties))
		for _, p := range k.Properties {
			vs = append(vs, Violation{Path: at + "/" + escape(p), Message: "property is not allowed"})
		}
		return vs
	case *kind.FalseSchema:
		return []Violation{{Path: at, Message: "value is not allowed"}}
	case *kind.Type:
		return []Violation{typeViolation(at, k)}
	}
	return []Violation{{Path: at, Message: e.ErrorKind.LocalizedString(printer)}}
}

func typeViolation(at string, k *kind.Type) Violation {
	want := slices.Compact(slices.Sorted(slices.Values(k.Want)))
	return Violation{Path: at, Message: fmt.Sprintf("must be %s, not %s", strings.Join(want, " or "), k.Got)}
}

// compileMessage reduces a compile error to what the schema's author needs: the metaschema
// violations with their paths inside the schema, or the library's message without our
// internal rootURL.
func compileMessage(err error) string {
	var sverr *jsonschema.SchemaValidationError
	if errors.As(err, &sverr) {
		var verr *jsonschema.ValidationError
		if errors.As(sverr.Err, &verr) {
			vs := flatten(verr)
			parts := make([]string, 0, len(vs))
			for _, v := range vs {
				path := v.Path
				if path == "" {
					path = "/"
				}
				parts = append(parts, fmt.Sprintf("at %s: %s", path, v.Message))
			}
			return strings.Join(parts, "; ")
		}
	}
	var lerr *jsonschema.LoadURLError
	if errors.As(err, &lerr) {
		return fmt.Sprintf("cannot resolve %q: %v", strings.TrimPrefix(lerr.URL, "mem:///"), lerr.Err)
	}
	msg := err.Error()
	msg = strings.ReplaceAll(msg, rootURL+"#", "#")
	return strings.ReplaceAll(msg, rootURL, "#")
}

// errExternalRef explains why a $ref to another document fails.
var errExternalRef = errors.New("external references are not allowed; put shared definitions in $defs")

// refuseLoader is the compiler's only loader, so no URL a client writes is ever fetched or
// opened: not over HTTP (the server may sit inside a private network) and not file:// (the
// server's disk is not the client's business).
type refuseLoader struct{}

// Load refuses every URL.
func (refuseLoader) Load(string) (any, error) { return nil, errExternalRef }

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escape(t))
	}
	return b.String()
}

// JSON Pointer escapes (RFC 6901 section 3).
var (
	escaper   = strings.NewReplacer("~", "~0", "/", "~1")
	unescaper = strings.NewReplacer("~1", "/", "~0", "~")
)

func escape(tok string) string { return escaper.Replace(tok) }
