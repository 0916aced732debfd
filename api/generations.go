package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/hookline/hookline"
)

// Two generations of Svix's models are in use. The 1.x SDKs (such as the Go SDK v1.44) name an
// endpoint's filter filterTypes and its rate rateLimit; the current document and the 2.x SDKs
// call them eventTypes and throttleRate, and added fields such as statusText, canceled and
// updatedAt.
//
// Requests: every route accepts both names of a renamed field (alias); both sent with
// different values is a 422 naming the two.
//
// Responses carry the fields of both generations, so that either reads what it expects, with
// one exception: the 1.x SDKs built by openapi-generator (the Go SDK before 1.57, for one)
// refuse a response with a field their model does not know. A request whose User-Agent is a
// 1.x Svix SDK's (svix-libs/1.…) therefore gets the response without the fields tagged
// svix:"v2" — exactly the 1.x model. A field tagged svix:"v2,expanded_statuses" is kept for
// them when they ask with expanded_statuses=true, as the later 1.x SDKs that know statusText do.

// legacyClient reports whether the request comes from a 1.x Svix SDK.
func legacyClient(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("User-Agent"), "svix-libs/1.")
}

// alias returns the value of a field sent under its current name (cur) or its 1.x name (old);
// set says whether a value was sent. Both sent with different values is a 422 naming both.
func alias[T any](cur, old T, set func(T) bool, curName, oldName string) (T, error) {
	switch {
	case set(cur) && set(old):
		if !reflect.DeepEqual(cur, old) {
			msg := curName + " and " + oldName + " are the current and the 1.x name of one field; send one of them, or the same value in both"
			return cur, &hookline.Error{Code: hookline.EINVALID, Message: msg, Fields: []hookline.FieldError{
				{Loc: []string{"body", curName}, Msg: msg, Type: "conflict"},
				{Loc: []string{"body", oldName}, Msg: msg, Type: "conflict"}}}
		}
		return cur, nil
	case set(cur):
		return cur, nil
	}
	return old, nil
}

func sentSlice(s []string) bool              { return s != nil }
func sentPtr[T any](p *T) bool               { return p != nil }
func sentNullable[T any](n Nullable[T]) bool { return n.Set }

// legacyWriter holds back a JSON success response to a 1.x SDK and writes it without the
// fields of the current generation.
type legacyWriter struct {
	http.ResponseWriter
	typ      reflect.Type
	expanded bool
	status   int
	body     bytes.Buffer
}

func (w *legacyWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *legacyWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// flush writes the held response, filtered when it is a 2xx JSON body.
func (w *legacyWriter) flush() {
	if w.status == 0 {
		return
	}
	body := w.body.Bytes()
	if w.status >= 200 && w.status < 300 && len(bytes.TrimSpace(body)) > 0 {
		if out, err := stripV2(body, w.typ, w.expanded); err == nil {
			body = append(out, '\n')
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.ResponseWriter.WriteHeader(w.status)
	w.ResponseWriter.Write(body)
}

// v2Fields returns the JSON names of a struct's fields (embedded ones included) tagged
// svix:"v2", and whether each is kept for expanded_statuses=true.
func v2Fields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			for k, v := range v2Fields(sf.Type) {
				out[k] = v
			}
			continue
		}
		if tag, ok := sf.Tag.Lookup("svix"); ok && strings.HasPrefix(tag, "v2") {
			if name == "" {
				name = sf.Name
			}
			out[name] = strings.Contains(tag, "expanded_statuses")
		}
	}
	return out
}

// stripV2 re-writes the JSON value raw of Go type t without the members of fields tagged
// svix:"v2", at any depth. Everything else, payloads included, is copied byte for byte.
func stripV2(raw []byte, t reflect.Type, expanded bool) ([]byte, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	raw = bytes.TrimSpace(raw)
	if bytes.Equal(raw, []byte("null")) {
		return raw, nil
	}
	switch {
	case t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(unmarshalerType):
		dec := json.NewDecoder(bytes.NewReader(raw))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return raw, nil
		}
		drop := v2Fields(t)
		fs := fieldsOf(t)
		var out bytes.Buffer
		out.WriteByte('{')
		first := true
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			name, _ := tok.(string)
			var val json.RawMessage
			if err := dec.Decode(&val); err != nil {
				return nil, err
			}
			if keep, ok := drop[name]; ok && !(keep && expanded) {
				continue
			}
			if ft, ok := fs.exact[name]; ok {
				if val, err = stripV2(val, ft, expanded); err != nil {
					return nil, err
				}
			}
			if !first {
				out.WriteByte(',')
			}
			first = false
			key, _ := json.Marshal(name)
			out.Write(key)
			out.WriteByte(':')
			out.Write(val)
		}
		out.WriteByte('}')
		return out.Bytes(), nil
	case t.Kind() == reflect.Slice && t != rawMessageType:
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return raw, nil
		}
		var out bytes.Buffer
		out.WriteByte('[')
		for i, it := range items {
			s, err := stripV2(it, t.Elem(), expanded)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				out.WriteByte(',')
			}
			out.Write(s)
		}
		out.WriteByte(']')
		return out.Bytes(), nil
	}
	return raw, nil
}
