package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// SetEndpointTransformation replaces the endpoint's transformation and stamps it (and the
// endpoint) with the clock's time.
func (db *DB) SetEndpointTransformation(ctx context.Context, appID, endpointID string, t hookline.Transformation) (time.Time, error) {
	now := db.now()
	t.UpdatedAt = now
	val, err := sqlcodec.EncodeTransformation(t)
	if err != nil {
		return time.Time{}, fmt.Errorf("postgres: set transformation: %w", err)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE endpoints SET transformation = $1, updated_at = $2 WHERE app_id = $3 AND id = $4`,
		val, micros(now), appID, endpointID)
	if err := mustAffect(tag, err, "set transformation of endpoint %q", endpointID); err != nil {
		if errors.Is(err, errNoRows) {
			return time.Time{}, hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", endpointID)
		}
		return time.Time{}, err
	}
	return now, nil
}
