package eventcatalog

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hookline/hookline"
)

// A document of a few kilobytes whose $refs each use the next twice would resolve to 2^40
// values: it is refused once the budget is spent, quickly and without the memory.
func TestImportRefusesRefsThatExpandTooFar(t *testing.T) {
	schemas := map[string]any{"S40": map[string]any{"type": "string"}}
	for i := 39; i >= 0; i-- {
		next := map[string]any{"$ref": fmt.Sprintf("#/components/schemas/S%d", i+1)}
		schemas[fmt.Sprintf("S%d", i)] = map[string]any{"properties": map[string]any{"a": next, "b": next}}
	}
	doc, _ := json.Marshal(map[string]any{
		"webhooks": map[string]any{"bomb.go": map[string]any{"post": map[string]any{"requestBody": map[string]any{
			"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/S0"}}}}}}},
		"components": map[string]any{"schemas": schemas},
	})
	_, err := Import(doc, "body", "spec")
	if hookline.ErrorCode(err) != hookline.EINVALID || !strings.Contains(err.Error(), "expand too far") {
		t.Fatalf("Import = %v, want a validation error about the expansion", err)
	}
}

// JSON pointers unescape ~1, ~0 and percent-encoding, and index arrays.
func TestPointer(t *testing.T) {
	var doc any
	json.Unmarshal([]byte(`{"a/b":{"c~d":[10,{"e f":"found"}]}}`), &doc)
	if v, ok := pointer(doc, "#/a~1b/c~0d/1/e%20f"); !ok || v != "found" {
		t.Errorf("pointer = %v, %v; want found", v, ok)
	}
	for _, ref := range []string{"#/a~1b/c~0d/2", "#/a~1b/c~0d/01", "#/nope", "#/a~1b/c~0d/-1"} {
		if v, ok := pointer(doc, ref); ok {
			t.Errorf("pointer(%s) = %v, want nothing", ref, v)
		}
	}
}
