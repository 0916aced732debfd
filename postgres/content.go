package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hookline/hookline"
	"github.com/jackc/pgx/v5"
)

// An UPDATE leaves the row's old version, payload included, in the table until VACUUM
// removes it, and even then VACUUM only marks the space free: the bytes stay in the page until
// a new row overwrites them. ReclaimExpunged therefore rewrites the tables (VACUUM FULL), which
// leaves none of the old bytes in the database's files. A rewrite holds an exclusive lock on
// the partition while it copies it, so by default (ExpungeDeferred) a partition that still
// takes new rows (the current day's, or hour's) is rewritten once its interval is over, and
// older ones at once; ExpungeRewrite rewrites every one at once, and ExpungeVacuum runs a
// plain VACUUM (no lock, but freed bytes may stay in the pages).

// ExpungeMode is how ReclaimExpunged removes expunged content from the database's files.
type ExpungeMode string

// The expunge modes.
const (
	// ExpungeDeferred rewrites (VACUUM FULL) a partition that held expunged content once it
	// takes no new rows: an earlier interval's at once, the current one's when the interval is
	// over (within the maintenance run after it). Nothing that writes now waits for a copy.
	ExpungeDeferred ExpungeMode = "deferred"
	// ExpungeRewrite rewrites every partition that held expunged content at once, the current
	// ones too: inserts into them (every delivery's attempt) wait while they are copied.
	ExpungeRewrite ExpungeMode = "rewrite"
	// ExpungeVacuum runs a plain VACUUM of them: no lock, but the freed bytes may stay in the
	// pages' free space until new rows overwrite them.
	ExpungeVacuum ExpungeMode = "vacuum"
)

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
		_, err := db.expungeIDs(ctx, tx, ids, false, true)
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
		n, err = db.expungeIDs(ctx, tx, ids, true, true)
		return err
	})
	return n, last, err
}

// ExpungeAttempt replaces one attempt's response body.
func (db *DB) ExpungeAttempt(ctx context.Context, appID, attemptID string) error {
	n, err := db.expungeRows(ctx, db.pool, true, `UPDATE attempts SET response = $2 WHERE app_id = $3 AND id = $4`,
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
//
// With note, the partitions it changed are noted for ReclaimExpunged to rewrite.
func (db *DB) expungeIDs(ctx context.Context, tx pgx.Tx, ids []string, near, note bool) (int, error) {
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
	n, err := db.expungeRows(ctx, tx, note, `UPDATE messages SET payload = '\x'::bytea, dispatch_owner = NULL, dispatch_until = NULL
		WHERE id = ANY($2::text[]) AND (length(payload) > 0 OR dispatch_until IS NOT NULL)`, ids)
	if err != nil {
		return 0, dbErr(err, "expunge messages")
	}
	if _, err := db.expungeRows(ctx, tx, note, `UPDATE attempts SET response = $3 WHERE msg_id = ANY($2::text[]) AND response <> $3`,
		ids, hookline.ExpungedResponse); err != nil {
		return 0, dbErr(err, "expunge attempts")
	}
	// Nothing more is sent: a retry would deliver an empty body.
	if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = $1, next_attempt_at = NULL, updated_at = $2
		WHERE msg_id = ANY($3::text[]) AND status = $4`, int(hookline.StatusFail), micros(db.now()), ids, int(hookline.StatusPending)); err != nil {
		return 0, dbErr(err, "expunge: end pending deliveries")
	}
	// A stored Idempotency-Key response of the message's creation holds its payload too.
	if _, err := tx.Exec(ctx, `WITH d AS (DELETE FROM idempotency_keys WHERE created_at BETWEEN $2 AND $3 AND body IS NOT NULL
			AND EXISTS (SELECT 1 FROM unnest($1::text[]) AS m(id) WHERE position(convert_to(m.id, 'UTF8') IN body) > 0)
			RETURNING 1)
		INSERT INTO expunge_reclaims (relation, noted_at) SELECT 'idempotency_keys', $4::bigint WHERE $5 AND EXISTS (SELECT 1 FROM d)`,
		ids, from, to, micros(db.now()), note); err != nil {
		return 0, dbErr(err, "expunge: idempotency records")
	}
	return n, nil
}

// expungeRows runs update, an UPDATE of messages or attempts whose arguments are $2 on, and
// with note notes the partitions of the rows it changed in expunge_reclaims, in the same
// statement; it returns how many rows it changed.
func (db *DB) expungeRows(ctx context.Context, q querier, note bool, update string, args ...any) (int, error) {
	var n int
	err := q.QueryRow(ctx, `WITH u AS (`+update+` RETURNING tableoid::regclass::text AS part),
		noted AS (INSERT INTO expunge_reclaims (relation, noted_at) SELECT DISTINCT part, $1::bigint FROM u WHERE $`+
		fmt.Sprint(len(args)+2)+`::boolean)
		SELECT count(*) FROM u`, append(append([]any{micros(db.now())}, args...), note)...).Scan(&n)
	return n, err
}

// ExpirePayloads expunges the payloads whose retention has ended; see hookline.ContentStore.
func (db *DB) ExpirePayloads(ctx context.Context, now time.Time, limit int) (int, error) {
	var n int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM messages WHERE payload_expires_at <= $1 AND length(payload) > 0
			ORDER BY payload_expires_at LIMIT $2`, micros(now), limit)
		if err != nil {
			return dbErr(err, "expire payloads: find messages")
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return dbErr(err, "expire payloads: find messages")
		}
		n, err = db.expungeIDs(ctx, tx, ids, true, false)
		return err
	})
	return n, err
}

