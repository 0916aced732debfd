package ui

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"
)

// The dashboard and the API share what they agree on through packages below both (service,
// portal, the error codes' statuses in hookline); the dashboard never imports the API.
func TestDashboardDoesNotImportTheAPI(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files: %v", err)
	}
	for _, f := range files {
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == "github.com/hookline/hookline/api" {
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
}
