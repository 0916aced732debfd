package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// CreateApplication inserts app. A zero CreatedAt or UpdatedAt is set from the clock.
func (db *DB) CreateApplication(ctx context.Context, app *hookline.Application) error {
	if app.ID == "" {
		return errors.New("postgres: create application: ID is empty")
	}
	db.stampCreated(&app.CreatedAt, &app.UpdatedAt)
	metadata, err := jsonText(app.Metadata)
	if err != nil {
		return fmt.Errorf("postgres: create application: encode metadata: %w", err)
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO applications (`+sqlcodec.ApplicationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		app.ID, nullString(app.UID), app.Name, nullInt(app.RateLimit), metadata, app.Internal, micros(app.CreatedAt), micros(app.UpdatedAt))
	if isUniqueViolation(err) {
		if constraintName(err) == "applications_pkey" {
			return hookline.Errorf(hookline.ECONFLICT, "application %q already exists", app.ID)
		}
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
	row := db.pool.QueryRow(ctx, `SELECT `+sqlcodec.ApplicationColumns+` FROM applications
		WHERE id = $1 OR uid = $1 ORDER BY id = $1 DESC LIMIT 1`, idOrUID)
	app, err := sqlcodec.ScanApplication(row)
	if errors.Is(err, pgx.ErrNoRows) {
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
	var a args
	cond, tail, reverse := pageQuery(&a, "id", opts.ListOptions)
	conds := []string{"NOT internal", cond}
	const endpoint = "SELECT 1 FROM endpoints e WHERE e.app_id = applications.id"
	if opts.ExcludeNoEndpoints {
		conds = append(conds, "EXISTS ("+endpoint+")")
	}
	if opts.ExcludeOnlyDisabled {
		conds = append(conds, "(NOT EXISTS ("+endpoint+") OR EXISTS ("+endpoint+" AND NOT e.disabled))")
	}
	if opts.ExcludeOnlySvixPlay {
		conds = append(conds, "(NOT EXISTS ("+endpoint+") OR EXISTS ("+endpoint+" AND strpos(e.url, "+a.add(hookline.SvixPlayHost)+") = 0))")
	}
	apps, err := queryAll(ctx, db, `SELECT `+sqlcodec.ApplicationColumns+` FROM applications`+where(conds...)+tail, a, sqlcodec.ScanApplication)
	if err != nil {
		return hookline.Page[hookline.Application]{}, dbErr(err, "list applications")
	}
	return finishPage(apps, opts.ListOptions, reverse), nil
}

// UpdateApplication stores every field of app and sets its UpdatedAt to the clock's time.
func (db *DB) UpdateApplication(ctx context.Context, app *hookline.Application) error {
	metadata, err := jsonText(app.Metadata)
	if err != nil {
		return fmt.Errorf("postgres: update application: encode metadata: %w", err)
	}
	updatedAt := db.now()
	tag, err := db.pool.Exec(ctx, `UPDATE applications SET uid = $1, name = $2, rate_limit = $3, metadata = $4,
		internal = $5, updated_at = $6 WHERE id = $7`, nullString(app.UID), app.Name, nullInt(app.RateLimit), metadata,
		app.Internal, micros(updatedAt), app.ID)
	if isUniqueViolation(err) {
		return hookline.Errorf(hookline.ECONFLICT, "an application with uid %q already exists", app.UID)
	}
	if err := mustAffect(tag, err, "update application %q", app.ID); err != nil {
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
	tag, err := db.pool.Exec(ctx, `DELETE FROM applications WHERE id = $1`, id)
	if err := mustAffect(tag, err, "delete application %q", id); err != nil {
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
func mustAffect(tag pgconn.CommandTag, err error, format string, args ...any) error {
	if err != nil {
		return dbErr(err, format, args...)
	}
	if tag.RowsAffected() == 0 {
		return errNoRows
	}
	return nil
}

// querier is what pgxpool.Pool, pgx.Conn and pgx.Tx have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// queryAll runs a query on the pool and scans every row with scan.
func queryAll[T any](ctx context.Context, db *DB, sql string, a args, scan func(scanner) (*T, error)) ([]T, error) {
	return queryAllOn(ctx, db.pool, sql, a, scan)
}

// queryAllOn runs a query on q and scans every row with scan.
func queryAllOn[T any](ctx context.Context, q querier, sql string, a args, scan func(scanner) (*T, error)) ([]T, error) {
	rows, err := q.Query(ctx, sql, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
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
