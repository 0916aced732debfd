// Package pgtest gives each test an empty PostgreSQL schema of its own, so tests against the
// postgres store run in parallel on one server without seeing each other's rows.
//
// The server comes from HOOKLINE_TEST_POSTGRES_URL (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). When it is unreachable the tests
// that need it are skipped, except under CI=true, where they fail: CI must not pass by
// skipping.
//
// Each test gets a schema rather than a database: CREATE DATABASE copies a template and
// waits for a checkpoint, which takes from a second to many on a busy server, while
// CREATE SCHEMA takes milliseconds. The schema is selected with search_path in the URL.
// Advisory locks and LISTEN channels are per database, so tests that use them pick keys and
// channel names of their own.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is the server tests use when HOOKLINE_TEST_POSTGRES_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseURL returns the URL of the test server's database: HOOKLINE_TEST_POSTGRES_URL, or
// DefaultURL.
func BaseURL() string {
	if u := os.Getenv("HOOKLINE_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// admin is one pool to the base database, shared by the tests of a package, that creates and
// drops their schemas; err is why it could not be had.
var admin struct {
	once sync.Once
	pool *pgxpool.Pool
	err  error
}

func adminPool() (*pgxpool.Pool, error) {
	admin.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cfg, err := pgxpool.ParseConfig(BaseURL())
		if err != nil {
			admin.err = fmt.Errorf("parse HOOKLINE_TEST_POSTGRES_URL: %w", err)
			return
		}
		cfg.MaxConns = 4
		where := fmt.Sprintf("%s:%d", cfg.ConnConfig.Host, cfg.ConnConfig.Port)
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err == nil {
			err = pool.Ping(ctx)
		}
		if err != nil {
			if pool != nil {
				pool.Close()
			}
			admin.err = fmt.Errorf("PostgreSQL not reachable at %s: %w", where, err)
			return
		}
		admin.pool = pool
	})
	return admin.pool, admin.err
}

// URL returns the URL of a fresh, empty schema for the test (hookline_test_<random> in the
// base database, first on the search_path), dropped with everything in it when the test ends.
// Without a reachable server it skips the test, or fails it when CI=true.
func URL(t testing.TB) string {
	t.Helper()
	pool, err := adminPool()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true: PostgreSQL is required)", err)
		}
		t.Skipf("%v (set HOOKLINE_TEST_POSTGRES_URL to test against PostgreSQL)", err)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "hookline_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		// The test's own connections are closed by now (cleanups run last-registered first,
		// and the store is opened after URL returns), so nothing holds locks in the schema.
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(BaseURL())
	if err != nil {
		t.Fatalf("pgtest: HOOKLINE_TEST_POSTGRES_URL must be a postgres:// URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
