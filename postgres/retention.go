package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
)

// Retention on PostgreSQL drops whole partitions: a day of messages or attempts goes with one
// DROP TABLE, which writes no WAL per row and leaves no dead tuple for VACUUM, where a DELETE
// of the same rows costs as much as writing them did. Purge drops a partition only when doing so
// deletes exactly what the row-by-row purge would (see dropMessagePartition and
// dropAttemptPartition); whatever is left (messages still being delivered, rows in the DEFAULT
// or legacy partition) goes row by row as before.

// codeLockNotAvailable is the SQLSTATE of a lock_timeout: the partition is busy; the next
// maintenance run tries again.
const codeLockNotAvailable = "55P03"

// errKeepPartition says a partition cannot be dropped yet; the row-by-row purge handles it.
var errKeepPartition = errors.New("partition holds rows to keep")

// dropPartitions drops the partitions of messages, then of attempts, that end before before
// and hold nothing to keep, and returns how many messages went with them.
func (db *DB) dropPartitions(ctx context.Context, before time.Time) (int, error) {
	total := 0
	msgs, err := listPartitions(ctx, db.sqlDB, "messages", hookline.PrefixMessage)
	if err != nil {
		return 0, err
	}
	dlvs, err := listPartitions(ctx, db.sqlDB, "deliveries", hookline.PrefixMessage)
	if err != nil {
		return 0, err
	}
	for _, p := range msgs {
		if p.isDefault || p.hiT.After(before) {
			continue
		}
		var same string // the partition of deliveries with p's bounds
		for _, d := range dlvs {
			if !d.isDefault && d.lo == p.lo && d.hi == p.hi {
				same = d.name
			}
		}
		began := time.Now()
		n, err := db.dropMessagePartition(ctx, p, same, before)
		switch {
		case errors.Is(err, errKeepPartition) || sqlState(err) == codeLockNotAvailable:
			db.log.Debug("postgres: partition kept", "name", p.name, "err", err)
		case err != nil:
			return total, err
		default:
			total += n
			db.log.Info("postgres: dropped partition", "name", p.name, "deliveries", same, "messages", n, "took", time.Since(began).String())
		}
	}
	return total, nil
}

