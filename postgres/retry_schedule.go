package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
	"github.com/jackc/pgx/v5"
)

// GetRetrySchedule returns the event type's retry schedule; nil when it has none.
func (db *DB) GetRetrySchedule(ctx context.Context, eventType string) ([]time.Duration, error) {
	var col *string
	err := db.pool.QueryRow(ctx, `SELECT retry_schedule FROM event_types WHERE name = $1`, eventType).Scan(&col)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "event type %q not found", eventType)
	}
	if err != nil {
		return nil, dbErr(err, "get retry schedule of %q", eventType)
	}
	s, err := sqlcodec.DecodeRetrySchedule(col)
	if err != nil {
		return nil, fmt.Errorf("postgres: event type %q: %w", eventType, err)
	}
	return s, nil
}

// SetRetrySchedule stores the event type's retry schedule (nil removes it).
func (db *DB) SetRetrySchedule(ctx context.Context, eventType string, schedule []time.Duration) error {
	col, err := sqlcodec.EncodeRetrySchedule(schedule)
	if err != nil {
		return fmt.Errorf("postgres: set retry schedule of %q: %w", eventType, err)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE event_types SET retry_schedule = $1 WHERE name = $2`, col, eventType)
	if err := mustAffect(tag, err, "set retry schedule of %q", eventType); err != nil {
		if errors.Is(err, errNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "event type %q not found", eventType)
		}
		return err
	}
	return nil
}
