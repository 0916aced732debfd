package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/hookline/hookline"
)

// ClaimIdempotencyKey inserts an incomplete record for (rec.Scope, rec.Key) and returns
// (nil, nil) when the claim is new, or the record already stored for the key. A zero
// rec.CreatedAt is set from the clock.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, rec *hookline.IdempotencyRecord) (*hookline.IdempotencyRecord, error) {
	db.stampCreated(&rec.CreatedAt, nil)
	var existing *hookline.IdempotencyRecord
	err := db.inTx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, completed, status_code, body, created_at)
			VALUES (?, ?, ?, 0, 0, NULL, ?) ON CONFLICT (scope, key) DO NOTHING`,
			rec.Scope, rec.Key, rec.RequestHash, micros(rec.CreatedAt))
		if err != nil {
			return dbErr(err, "claim idempotency key")
		}
		if n, err := res.RowsAffected(); err != nil {
			return dbErr(err, "claim idempotency key")
		} else if n == 1 {
			return nil
		}
		var (
			r         = hookline.IdempotencyRecord{Scope: rec.Scope, Key: rec.Key}
			createdAt int64
		)
		if err := tx.QueryRowContext(ctx, `SELECT request_hash, completed, status_code, body, created_at
			FROM idempotency_keys WHERE scope = ? AND key = ?`, rec.Scope, rec.Key).
			Scan(&r.RequestHash, &r.Completed, &r.StatusCode, &r.Body, &createdAt); err != nil {
			return dbErr(err, "claim idempotency key: read existing")
		}
		r.CreatedAt = fromMicros(createdAt)
		existing = &r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return existing, nil
}

// CompleteIdempotencyKey stores the response of a claimed key.
func (db *DB) CompleteIdempotencyKey(ctx context.Context, scope, key string, status int, body []byte) error {
	if body == nil {
		body = []byte{} // a completed record has a body, even an empty one
	}
	res, err := db.w.ExecContext(ctx, `UPDATE idempotency_keys SET completed = 1, status_code = ?, body = ?
		WHERE scope = ? AND key = ?`, status, body, scope, key)
	if err := mustAffect(res, err, "complete idempotency key"); err != nil {
		if errors.Is(err, errNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "idempotency key %q not found", key)
		}
		return err
	}
	return nil
}

// ReleaseIdempotencyKey forgets a claimed key; releasing a key that is not stored is not an
// error, since the caller only wants it gone.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, scope, key string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE scope = ? AND key = ?`, scope, key); err != nil {
		return dbErr(err, "release idempotency key")
	}
	return nil
}

// PurgeIdempotencyKeys deletes records created before the given time.
func (db *DB) PurgeIdempotencyKeys(ctx context.Context, before time.Time) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, micros(before)); err != nil {
		return dbErr(err, "purge idempotency keys")
	}
	return nil
}
