package postgres

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
	sealed, err := sqlcodec.SealDestination(db.box, d)
	if err != nil {
		return time.Time{}, fmt.Errorf("postgres: set endpoint destination: %w", err)
	}
	updatedAt := db.now()
	tag, err := db.pool.Exec(ctx, `UPDATE endpoints SET `+sqlcodec.EndpointDestinationColumn+` = $1, updated_at = $2
		WHERE app_id = $3 AND id = $4`, sealed, micros(updatedAt), appID, endpointID)
	if err := mustAffect(tag, err, "set endpoint destination %q", endpointID); err != nil {
		if errors.Is(err, errNoRows) {
			return time.Time{}, hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", endpointID)
		}
		return time.Time{}, err
	}
	return updatedAt, nil
}
