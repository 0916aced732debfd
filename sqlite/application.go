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

// CreateApplication inserts app. A zero CreatedAt or UpdatedAt is set from the clock.
func (db *DB) CreateApplication(ctx context.Context, app *hookline.Application) error {
	if app.ID == "" {
		return errors.New("sqlite: create application: ID is empty")
	}
	db.stampCreated(&app.CreatedAt, &app.UpdatedAt)
	metadata, err := jsonText(app.Metadata)
	if err != nil {
		return fmt.Errorf("sqlite: create application: encode metadata: %w", err)
	}
	_, err = db.w.ExecContext(ctx, `INSERT INTO applications (`+sqlcodec.ApplicationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		app.ID, nullString(app.UID), app.Name, nullInt(app.RateLimit), metadata, app.Internal, micros(app.CreatedAt), micros(app.UpdatedAt))
	if isUniqueViolation(err) {
		return hookline.Errorf(hookline.ECONFLICT, "an application with uid %q already exists", app.UID)
	}
	if err != nil {
		return dbErr(err, "create application")
	}
	return nil
}

// GetApplication finds an application by id or uid. When one application's uid equals
// another's id, the id wins.
func (db *DB) GetApplication(ctx context.Context, idOrUID string) (*hookline.Application, error) {
	row := db.r.QueryRowContext(ctx, `SELECT `+sqlcodec.ApplicationColumns+` FROM applications
		WHERE id = ? OR uid = ? ORDER BY id = ? DESC LIMIT 1`, idOrUID, idOrUID, idOrUID)
	app, err := sqlcodec.ScanApplication(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "application %q not found", idOrUID)
	}
	if err != nil {
		return nil, dbErr(err, "get application %q", idOrUID)
	}
	return app, nil
}

// ListApplications lists applications by id, leaving out internal ones and those opts
// excludes by their endpoints.
func (db *DB) ListApplications(ctx context.Context, opts hookline.ApplicationListOptions) (hookline.Page[hookline.Application], error) {
	cond, args, tail, reverse := pageQuery("id", opts.ListOptions)
	conds := []string{"internal = 0", cond}
	const endpoint = "SELECT 1 FROM endpoints e WHERE e.app_id = applications.id"
	if opts.ExcludeNoEndpoints {
		conds = append(conds, "EXISTS ("+endpoint+")")
	}
	if opts.ExcludeOnlyDisabled {
		conds = append(conds, "(NOT EXISTS ("+endpoint+") OR EXISTS ("+endpoint+" AND e.disabled = 0))")
	}
	if opts.ExcludeOnlySvixPlay {
		conds = append(conds, "(NOT EXISTS ("+endpoint+") OR EXISTS ("+endpoint+" AND instr(e.url, '"+hookline.SvixPlayHost+"') = 0))")
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+sqlcodec.ApplicationColumns+` FROM applications`+where(conds)+tail, args...)
	if err != nil {
		return hookline.Page[hookline.Application]{}, dbErr(err, "list applications")
	}
	defer rows.Close()
	var apps []hookline.Application
	for rows.Next() {
		app, err := sqlcodec.ScanApplication(rows)
		if err != nil {
			return hookline.Page[hookline.Application]{}, dbErr(err, "list applications")
		}
		apps = append(apps, *app)
	}
	if err := rows.Err(); err != nil {
		return hookline.Page[hookline.Application]{}, dbErr(err, "list applications")
	}
	return finishPage(apps, opts.ListOptions, reverse), nil
}

// UpdateApplication stores every field of app and sets its UpdatedAt to the clock's time.
func (db *DB) UpdateApplication(ctx context.Context, app *hookline.Application) error {
	defer db.targets.forget() // after the change commits
	metadata, err := jsonText(app.Metadata)
	if err != nil {
		return fmt.Errorf("sqlite: update application: encode metadata: %w", err)
	}
	updatedAt := db.now()
	res, err := db.w.ExecContext(ctx, `UPDATE applications SET uid = ?, name = ?, rate_limit = ?, metadata = ?, internal = ?,
		updated_at = ? WHERE id = ?`, nullString(app.UID), app.Name, nullInt(app.RateLimit), metadata, app.Internal,
		micros(updatedAt), app.ID)
	if isUniqueViolation(err) {
		return hookline.Errorf(hookline.ECONFLICT, "an application with uid %q already exists", app.UID)
	}
	if err := mustAffect(res, err, "update application %q", app.ID); err != nil {
		if errors.Is(err, errNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "application %q not found", app.ID)
		}
		return err
	}
	app.UpdatedAt = updatedAt
	return nil
}

// DeleteApplication removes the application; foreign keys cascade to its endpoints,
// messages, deliveries, attempts and tokens.
func (db *DB) DeleteApplication(ctx context.Context, id string) error {
	defer db.targets.forget() // after the change commits
	res, err := db.w.ExecContext(ctx, `DELETE FROM applications WHERE id = ?`, id)
	if err := mustAffect(res, err, "delete application %q", id); err != nil {
		if errors.Is(err, errNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "application %q not found", id)
		}
		return err
	}
	return nil
}

// errNoRows is what mustAffect returns when a statement matched nothing.
var errNoRows = errors.New("no rows affected")

// mustAffect turns the result of an UPDATE or DELETE into an error: the statement's own
// error wrapped with context, or errNoRows when it matched no row.
func mustAffect(res sql.Result, err error, format string, args ...any) error {
	if err != nil {
		return dbErr(err, format, args...)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return dbErr(err, format, args...)
	}
	if n == 0 {
		return errNoRows
	}
	return nil
}

// stampCreated fills zero creation and update times from the clock and brings both to the
// precision the database keeps, so the caller's struct equals what a Get returns.
func (db *DB) stampCreated(createdAt, updatedAt *time.Time) {
	if createdAt.IsZero() {
		*createdAt = db.now()
	}
	*createdAt = normTime(*createdAt)
	if updatedAt != nil {
		if updatedAt.IsZero() {
			*updatedAt = *createdAt
		}
		*updatedAt = normTime(*updatedAt)
	}
}
