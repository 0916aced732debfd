package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
	"github.com/jackc/pgx/v5"
)

// endpointColumns are the columns that writes set, in the order of endpointValues between
// app_id and created_at.
const endpointColumns = `id, app_id, uid, url, description, version, disabled, filter_types, channels, rate_limit,
	metadata, headers, secret_sealed, old_secrets_sealed, disabled_reason, created_at, updated_at`

// endpointHealthColumns are maintained by the delivery engine's methods; writes leave them alone.
const endpointHealthColumns = `failure_streak, failing_since, last_attempt_at, last_event_type, last_status`

// endpointReadColumns are what scanEndpoint reads.
const endpointReadColumns = endpointColumns + `, ` + endpointHealthColumns

// errUnreadableEndpoint marks an endpoint row whose columns do not decode or whose secret does
// not open (a wrong main key): a fault of that row, not of the database.
var errUnreadableEndpoint = errors.New("unreadable endpoint")

// scanEndpoint reads a row of endpointReadColumns and opens its secrets.
func (db *DB) scanEndpoint(s scanner) (*hookline.Endpoint, error) {
	var (
		ep                                   hookline.Endpoint
		uid, reason                          *string
		rateLimit                            *int64
		filterTypes, channels, meta, headers string
		secretSealed, oldSealed              string
		createdAt, updatedAt                 int64
		health                               healthScan
	)
	dest := []any{&ep.ID, &ep.AppID, &uid, &ep.URL, &ep.Description, &ep.Version, &ep.Disabled,
		&filterTypes, &channels, &rateLimit, &meta, &headers, &secretSealed, &oldSealed, &reason, &createdAt, &updatedAt}
	if err := s.Scan(append(dest, health.dest()...)...); err != nil {
		return nil, err
	}
	ep.UID = derefString(uid)
	ep.DisabledReason = derefString(reason)
	ep.Health = health.health(ep.AppID, ep.ID, ep.Disabled)
	ep.RateLimit = fromNullInt(rateLimit)
	for _, f := range []struct {
		text string
		dst  any
	}{{filterTypes, &ep.FilterTypes}, {channels, &ep.Channels}, {meta, &ep.Metadata}, {headers, &ep.Headers}} {
		if err := fromJSONText(f.text, f.dst); err != nil {
			return nil, fmt.Errorf("%w: decode endpoint %s: %w", errUnreadableEndpoint, ep.ID, err)
		}
	}
	secret, err := db.box.Open(secretSealed)
	if err != nil {
		return nil, fmt.Errorf("%w: open secret of endpoint %s: %w", errUnreadableEndpoint, ep.ID, err)
	}
	ep.Secret = string(secret)
	if ep.OldSecrets, err = sqlcodec.OpenOldSecrets(db.box, oldSealed); err != nil {
		return nil, fmt.Errorf("%w: endpoint %s: %w", errUnreadableEndpoint, ep.ID, err)
	}
	ep.CreatedAt, ep.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &ep, nil
}

// endpointValues encodes the mutable columns of ep, sealing its secrets, in the order
// uid, url, description, version, disabled, filter_types, channels, rate_limit, metadata,
// headers, secret_sealed, old_secrets_sealed, disabled_reason.
func (db *DB) endpointValues(ep *hookline.Endpoint) ([]any, error) {
	var jsonCols [4]string
	for i, v := range []any{ep.FilterTypes, ep.Channels, ep.Metadata, ep.Headers} {
		s, err := jsonText(v)
		if err != nil {
			return nil, fmt.Errorf("encode endpoint %s: %w", ep.ID, err)
		}
		jsonCols[i] = s
	}
	secret, err := db.box.Seal([]byte(ep.Secret))
	if err != nil {
		return nil, fmt.Errorf("seal secret of endpoint %s: %w", ep.ID, err)
	}
	old, err := sqlcodec.SealOldSecrets(db.box, ep.OldSecrets)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", ep.ID, err)
	}
	for i := range ep.OldSecrets {
		ep.OldSecrets[i].ExpiresAt = normTime(ep.OldSecrets[i].ExpiresAt)
	}
	return []any{nullString(ep.UID), ep.URL, ep.Description, ep.Version, ep.Disabled, jsonCols[0], jsonCols[1],
		nullInt(ep.RateLimit), jsonCols[2], jsonCols[3], secret, old, nullString(ep.DisabledReason)}, nil
}

