package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// GetRetrySchedule returns the event type's retry schedule; nil when it has none.
func (db *DB) GetRetrySchedule(ctx context.Context, eventType string) ([]time.Duration, error) {
	var col sql.NullString
	err := db.r.QueryRowContext(ctx, `SELECT retry_schedule FROM event_types WHERE name = ?`, eventType).Scan(&col)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "event type %q not found", eventType)
	}
	if err != nil {
		return nil, dbErr(err, "get retry schedule of %q", eventType)
	}
	var p *string
	if col.Valid {
		p = &col.String
	}
	s, err := sqlcodec.DecodeRetrySchedule(p)
	if err != nil {
		return nil, fmt.Errorf("sqlite: event type %q: %w", eventType, err)
	}
	return s, nil
}

// SetRetrySchedule stores the event type's retry schedule (nil removes it).
func (db *DB) SetRetrySchedule(ctx context.Context, eventType string, schedule []time.Duration) error {
	col, err := sqlcodec.EncodeRetrySchedule(schedule)
	if err != nil {
		return fmt.Errorf("sqlite: set retry schedule of %q: %w", eventType, err)
	}
	res, err := db.w.ExecContext(ctx, `UPDATE event_types SET retry_schedule = ? WHERE name = ?`, col, eventType)
	if err := mustAffect(res, err, "set retry schedule of %q", eventType); err != nil {
		if errors.Is(err, errNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "event type %q not found", eventType)
		}
		return err
	}
	return nil
}
