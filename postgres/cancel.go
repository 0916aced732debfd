package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// CancelPending cancels the endpoint's pending deliveries of messages created before
// createdBefore. A delivery a claim is taking at the same moment is locked by it and becomes
// sending; the UPDATE then finds it no longer pending and leaves it.
func (db *DB) CancelPending(ctx context.Context, appID, endpointID string, createdBefore, now time.Time) (int, error) {
	n := 0
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := endpointExists(ctx, tx, appID, endpointID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET status = 4, next_attempt_at = NULL,
			lease_owner = NULL, leased_until = NULL, updated_at = $1
			WHERE endpoint_id = $2 AND status = 1
			AND EXISTS (SELECT 1 FROM messages WHERE messages.id = deliveries.msg_id AND messages.created_at < $3)`,
			micros(now), endpointID, micros(createdBefore))
		if err != nil {
			return dbErr(err, "cancel pending deliveries")
		}
		n = int(tag.RowsAffected())
		return nil
	})
	return n, err
}
