package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/hookline/hookline"
)

// partitionStep is the Go step of migration 0016: it turns messages and attempts, as earlier
// migrations left them, into tables partitioned by id without copying their rows. For each:
// the table becomes <table>_legacy; a partitioned table takes its name with the same columns,
// indexes (same names and definitions) and foreign keys; the rows whose id lies past the end
// of the current interval (ids from a clock ahead, or not made by NewID), normally none, move
// to the new DEFAULT partition; and the old table is attached as the partition of every id
// below that end. PostgreSQL adopts its indexes and foreign keys as the partitions of the new
// ones (no index is built, no key checked again) and reads the table once to check the bound.
// An empty old table (a new database) is dropped instead. Then the partitions ahead are made.
// A table that is already partitioned is left alone, so the step can run again.
func (db *DB) partitionStep(ctx context.Context, tx *sql.Tx, _ func(int) string) error {
	now := db.now()
	end := partitionStart(now, db.partitionInterval).Add(db.partitionInterval)
	for _, pt := range partitionedTables {
		if pt.table == "deliveries" {
			continue // migration 0017
		}
		if err := convertToPartitioned(ctx, tx, pt.table, pt.key, hookline.FirstIDAt(pt.prefix, end)); err != nil {
			return fmt.Errorf("partition %s: %w", pt.table, err)
		}
	}
	_, err := ensurePartitions(ctx, tx, db.partitionInterval, now)
	return err
}

// deliveriesPartitionStep is the Go step of migration 0017: it partitions deliveries by message
// as partitionStep did messages, with the same bounds as the partitions of messages from the
// end of the current interval on; its legacy partition holds the deliveries of every message
// below that. The primary key becomes (id, msg_id), since it must hold the key: the one index
// PostgreSQL builds on the legacy partition.
func (db *DB) deliveriesPartitionStep(ctx context.Context, tx *sql.Tx, _ func(int) string) error {
	now := db.now()
	end := partitionStart(now, db.partitionInterval).Add(db.partitionInterval)
	if err := convertToPartitioned(ctx, tx, "deliveries", "msg_id", hookline.FirstIDAt(hookline.PrefixMessage, end)); err != nil {
		return fmt.Errorf("partition deliveries: %w", err)
	}
	_, err := ensurePartitions(ctx, tx, db.partitionInterval, now)
	return err
}

// convertToPartitioned converts table; see partitionStep.
func convertToPartitioned(ctx context.Context, tx *sql.Tx, table, key, bound string) error {
	var kind string
	if err := tx.QueryRowContext(ctx, `SELECT relkind FROM pg_class WHERE relname = $1
		AND relnamespace = current_schema()::regnamespace`, table).Scan(&kind); err != nil {
		return fmt.Errorf("find table: %w", err)
	}
	if kind == "p" {
		return nil
	}
	legacy := table + "_legacy"
	type index struct {
		name, def string
		primary   bool
	}
	var indexes []index
	rows, err := tx.QueryContext(ctx, `SELECT i.relname, pg_get_indexdef(x.indexrelid), x.indisprimary
		FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
		WHERE x.indrelid = $1::regclass ORDER BY i.relname`, table)
	if err != nil {
		return fmt.Errorf("read indexes: %w", err)
	}
	for rows.Next() {
		var ix index
		if err := rows.Scan(&ix.name, &ix.def, &ix.primary); err != nil {
			rows.Close()
			return fmt.Errorf("read indexes: %w", err)
		}
		indexes = append(indexes, ix)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read indexes: %w", err)
	}
	type fkey struct{ name, def string }
	var fkeys []fkey
	rows, err = tx.QueryContext(ctx, `SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid = $1::regclass AND contype = 'f' ORDER BY conname`, table)
	if err != nil {
		return fmt.Errorf("read foreign keys: %w", err)
	}
	for rows.Next() {
		var fk fkey
		if err := rows.Scan(&fk.name, &fk.def); err != nil {
			rows.Close()
			return fmt.Errorf("read foreign keys: %w", err)
		}
		fkeys = append(fkeys, fk)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read foreign keys: %w", err)
	}

	stmts := []string{`ALTER TABLE ` + table + ` RENAME TO ` + legacy}
	for _, ix := range indexes {
		stmts = append(stmts, `ALTER INDEX `+ix.name+` RENAME TO `+ix.name+`_legacy`)
	}
	stmts = append(stmts, `CREATE TABLE `+table+` (LIKE `+legacy+` INCLUDING DEFAULTS INCLUDING CONSTRAINTS
		INCLUDING STORAGE INCLUDING COMPRESSION) PARTITION BY RANGE (`+key+`)`)
	var pkName, pkCols string // a primary key that gained the partition key
	for _, ix := range indexes {
		// "CREATE [UNIQUE] INDEX name ON [schema.]table USING btree (columns)[ WHERE …]": the
		// same index on the new table.
		_, using, ok := strings.Cut(ix.def, " USING ")
		if !ok {
			return fmt.Errorf("index %s: unexpected definition %q", ix.name, ix.def)
		}
		if ix.primary {
			_, cols, ok := strings.Cut(using, " (")
			if !ok {
				return fmt.Errorf("index %s: unexpected definition %q", ix.name, ix.def)
			}
			cols = strings.TrimSuffix(cols, ")")
			if !slices.Contains(strings.Split(cols, ", "), key) {
				cols += ", " + key // a primary key must hold the partition key
				pkName, pkCols = ix.name, cols
			}
			stmts = append(stmts, `ALTER TABLE `+table+` ADD CONSTRAINT `+ix.name+` PRIMARY KEY (`+cols+`)`)
			continue
		}
		unique := ""
		if strings.HasPrefix(ix.def, "CREATE UNIQUE ") {
			unique = "UNIQUE "
		}
		stmts = append(stmts, `CREATE `+unique+`INDEX `+ix.name+` ON `+table+` USING `+using)
	}
	for _, fk := range fkeys {
		stmts = append(stmts, `ALTER TABLE `+table+` ADD CONSTRAINT `+fk.name+` `+fk.def)
	}
	stmts = append(stmts, `CREATE TABLE `+table+`_default PARTITION OF `+table+` DEFAULT`)
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}

	var empty bool
	if err := tx.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM `+legacy+`)`).Scan(&empty); err != nil {
		return fmt.Errorf("read %s: %w", legacy, err)
	}
	if empty {
		if _, err := tx.ExecContext(ctx, `DROP TABLE `+legacy); err != nil {
			return fmt.Errorf("drop %s: %w", legacy, err)
		}
		return nil
	}
	var fix []string
	if pkName != "" {
		// The old table's primary key becomes the new one, so that attaching it adopts that.
		fix = []string{
			`CREATE UNIQUE INDEX ` + pkName + `_legacy_new ON ` + legacy + ` (` + pkCols + `)`,
			`ALTER TABLE ` + legacy + ` DROP CONSTRAINT ` + pkName + `_legacy`,
			`ALTER TABLE ` + legacy + ` ADD CONSTRAINT ` + pkName + `_legacy PRIMARY KEY USING INDEX ` + pkName + `_legacy_new`,
		}
	}
	for _, s := range append(fix,
		`WITH moved AS (DELETE FROM `+legacy+` WHERE `+key+` >= `+quoteLit(bound)+` RETURNING *)
			INSERT INTO `+table+`_default SELECT * FROM moved`,
		`ALTER TABLE `+table+` ATTACH PARTITION `+legacy+` FOR VALUES FROM (MINVALUE) TO (`+quoteLit(bound)+`)`,
	) {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
