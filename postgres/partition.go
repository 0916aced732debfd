package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

// messages and attempts are range-partitioned by id (migration 0016), and deliveries by msg_id
// (0017). A Hookline id begins with its creation time in milliseconds (hookline.NewID), so a
// range of ids is a range of creation times: a partition [FirstIDAt(t0), FirstIDAt(t1)) holds
// the rows made in [t0, t1), and the deliveries of the messages made then. Because the key is
// the id itself, the primary keys stay (id) (deliveries': (id, msg_id)), a lookup by id is
// pruned to one partition when the query is planned, and a list paged by id walks each
// partition's index in id order and stops at its LIMIT. The delivery engine's updates of a
// delivery by id carry its message's id, so each reaches one partition of deliveries.
//
// Besides the time ranges each table has a DEFAULT partition (an insert never fails for want
// of a partition: a row from a clock far ahead lands there, and moves to its own partition when
// that is created), and a database converted from the unpartitioned schema keeps its old table
// as the partition <table>_legacy that holds every key below the first range.

// Partition intervals: how much time one partition holds.
const (
	PartitionHourly = time.Hour
	PartitionDaily  = 24 * time.Hour
)

// partitionedTables are the partitioned tables, the column that keys them and the prefix of its
// ids. deliveries is keyed by its message (migration 0017), so that a day of messages and the
// deliveries of those messages are dropped together.
var partitionedTables = []struct{ table, key, prefix string }{
	{"messages", "id", hookline.PrefixMessage},
	{"deliveries", "msg_id", hookline.PrefixMessage},
	{"attempts", "id", hookline.PrefixAttempt},
}

// partitionLockKey is the transaction-scoped advisory lock that serialises the processes that
// create or drop partitions (every process after Migrate, and the maintenance leader).
const partitionLockKey = 7346289150232

// partitionSlack is how far an id's clock may be behind the clock that made an older row it
// refers to (an attempt of a message made by another process): an attempt partition is dropped
// only when no message made up to this long after its end has an attempt in it.
const partitionSlack = 5 * time.Minute

// partitionLockTimeout bounds how long a partition's creation or drop waits for the locks it
// needs; one that times out is tried again at the next maintenance run.
const partitionLockTimeout = "5s"

// partition is one partition of a partitioned table, as the catalogue describes it.
type partition struct {
	name      string
	isDefault bool
	lo, hi    string    // id bounds; lo is "" for MINVALUE
	loT, hiT  time.Time // their times; loT is zero for MINVALUE
}

// sqlRunner is a *sql.DB or a *sql.Tx: partitions are created inside migration 0016's
// transaction as well as by the store.
type sqlRunner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var boundRE = regexp.MustCompile(`^FOR VALUES FROM \((MINVALUE|'[^']*'[^)]*)\) TO \('([^']*)'[^)]*\)$`)

