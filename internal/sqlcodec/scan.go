package sqlcodec

import (
	"encoding/json"
	"fmt"

	"github.com/hookline/hookline"
)

// The columns both stores read for each type, in the order its Scan function takes them. Both
// keep times as Unix microseconds and JSON as text, so one reader serves both; optional
// columns scan into pointers, which database/sql and pgx both set to nil for NULL.
const (
	ApplicationColumns = `id, uid, name, rate_limit, metadata, internal, created_at, updated_at`
	EventTypeColumns   = `name, description, archived, deprecated, feature_flag, group_name, schemas, created_at, updated_at`
	TokenColumns       = `id, name, kind, app_id, hash, prefix, created_at, expires_at, revoked_at, last_used_at, single_use, used_at, endpoint_ids, session_id`
	DeliveryColumns    = `id, app_id, msg_id, endpoint_id, status, attempt_count, next_attempt_at, trigger_type,
	created_at, updated_at`
	AttemptColumns = `id, app_id, msg_id, endpoint_id, delivery_id, url, request_headers, response_status_code,
	response, response_duration_ms, trigger_type, status, created_at`
)

// ScanApplication reads a row of ApplicationColumns.
func ScanApplication(s Scanner) (*hookline.Application, error) {
	var (
		app                  hookline.Application
		uid                  *string
		rateLimit            *int64
		metadata             string
		createdAt, updatedAt int64
	)
	if err := s.Scan(&app.ID, &uid, &app.Name, &rateLimit, &metadata, &app.Internal, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	app.UID = deref(uid)
	if rateLimit != nil {
		n := int(*rateLimit)
		app.RateLimit = &n
	}
	if err := fromJSONText(metadata, &app.Metadata); err != nil {
		return nil, fmt.Errorf("decode metadata of %s: %w", app.ID, err)
	}
	app.CreatedAt, app.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &app, nil
}

// ScanEventType reads a row of EventTypeColumns.
func ScanEventType(s Scanner) (*hookline.EventType, error) {
	var (
		et                   hookline.EventType
		schemas              string
		createdAt, updatedAt int64
	)
	if err := s.Scan(&et.Name, &et.Description, &et.Archived, &et.Deprecated, &et.FeatureFlag, &et.GroupName,
		&schemas, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	m, err := DecodeSchemas(schemas)
	if err != nil {
		return nil, fmt.Errorf("decode schemas of %q: %w", et.Name, err)
	}
	et.Schemas = m
	et.CreatedAt, et.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &et, nil
}

// TokenEndpointIDs is the endpoint_ids column of a token: its endpoint scope as a JSON array,
// NULL for none.
func TokenEndpointIDs(t *hookline.Token) *string {
	if t.EndpointIDs == nil {
		return nil
	}
	b, _ := json.Marshal(t.EndpointIDs) // a []string always encodes
	s := string(b)
	return &s
}

// ScanToken reads a row of TokenColumns.
func ScanToken(s Scanner) (*hookline.Token, error) {
	var (
		t                hookline.Token
		kind             string
		appID            *string
		createdAt        int64
		expires, revoked *int64
		lastUsed, used   *int64
		endpoints        *string
		session          *string
	)
	if err := s.Scan(&t.ID, &t.Name, &kind, &appID, &t.Hash, &t.Prefix, &createdAt, &expires, &revoked,
		&lastUsed, &t.SingleUse, &used, &endpoints, &session); err != nil {
		return nil, err
	}
	if endpoints != nil {
		if err := json.Unmarshal([]byte(*endpoints), &t.EndpointIDs); err != nil {
			return nil, fmt.Errorf("decode endpoint_ids of token %s: %w", t.ID, err)
		}
	}
	t.Kind = hookline.TokenKind(kind)
	t.AppID, t.SessionID = deref(appID), deref(session)
	t.CreatedAt = fromMicros(createdAt)
	t.ExpiresAt, t.RevokedAt = fromNullMicros(expires), fromNullMicros(revoked)
	t.LastUsedAt, t.UsedAt = fromNullMicros(lastUsed), fromNullMicros(used)
	return &t, nil
}

// ScanDelivery reads a row of DeliveryColumns.
func ScanDelivery(s Scanner) (*hookline.Delivery, error) {
	var (
		d                    hookline.Delivery
		next                 *int64
		createdAt, updatedAt int64
	)
	if err := s.Scan(&d.ID, &d.AppID, &d.MessageID, &d.EndpointID, &d.Status, &d.AttemptCount, &next, &d.Trigger,
		&createdAt, &updatedAt); err != nil {
		return nil, err
	}
	d.NextAttemptAt = fromNullMicros(next)
	d.CreatedAt, d.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &d, nil
}

// ScanAttempt reads a row of AttemptColumns.
func ScanAttempt(s Scanner) (*hookline.Attempt, error) {
	var (
		a         hookline.Attempt
		headers   string
		response  []byte // text in SQLite, bytea in PostgreSQL
		createdAt int64
	)
	if err := s.Scan(&a.ID, &a.AppID, &a.MessageID, &a.EndpointID, &a.DeliveryID, &a.URL, &headers,
		&a.ResponseStatusCode, &response, &a.ResponseDurationMs, &a.TriggerType, &a.Status, &createdAt); err != nil {
		return nil, err
	}
	a.Response = string(response)
	if err := fromJSONText(headers, &a.RequestHeaders); err != nil {
		return nil, fmt.Errorf("decode request headers of %s: %w", a.ID, err)
	}
	a.CreatedAt = fromMicros(createdAt)
	return &a, nil
}

// fromJSONText decodes a JSON column; "" (never written) leaves v as it is.
func fromJSONText(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}
