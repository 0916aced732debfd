package postgres

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/jackc/pgx/v5"
)

// An UPDATE leaves the row's old version, payload included, in the table until VACUUM
// removes it, and even then VACUUM only marks the space free: the bytes stay in the page until
// a new row overwrites them. ReclaimExpunged therefore rewrites the tables (VACUUM FULL), which
// leaves none of the old bytes in the database's files, unless Options.ExpungeVacuumOnly says
// a plain VACUUM (no lock) is enough.

// ExpungeMessages empties the payloads of the named messages; see hookline.ContentStore.
func (db *DB) ExpungeMessages(ctx context.Context, appID string, idsOrEventIDs []string) (map[string]bool, error) {
	var found map[string]bool
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		found = make(map[string]bool, len(idsOrEventIDs))
		var ids []string
		for _, name := range idsOrEventIDs {
			var id string
			err := tx.QueryRow(ctx, `SELECT id FROM messages WHERE app_id = $1 AND id IN ($2, (`+eventIDLookup+`))
				ORDER BY id = $2 DESC LIMIT 1`, appID, name).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				found[name] = false
				continue
			}
			if err != nil {
				return dbErr(err, "expunge: find message %q", name)
			}
			found[name] = true
			ids = append(ids, id)
		}
		_, err := db.expungeIDs(ctx, tx, ids, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// ExpungeMessagesAfter expunges the application's next messages after afterID; see
// hookline.ContentStore.
func (db *DB) ExpungeMessagesAfter(ctx context.Context, appID, afterID, beforeID string, limit int) (int, string, error) {
	var n int
	var last string
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM messages WHERE app_id = $1 AND id > $2 AND ($3 = '' OR id < $3) ORDER BY id LIMIT $4`, appID, afterID, beforeID, limit)
		if err != nil {
			return dbErr(err, "expunge: list messages")
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return dbErr(err, "expunge: list messages")
		}
		last = ""
		if len(ids) > 0 {
			last = ids[len(ids)-1]
		}
		n, err = db.expungeIDs(ctx, tx, ids, true)
		return err
	})
	return n, last, err
}

// ExpungeAttempt replaces one attempt's response body.
func (db *DB) ExpungeAttempt(ctx context.Context, appID, attemptID string) error {
	n, err := db.expungeRows(ctx, db.pool, `UPDATE attempts SET response = $1 WHERE app_id = $2 AND id = $3`,
		hookline.ExpungedResponse, appID, attemptID)
	if err != nil {
		return dbErr(err, "expunge attempt %q", attemptID)
	}
	if n == 0 {
		return hookline.Errorf(hookline.ENOTFOUND, "attempt %q not found", attemptID)
	}
	return nil
}

// expungeIDs expunges the messages with these ids (of one application) and returns how many
// still had a payload. The stored Idempotency-Key responses that name them are found by
// looking through every stored response, or, with near, through those stored within a minute
// of the messages' creation (the answers that created them): a page of expunge-all then does
// not read every stored response again.
func (db *DB) expungeIDs(ctx context.Context, tx pgx.Tx, ids []string, near bool) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	from, to := int64(-1<<63), int64(1<<63-1)
	if near {
		if err := tx.QueryRow(ctx, `SELECT min(created_at), max(created_at) FROM messages WHERE id = ANY($1::text[])`, ids).Scan(&from, &to); err != nil {
			return 0, dbErr(err, "expunge: creation times")
		}
		from, to = from-idempotencySlack, to+idempotencySlack
	}
	n, err := db.expungeRows(ctx, tx, `UPDATE messages SET payload = '\x'::bytea, dispatch_owner = NULL, dispatch_until = NULL
		WHERE id = ANY($1::text[]) AND (length(payload) > 0 OR dispatch_until IS NOT NULL)`, ids)
	if err != nil {
		return 0, dbErr(err, "expunge messages")
	}
	if _, err := db.expungeRows(ctx, tx, `UPDATE attempts SET response = $2 WHERE msg_id = ANY($1::text[]) AND response <> $2`,
		ids, hookline.ExpungedResponse); err != nil {
		return 0, dbErr(err, "expunge attempts")
	}
	// Nothing more is sent: a retry would deliver an empty body.
	if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = $1, next_attempt_at = NULL, updated_at = $2
		WHERE msg_id = ANY($3::text[]) AND status = $4`, int(hookline.StatusFail), micros(db.now()), ids, int(hookline.StatusPending)); err != nil {
		return 0, dbErr(err, "expunge: end pending deliveries")
	}
	// A stored Idempotency-Key response of the message's creation holds its payload too.
	if _, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at BETWEEN $2 AND $3 AND body IS NOT NULL
		AND EXISTS (SELECT 1 FROM unnest($1::text[]) AS m(id) WHERE position(convert_to(m.id, 'UTF8') IN body) > 0)`, ids, from, to); err != nil {
		return 0, dbErr(err, "expunge: idempotency records")
	}
	return n, nil
}

// expungeRows runs update, an UPDATE of messages or attempts, and notes the partitions of the
// rows it changed for ReclaimExpunged; it returns how many rows it changed.
func (db *DB) expungeRows(ctx context.Context, q querier, update string, args ...any) (int, error) {
	rows, err := q.Query(ctx, `WITH u AS (`+update+` RETURNING tableoid::regclass::text AS part)
		SELECT part, count(*) FROM u GROUP BY part`, args...)
	if err != nil {
		return 0, err
	}
	n := 0
	var parts []string
	for rows.Next() {
		var part string
		var k int
		if err := rows.Scan(&part, &k); err != nil {
			rows.Close()
			return 0, err
		}
		parts = append(parts, part)
		n += k
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	db.expunged.Lock()
	for _, p := range parts {
		db.expunged.parts[p] = true
	}
	db.expunged.Unlock()
	return n, nil
}

// ReclaimExpunged rewrites the tables that expunges change (VACUUM FULL, or a plain VACUUM
// with Options.ExpungeVacuumOnly), which removes the old row versions that still hold the
// content: of messages and attempts, only the partitions that this process's expunges changed
// (a day's or an hour's rows each), unless it noted none. A rewrite locks each table while it copies it: requests that write it wait. VACUUM
// can drop only versions that no open transaction may still see, so it first waits (up to
// reclaimWait) for the transactions of this database that are older than the call to end;
// what a longer one holds back stays until a later vacuum.
func (db *DB) ReclaimExpunged(ctx context.Context) error {
	var mark string
	if err := db.pool.QueryRow(ctx, `SELECT pg_current_xact_id()::xid::text`).Scan(&mark); err != nil {
		return dbErr(err, "reclaim expunged content: mark")
	}
	deadline := time.Now().Add(reclaimWait)
	for {
		var older int
		err := db.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
			AND (age(backend_xmin) >= age($1::xid) OR age(backend_xid) >= age($1::xid))`, mark).Scan(&older)
		if err != nil {
			return dbErr(err, "reclaim expunged content: wait for older transactions")
		}
		if older == 0 {
			break
		}
		if time.Now().After(deadline) {
			db.log.Warn("postgres: transactions older than an expunge are still open; vacuuming anyway, what they hold back stays until a later vacuum", "transactions", older)
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	tables, err := db.expungedTables(ctx)
	if err != nil {
		return err
	}
	vacuum := `VACUUM FULL `
	if db.expungeVacuumOnly {
		vacuum = `VACUUM `
	}
	if _, err := db.pool.Exec(ctx, vacuum+strings.Join(tables, ", ")); err != nil {
		return dbErr(err, "reclaim expunged content: vacuum")
	}
	return nil
}

// expungedTables takes the partitions of messages and attempts that expunges by this process
// changed since the last call, those that still exist, and adds idempotency_keys: the tables to
// rewrite. Without any noted (another process expunged, or this one restarted since) it returns
// the whole tables.
func (db *DB) expungedTables(ctx context.Context) ([]string, error) {
	db.expunged.Lock()
	noted := slices.Sorted(maps.Keys(db.expunged.parts))
	clear(db.expunged.parts)
	db.expunged.Unlock()
	if len(noted) == 0 {
		return []string{"messages", "attempts", "idempotency_keys"}, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT p FROM unnest($1::text[]) AS p WHERE to_regclass(p) IS NOT NULL`, noted)
	if err != nil {
		return nil, dbErr(err, "reclaim expunged content: find partitions")
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, dbErr(err, "reclaim expunged content: find partitions")
	}
	return append(tables, "idempotency_keys"), nil
}

// reclaimWait bounds how long ReclaimExpunged waits for older transactions to end.
const reclaimWait = 30 * time.Second

// idempotencySlack is how far from a message's creation (in microseconds) the Idempotency-Key
// response that created it can have been stored.
const idempotencySlack = int64(60_000_000)