// ReclaimExpunged rewrites (VACUUM FULL, or a plain VACUUM with ExpungeVacuum) the relations
// noted in expunge_reclaims, by any process, that are due: with ExpungeDeferred those that take
// no new rows any more (see ExpungeMode), with the other modes all; a note is dropped once its
// relation is rewritten (or gone). VACUUM can drop only versions that no open transaction may
// still see, so it first waits (up to reclaimWait) for the transactions of this database that
// are older than the call to end; what a longer one holds back stays until a later vacuum.
func (db *DB) ReclaimExpunged(ctx context.Context) error {
	var mark string
	if err := db.pool.QueryRow(ctx, `SELECT pg_current_xact_id()::xid::text`).Scan(&mark); err != nil {
		return dbErr(err, "reclaim expunged content: mark")
	}
	due, err := db.dueReclaims(ctx)
	if err != nil || len(due) == 0 {
		return err
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
	vacuum := `VACUUM FULL `
	if db.expunge == ExpungeVacuum {
		vacuum = `VACUUM `
	}
	for _, r := range due {
		if r.exists {
			if _, err := db.pool.Exec(ctx, vacuum+pgx.Identifier{r.name}.Sanitize()); err != nil {
				return dbErr(err, "reclaim expunged content: vacuum %s", r.name)
			}
		}
		if _, err := db.pool.Exec(ctx, `DELETE FROM expunge_reclaims WHERE relation = $1 AND seq <= $2`, r.name, r.upTo); err != nil {
			return dbErr(err, "reclaim expunged content: drop the notes of %s", r.name)
		}
	}
	return nil
}

// reclaim is a relation noted in expunge_reclaims: its name, the last note's seq, and whether
// it still exists (a partition may have been dropped by retention since).
type reclaim struct {
	name   string
	upTo   int64
	exists bool
}

// dueReclaims returns the noted relations that ReclaimExpunged rewrites now.
func (db *DB) dueReclaims(ctx context.Context) ([]reclaim, error) {
	rows, err := db.pool.Query(ctx, `SELECT relation, max(seq), to_regclass(relation) IS NOT NULL
		FROM expunge_reclaims GROUP BY relation ORDER BY relation`)
	if err != nil {
		return nil, dbErr(err, "reclaim expunged content: notes")
	}
	noted, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (reclaim, error) {
		var r reclaim
		err := row.Scan(&r.name, &r.upTo, &r.exists)
		return r, err
	})
	if err != nil {
		return nil, dbErr(err, "reclaim expunged content: notes")
	}
	if len(noted) == 0 || db.expunge == ExpungeRewrite || db.expunge == ExpungeVacuum {
		return noted, nil
	}
	// Deferred: leave the partitions whose range reaches past now (less partitionSlack, for
	// rows from clocks a little behind); the DEFAULT partitions, the legacy ones and other
	// tables are due.
	open := map[string]bool{}
	now := db.now()
	for _, t := range partitionedTables {
		if t.table == "deliveries" {
			continue
		}
		parts, err := listPartitions(ctx, db.sqlDB, t.table, t.prefix)
		if err != nil {
			return nil, dbErr(err, "reclaim expunged content")
		}
		for _, p := range parts {
			if !p.isDefault && p.hiT.Add(partitionSlack).After(now) {
				open[p.name] = true
			}
		}
	}
	return slices.DeleteFunc(noted, func(r reclaim) bool { return r.exists && open[r.name] }), nil
}

// reclaimWait bounds how long ReclaimExpunged waits for older transactions to end.
const reclaimWait = 30 * time.Second

// idempotencySlack is how far from a message's creation (in microseconds) the Idempotency-Key
// response that created it can have been stored.
const idempotencySlack = int64(60_000_000)
