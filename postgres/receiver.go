package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
	"github.com/jackc/pgx/v5"
)

// UpdateEndpointReceiver applies change to the endpoint's sealed receiver settings in one
// transaction, the row locked, and stamps its UpdatedAt.
func (db *DB) UpdateEndpointReceiver(ctx context.Context, appID, endpointID string, change func(*hookline.Receiver) error) (hookline.Receiver, time.Time, error) {
	var (
		r         hookline.Receiver
		updatedAt time.Time
	)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		r = hookline.Receiver{} // inTx may run this again
		var sealed *string
		err := tx.QueryRow(ctx, `SELECT `+sqlcodec.EndpointReceiverColumn+` FROM endpoints WHERE app_id = $1 AND id = $2 FOR UPDATE`,
			appID, endpointID).Scan(&sealed)
		if errors.Is(err, pgx.ErrNoRows) {
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
		_, err = tx.Exec(ctx, `UPDATE endpoints SET `+sqlcodec.EndpointReceiverColumn+` = $1, updated_at = $2
			WHERE app_id = $3 AND id = $4`, sealed, micros(updatedAt), appID, endpointID)
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
