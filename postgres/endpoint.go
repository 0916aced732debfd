package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
	"github.com/jackc/pgx/v5"
)

// scanEndpoint reads a row of sqlcodec.EndpointReadColumns and opens its secrets.
func (db *DB) scanEndpoint(s scanner) (*hookline.Endpoint, error) {
	return sqlcodec.ScanEndpoint(s, db.box)
}

// CreateEndpoint inserts ep with its secrets sealed. A zero CreatedAt or UpdatedAt is set from
// the clock.
func (db *DB) CreateEndpoint(ctx context.Context, ep *hookline.Endpoint) error {
	if ep.ID == "" || ep.AppID == "" {
		return errors.New("postgres: create endpoint: ID and AppID are required")
	}
	db.stampCreated(&ep.CreatedAt, &ep.UpdatedAt)
	vals, err := sqlcodec.EndpointValues(db.box, ep)
	if err != nil {
		return fmt.Errorf("postgres: create endpoint: %w", err)
	}
	a := append([]any{ep.ID, ep.AppID}, vals...)
	a = append(a, micros(ep.CreatedAt), micros(ep.UpdatedAt))
	_, err = db.pool.Exec(ctx, `INSERT INTO endpoints (`+sqlcodec.EndpointColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`, a...)
	switch {
	case isUniqueViolation(err) && constraintName(err) == "endpoints_pkey":
		return hookline.Errorf(hookline.ECONFLICT, "endpoint %q already exists", ep.ID)
	case isUniqueViolation(err):
		return hookline.Errorf(hookline.ECONFLICT, "an endpoint with uid %q already exists", ep.UID)
	case isForeignKeyViolation(err):
		return hookline.Errorf(hookline.ENOTFOUND, "application %q not found", ep.AppID)
	case err != nil:
		return dbErr(err, "create endpoint")
	}
	return nil
}

// GetEndpoint finds an endpoint of the application by id or uid; the id wins when both match.
func (db *DB) GetEndpoint(ctx context.Context, appID, idOrUID string) (*hookline.Endpoint, error) {
	row := db.pool.QueryRow(ctx, `SELECT `+sqlcodec.EndpointReadColumns+` FROM endpoints
		WHERE app_id = $1 AND (id = $2 OR uid = $2) ORDER BY id = $2 DESC LIMIT 1`, appID, idOrUID)
	ep, err := db.scanEndpoint(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", idOrUID)
	}
	if err != nil {
		return nil, dbErr(err, "get endpoint %q", idOrUID)
	}
	return ep, nil
}

// ListEndpoints lists the application's endpoints by id.
func (db *DB) ListEndpoints(ctx context.Context, appID string, opts hookline.ListOptions) (hookline.Page[hookline.Endpoint], error) {
	var a args
	app := "app_id = " + a.add(appID)
	cond, tail, reverse := pageQuery(&a, "id", opts)
	out, err := queryAll(ctx, db, `SELECT `+sqlcodec.EndpointReadColumns+` FROM endpoints`+where(app, cond)+tail, a, db.scanEndpoint)
	if err != nil {
		return hookline.Page[hookline.Endpoint]{}, dbErr(err, "list endpoints")
	}
	return finishPage(out, opts, reverse), nil
}

// UpdateEndpoint stores every field of ep, secrets and DisabledReason included, and sets its
// UpdatedAt to the clock's time. It leaves the health columns alone: only attempts move them.
func (db *DB) UpdateEndpoint(ctx context.Context, ep *hookline.Endpoint) error {
	vals, err := sqlcodec.EndpointValues(db.box, ep)
	if err != nil {
		return fmt.Errorf("postgres: update endpoint: %w", err)
	}
	updatedAt := db.now()
	a := append(vals, micros(updatedAt), ep.AppID, ep.ID)
	tag, err := db.pool.Exec(ctx, `UPDATE endpoints SET uid = $1, url = $2, description = $3, version = $4, disabled = $5,
		filter_types = $6, channels = $7, rate_limit = $8, metadata = $9, headers = $10, secret_sealed = $11,
		old_secrets_sealed = $12, disabled_reason = $13, updated_at = $14 WHERE app_id = $15 AND id = $16`, a...)
	if isUniqueViolation(err) {
		return hookline.Errorf(hookline.ECONFLICT, "an endpoint with uid %q already exists", ep.UID)
	}
	if err := mustAffect(tag, err, "update endpoint %q", ep.ID); err != nil {
		if errors.Is(err, errNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", ep.ID)
		}
		return err
	}
	ep.UpdatedAt = updatedAt
	return nil
}

// DeleteEndpoint removes the endpoint; foreign keys cascade to its deliveries and attempts.
func (db *DB) DeleteEndpoint(ctx context.Context, appID, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM endpoints WHERE app_id = $1 AND id = $2`, appID, id)
	if err := mustAffect(tag, err, "delete endpoint %q", id); err != nil {
		if errors.Is(err, errNoRows) {
			return hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", id)
		}
		return err
	}
	return nil
}

// EndpointStats counts the endpoint's deliveries by status, those created in the window.
func (db *DB) EndpointStats(ctx context.Context, appID, endpointID string, window hookline.TimeWindow) (hookline.EndpointStats, error) {
	var stats hookline.EndpointStats
	// One statement, so the existence check and the counts see the same snapshot; the window
	// is in the join, so an endpoint with nothing in it still has its row.
	rows, err := db.pool.Query(ctx, `SELECT d.status, count(d.id) FROM endpoints e
		LEFT JOIN delivery_rows d ON d.endpoint_id = e.id AND ($3::bigint IS NULL OR d.created_at >= $3)
			AND ($4::bigint IS NULL OR d.created_at <= $4)
		WHERE e.app_id = $1 AND e.id = $2 GROUP BY d.status`, appID, endpointID, nullMicros(window.Since), nullMicros(window.Until))
	if err != nil {
		return stats, dbErr(err, "endpoint stats %q", endpointID)
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		found = true
		var status *int32
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return stats, dbErr(err, "endpoint stats %q", endpointID)
		}
		if status != nil { // nil: the endpoint has no deliveries
			stats.Add(hookline.MessageStatus(*status), n)
		}
	}
	if err := rows.Err(); err != nil {
		return stats, dbErr(err, "endpoint stats %q", endpointID)
	}
	if !found {
		return stats, hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", endpointID)
	}
	return stats, nil
}
