package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/testserver"
)

// TestPayloadsThatMeanTwoThings sends payloads that readers could read in two ways (invalid
// UTF-8, a key twice at any depth), tags outside Svix's rules and schemas whose $refs loop.
// Each is refused with its own status and code, and nothing is stored. A schema with
// "maximum": 10 would let {"n": 500, "n": 5} through if only the last "n" were checked, and a
// receiver that keeps the first "n" would get 500.
func TestPayloadsThatMeanTwoThings(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "meter.read", "description": "A meter reading",
		"schemas": map[string]any{"1": json.RawMessage(`{"type": "object", "properties": {
			"n": {"type": "integer", "maximum": 10},
			"readings": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "integer", "maximum": 10}}}}}}`)}}, 201)
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme", "uid": "acme"}, 201)
	msgs := "/api/v1/app/acme/msg"
	msg := func(payload string, extra string) string {
		return `{"eventType": "meter.read", "payload": ` + payload + extra + `}`
	}

	// What passes: the same shapes meaning one thing, non-ASCII text, tags Svix allows.
	for _, body := range []string{
		msg(`{"n": 5}`, ""),
		msg(`{"n": 5, "readings": [{"n": 1}, {"n": 2}], "who": "Zoë \ud83d\ude00 東京"}`, ""),
		msg(`{"n": 5}`, `, "tags": ["a", "project/1337", "team#7", "x\\y", "a.b-c_d"]`),
	} {
		srv.Op("POST", msgs, body, 202)
	}

	loop := `{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}`
	cases := []struct {
		name, method, path, body string
		status                   int
		code, detail             string
	}{
		{"duplicate key at the top", "POST", msgs, msg(`{"n": 500, "n": 5}`, ""), 400, "duplicate_key", `the payload has the key \"n\" more than once`},
		{"duplicate key in an array of objects", "POST", msgs, msg(`{"n": 5, "readings": [{"n": 1}, {"n": 500, "n": 5}]}`, ""), 400, "duplicate_key", "/readings/1"},
		{"duplicate key written with an escape", "POST", msgs, msg(`{"n": 500, "\u006e": 5}`, ""), 400, "duplicate_key", `the payload has the key \"n\" more than once`},
		{"invalid UTF-8 in a value", "POST", msgs, msg("{\"n\": 5, \"who\": \"caf\xe9\"}", ""), 400, "invalid_utf8", "UTF-8"},
		{"invalid UTF-8 in a key", "POST", msgs, msg("{\"n\xff\": 5}", ""), 400, "invalid_utf8", "UTF-8"},
		{"lone surrogate escape", "POST", msgs, msg(`{"n": 5, "who": "\udc00"}`, ""), 400, "invalid_utf8", "surrogate"},
		{"six tags", "POST", msgs, msg(`{"n": 5}`, `, "tags": ["a", "b", "c", "d", "e", "f"]`), 422, "validation", "at most 5 tags"},
		{"a tag twice", "POST", msgs, msg(`{"n": 5}`, `, "tags": ["a", "a"]`), 422, "validation", "listed twice"},
		{"a tag too long", "POST", msgs, msg(`{"n": 5}`, `, "tags": ["`+strings.Repeat("t", 129)+`"]`), 422, "validation", "128"},
		{"a tag with a space", "POST", msgs, msg(`{"n": 5}`, `, "tags": ["a b"]`), 422, "validation", `"loc":["body","tags","0"]`},
		{"an empty tag", "POST", msgs, msg(`{"n": 5}`, `, "tags": [""]`), 422, "validation", `"loc":["body","tags","0"]`},
		{"event type whose $refs loop", "POST", "/api/v1/event-type", `{"name": "loop.created", "description": "x", "schemas": {"1": ` + loop + `}}`,
			422, "validation", "/$defs/a -> /$defs/b"},
		{"PATCH to a schema whose $refs loop", "PATCH", "/api/v1/event-type/meter.read", `{"schemas": {"2": {"$ref": "#"}}}`, 422, "validation", "loop"},
		{"PUT of a schema whose $refs loop", "PUT", "/api/v1/event-type/meter.read", `{"description": "x", "schemas": {"1": {"$ref": "#"}}}`, 422, "validation", "loop"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, srv)
			r := doWith(t, srv, c.method, c.path, srv.Token, c.body, nil)
			if r.Status != c.status || r.Code() != c.code || !strings.Contains(string(r.Body), c.detail) {
				t.Errorf("%s %s: %d %q, want %d %q with %q; body %s", c.method, c.path, r.Status, r.Code(), c.status, c.code, c.detail, r.Body)
			}
			checkErrorBody(t, r)
			if after := snapshot(t, srv); after.dump != before.dump {
				t.Errorf("the refused request changed the state: before %s, after %s", before, after)
			}
		})
	}
}
