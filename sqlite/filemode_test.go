package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/sqlite"
)

// TestDatabaseFilesOwnerOnly: the database, its WAL and its shared-memory file are created
// 0600 whatever the umask (SQLite's own default is 0644 less the umask, 0666 under umask 0),
// and an existing database readable by others is narrowed to 0600 when it is opened.
func TestDatabaseFilesOwnerOnly(t *testing.T) {
	// Not parallel: the umask is the process's.
	for _, umask := range []int{0, 0o022} {
		old := syscall.Umask(umask)
		path := filepath.Join(t.TempDir(), "hookline.db")
		db := openDB(t, path)
		if err := db.CreateApplication(context.Background(), &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "Acme"}); err != nil {
			t.Fatal(err)
		}
		syscall.Umask(old)
		checkModes(t, path, fmt.Sprintf("umask %#o", umask))
	}

	// A database an earlier version left readable by everyone.
	dir := t.TempDir()
	path := filepath.Join(dir, "hookline.db")
	db := openDB(t, path)
	db.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.WriteFile(p, nil, 0o644) // -wal and -shm may be gone after the close; make them
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{SecretBox: testBox(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkModes(t, path, "existing files")
}

func checkModes(t *testing.T, path, what string) {
	t.Helper()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		if m := fi.Mode().Perm(); m != sqlite.FileMode {
			t.Errorf("%s: %s has mode %v, want %v", what, filepath.Base(p), m, sqlite.FileMode)
		}
	}
}
