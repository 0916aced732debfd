package migrate_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hookline/hookline/migrate"
	_ "modernc.org/sqlite"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "m.db") + "?_txlock=immediate&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestUpAppliesInOrderOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	files := fstest.MapFS{
		"0002_add_b.sql": {Data: []byte("ALTER TABLE a ADD COLUMN b TEXT;")},
		"0001_init.sql":  {Data: []byte("CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER);")},
		"README.md":      {Data: []byte("not a migration")},
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	applied, err := migrate.Up(ctx, db, files, migrate.WithClock(func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"0001_init.sql", "0002_add_b.sql"}; !slices.Equal(applied, want) {
		t.Fatalf("applied %v, want %v", applied, want)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO a (id, b) VALUES (1, 'x'); INSERT INTO c (id) VALUES (1)"); err != nil {
		t.Fatalf("schema not in place: %v", err)
	}

	again, err := migrate.Up(ctx, db, files)
	if err != nil || len(again) != 0 {
		t.Fatalf("second Up = %v, %v; want nothing applied", again, err)
	}

	st, err := migrate.Status(ctx, db, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || !st[0].Applied || !st[1].Applied || st[0].Version != 1 || st[1].Version != 2 {
		t.Fatalf("status = %+v", st)
	}
	if !st[0].AppliedAt.Equal(at) {
		t.Errorf("applied_at = %v, want %v", st[0].AppliedAt, at)
	}
}

func TestStatusPendingAndMissing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	files := fstest.MapFS{
		"0001_init.sql": {Data: []byte("CREATE TABLE a (id INTEGER PRIMARY KEY);")},
		"0002_more.sql": {Data: []byte("CREATE TABLE b (id INTEGER PRIMARY KEY);")},
	}
	// Status on a database that has never been migrated: everything pending, nothing created.
	st, err := migrate.Status(ctx, db, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].Applied || st[1].Applied {
		t.Fatalf("fresh status = %+v", st)
	}

	if _, err := migrate.Up(ctx, db, fstest.MapFS{"0001_init.sql": files["0001_init.sql"]}); err != nil {
		t.Fatal(err)
	}
	st, err = migrate.Status(ctx, db, files)
	if err != nil {
		t.Fatal(err)
	}
	if !st[0].Applied || st[1].Applied {
		t.Fatalf("status = %+v, want 1 applied and 2 pending", st)
	}

	// A database migrated by a newer build reports the versions this build does not know.
	st, err = migrate.Status(ctx, db, fstest.MapFS{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || !st[0].Missing || st[0].Name != "0001_init.sql" {
		t.Fatalf("status with no files = %+v", st)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	files := fstest.MapFS{
		"0001_init.sql":   {Data: []byte("CREATE TABLE a (id INTEGER PRIMARY KEY);")},
		"0002_broken.sql": {Data: []byte("CREATE TABLE b (id INTEGER PRIMARY KEY);\nTHIS IS NOT SQL;")},
		"0003_after.sql":  {Data: []byte("CREATE TABLE c (id INTEGER PRIMARY KEY);")},
	}
	applied, err := migrate.Up(ctx, db, files)
	if err == nil {
		t.Fatal("Up succeeded over a broken migration")
	}
	if !slices.Equal(applied, []string{"0001_init.sql"}) {
		t.Fatalf("applied = %v", applied)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name IN ('b', 'c')").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d tables of the failed and later migrations exist; want the failed one rolled back", n)
	}
	st, err := migrate.Status(ctx, db, files)
	if err != nil {
		t.Fatal(err)
	}
	if !st[0].Applied || st[1].Applied || st[2].Applied {
		t.Fatalf("status = %+v", st)
	}
}

func TestLoadRejectsBadNames(t *testing.T) {
	t.Parallel()
	for name, files := range map[string]fstest.MapFS{
		"no number":         {"init.sql": {}},
		"no underscore":     {"0001.sql": {}},
		"zero":              {"0000_x.sql": {}},
		"duplicate version": {"0001_a.sql": {}, "1_b.sql": {}},
	} {
		if _, err := migrate.Load(files); err == nil {
			t.Errorf("%s: Load accepted %v", name, files)
		}
	}
}

func TestPostgresPlaceholders(t *testing.T) {
	t.Parallel()
	if got := migrate.Postgres.Placeholder(3); got != "$3" {
		t.Errorf("Postgres placeholder = %q", got)
	}
	if got := migrate.SQLite.Placeholder(3); got != "?" {
		t.Errorf("SQLite placeholder = %q", got)
	}
}

// TestStepRunsInItsMigration: a Go step runs once, inside its migration's transaction after
// the SQL: when it fails, the migration's SQL is rolled back with it and the migration stays
// pending; when it succeeds it does not run again.
func TestStepRunsInItsMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	files := fstest.MapFS{
		"0001_init.sql":    {Data: []byte("CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO a VALUES (1, 'clear');")},
		"0002_rewrite.sql": {Data: []byte("-- Go rewrites the rows.\nCREATE TABLE marker (id INTEGER);")},
	}
	runs := 0
	failing := func(ctx context.Context, tx *sql.Tx, p func(int) string) error {
		runs++
		if _, err := tx.ExecContext(ctx, "UPDATE a SET v = "+p(1), "half-done"); err != nil {
			return err
		}
		return errors.New("the main key is wrong")
	}
	if _, err := migrate.Up(ctx, db, files, migrate.WithStep(2, failing)); err == nil || !strings.Contains(err.Error(), "the main key is wrong") {
		t.Fatalf("Up with a failing step: %v", err)
	}
	var v string
	var markers int
	if err := db.QueryRowContext(ctx, "SELECT v, (SELECT count(*) FROM sqlite_schema WHERE name = 'marker') FROM a").Scan(&v, &markers); err != nil {
		t.Fatal(err)
	}
	if v != "clear" || markers != 0 {
		t.Fatalf("after a failed step: v = %q, %d marker tables; want it all rolled back", v, markers)
	}

	rewrite := func(ctx context.Context, tx *sql.Tx, p func(int) string) error {
		runs++
		_, err := tx.ExecContext(ctx, "UPDATE a SET v = "+p(1)+" WHERE v = "+p(2), "sealed", "clear")
		return err
	}
	applied, err := migrate.Up(ctx, db, files, migrate.WithStep(2, rewrite))
	if err != nil || !slices.Equal(applied, []string{"0002_rewrite.sql"}) {
		t.Fatalf("Up = %v, %v", applied, err)
	}
	if _, err := migrate.Up(ctx, db, files, migrate.WithStep(2, rewrite)); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT v FROM a").Scan(&v); err != nil || v != "sealed" || runs != 2 {
		t.Fatalf("v = %q (%v) after %d runs of the steps; want sealed after 2", v, err, runs)
	}
	if _, err := migrate.Up(ctx, db, files, migrate.WithStep(3, rewrite)); err == nil {
		t.Fatal("a step of a version without a file was accepted")
	}
}
