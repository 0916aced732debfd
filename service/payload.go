package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hookline/hookline"
)

// CheckPayload is the one check of a message payload, whichever way it enters Hookline: the
// payload must be a JSON object that means one thing to every reader. It refuses invalid UTF-8
// (and \u escapes of lone surrogates), which some readers replace with U+FFFD and others pass
// on raw, and an object with the same key twice at any depth, of which some readers keep the
// first value and others (Hookline's schema check among them) the last. loc names the field
// in the request, such as "payload"; errors name it as ["body", loc...].
func CheckPayload(raw []byte, loc ...string) error {
	fieldLoc := append([]string{"body"}, loc...)
	name := strings.Join(loc, ".")
	switch {
	case len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null":
		return &hookline.Error{Code: hookline.EINVALID, Message: name + ": is required",
			Fields: []hookline.FieldError{{Loc: fieldLoc, Msg: "is required", Type: "missing"}}}
	case !json.Valid(raw):
		return &hookline.Error{Code: hookline.EINVALIDJSON, Message: name + ": is not valid JSON",
			Fields: []hookline.FieldError{{Loc: fieldLoc, Msg: "is not valid JSON", Type: "invalid_json"}}}
	case !isJSONObject(raw):
		return &hookline.Error{Code: hookline.EINVALID, Message: name + ": must be a JSON object",
			Fields: []hookline.FieldError{{Loc: fieldLoc, Msg: "must be a JSON object", Type: "type"}}}
	}
	if off, why := badText(raw); off >= 0 {
		msg := fmt.Sprintf("%s at byte %d; send text as UTF-8", why, off)
		return &hookline.Error{Code: hookline.EINVALIDUTF8, Message: name + ": " + msg,
			Fields: []hookline.FieldError{{Loc: fieldLoc, Msg: msg, Type: "invalid_utf8"}}}
	}
	if path, key, dup := duplicateKey(raw); dup {
		at := "the payload"
		if len(path) > 0 {
			at = "the object at /" + strings.Join(escapePointer(path), "/")
		}
		msg := fmt.Sprintf("%s has the key %q more than once; a receiver could read either value", at, key)
		return &hookline.Error{Code: hookline.EDUPLICATEKEY, Message: name + ": " + msg,
			Fields: []hookline.FieldError{{Loc: append(append(fieldLoc, path...), key), Msg: msg, Type: "duplicate_key"}}}
	}
	return nil
}

// badText returns the offset of the first byte of raw (a valid JSON document) that is not
// UTF-8, or of the first \u escape of a lone surrogate, and what is wrong there; -1 if none.
func badText(raw []byte) (int, string) {
	inString := false
	for i := 0; i < len(raw); {
		c := raw[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				return i, "the payload is not valid UTF-8"
			}
			i += size
			continue
		}
		switch {
		case c == '"':
			inString = !inString
		case c == '\\' && inString:
			if raw[i+1] != 'u' {
				i += 2
				continue
			}
			r := hex4(raw[i+2 : i+6])
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return i, "the payload has a \\u escape of a lone low surrogate"
			case r >= 0xD800 && r <= 0xDBFF:
				if i+12 > len(raw) || raw[i+6] != '\\' || raw[i+7] != 'u' {
					return i, "the payload has a \\u escape of a lone high surrogate"
				}
				if lo := hex4(raw[i+8 : i+12]); lo < 0xDC00 || lo > 0xDFFF {
					return i, "the payload has a \\u escape of a lone high surrogate"
				}
				i += 12
				continue
			}
			i += 6
			continue
		}
		i++
	}
	return -1, ""
}

func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b), 16, 32)
	return rune(n)
}

// duplicateKey finds the first object in raw (a valid JSON document) that has a key twice. It
// returns the path to that object and the key. Keys are compared as decoded, so "a" and
// "\u0061" are the same key, as they are to every reader.
func duplicateKey(raw []byte) (path []string, key string, found bool) {
	type frame struct {
		keys    map[string]struct{} // nil for an array
		key     string              // the current key of an object
		index   int                 // the current index of an array
		wantKey bool
	}
	var stack []*frame
	where := func() []string {
		p := make([]string, 0, len(stack))
		for _, f := range stack[:len(stack)-1] {
			if f.keys != nil {
				p = append(p, f.key)
			} else {
				p = append(p, strconv.Itoa(f.index))
			}
		}
		return p
	}
	endValue := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.keys != nil {
			top.wantKey = true
		} else {
			top.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil, "", false
		}
		if err != nil {
			// raw was checked to be valid JSON; nothing more to find.
			return nil, "", false
		}
		if len(stack) > 0 {
			if top := stack[len(stack)-1]; top.keys != nil && top.wantKey {
				if k, ok := tok.(string); ok {
					if _, dup := top.keys[k]; dup {
						return where(), k, true
					}
					top.keys[k] = struct{}{}
					top.key = k
					top.wantKey = false
					continue
				}
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]struct{}{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			endValue()
		default:
			endValue()
		}
	}
}

// escapePointer escapes path tokens for a JSON Pointer (RFC 6901).
func escapePointer(path []string) []string {
	out := make([]string, len(path))
	for i, p := range path {
		out[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
	}
	return out
}
