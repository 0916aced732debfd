package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// UpdateEndpointReceiver applies change to the endpoint's sealed receiver settings in one write
// transaction and stamps its UpdatedAt.
func (db *DB) UpdateEndpointReceiver(ctx context.Context, appID, endpointID string, change func(*hookline.Receiver) error) (hookline.Receiver, time.Time, error) {
	defer db.targets.forget() // after the change commits
	var (
		r         hookline.Receiver
		updatedAt time.Time
	)
	err := db.inTx(ctx, func(tx *txn) error {
		var sealed *string
		err := tx.QueryRowContext(ctx, `SELECT `+sqlcodec.EndpointReceiverColumn+` FROM endpoints WHERE app_id = ? AND id = ?`,
			appID, endpointID).Scan(&sealed)
		if errors.Is(err, sql.ErrNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", endpointID)
		}
		if err != nil {
			return dbErr(err, "read endpoint receiver %q", endpointID)
		}
		if sealed != nil {
			if r, err = sqlcodec.OpenReceiver(db.box, *sealed); err != nil {
				return err
			}
		}
		if err := change(&r); err != nil {
			return err
		}
		if sealed, err = sqlcodec.SealReceiver(db.box, r); err != nil {
			return err
		}
		updatedAt = db.now()
		_, err = tx.ExecContext(ctx, `UPDATE endpoints SET `+sqlcodec.EndpointReceiverColumn+` = ?, updated_at = ?
			WHERE app_id = ? AND id = ?`, sealed, micros(updatedAt), appID, endpointID)
		if err != nil {
			return dbErr(err, "set endpoint receiver %q", endpointID)
		}
		return nil
	})
	if err != nil {
		return hookline.Receiver{}, time.Time{}, err
	}
	return r, updatedAt, nil
}
