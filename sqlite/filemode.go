package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
)

// FileMode is the mode of the database file, and so of its -wal and -shm files, which SQLite
// creates with the mode of the database (exactly, whatever the umask). The database holds
// payloads, endpoint URLs and (sealed) credentials: only the owner reads it.
const FileMode fs.FileMode = 0o600

// restrictFiles creates the database file at path with FileMode when it does not exist yet, so
// that SQLite does not create it with its own default, 0644 less the umask. Files of an
// existing database that others may read (made by an earlier version) are narrowed to
// FileMode; when that fails (a file of another user) the database still opens, with a warning.
func restrictFiles(path string, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, FileMode)
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		if fi.Mode().Perm()&^FileMode == 0 {
			continue
		}
		if err := os.Chmod(p, FileMode); err != nil {
			log.Warn("sqlite: database file readable by others; could not restrict it", "path", p, "mode", fi.Mode().Perm().String(), "error", err)
		}
	}
	return nil
}
