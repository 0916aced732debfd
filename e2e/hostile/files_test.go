package hostile

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestDataFilesOwnerOnly starts the server on a new data directory under umask 0 and under
// umask 022: the directory is 0700, and the main key, the database and its WAL and
// shared-memory files are 0600.
func TestDataFilesOwnerOnly(t *testing.T) {
	for _, umask := range []int{0, 0o022} {
		dir := filepath.Join(t.TempDir(), "data")
		old := syscall.Umask(umask) // the server process inherits it
		s := startServer(t, dir)
		syscall.Umask(old)
		// A write, so the WAL holds something while the server runs.
		s.op(t, "POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201, nil)
		want := map[string]fs.FileMode{"": 0o700, "main.key": 0o600, "hookline.db": 0o600, "hookline.db-wal": 0o600, "hookline.db-shm": 0o600}
		for name, mode := range want {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Errorf("umask %#o: %v", umask, err)
				continue
			}
			if fi.Mode().Perm() != mode {
				t.Errorf("umask %#o: %q has mode %v, want %v", umask, filepath.Join("data", name), fi.Mode().Perm(), mode)
			}
		}
		s.stop()
	}
}
