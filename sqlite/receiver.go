package sqlite

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
	defer db.targets.forget() // after the change commits
	sealed, err := sqlcodec.SealReceiver(db.box, r)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: set endpoint receiver: %w", err)
	}
	updatedAt := db.now()
	res, err := db.w.ExecContext(ctx, `UPDATE endpoints SET `+sqlcodec.EndpointReceiverColumn+` = ?, updated_at = ?
		WHERE app_id = ? AND id = ?`, sealed, micros(updatedAt), appID, endpointID)
	if err := mustAffect(res, err, "set endpoint receiver %q", endpointID); err != nil {
		if errors.Is(err, errNoRows) {
			return time.Time{}, hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", endpointID)
		}
		return time.Time{}, err
	}
	return updatedAt, nil
}
