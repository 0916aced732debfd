package server

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Build describes the running binary, from the module's build information: what `hookline
// version` prints, and where Version comes from when no -ldflags set it.
type Build struct {
	// Path is the main module's path.
	Path string
	// Module is the module version: a tag such as v1.2.0 for `go install ...@v1.2.0`, or
	// "(devel)" for a build of a checked-out source tree.
	Module string
	// Revision is the VCS commit the binary was built from ("" when unknown, as in go test).
	Revision string
	// Time is the commit's time (RFC 3339), "" when unknown.
	Time string
	// Dirty is true when the work tree had changes that are not committed.
	Dirty bool
	// Go is the Go version that built the binary.
	Go string
}

// ReadBuild returns the running binary's build information.
func ReadBuild() Build {
	b := Build{Go: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Path, b.Module = info.Main.Path, info.Main.Version
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Dirty = s.Value == "true"
		}
	}
	return b
}

// Version returns the short version: the module version when it is a release, otherwise
// "dev", followed by the commit and "-dirty" when the work tree had changes, such as
// "dev+3f2a9c1b7d0e-dirty".
func (b Build) Version() string {
	v := b.Module
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	if b.Revision != "" && !strings.Contains(v, shortRevision(b.Revision)) {
		v += "+" + shortRevision(b.Revision)
		if b.Dirty {
			v += "-dirty"
		}
	}
	return v
}

// String is the long form that `hookline version` prints.
func (b Build) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "hookline %s\n", Version)
	if b.Revision != "" {
		fmt.Fprintf(&s, "commit   %s", b.Revision)
		if b.Time != "" {
			fmt.Fprintf(&s, " (%s)", b.Time)
		}
		if b.Dirty {
			s.WriteString(", with uncommitted changes")
		}
		s.WriteByte('\n')
	}
	if b.Path != "" {
		fmt.Fprintf(&s, "module   %s %s\n", b.Path, b.Module)
	}
	fmt.Fprintf(&s, "go       %s %s/%s\n", b.Go, runtime.GOOS, runtime.GOARCH)
	return s.String()
}

func shortRevision(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	return r
}

func init() {
	if Version == "dev" {
		Version = ReadBuild().Version()
	}
}
