package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// SetEndpointDestination replaces the endpoint's sealed destination and stamps its UpdatedAt.
func (db *DB) SetEndpointDestination(ctx context.Context, appID, endpointID string, d *hookline.Destination) (time.Time, error) {
	defer db.targets.forget() // after the change commits
	sealed, err := sqlcodec.SealDestination(db.box, d)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: set endpoint destination: %w", err)
	}
	updatedAt := db.now()
	res, err := db.w.ExecContext(ctx, `UPDATE endpoints SET `+sqlcodec.EndpointDestinationColumn+` = ?, updated_at = ?
		WHERE app_id = ? AND id = ?`, sealed, micros(updatedAt), appID, endpointID)
	if err := mustAffect(res, err, "set endpoint destination %q", endpointID); err != nil {
		if errors.Is(err, errNoRows) {
			return time.Time{}, hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", endpointID)
		}
		return time.Time{}, err
	}
	return updatedAt, nil
}
