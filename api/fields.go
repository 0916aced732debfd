package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/hookline/hookline"
)

// Nothing a client sends is silently dropped. A route's Request type (in routeTable) is the list
// of body fields it honours, and its Query type the list of query parameters: wrap refuses,
// before the handler runs, every body member (at any depth of nested objects) and every query
// parameter that those types do not name, with a 422 whose detail items are typed
// "unsupported" and located at the field (["body", "transformationsParams", "foo"],
// ["query", "tag"]). A Svix field that Hookline does not implement therefore never reaches a
// handler that would ignore it. decode additionally refuses to decode into any type but the
// route's Request type, so the type the OpenAPI document publishes is the one the handler
// reads.
//
// To honour a new field, add it to the route's type and use it; to refuse one, leave it out.
// Free-form members (maps, json.RawMessage, types with their own UnmarshalJSON other than
// Nullable) are not looked into.

// unsupportedMsg is the msg of an unsupported field's detail item.
const unsupportedMsg = "is not supported by Hookline; it is refused rather than ignored"

// fieldSet is what a struct type decodes: its JSON member names and their types.
type fieldSet struct {
	exact map[string]reflect.Type
	fold  map[string]reflect.Type // lower-cased, as encoding/json also matches case-insensitively
}

var fieldSets sync.Map // reflect.Type -> *fieldSet

func fieldsOf(t reflect.Type) *fieldSet {
	if fs, ok := fieldSets.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{exact: map[string]reflect.Type{}, fold: map[string]reflect.Type{}}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if sf.Anonymous && name == "" {
				et := sf.Type
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					add(et)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			fs.exact[name] = sf.Type
			fs.fold[strings.ToLower(name)] = sf.Type
		}
	}
	add(t)
	fieldSets.Store(t, fs)
	return fs
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
)

// unsupportedFields returns a detail item for every member of raw that t does not decode.
// Values that are not what t expects are left to the decoder, which names them.
func unsupportedFields(raw json.RawMessage, t reflect.Type, loc []string) []hookline.FieldError {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType {
		return nil
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		// Nullable[T] decodes a T; other types with their own decoder are free-form.
		if t.Kind() == reflect.Struct && strings.HasPrefix(t.Name(), "Nullable[") {
			if f, ok := t.FieldByName("Value"); ok {
				return unsupportedFields(raw, f.Type, loc)
			}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) != nil {
			return nil
		}
		fs := fieldsOf(t)
		names := make([]string, 0, len(members))
		for name := range members {
			names = append(names, name)
		}
		if len(names) > 1 && !allKnown(fs, names) {
			// Problems are reported in request order; finding it costs a second pass, so only
			// when there are problems to report.
			names = memberOrder(raw, members)
		} else {
			slices.Sort(names)
		}
		var out []hookline.FieldError
		for _, name := range names {
			ft, ok := fs.exact[name]
			if !ok {
				ft, ok = fs.fold[strings.ToLower(name)]
			}
			at := append(slices.Clip(loc), name)
			if !ok {
				out = append(out, hookline.FieldError{Loc: at, Msg: unsupportedMsg, Type: "unsupported"})
				continue
			}
			out = append(out, unsupportedFields(members[name], ft, at)...)
		}
		return out
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		var out []hookline.FieldError
		for i, it := range items {
			out = append(out, unsupportedFields(it, t.Elem(), append(slices.Clip(loc), strconv.Itoa(i)))...)
		}
		return out
	}
	return nil
}

// allKnown reports whether fs decodes every one of names.
func allKnown(fs *fieldSet, names []string) bool {
	for _, name := range names {
		if _, ok := fs.exact[name]; ok {
			continue
		}
		if _, ok := fs.fold[strings.ToLower(name)]; !ok {
			return false
		}
	}
	return true
}

// memberOrder returns the member names of an object in the order they appear in it.
func memberOrder(raw json.RawMessage, members map[string]json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	names := make([]string, 0, len(members))
	seen := map[string]bool{}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return slices.Sorted(mapKeys(members))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		name, _ := tok.(string)
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			break
		}
	}
	if len(names) != len(members) {
		return slices.Sorted(mapKeys(members))
	}
	return names
}

func mapKeys(m map[string]json.RawMessage) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// queryNames returns the query:"name" tags of a Query type.
func queryNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	if t == nil {
		return names
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, ok := sf.Tag.Lookup("query")
		if !ok && sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			for n := range queryNames(sf.Type) {
				names[n] = true
			}
			continue
		}
		if ok && name != "-" {
			names[name] = true
		}
	}
	return names
}

// unsupportedQuery returns a detail item for every query parameter the route does not read.
func unsupportedQuery(q url.Values, queryType reflect.Type) []hookline.FieldError {
	if len(q) == 0 {
		return nil
	}
	known := queryNames(queryType)
	var out []hookline.FieldError
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	}) {
		if !known[name] {
			out = append(out, hookline.FieldError{Loc: []string{"query", name}, Msg: unsupportedMsg, Type: "unsupported"})
		}
	}
	return out
}

// unsupportedError is the 422 of unsupported fields.
func unsupportedError(fields []hookline.FieldError) error {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = strings.Join(f.Loc[1:], ".")
	}
	return &hookline.Error{Code: hookline.EINVALID, Fields: fields,
		Message: "unsupported field(s): " + strings.Join(names, ", ") + "; Hookline does not implement them and refuses them rather than ignore them"}
}

// checkFields refuses the request's unsupported query parameters and body members (see the top
// of this file). It reads the body and puts it back for the handler.
func (a *API) checkFields(r *http.Request, rt route) error {
	bad := unsupportedQuery(r.URL.Query(), typeOf(rt.op.Query))
	if r.Body != nil && r.Body != http.NoBody {
		body, err := readBody(r)
		if err != nil {
			return err
		}
		r.Body = readCloser{bytes.NewReader(body)}
		if len(bytes.TrimSpace(body)) > 0 {
			reqType := reflect.TypeFor[struct{}]() // a route without a body honours no member
			if rt.op.Request != nil {
				reqType = bodyTypeOf(rt.op.Request)
			}
			bad = append(bad, unsupportedFields(body, reqType, []string{"body"})...)
		}
	}
	if len(bad) > 0 {
		return unsupportedError(bad)
	}
	return nil
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func typeOf(v any) reflect.Type {
	if v == nil {
		return nil
	}
	return reflect.TypeOf(v)
}

func bodyTypeOf(v any) reflect.Type {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

const routeKey ctxKey = 1

func withRoute(ctx context.Context, rt *route) context.Context {
	return context.WithValue(ctx, routeKey, rt)
}

// checkDecodeType makes sure a handler decodes its body into the type its route declares, the
// one the fields were checked against and the OpenAPI document describes.
func checkDecodeType(r *http.Request, dst any) error {
	rt, _ := r.Context().Value(routeKey).(*route)
	if rt == nil {
		return nil
	}
	got := bodyTypeOf(dst)
	if rt.op.Request == nil || bodyTypeOf(rt.op.Request) != got {
		return &decodeTypeError{route: rt.op.ID, got: got, want: typeOf(rt.op.Request)}
	}
	return nil
}

type decodeTypeError struct {
	route     string
	got, want reflect.Type
}

func (e *decodeTypeError) Error() string {
	return "api: route " + e.route + " decodes its body into " + e.got.String() + " but declares " + typeString(e.want)
}

func typeString(t reflect.Type) string {
	if t == nil {
		return "no request body"
	}
	return t.String()
}
