package service

import (
	"slices"
	"strings"
	"testing"

	"github.com/hookline/hookline"
)

// TestCheckPayload: payloads that mean one thing pass; those that mean two things (bytes that
// are not UTF-8, lone surrogates, a key twice at any depth) are refused with their own code and
// the location of the problem.
func TestCheckPayload(t *testing.T) {
	t.Parallel()
	good := []string{
		`{}`,
		` {"a": 1} `,
		`{"name": "Zoë", "city": "東京", "emoji": "\ud83d\ude00", "raw": "😀"}`,
		`{"a": {"n": 1}, "b": {"n": 2}, "c": [{"n": 1}, {"n": 2}]}`,
		`{"a": "\\u0061", "\\u0061": 1, "s": "\"n\":1,\"n\":2"}`,
		`{"nested": [[{"k": 1}], [{"k": 2}]], "k": 3}`,
	}
	for _, p := range good {
		if err := CheckPayload([]byte(p), "payload"); err != nil {
			t.Errorf("%s: refused: %v", p, err)
		}
	}
	bad := []struct {
		payload string
		code    string
		loc     []string
		detail  string
	}{
		{`{"n": 500, "n": 5}`, hookline.EDUPLICATEKEY, []string{"body", "payload", "n"}, `the payload has the key "n" more than once`},
		{`{"a": {"b": [1, {"x": 1, "y": {}, "x": 2}]}}`, hookline.EDUPLICATEKEY, []string{"body", "payload", "a", "b", "1", "x"}, `the object at /a/b/1 has the key "x"`},
		{`{"a": 1, "\u0061": 2}`, hookline.EDUPLICATEKEY, []string{"body", "payload", "a"}, `key "a"`},
		{`{"a/b": {"k": 1, "k": 1}}`, hookline.EDUPLICATEKEY, []string{"body", "payload", "a/b", "k"}, `/a~1b`},
		{`{"list": [{}, {}, {"deep": {"deeper": {"z": 1, "z": 1}}}]}`, hookline.EDUPLICATEKEY, []string{"body", "payload", "list", "2", "deep", "deeper", "z"}, `/list/2/deep/deeper`},
		{"{\"name\": \"caf\xe9\"}", hookline.EINVALIDUTF8, []string{"body", "payload"}, "not valid UTF-8 at byte 13"},
		{"{\"k\xff\": 1}", hookline.EINVALIDUTF8, []string{"body", "payload"}, "not valid UTF-8"},
		{"{\"s\": \"\xed\xa0\x80\"}", hookline.EINVALIDUTF8, []string{"body", "payload"}, "not valid UTF-8"},
		{`{"s": "\ud800"}`, hookline.EINVALIDUTF8, []string{"body", "payload"}, "lone high surrogate"},
		{`{"s": "\ud800\u0041"}`, hookline.EINVALIDUTF8, []string{"body", "payload"}, "lone high surrogate"},
		{`{"s": "\udc00x"}`, hookline.EINVALIDUTF8, []string{"body", "payload"}, "lone low surrogate"},
		{`{"s": 1`, hookline.EINVALIDJSON, []string{"body", "payload"}, "not valid JSON"},
		{`[1]`, hookline.EINVALID, []string{"body", "payload"}, "must be a JSON object"},
		{`null`, hookline.EINVALID, []string{"body", "payload"}, "is required"},
		{``, hookline.EINVALID, []string{"body", "payload"}, "is required"},
	}
	for _, c := range bad {
		err := CheckPayload([]byte(c.payload), "payload")
		var he *hookline.Error
		if err == nil {
			t.Errorf("%q: accepted", c.payload)
			continue
		}
		he = err.(*hookline.Error)
		if he.Code != c.code || len(he.Fields) != 1 || !slices.Equal(he.Fields[0].Loc, c.loc) || !strings.Contains(he.Message, c.detail) {
			t.Errorf("%q: got %s %q %+v; want %s at %v saying %q", c.payload, he.Code, he.Message, he.Fields, c.code, c.loc, c.detail)
		}
		if !strings.HasPrefix(he.Message, "payload: ") {
			t.Errorf("%q: message %q does not start with the field", c.payload, he.Message)
		}
	}
	// The field can be another one, such as a raw payload given as a string.
	err := CheckPayload([]byte(`{"a": 1, "a": 2}`), "transformationsParams", "rawPayload")
	if he, ok := err.(*hookline.Error); !ok || !slices.Equal(he.Fields[0].Loc, []string{"body", "transformationsParams", "rawPayload", "a"}) ||
		!strings.HasPrefix(he.Message, "transformationsParams.rawPayload: ") {
		t.Errorf("raw payload: %v", err)
	}
}
