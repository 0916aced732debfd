package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// CreateEventType inserts et. A zero CreatedAt or UpdatedAt is set from the clock.
func (db *DB) CreateEventType(ctx context.Context, et *hookline.EventType) error {
	if et.Name == "" {
		return errors.New("sqlite: create event type: Name is empty")
	}
	schemas, err := sqlcodec.EncodeSchemas(et.Schemas)
	if err != nil {
		return fmt.Errorf("sqlite: create event type %q: %w", et.Name, err)
	}
	db.stampCreated(&et.CreatedAt, &et.UpdatedAt)
	_, err = db.w.ExecContext(ctx, `INSERT INTO event_types (`+sqlcodec.EventTypeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
	et, err := sqlcodec.ScanEventType(db.r.QueryRowContext(ctx, `SELECT `+sqlcodec.EventTypeColumns+` FROM event_types WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "event type %q not found", name)
	}
	if err != nil {
		return nil, dbErr(err, "get event type %q", name)
	}
	return et, nil
}

// ListEventTypes lists event types by name; the iterator is a name.
func (db *DB) ListEventTypes(ctx context.Context, opts hookline.EventTypeListOptions) (hookline.Page[hookline.EventType], error) {
	cond, args, tail, reverse := pageQuery("name", opts.ListOptions)
	conds := []string{cond}
	if !opts.IncludeArchived {
		conds = append(conds, "archived = 0")
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+sqlcodec.EventTypeColumns+` FROM event_types`+where(conds)+tail, args...)
	if err != nil {
		return hookline.Page[hookline.EventType]{}, dbErr(err, "list event types")
	}
	defer rows.Close()
	var out []hookline.EventType
	for rows.Next() {
		et, err := sqlcodec.ScanEventType(rows)
		if err != nil {
			return hookline.Page[hookline.EventType]{}, dbErr(err, "list event types")
		}
		out = append(out, *et)
	}
	if err := rows.Err(); err != nil {
		return hookline.Page[hookline.EventType]{}, dbErr(err, "list event types")
	}
	return finishPage(out, opts.ListOptions, reverse), nil
}

// UpdateEventType stores every field of et (found by name) and sets its UpdatedAt to the
// clock's time.
func (db *DB) UpdateEventType(ctx context.Context, et *hookline.EventType) error {
	schemas, err := sqlcodec.EncodeSchemas(et.Schemas)
	if err != nil {
		return fmt.Errorf("sqlite: update event type %q: %w", et.Name, err)
	}
	updatedAt := db.now()
	res, err := db.w.ExecContext(ctx, `UPDATE event_types SET description = ?, archived = ?, deprecated = ?,
		feature_flag = ?, group_name = ?, schemas = ?, updated_at = ? WHERE name = ?`,
		et.Description, et.Archived, et.Deprecated, et.FeatureFlag, et.GroupName, schemas, micros(updatedAt), et.Name)
	if err := mustAffect(res, err, "update event type %q", et.Name); err != nil {
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
	res, err := db.w.ExecContext(ctx, `DELETE FROM event_types WHERE name = ?`, name)
	if err := mustAffect(res, err, "delete event type %q", name); err != nil {
		if errors.Is(err, errNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "event type %q not found", name)
		}
		return err
	}
	return nil
}