// dropMessagePartition drops the messages partition p when every message in it was created
// before before and none awaits dispatch or has a delivery pending or sending (Purge's rule),
// with the messages' deliveries (the partition dlv of deliveries with the same bounds, or the
// rows, when deliveries has no such partition), their eventIds, and their attempts made after
// p's range (those made within it go with their own partition). It returns how many messages
// it dropped.
func (db *DB) dropMessagePartition(ctx context.Context, p partition, dlv string, before time.Time) (int, error) {
	var n int
	err := db.sqlTx(ctx, func(tx *sql.Tx) error {
		inRange, args := "msg_id < $1", []any{p.hi}
		if p.lo != "" {
			inRange, args = "msg_id >= $2 AND msg_id < $1", []any{p.hi, p.lo}
		}
		// Taken before the checks, so nothing can add to the partition after them.
		if err := lockPartitions(ctx, tx, p.name); err != nil {
			return err
		}
		var keep bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+p.name+` WHERE created_at >= $1)
			OR EXISTS (SELECT 1 FROM `+p.name+` WHERE dispatch_until IS NOT NULL)`, micros(before)).Scan(&keep); err != nil {
			return fmt.Errorf("drop partition %s: check: %w", p.name, err)
		}
		if !keep && dlv != "" {
			if err := lockPartitions(ctx, tx, dlv); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+dlv+` WHERE status IN (1, 3))`).Scan(&keep); err != nil {
				return fmt.Errorf("drop partition %s: check deliveries: %w", p.name, err)
			}
		} else if !keep {
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE status IN (1, 3) AND `+inRange+`)`,
				args...).Scan(&keep); err != nil {
				return fmt.Errorf("drop partition %s: check deliveries: %w", p.name, err)
			}
		}
		if keep {
			return errKeepPartition
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+p.name).Scan(&n); err != nil {
			return fmt.Errorf("drop partition %s: count: %w", p.name, err)
		}
		dropDeliveries := struct {
			sql  string
			args []any
		}{`DELETE FROM deliveries WHERE ` + inRange, args}
		if dlv != "" {
			dropDeliveries.sql, dropDeliveries.args = `DROP TABLE `+dlv, nil
		}
		for _, s := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM message_event_ids e USING ` + p.name + ` m
				WHERE m.event_id IS NOT NULL AND e.app_id = m.app_id AND e.event_id = m.event_id AND e.msg_id = m.id`, nil},
			dropDeliveries,
			{`DELETE FROM attempts WHERE id >= $` + fmt.Sprint(len(args)+1) + ` AND ` + inRange,
				append(args[:len(args):len(args)], hookline.FirstIDAt(hookline.PrefixAttempt, p.hiT))},
			{`DROP TABLE ` + p.name, nil},
		} {
			if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
				return fmt.Errorf("drop partition %s: %w", p.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// dropAttemptPartitions drops the attempts partitions that end before before and hold no
// attempt of a message that is still there: messages are purged first, so any such message is
// one Purge keeps (still being delivered), or one made within partitionSlack after the
// partition's end whose attempt came from a clock behind.
func (db *DB) dropAttemptPartitions(ctx context.Context, before time.Time) error {
	return db.dropPartitionsWhen(ctx, "attempts", hookline.PrefixAttempt, before, func(tx *sql.Tx, p partition) (bool, error) {
		var keep bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM messages m WHERE m.id < $1
			AND EXISTS (SELECT 1 FROM `+p.name+` a WHERE a.msg_id = m.id))`,
			hookline.FirstIDAt(hookline.PrefixMessage, p.hiT.Add(partitionSlack))).Scan(&keep)
		return keep, err
	})
}

// dropDeliveryPartitions drops the partitions of deliveries that end before before and whose
// messages are all gone: those whose bounds no partition of messages shares (the legacy
// partition of a database that took migration 0017 on another day than 0016), after the
// messages they hold deliveries of were purged.
func (db *DB) dropDeliveryPartitions(ctx context.Context, before time.Time) error {
	return db.dropPartitionsWhen(ctx, "deliveries", hookline.PrefixMessage, before, func(tx *sql.Tx, p partition) (bool, error) {
		inRange, args := "id < $1", []any{p.hi}
		if p.lo != "" {
			inRange, args = "id >= $2 AND id < $1", []any{p.hi, p.lo}
		}
		var keep bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE `+inRange+`)`, args...).Scan(&keep)
		return keep, err
	})
}

// dropPartitionsWhen drops each partition of table that ends before before, unless keep,
// asked once the partition is locked (so nothing is added to it after), says it must stay. A
// kept partition, or one whose lock is not had within partitionLockTimeout, is left for the
// next run.
func (db *DB) dropPartitionsWhen(ctx context.Context, table, prefix string, before time.Time, keep func(tx *sql.Tx, p partition) (bool, error)) error {
	parts, err := listPartitions(ctx, db.sqlDB, table, prefix)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if p.isDefault || p.hiT.After(before) {
			continue
		}
		began := time.Now()
		err := db.sqlTx(ctx, func(tx *sql.Tx) error {
			if err := lockPartitions(ctx, tx, p.name); err != nil {
				return err
			}
			switch kept, err := keep(tx, p); {
			case err != nil:
				return fmt.Errorf("drop partition %s: check: %w", p.name, err)
			case kept:
				return errKeepPartition
			}
			if _, err := tx.ExecContext(ctx, `DROP TABLE `+p.name); err != nil {
				return fmt.Errorf("drop partition %s: %w", p.name, err)
			}
			return nil
		})
		switch {
		case errors.Is(err, errKeepPartition) || sqlState(err) == codeLockNotAvailable:
			db.log.Debug("postgres: partition kept", "name", p.name, "err", err)
		case err != nil:
			return err
		default:
			db.log.Info("postgres: dropped partition", "name", p.name, "took", time.Since(began).String())
		}
	}
	return nil
}

// lockPartitions takes, in tx, the partition lock of the processes (partitionLockKey) and an
// exclusive lock on each named partition, waiting at most partitionLockTimeout for them.
func lockPartitions(ctx context.Context, tx *sql.Tx, names ...string) error {
	stmts := []string{
		`SET LOCAL lock_timeout = '` + partitionLockTimeout + `'`,
		fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, int64(partitionLockKey)),
	}
	for _, name := range names {
		stmts = append(stmts, `LOCK TABLE `+name+` IN ACCESS EXCLUSIVE MODE`)
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("lock partitions %v: %w", names, err)
		}
	}
	return nil
}
