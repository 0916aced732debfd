package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// scanEndpoint reads a row of sqlcodec.EndpointReadColumns and opens its secrets.
func (db *DB) scanEndpoint(s scanner) (*hookline.Endpoint, error) {
	return sqlcodec.ScanEndpoint(s, db.box)
}

// CreateEndpoint inserts ep with its secrets sealed. A zero CreatedAt or UpdatedAt is set from
// the clock.
func (db *DB) CreateEndpoint(ctx context.Context, ep *hookline.Endpoint) error {
	defer db.targets.forget() // after the change commits
	if ep.ID == "" || ep.AppID == "" {
		return errors.New("sqlite: create endpoint: ID and AppID are required")
	}
	db.stampCreated(&ep.CreatedAt, &ep.UpdatedAt)
	vals, err := sqlcodec.EndpointValues(db.box, ep)
	if err != nil {
		return fmt.Errorf("sqlite: create endpoint: %w", err)
	}
	args := append([]any{ep.ID, ep.AppID}, vals...)
	args = append(args, micros(ep.CreatedAt), micros(ep.UpdatedAt))
	_, err = db.w.ExecContext(ctx, `INSERT INTO endpoints (`+sqlcodec.EndpointColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	switch {
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
	row := db.r.QueryRowContext(ctx, `SELECT `+sqlcodec.EndpointReadColumns+` FROM endpoints
		WHERE app_id = ? AND (id = ? OR uid = ?) ORDER BY id = ? DESC LIMIT 1`, appID, idOrUID, idOrUID, idOrUID)
	ep, err := db.scanEndpoint(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", idOrUID)
	}
	if err != nil {
		return nil, dbErr(err, "get endpoint %q", idOrUID)
	}
	return ep, nil
}

// ListEndpoints lists the application's endpoints by id.
func (db *DB) ListEndpoints(ctx context.Context, appID string, opts hookline.ListOptions) (hookline.Page[hookline.Endpoint], error) {
	cond, args, tail, reverse := pageQuery("id", opts)
	rows, err := db.r.QueryContext(ctx, `SELECT `+sqlcodec.EndpointReadColumns+` FROM endpoints`+where([]string{"app_id = ?", cond})+tail,
		append([]any{appID}, args...)...)
	if err != nil {
		return hookline.Page[hookline.Endpoint]{}, dbErr(err, "list endpoints")
	}
	defer rows.Close()
	var out []hookline.Endpoint
	for rows.Next() {
		ep, err := db.scanEndpoint(rows)
		if err != nil {
			return hookline.Page[hookline.Endpoint]{}, dbErr(err, "list endpoints")
		}
		out = append(out, *ep)
	}
	if err := rows.Err(); err != nil {
		return hookline.Page[hookline.Endpoint]{}, dbErr(err, "list endpoints")
	}
	return finishPage(out, opts, reverse), nil
}

// UpdateEndpoint stores every field of ep, secrets and DisabledReason included, and sets its
// UpdatedAt to the clock's time. It leaves the health columns alone: only attempts move them.
func (db *DB) UpdateEndpoint(ctx context.Context, ep *hookline.Endpoint) error {
	defer db.targets.forget() // after the change commits
	vals, err := sqlcodec.EndpointValues(db.box, ep)
	if err != nil {
		return fmt.Errorf("sqlite: update endpoint: %w", err)
	}
	updatedAt := db.now()
	args := append(vals, micros(updatedAt), ep.AppID, ep.ID)
	res, err := db.w.ExecContext(ctx, `UPDATE endpoints SET uid = ?, url = ?, description = ?, version = ?, disabled = ?,
		filter_types = ?, channels = ?, rate_limit = ?, metadata = ?, headers = ?, secret_sealed = ?,
		old_secrets_sealed = ?, disabled_reason = ?, updated_at = ? WHERE app_id = ? AND id = ?`, args...)
	if isUniqueViolation(err) {
		return hookline.Errorf(hookline.ECONFLICT, "an endpoint with uid %q already exists", ep.UID)
	}
	if err := mustAffect(res, err, "update endpoint %q", ep.ID); err != nil {
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
	defer db.targets.forget() // after the change commits
	res, err := db.w.ExecContext(ctx, `DELETE FROM endpoints WHERE app_id = ? AND id = ?`, appID, id)
	if err := mustAffect(res, err, "delete endpoint %q", id); err != nil {
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
	rows, err := db.r.QueryContext(ctx, `SELECT d.status, count(d.id) FROM endpoints e
		LEFT JOIN deliveries d ON d.endpoint_id = e.id AND (?3 IS NULL OR d.created_at >= ?3) AND (?4 IS NULL OR d.created_at <= ?4)
		WHERE e.app_id = ?1 AND e.id = ?2 GROUP BY d.status`, appID, endpointID, nullMicros(window.Since), nullMicros(window.Until))
	if err != nil {
		return stats, dbErr(err, "endpoint stats %q", endpointID)
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		found = true
		var status sql.NullInt64
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return stats, dbErr(err, "endpoint stats %q", endpointID)
		}
		if status.Valid { // not: the endpoint has no deliveries
			stats.Add(hookline.MessageStatus(status.Int64), n)
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
