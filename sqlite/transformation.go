package sqlite

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
	defer db.targets.forget() // after the change commits
	now := db.now()
	t.UpdatedAt = now
	val, err := sqlcodec.EncodeTransformation(t)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: set transformation: %w", err)
	}
	res, err := db.w.ExecContext(ctx, `UPDATE endpoints SET transformation = ?, updated_at = ? WHERE app_id = ? AND id = ?`,
		val, micros(now), appID, endpointID)
	if err := mustAffect(res, err, "set transformation of endpoint %q", endpointID); err != nil {
		if errors.Is(err, errNoRows) {
			return time.Time{}, hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", endpointID)
		}
		return time.Time{}, err
	}
	return now, nil
}