// listPartitions returns the partitions of table in the current schema, in range order with
// the DEFAULT partition (if any) last.
func listPartitions(ctx context.Context, q sqlRunner, table, prefix string) ([]partition, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
		WHERE p.relname = $1 AND p.relnamespace = current_schema()::regnamespace`, table)
	if err != nil {
		return nil, fmt.Errorf("list partitions of %s: %w", table, err)
	}
	defer rows.Close()
	var out []partition
	for rows.Next() {
		var p partition
		var bound string
		if err := rows.Scan(&p.name, &bound); err != nil {
			return nil, fmt.Errorf("list partitions of %s: %w", table, err)
		}
		if bound == "DEFAULT" {
			p.isDefault = true
			out = append(out, p)
			continue
		}
		m := boundRE.FindStringSubmatch(bound)
		if m == nil {
			return nil, fmt.Errorf("partition %s of %s: unexpected bound %q", p.name, table, bound)
		}
		if m[1] != "MINVALUE" {
			p.lo = strings.Trim(m[1][:strings.LastIndexByte(m[1], '\'')+1], "'")
			p.loT, _ = hookline.IDTime(prefix, p.lo)
		}
		p.hi = m[2]
		var ok bool
		if p.hiT, ok = hookline.IDTime(prefix, p.hi); !ok {
			return nil, fmt.Errorf("partition %s of %s: bound %q is not an id", p.name, table, p.hi)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list partitions of %s: %w", table, err)
	}
	slices.SortFunc(out, func(a, b partition) int {
		switch {
		case a.isDefault != b.isDefault:
			if a.isDefault {
				return 1
			}
			return -1
		default:
			return strings.Compare(a.hi, b.hi)
		}
	})
	return out, nil
}

// partitionStart returns the start of the interval that holds t: whole hours or days in UTC.
func partitionStart(t time.Time, interval time.Duration) time.Time {
	return t.UTC().Truncate(interval)
}

// partitionsAhead is how far past now the partitions are created: a day, and at least three
// intervals, so that maintenance (hourly) always runs before the last one fills.
func partitionsAhead(interval time.Duration) time.Duration {
	return max(3*interval, 24*time.Hour)
}

// partitionName names the partition of table that starts at lo.
func partitionName(table string, lo time.Time) string {
	return table + "_p" + lo.UTC().Format("20060102t15")
}

// ensurePartitions creates, for each partitioned table, the partitions that follow its last
// one up to now+partitionsAhead(interval), each interval wide and aligned to it. After a long
// stop it first creates one partition for the whole gap up to the current interval. Rows that
// the DEFAULT partition holds in a new partition's range move into it. It returns the names of
// the partitions it created.
func ensurePartitions(ctx context.Context, q sqlRunner, interval time.Duration, now time.Time) ([]string, error) {
	if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(partitionLockKey)); err != nil {
		return nil, fmt.Errorf("partitions: lock: %w", err)
	}
	var created []string
	until := now.Add(partitionsAhead(interval))
	for _, pt := range partitionedTables {
		parts, err := listPartitions(ctx, q, pt.table, pt.prefix)
		if err != nil {
			return created, err
		}
		if len(parts) == 0 {
			continue // not partitioned: the database is not migrated to 0016 yet
		}
		var last *partition
		var def string
		for i := range parts {
			if parts[i].isDefault {
				def = parts[i].name
			} else {
				last = &parts[i]
			}
		}
		lo := partitionStart(now, interval)
		if last != nil {
			lo = last.hiT
		}
		for lo.Before(until) {
			hi := partitionStart(lo, interval).Add(interval)
			if cur := partitionStart(now, interval); hi.Before(cur) {
				hi = cur // one partition for the gap up to the current interval
			}
			name := partitionName(pt.table, lo)
			if err := createPartition(ctx, q, pt.table, pt.key, name, def, last, hookline.FirstIDAt(pt.prefix, lo), hookline.FirstIDAt(pt.prefix, hi)); err != nil {
				return created, err
			}
			created = append(created, name)
			lo = hi
		}
	}
	return created, nil
}

// createPartition creates the partition name of table for the keys [lo, hi): an empty table
// like the parent (with the storage options of the partition before it, such as a fillfactor)
// into which the rows of the DEFAULT partition def in that range move, then attached.
func createPartition(ctx context.Context, q sqlRunner, table, key, name, def string, prev *partition, lo, hi string) error {
	with := ""
	if prev != nil {
		var opts sql.NullString
		if err := q.QueryRowContext(ctx, `SELECT array_to_string(reloptions, ', ') FROM pg_class
			WHERE relname = $1 AND relnamespace = current_schema()::regnamespace`, prev.name).Scan(&opts); err != nil {
			return fmt.Errorf("partitions: storage options of %s: %w", prev.name, err)
		}
		if opts.Valid && opts.String != "" {
			with = " WITH (" + opts.String + ")"
		}
	}
	stmts := []string{
		`SET LOCAL lock_timeout = '` + partitionLockTimeout + `'`,
		fmt.Sprintf(`CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)%s`, name, table, with),
	}
	if def != "" {
		stmts = append(stmts, fmt.Sprintf(`WITH moved AS (DELETE FROM %s WHERE %s >= %s AND %s < %s RETURNING *)
			INSERT INTO %s SELECT * FROM moved`, def, key, quoteLit(lo), key, quoteLit(hi), name))
	}
	stmts = append(stmts, fmt.Sprintf(`ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)`, table, name, quoteLit(lo), quoteLit(hi)))
	for _, s := range stmts {
		if _, err := q.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("partitions: create %s: %w", name, err)
		}
	}
	return nil
}

// quoteLit quotes an id bound as an SQL string literal. Bounds come from hookline.FirstIDAt
// (base62 digits and a prefix), so there is nothing to escape; the check keeps it that way.
func quoteLit(s string) string {
	if strings.ContainsAny(s, `'\`) {
		panic("postgres: partition bound with a quote: " + s)
	}
	return "'" + s + "'"
}

// EnsurePartitions creates the partitions of messages and attempts from the last one up to a
// day (and at least three intervals) past the clock's now, and returns their names. Migrate
// runs it; the maintenance leader runs it through Purge, and MaintainPartitions.
func (db *DB) EnsurePartitions(ctx context.Context) ([]string, error) {
	var created []string
	err := db.sqlTx(ctx, func(tx *sql.Tx) error {
		var err error
		created, err = ensurePartitions(ctx, tx, db.partitionInterval, db.now())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", wrapUnavailable(err))
	}
	for _, name := range created {
		db.log.Info("postgres: created partition", "name", name)
	}
	return created, nil
}

// sqlTx runs fn in a transaction of the database/sql view of the pool, committing when it
// returns nil.
func (db *DB) sqlTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// Partitions lists the partitions of table (messages, deliveries or attempts) by name, oldest first, the
// DEFAULT partition last: for tests and operators.
func (db *DB) Partitions(ctx context.Context, table string) ([]string, error) {
	for _, pt := range partitionedTables {
		if pt.table != table {
			continue
		}
		parts, err := listPartitions(ctx, db.sqlDB, pt.table, pt.prefix)
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		names := make([]string, len(parts))
		for i, p := range parts {
			names[i] = p.name
		}
		return names, nil
	}
	return nil, fmt.Errorf("postgres: %s is not partitioned", table)
}