// CreateEndpoint inserts ep with its secrets sealed. A zero CreatedAt or UpdatedAt is set from
// the clock.
func (db *DB) CreateEndpoint(ctx context.Context, ep *hookline.Endpoint) error {
	if ep.ID == "" || ep.AppID == "" {
		return errors.New("postgres: create endpoint: ID and AppID are required")
	}
	db.stampCreated(&ep.CreatedAt, &ep.UpdatedAt)
	vals, err := db.endpointValues(ep)
	if err != nil {
		return fmt.Errorf("postgres: create endpoint: %w", err)
	}
	a := append([]any{ep.ID, ep.AppID}, vals...)
	a = append(a, micros(ep.CreatedAt), micros(ep.UpdatedAt))
	_, err = db.pool.Exec(ctx, `INSERT INTO endpoints (`+endpointColumns+`)
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
	row := db.pool.QueryRow(ctx, `SELECT `+endpointReadColumns+` FROM endpoints
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
	out, err := queryAll(ctx, db, `SELECT `+endpointReadColumns+` FROM endpoints`+where(app, cond)+tail, a, db.scanEndpoint)
	if err != nil {
		return hookline.Page[hookline.Endpoint]{}, dbErr(err, "list endpoints")
	}
	return finishPage(out, opts, reverse), nil
}

// UpdateEndpoint stores every field of ep, secrets and DisabledReason included, and sets its
// UpdatedAt to the clock's time. It leaves the health columns alone: only attempts move them.
func (db *DB) UpdateEndpoint(ctx context.Context, ep *hookline.Endpoint) error {
	vals, err := db.endpointValues(ep)
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

// EndpointStats counts the endpoint's deliveries by status.
func (db *DB) EndpointStats(ctx context.Context, appID, endpointID string) (hookline.EndpointStats, error) {
	var stats hookline.EndpointStats
	// One statement, so the existence check and the counts see the same snapshot.
	rows, err := db.pool.Query(ctx, `SELECT d.status, count(d.id) FROM endpoints e
		LEFT JOIN deliveries d ON d.endpoint_id = e.id
		WHERE e.app_id = $1 AND e.id = $2 GROUP BY d.status`, appID, endpointID)
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
		if status == nil {
			continue // the endpoint has no deliveries
		}
		switch hookline.MessageStatus(*status) {
		case hookline.StatusSuccess:
			stats.Success = n
		case hookline.StatusPending:
			stats.Pending = n
		case hookline.StatusSending:
			stats.Sending = n
		case hookline.StatusFail:
			stats.Fail = n
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

// healthScan receives the endpointHealthColumns of a row.
type healthScan struct {
	streak                    int
	failingSince, lastAttempt *int64
	lastEventType             *string
	lastStatus                *int32
}

func (h *healthScan) dest() []any {
	return []any{&h.streak, &h.failingSince, &h.lastAttempt, &h.lastEventType, &h.lastStatus}
}

func (h *healthScan) health(appID, endpointID string, disabled bool) hookline.EndpointHealth {
	out := hookline.EndpointHealth{
		AppID:         appID,
		EndpointID:    endpointID,
		Disabled:      disabled,
		FailureStreak: h.streak,
		FailingSince:  fromNullMicros(h.failingSince),
		LastAttemptAt: fromNullMicros(h.lastAttempt),
		LastEventType: derefString(h.lastEventType),
	}
	if h.lastStatus != nil {
		out.LastStatus = hookline.MessageStatus(*h.lastStatus)
	}
	return out
}
