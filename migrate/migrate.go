// Package migrate applies numbered SQL migrations to a database/sql database.
//
// Each backend embeds its migrations as files named NNNN_name.sql (for example
// 0001_init.sql) and passes them in as an fs.FS whose root holds the files. Up applies the
// pending ones in version order, each in its own transaction, and records it in the
// schema_migrations table, so a failed migration leaves the database at the previous
// version. The runner is deliberately small: Hookline only ever migrates forward.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Dialect holds the few differences between the databases the runner supports.
type Dialect struct {
	// Name identifies the dialect in errors.
	Name string
	// Placeholder returns the bind parameter for the n-th argument (1-based).
	Placeholder func(n int) string
	// Lock, when set, is executed first in every migration transaction so that concurrent
	// runners (several processes starting at once) apply each migration only once.
	Lock string
}

// SQLite is the dialect of SQLite: "?" placeholders. Its write transactions already exclude
// each other when the connection begins them IMMEDIATE, so it needs no extra lock.
var SQLite = Dialect{
	Name:        "sqlite",
	Placeholder: func(int) string { return "?" },
}

// Postgres is the dialect of PostgreSQL: "$1" placeholders and a transaction-scoped advisory
// lock that serialises runners.
var Postgres = Dialect{
	Name:        "postgres",
	Placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
	// The key is an arbitrary constant that names Hookline's migrations.
	Lock: "SELECT pg_advisory_xact_lock(7346289150231)",
}

// Option changes how Up and Status run.
type Option func(*config)

type config struct {
	dialect Dialect
	now     func() time.Time
	steps   map[int]Step
}

// Step is Go code that a migration runs after its SQL, in the same transaction: the rewrites
// SQL cannot do, such as sealing values under the main key. p is the dialect's placeholder.
// A step must be idempotent (leave rows it already rewrote alone): a database restored from a
// backup, or migrated by hand, may hold rows of both shapes.
type Step func(ctx context.Context, tx *sql.Tx, p func(n int) string) error

// WithStep runs step in the transaction of the migration with the given version, after its
// SQL. A step of a version without a file is an error of Up.
func WithStep(version int, step Step) Option {
	return func(c *config) {
		if c.steps == nil {
			c.steps = map[int]Step{}
		}
		c.steps[version] = step
	}
}

// WithDialect selects the database dialect; the default is SQLite.
func WithDialect(d Dialect) Option { return func(c *config) { c.dialect = d } }

// WithClock sets the clock that stamps applied_at; the default is time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

func newConfig(opts []Option) config {
	c := config{dialect: SQLite, now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Migration is one migration file and, when it has run, when it was applied.
type Migration struct {
	Version int
	// Name is the file name, such as "0001_init.sql".
	Name string
	// Applied reports whether the database has recorded the migration.
	Applied   bool
	AppliedAt time.Time
	// Missing is set for a version the database recorded but the files no longer hold (the
	// database was migrated by a newer build).
	Missing bool

	sql string
}

// createTable is portable between SQLite and PostgreSQL. applied_at is unix microseconds,
// like every other time Hookline stores.
const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// Up applies every pending migration of files in version order and returns the names of the
// ones it applied. It stops at the first failure, which leaves that migration unapplied.
func Up(ctx context.Context, db *sql.DB, files fs.FS, opts ...Option) (applied []string, err error) {
	c := newConfig(opts)
	migrations, err := Load(files)
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, createTable); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	for v := range c.steps {
		if !slices.ContainsFunc(migrations, func(m Migration) bool { return m.Version == v }) {
			return nil, fmt.Errorf("migrate: a step for version %d, which has no migration file", v)
		}
	}
	done, err := appliedVersions(ctx, db)
	if err != nil {
		return nil, err
	}
	for _, m := range migrations {
		if _, ok := done[m.Version]; ok {
			continue
		}
		ran, err := apply(ctx, db, c, m)
		if err != nil {
			return applied, err
		}
		if ran {
			applied = append(applied, m.Name)
		}
	}
	return applied, nil
}

// apply runs one migration in its own transaction. It reports false when another runner
// applied the migration first.
func apply(ctx context.Context, db *sql.DB, c config, m Migration) (ran bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: %s: begin: %w", m.Name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the migration's own error is the one worth reporting
		}
	}()
	if c.dialect.Lock != "" {
		if _, err := tx.ExecContext(ctx, c.dialect.Lock); err != nil {
			return false, fmt.Errorf("migrate: %s: lock: %w", m.Name, err)
		}
	}
	// Check again under the lock: a concurrent runner may have applied it meanwhile.
	var one int
	err = tx.QueryRowContext(ctx, "SELECT 1 FROM schema_migrations WHERE version = "+c.dialect.Placeholder(1), m.Version).Scan(&one)
	switch {
	case err == nil:
		return false, tx.Rollback()
	case !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("migrate: %s: check: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migrate: %s: %w", m.Name, err)
	}
	if step := c.steps[m.Version]; step != nil {
		if err := step(ctx, tx, c.dialect.Placeholder); err != nil {
			return false, fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
	}
	p := c.dialect.Placeholder
	insert := "INSERT INTO schema_migrations (version, name, applied_at) VALUES (" + p(1) + ", " + p(2) + ", " + p(3) + ")"
	if _, err := tx.ExecContext(ctx, insert, m.Version, m.Name, c.now().UnixMicro()); err != nil {
		return false, fmt.Errorf("migrate: %s: record: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate: %s: commit: %w", m.Name, err)
	}
	return true, nil
}

