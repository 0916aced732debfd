package postgres_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/pgtest"
	"github.com/hookline/hookline/postgres"
	"github.com/hookline/hookline/secrets"
	"github.com/hookline/hookline/storetest"
)

func testBox(t testing.TB) hookline.SecretBox {
	t.Helper()
	box, err := secrets.NewBox(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// open opens a handle on the database at url, closed when the test ends. Two handles on one
// URL are two "processes" sharing a database.
func open(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, postgres.Options{SecretBox: testBox(t), MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// openDB opens and migrates a store in a fresh schema.
func openDB(t testing.TB) *postgres.DB {
	t.Helper()
	db := open(t, pgtest.URL(t))
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) hookline.Store { return openDB(t) })
}

func TestDeliveryStore(t *testing.T) {
	storetest.RunDelivery(t, func(t *testing.T) storetest.DeliveryStore { return openDB(t) })
}
