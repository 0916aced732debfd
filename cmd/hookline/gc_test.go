package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestSetGCPercent: serve raises the GC target to serveGCPercent, unless GOGC says otherwise.
func TestSetGCPercent(t *testing.T) {
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig) })

	t.Setenv("GOGC", "")
	setGCPercent() // GOGC is set (if empty): left alone
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("with GOGC set, the GC target became %d", got)
	}

	unsetenv(t, "GOGC")
	setGCPercent()
	if got := debug.SetGCPercent(100); got != serveGCPercent {
		t.Fatalf("without GOGC, the GC target is %d, want %d", got, serveGCPercent)
	}
}

// unsetenv removes an environment variable for the rest of the test (t.Setenv restores it).
func unsetenv(t *testing.T, key string) {
	t.Helper()
	t.Setenv(key, "")
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
}
