package server

import (
	"strings"
	"testing"
)

// TestBuildVersion: the version names a release when the module has one, and otherwise the
// commit and whether the work tree had changes, so two source builds can be told apart.
func TestBuildVersion(t *testing.T) {
	t.Parallel()
	rev := "3f2a9c1b7d0e5a6b7c8d9e0f1a2b3c4d5e6f7a8b"
	for _, c := range []struct {
		b    Build
		want string
	}{
		{Build{}, "dev"},
		{Build{Module: "(devel)"}, "dev"},
		{Build{Module: "(devel)", Revision: rev}, "dev+3f2a9c1b7d0e"},
		{Build{Module: "(devel)", Revision: rev, Dirty: true}, "dev+3f2a9c1b7d0e-dirty"},
		{Build{Module: "v1.4.0"}, "v1.4.0"},
		{Build{Module: "v1.4.0", Revision: rev}, "v1.4.0+3f2a9c1b7d0e"},
		// Go 1.24 and later stamp source builds with a pseudo-version that holds the commit.
		{Build{Module: "v0.0.0-20261206200003-3f2a9c1b7d0e+dirty", Revision: rev, Dirty: true}, "v0.0.0-20261206200003-3f2a9c1b7d0e+dirty"},
	} {
		if got := c.b.Version(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.b, got, c.want)
		}
	}
	long := Build{Path: "github.com/hookline/hookline", Module: "(devel)", Revision: rev, Time: "2026-12-06T20:00:03Z", Dirty: true, Go: "go1.26.0"}.String()
	for _, want := range []string{"commit   " + rev + " (2026-12-06T20:00:03Z), with uncommitted changes\n", "module   github.com/hookline/hookline (devel)\n", "go       go1.26.0 "} {
		if !strings.Contains(long, want) {
			t.Errorf("long version lacks %q:\n%s", want, long)
		}
	}
}
