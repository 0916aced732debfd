package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/hookline/hookline"
	"github.com/jackc/pgx/v5"
)

// ClaimIdempotencyKey inserts an incomplete record for (rec.Scope, rec.Key) and returns
// (nil, nil) when the claim is new, or the record already stored for the key. The insert
// holds across processes: of two concurrent claims one inserts, and the other waits for it
// to commit and then reads its record. A zero rec.CreatedAt is set from the clock.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, rec *hookline.IdempotencyRecord) (*hookline.IdempotencyRecord, error) {
	db.stampCreated(&rec.CreatedAt, nil)
	// Twice at most: the record the insert gave way to may be released before it is read.
	for range 3 {
		tag, err := db.pool.Exec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, completed, status_code, body, created_at)
			VALUES ($1, $2, $3, false, 0, NULL, $4) ON CONFLICT (scope, key) DO NOTHING`,
			rec.Scope, rec.Key, rec.RequestHash, micros(rec.CreatedAt))
		if err != nil {
			return nil, dbErr(err, "claim idempotency key")
		}
		if tag.RowsAffected() == 1 {
			return nil, nil
		}
		var (
			r         = hookline.IdempotencyRecord{Scope: rec.Scope, Key: rec.Key}
			createdAt int64
		)
		err = db.pool.QueryRow(ctx, `SELECT request_hash, completed, status_code, body, created_at
			FROM idempotency_keys WHERE scope = $1 AND key = $2`, rec.Scope, rec.Key).
			Scan(&r.RequestHash, &r.Completed, &r.StatusCode, &r.Body, &createdAt)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // released meanwhile: claim it afresh
		}
		if err != nil {
			return nil, dbErr(err, "claim idempotency key: read existing")
		}
		r.CreatedAt = fromMicros(createdAt)
		return &r, nil
	}
	return nil, errors.New("postgres: claim idempotency key: the key keeps being claimed and released")
}

// CompleteIdempotencyKey stores the response of a claimed key.
func (db *DB) CompleteIdempotencyKey(ctx context.Context, scope, key string, status int, body []byte) error {
	if body == nil {
		body = []byte{} // a completed record has a body, even an empty one
	}
	tag, err := db.pool.Exec(ctx, `UPDATE idempotency_keys SET completed = true, status_code = $1, body = $2
		WHERE scope = $3 AND key = $4`, status, body, scope, key)
	if err := mustAffect(tag, err, "complete idempotency key"); err != nil {
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
	if _, err := db.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key); err != nil {
		return dbErr(err, "release idempotency key")
	}
	return nil
}

// PurgeIdempotencyKeys deletes records created before the given time.
func (db *DB) PurgeIdempotencyKeys(ctx context.Context, before time.Time) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, micros(before)); err != nil {
		return dbErr(err, "purge idempotency keys")
	}
	return nil
}
