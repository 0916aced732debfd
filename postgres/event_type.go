package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
	"github.com/jackc/pgx/v5"
)

// CreateEventType inserts et. A zero CreatedAt or UpdatedAt is set from the clock.
func (db *DB) CreateEventType(ctx context.Context, et *hookline.EventType) error {
	if et.Name == "" {
		return errors.New("postgres: create event type: Name is empty")
	}
	schemas, err := sqlcodec.EncodeSchemas(et.Schemas)
	if err != nil {
		return fmt.Errorf("postgres: create event type %q: %w", et.Name, err)
	}
	db.stampCreated(&et.CreatedAt, &et.UpdatedAt)
	_, err = db.pool.Exec(ctx, `INSERT INTO event_types (`+sqlcodec.EventTypeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		et.Name, et.Description, et.Archived, et.Deprecated, et.FeatureFlag, et.GroupName, schemas,
		micros(et.CreatedAt), micros(et.UpdatedAt))
	if isUniqueViolation(err) {
		return hookline.Errorf(hookline.ECONFLICT, "event type %q already exists", et.Name)
	}
	if err != nil {
		return dbErr(err, "create event type %q", et.Name)
	}
	return nil
}

// GetEventType finds an event type by name, archived ones included.
func (db *DB) GetEventType(ctx context.Context, name string) (*hookline.EventType, error) {
	et, err := sqlcodec.ScanEventType(db.pool.QueryRow(ctx, `SELECT `+sqlcodec.EventTypeColumns+` FROM event_types WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "event type %q not found", name)
	}
	if err != nil {
		return nil, dbErr(err, "get event type %q", name)
	}
	return et, nil
}

// ListEventTypes lists event types by name; the iterator is a name.
func (db *DB) ListEventTypes(ctx context.Context, opts hookline.EventTypeListOptions) (hookline.Page[hookline.EventType], error) {
	var a args
	cond, tail, reverse := pageQuery(&a, "name", opts.ListOptions)
	archived := ""
	if !opts.IncludeArchived {
		archived = "NOT archived"
	}
	out, err := queryAll(ctx, db, `SELECT `+sqlcodec.EventTypeColumns+` FROM event_types`+where(cond, archived)+tail, a, sqlcodec.ScanEventType)
	if err != nil {
		return hookline.Page[hookline.EventType]{}, dbErr(err, "list event types")
	}
	return finishPage(out, opts.ListOptions, reverse), nil
}

// UpdateEventType stores every field of et (found by name) and sets its UpdatedAt to the
// clock's time.
func (db *DB) UpdateEventType(ctx context.Context, et *hookline.EventType) error {
	schemas, err := sqlcodec.EncodeSchemas(et.Schemas)
	if err != nil {
		return fmt.Errorf("postgres: update event type %q: %w", et.Name, err)
	}
	updatedAt := db.now()
	tag, err := db.pool.Exec(ctx, `UPDATE event_types SET description = $1, archived = $2, deprecated = $3,
		feature_flag = $4, group_name = $5, schemas = $6, updated_at = $7 WHERE name = $8`,
		et.Description, et.Archived, et.Deprecated, et.FeatureFlag, et.GroupName, schemas, micros(updatedAt), et.Name)
	if err := mustAffect(tag, err, "update event type %q", et.Name); err != nil {
		if errors.Is(err, errNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "event type %q not found", et.Name)
		}
		return err
	}
	et.UpdatedAt = updatedAt
	return nil
}

// DeleteEventType removes the event type. Messages keep their event type name.
func (db *DB) DeleteEventType(ctx context.Context, name string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM event_types WHERE name = $1`, name)
	if err := mustAffect(tag, err, "delete event type %q", name); err != nil {
		if errors.Is(err, errNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "event type %q not found", name)
		}
		return err
	}
	return nil
}
