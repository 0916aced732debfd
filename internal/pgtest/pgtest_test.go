package pgtest_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var schema string
	t.Run("fresh schema", func(t *testing.T) {
		u := pgtest.URL(t)
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(schema, "hookline_test_") {
			t.Fatalf("current_schema() = %q, want the test's schema first on the search_path", schema)
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("new schema holds %d tables", n)
		}
		// Unqualified names land in the schema.
		if _, err := conn.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
			t.Fatal(err)
		}
		if u2 := pgtest.URL(t); u2 == u {
			t.Fatal("two calls returned the same URL")
		}
	})
	if schema == "" {
		return // skipped
	}
	// The subtest's cleanup dropped the schema.
	conn, err := pgx.Connect(ctx, pgtest.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("schema %s outlived its test", schema)
	}
}

// TestUnreachable runs TestHelperUnreachable in a child process pointed at a closed port:
// without CI it must skip with a clear message, with CI=true it must fail.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for _, ci := range []string{"", "true"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperUnreachable$", "-test.v")
		cmd.Env = append(os.Environ(), "PGTEST_HELPER=1", "CI="+ci,
			"HOOKLINE_TEST_POSTGRES_URL=postgres://postgres@"+addr+"/test?sslmode=disable&connect_timeout=5")
		out, err := cmd.CombinedOutput()
		want := "PostgreSQL not reachable at 127.0.0.1:"
		if !strings.Contains(string(out), want) {
			t.Errorf("CI=%q: output lacks %q:\n%s", ci, want, out)
		}
		switch {
		case ci == "" && (err != nil || !strings.Contains(string(out), "--- SKIP")):
			t.Errorf("CI unset: want a skip, got err=%v:\n%s", err, out)
		case ci == "true" && (err == nil || !strings.Contains(string(out), "--- FAIL")):
			t.Errorf("CI=true: want a failure, got err=%v:\n%s", err, out)
		}
	}
}

func TestHelperUnreachable(t *testing.T) {
	if os.Getenv("PGTEST_HELPER") != "1" {
		t.Skip("run by TestUnreachable")
	}
	pgtest.URL(t)
	t.Fatal("URL returned without a server")
}