// Status lists every migration of files, applied or pending, in version order, followed by
// any version the database recorded that files do not hold (Missing).
func Status(ctx context.Context, db *sql.DB, files fs.FS, opts ...Option) ([]Migration, error) {
	_ = newConfig(opts) // no dialect-specific SQL yet; options are accepted for symmetry with Up
	migrations, err := Load(files)
	if err != nil {
		return nil, err
	}
	done, err := appliedVersions(ctx, db)
	if err != nil {
		return nil, err
	}
	for i := range migrations {
		if r, ok := done[migrations[i].Version]; ok {
			migrations[i].Applied = true
			migrations[i].AppliedAt = r.AppliedAt
			delete(done, migrations[i].Version)
		}
	}
	var missing []Migration
	for _, r := range done {
		missing = append(missing, r)
	}
	slices.SortFunc(missing, func(a, b Migration) int { return a.Version - b.Version })
	for i := range migrations {
		migrations[i].sql = ""
	}
	return append(migrations, missing...), nil
}

// appliedVersions reads schema_migrations; a database without the table has applied nothing.
func appliedVersions(ctx context.Context, db *sql.DB) (map[int]Migration, error) {
	out := map[int]Migration{}
	rows, err := db.QueryContext(ctx, "SELECT version, name, applied_at FROM schema_migrations")
	if err != nil {
		// Status on a fresh database: probe for the table rather than match the error text.
		if ok, probeErr := tableExists(ctx, db); probeErr == nil && !ok {
			return out, nil
		}
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Migration
		var at int64
		if err := rows.Scan(&m.Version, &m.Name, &at); err != nil {
			return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
		}
		m.Applied, m.Missing = true, true
		m.AppliedAt = time.UnixMicro(at).UTC()
		out[m.Version] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	return out, nil
}

// tableExists reports whether schema_migrations exists, by a query both dialects accept: a
// SELECT that fails only when the table is missing is not distinguishable from other
// failures, so it reads the catalogue instead.
func tableExists(ctx context.Context, db *sql.DB) (bool, error) {
	var n int
	// sqlite_schema in SQLite, information_schema in PostgreSQL; try both.
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'").Scan(&n); err == nil {
		return n > 0, nil
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'").Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

// Load reads the migrations at the root of files: every file named NNNN_name.sql, sorted by
// version. Other files are ignored; two files with the same version are an error.
func Load(files fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, fmt.Errorf("migrate: read migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migrate: %s: name must be NNNN_description.sql", name)
		}
		if prev, dup := seen[version]; dup {
			return nil, fmt.Errorf("migrate: %s and %s share version %d", prev, name, version)
		}
		seen[version] = name
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, fmt.Errorf("migrate: %s: %w", name, err)
		}
		out = append(out, Migration{Version: version, Name: name, sql: string(body)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	return out, nil
}
