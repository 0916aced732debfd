package multinode

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/hookline/hookline/internal/pgtest"
)

// firstTokenLine finds the token a node prints when it created the first operator token.
var firstTokenLine = regexp.MustCompile(`(?m)^    (\S+)\n\nUse it as a bearer token`)

// TestFirstOperatorTokenOnce starts three nodes at once on a new database with no
// HOOKLINE_OPERATOR_TOKEN: exactly one creates (and prints) the first operator token, and it
// works on every node.
func TestFirstOperatorTokenOnce(t *testing.T) {
	dbURL := pgtest.URL(t)
	var nodes []*node
	for _, name := range []string{"n1", "n2", "n3"} {
		nodes = append(nodes, startNodeToken(t, name, dbURL, ""))
	}
	for _, n := range nodes {
		n.waitReady(t)
	}
	var tokens []string
	for _, n := range nodes {
		if m := firstTokenLine.FindStringSubmatch(n.Out.String()); m != nil {
			tokens = append(tokens, m[1])
		}
	}
	if len(tokens) != 1 {
		t.Fatalf("%d nodes printed a first operator token (%q), want exactly 1", len(tokens), tokens)
	}
	for _, n := range nodes {
		if r := call(t.Context(), "GET", n.URL+"/api/v1/app", nil, "Authorization", "Bearer "+tokens[0]); r.Status != http.StatusOK {
			t.Errorf("%s GET /api/v1/app with the first token: %d %s, want 200", n.Name, r.Status, r.Body)
		}
	}
}
