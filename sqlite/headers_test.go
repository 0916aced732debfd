package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/sqlite"
)

// credentialHeaders are custom headers whose values must never be stored in clear.
var credentialHeaders = map[string]string{
	"Authorization": "Bearer cred-authorization-7Qx2",
	"X-Api-Key":     "cred-api-key-9Lm4",
	"X-Tenant":      "acme",
}

// TestEndpointHeadersSealed: an endpoint's custom headers are sealed under the main key in the
// database: neither the headers column nor any byte of the database file and its WAL holds a
// credential. A database written before migration 0008, with clear headers, is still read, and
// the migration seals its rows; running it again changes nothing.
func TestEndpointHeadersSealed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookline.db")
	db := openDB(t, path)
	now := time.Now()
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "Acme", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	ep := &hookline.Endpoint{ID: hookline.NewID(hookline.PrefixEndpoint), AppID: app.ID, URL: "https://hooks.acme.example/in",
		Version: 1, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Headers: maps.Clone(credentialHeaders)}
	if err := db.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	checkNoCredential(t, "the endpoint's row", rawHeaders(t, db.ReadDB(), ep.ID))
	checkNoCredential(t, "the database file", readFiles(t, path, path+"-wal"))
	checkHeaders(t, db, app.ID, ep.ID)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	checkNoCredential(t, "the database file after a checkpoint", readFiles(t, path, path+"-wal"))

	// The database as an earlier version left it: clear JSON, migration 0008 not applied.
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `UPDATE endpoints SET headers = ? WHERE id = ?`,
		`{"Authorization": "Bearer cred-authorization-7Qx2", "X-Api-Key": "cred-api-key-9Lm4", "X-Tenant": "acme"}`, ep.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = 8`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err = sqlite.Open(ctx, path, sqlite.Options{SecretBox: testBox(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkHeaders(t, db, app.ID, ep.ID) // clear rows are read before the migration
	applied, err := db.Migrate(ctx)
	if err != nil || !slices.Equal(applied, []string{"0008_seal_endpoint_headers.sql"}) {
		t.Fatalf("Migrate = %v, %v; want 0008 applied", applied, err)
	}
	sealed := rawHeaders(t, db.ReadDB(), ep.ID)
	checkNoCredential(t, "the migrated row", sealed)
	checkHeaders(t, db, app.ID, ep.ID)
	// Run the step again: it leaves sealed rows as they are.
	if _, err := db.WriteDB().ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = 8`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if again := rawHeaders(t, db.ReadDB(), ep.ID); !bytes.Equal(again, sealed) {
		t.Errorf("a second run of the migration rewrote a sealed row")
	}
}

func rawHeaders(t *testing.T, db *sql.DB, id string) []byte {
	t.Helper()
	var h string
	if err := db.QueryRow(`SELECT headers FROM endpoints WHERE id = ?`, id).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return []byte(h)
}

func readFiles(t *testing.T, paths ...string) []byte {
	t.Helper()
	var all []byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, data...)
	}
	return all
}

func checkNoCredential(t *testing.T, where string, data []byte) {
	t.Helper()
	for name, v := range credentialHeaders {
		if name != "X-Tenant" && bytes.Contains(data, []byte(v)) {
			t.Errorf("%s holds the %s value in clear", where, name)
		}
	}
}

func checkHeaders(t *testing.T, db *sqlite.DB, appID, id string) {
	t.Helper()
	got, err := db.GetEndpoint(context.Background(), appID, id)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got.Headers, credentialHeaders) {
		t.Errorf("headers read back %v, want %v", got.Headers, credentialHeaders)
	}
}
