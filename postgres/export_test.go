package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"testing/fstest"

	"github.com/hookline/hookline/internal/sqlcodec"
	"github.com/hookline/hookline/migrate"
)

// MigrateBefore applies the embedded migrations numbered below version, with their Go steps:
// a database as an earlier build left it.
func (db *DB) MigrateBefore(ctx context.Context, version int) error {
	files := fstest.MapFS{}
	entries, err := fs.ReadDir(Migrations(), ".")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() < fmt.Sprintf("%04d", version) {
			data, err := fs.ReadFile(Migrations(), e.Name())
			if err != nil {
				return err
			}
			files[e.Name()] = &fstest.MapFile{Data: data}
		}
	}
	opts := []migrate.Option{migrate.WithDialect(migrate.Postgres)}
	steps := map[int]migrate.Step{8: sqlcodec.SealHeadersStep(db.box), 16: db.partitionStep, 17: db.deliveriesPartitionStep}
	for v, step := range steps {
		if v < version {
			opts = append(opts, migrate.WithStep(v, step))
		}
	}
	_, err = migrate.Up(ctx, db.sqlDB, files, opts...)
	return err
}

// DeliveryTargetExists is the condition the fan-out's and the recorder's delivery inserts
// filter their unnest rows with.
const DeliveryTargetExists = deliveryTargetExists
