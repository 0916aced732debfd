package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hookline/hookline"
)

// The writer runs with secure_delete on (see Open): SQLite overwrites with zeros the space and
// the overflow pages that old payloads and response bodies leave free, whether an expunge or an
// earlier update of the row freed them. ReclaimExpunged copies those pages into the database
// file and empties the WAL, whose older frames still hold the content.

// ExpungeMessages empties the payloads of the named messages; see hookline.ContentStore.
func (db *DB) ExpungeMessages(ctx context.Context, appID string, idsOrEventIDs []string) (map[string]bool, error) {
	found := make(map[string]bool, len(idsOrEventIDs))
	err := db.inExpungeTx(ctx, func(tx *txn) error {
		var ids []string
		for _, name := range idsOrEventIDs {
			var id string
			err := tx.QueryRowContext(ctx, `SELECT id FROM messages WHERE app_id = ? AND (id = ? OR event_id = ?)
				ORDER BY id = ? DESC LIMIT 1`, appID, name, name, name).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
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
	if beforeID == "" {
		beforeID = "\U0010FFFF" // after every id
	}
	var n int
	var last string
	err := db.inExpungeTx(ctx, func(tx *txn) error {
		ids, err := messageIDs(ctx, tx, `SELECT id FROM messages WHERE app_id = ? AND id > ? AND id < ? ORDER BY id LIMIT ?`, appID, afterID, beforeID, limit)
		if err != nil {
			return dbErr(err, "expunge: list messages")
		}
		if len(ids) > 0 {
			last = ids[len(ids)-1]
		}
		n, err = db.expungeIDs(ctx, tx, ids, true)
		return err
	})
	return n, last, err
}

// ExpirePayloads expunges the payloads whose retention has ended; see hookline.ContentStore.
func (db *DB) ExpirePayloads(ctx context.Context, now time.Time, limit int) (int, error) {
	var n int
	err := db.inExpungeTx(ctx, func(tx *txn) error {
		ids, err := messageIDs(ctx, tx, `SELECT id FROM messages WHERE payload_expires_at <= ? AND length(payload) > 0
			ORDER BY payload_expires_at LIMIT ?`, micros(now), limit)
		if err != nil {
			return dbErr(err, "expire payloads: find messages")
		}
		n, err = db.expungeIDs(ctx, tx, ids, true)
		return err
	})
	return n, err
}

// messageIDs runs query, which selects one id column, in tx and returns the ids.
func messageIDs(ctx context.Context, tx *txn, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// ExpungeAttempt replaces one attempt's response body.
func (db *DB) ExpungeAttempt(ctx context.Context, appID, attemptID string) error {
	return db.inExpungeTx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE attempts SET response = ? WHERE app_id = ? AND id = ?`,
			hookline.ExpungedResponse, appID, attemptID)
		if err != nil {
			return dbErr(err, "expunge attempt %q", attemptID)
		}
		if n, err := res.RowsAffected(); err != nil {
			return dbErr(err, "expunge attempt %q", attemptID)
		} else if n == 0 {
			return hookline.Errorf(hookline.ENOTFOUND, "attempt %q not found", attemptID)
		}
		return nil
	})
}

// expungeIDs expunges the messages with these ids (of one application) and returns how many
// still had a payload. The stored Idempotency-Key responses that name them are found by
// looking through every stored response, or, with near, through those stored within a minute
// of the messages' creation (the answers that created them): a page of expunge-all then does
// not read every stored response again.
func (db *DB) expungeIDs(ctx context.Context, tx *txn, ids []string, near bool) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	list := jsonArray(ids)
	from, to := int64(-1<<63), int64(1<<63-1)
	if near {
		if err := tx.QueryRowContext(ctx, `SELECT min(created_at), max(created_at) FROM messages WHERE id IN (`+idList+`)`, list).Scan(&from, &to); err != nil {
			return 0, dbErr(err, "expunge: creation times")
		}
		from, to = from-idempotencySlack, to+idempotencySlack
	}
	res, err := tx.ExecContext(ctx, `UPDATE messages SET payload = x'', dispatch_owner = NULL, dispatch_until = NULL
		WHERE id IN (`+idList+`) AND (length(payload) > 0 OR dispatch_until IS NOT NULL)`, list)
	if err != nil {
		return 0, dbErr(err, "expunge messages")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, dbErr(err, "expunge messages")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE attempts SET response = ? WHERE msg_id IN (`+idList+`) AND response <> ?`,
		hookline.ExpungedResponse, list, hookline.ExpungedResponse); err != nil {
		return 0, dbErr(err, "expunge attempts")
	}
	// Nothing more is sent: a retry would deliver an empty body.
	now := micros(db.now())
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = ?, next_attempt_at = NULL, updated_at = ?
		WHERE msg_id IN (`+idList+`) AND status = ?`, hookline.StatusFail, now, list, hookline.StatusPending); err != nil {
		return 0, dbErr(err, "expunge: end pending deliveries")
	}
	// A stored Idempotency-Key response of the message's creation holds its payload too.
	if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at BETWEEN ? AND ? AND body IS NOT NULL
		AND EXISTS (SELECT 1 FROM json_each(?) WHERE instr(body, CAST(value AS BLOB)) > 0)`, from, to, list); err != nil {
		return 0, dbErr(err, "expunge: idempotency records")
	}
	return int(n), nil
}

// inExpungeTx runs fn in a write transaction. The writer runs with secure_delete on (see
// Open): the space the transaction frees is overwritten with zeros.
func (db *DB) inExpungeTx(ctx context.Context, fn func(tx *txn) error) error {
	return db.inTx(ctx, fn)
}

// ReclaimExpunged copies the WAL into the database file and truncates it: the WAL's older
// frames still hold the pages as they were before the expunges. It waits (up to the busy
// timeout) for readers of older snapshots to finish; a WAL it could not truncate then is
// reported as an error, and its frames are overwritten as the WAL is reused.
func (db *DB) ReclaimExpunged(ctx context.Context) error {
	var busy, frames, copied int
	if err := db.ck.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied); err != nil {
		return dbErr(err, "reclaim expunged content: checkpoint")
	}
	if busy != 0 {
		return hookline.Errorf(hookline.EUNAVAILABLE, "the database was too busy to truncate its WAL after the expunge; try again")
	}
	return nil
}

// idempotencySlack is how far from a message's creation (in microseconds) the Idempotency-Key
// response that created it can have been stored.
const idempotencySlack = int64(60_000_000)
