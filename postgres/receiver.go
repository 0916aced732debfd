package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// SetEndpointReceiver replaces the endpoint's sealed receiver settings and stamps its UpdatedAt.
func (db *DB) SetEndpointReceiver(ctx context.Context, appID, endpointID string, r hookline.Receiver) (time.Time, error) {
	sealed, err := sqlcodec.SealReceiver(db.box, r)
	if err != nil {
		return time.Time{}, fmt.Errorf("postgres: set endpoint receiver: %w", err)
	}
	updatedAt := db.now()
	tag, err := db.pool.Exec(ctx, `UPDATE endpoints SET `+sqlcodec.EndpointReceiverColumn+` = $1, updated_at = $2
		WHERE app_id = $3 AND id = $4`, sealed, micros(updatedAt), appID, endpointID)
	if err := mustAffect(tag, err, "set endpoint receiver %q", endpointID); err != nil {
		if errors.Is(err, errNoRows) {
			return time.Time{}, hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", endpointID)
		}
		return time.Time{}, err
	}
	return updatedAt, nil
}
