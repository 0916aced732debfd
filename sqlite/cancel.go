package sqlite

import (
	"context"
	"time"
)

// CancelPending cancels the endpoint's pending deliveries of messages created before
// createdBefore.
func (db *DB) CancelPending(ctx context.Context, appID, endpointID string, createdBefore, now time.Time) (int, error) {
	n := 0
	err := db.inTx(ctx, func(tx *txn) error {
		if err := endpointExists(ctx, tx, appID, endpointID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 4, next_attempt_at = NULL,
			lease_owner = NULL, leased_until = NULL, updated_at = ?
			WHERE endpoint_id = ? AND status = 1
			AND EXISTS (SELECT 1 FROM messages WHERE messages.id = deliveries.msg_id AND messages.created_at < ?)`,
			micros(now), endpointID, micros(createdBefore))
		if err != nil {
			return dbErr(err, "cancel pending deliveries")
		}
		affected, err := res.RowsAffected()
		if err != nil {
			return dbErr(err, "cancel pending deliveries")
		}
		n = int(affected)
		return nil
	})
	return n, err
}
