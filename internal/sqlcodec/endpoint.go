package sqlcodec

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline"
)

// ErrUnreadableEndpoint marks an endpoint row whose columns do not decode or whose secret does
// not open (a wrong main key): a fault of that row, not of the database.
var ErrUnreadableEndpoint = errors.New("unreadable endpoint")

// Scanner is the Scan method of a row, in database/sql and in pgx alike.
type Scanner interface {
	Scan(dest ...any) error
}

// EndpointColumns are the columns that writes set, in the order of EndpointValues between
// app_id and created_at.
const EndpointColumns = `id, app_id, uid, url, description, version, disabled, filter_types, channels, rate_limit,
	metadata, headers, secret_sealed, old_secrets_sealed, disabled_reason, created_at, updated_at`

// EndpointHealthColumns are maintained by the delivery engine's methods; writes leave them alone.
const EndpointHealthColumns = `failure_streak, failing_since, last_attempt_at, last_event_type, last_status`

// EndpointReceiverColumn holds the endpoint's sealed hookline.Receiver; only
// UpdateEndpointReceiver writes it.
const EndpointReceiverColumn = `receiver_sealed`

// EndpointTransformationColumn holds the endpoint's hookline.Transformation as JSON; only
// SetEndpointTransformation writes it.
const EndpointTransformationColumn = `transformation`

// EndpointDestinationColumn holds the endpoint's sealed hookline.Destination; only
// SetEndpointDestination writes it.
const EndpointDestinationColumn = `destination_sealed`

// EndpointReadColumns are what ScanEndpoint reads.
const EndpointReadColumns = EndpointColumns + `, ` + EndpointHealthColumns + `, ` + EndpointReceiverColumn + `, ` +
	EndpointTransformationColumn + `, ` + EndpointDestinationColumn

// ScanEndpoint reads a row of EndpointReadColumns (the write columns from id to updated_at,
// then the health columns, then the receiver, the transformation and the destination) and opens its secrets.
// Nullable columns are scanned into pointers, which both drivers set to nil for NULL.
func ScanEndpoint(s Scanner, box hookline.SecretBox) (*hookline.Endpoint, error) {
	var (
		ep                                   hookline.Endpoint
		uid, reason                          *string
		rateLimit                            *int64
		filterTypes, channels, meta, headers string
		secretSealed, oldSealed              string
		createdAt, updatedAt                 int64
		health                               healthScan
		receiver, transformation, destSealed *string
	)
	dest := []any{&ep.ID, &ep.AppID, &uid, &ep.URL, &ep.Description, &ep.Version, &ep.Disabled,
		&filterTypes, &channels, &rateLimit, &meta, &headers, &secretSealed, &oldSealed, &reason, &createdAt, &updatedAt}
	dest = append(append(dest, health.dest()...), &receiver, &transformation, &destSealed)
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	ep.UID, ep.DisabledReason = deref(uid), deref(reason)
	ep.Health = health.health(ep.AppID, ep.ID, ep.Disabled)
	if rateLimit != nil {
		n := int(*rateLimit)
		ep.RateLimit = &n
	}
	for _, f := range []struct {
		text string
		dst  any
	}{{filterTypes, &ep.FilterTypes}, {channels, &ep.Channels}, {meta, &ep.Metadata}} {
		if f.text == "" {
			continue
		}
		if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
			return nil, fmt.Errorf("%w: decode endpoint %s: %w", ErrUnreadableEndpoint, ep.ID, err)
		}
	}
	h, err := OpenHeaders(box, headers)
	if err != nil {
		return nil, fmt.Errorf("%w: endpoint %s: %w", ErrUnreadableEndpoint, ep.ID, err)
	}
	ep.Headers = h
	secret, err := box.Open(secretSealed)
	if err != nil {
		return nil, fmt.Errorf("%w: open secret of endpoint %s: %w", ErrUnreadableEndpoint, ep.ID, err)
	}
	ep.Secret = string(secret)
	if ep.OldSecrets, err = OpenOldSecrets(box, oldSealed); err != nil {
		return nil, fmt.Errorf("%w: endpoint %s: %w", ErrUnreadableEndpoint, ep.ID, err)
	}
	if receiver != nil {
		if ep.Receiver, err = OpenReceiver(box, *receiver); err != nil {
			return nil, fmt.Errorf("%w: endpoint %s: %w", ErrUnreadableEndpoint, ep.ID, err)
		}
	}
	if transformation != nil {
		if ep.Transformation, err = DecodeTransformation(*transformation); err != nil {
			return nil, fmt.Errorf("%w: endpoint %s: %w", ErrUnreadableEndpoint, ep.ID, err)
		}
	}
	if destSealed != nil {
		if ep.Destination, err = OpenDestination(box, *destSealed); err != nil {
			return nil, fmt.Errorf("%w: endpoint %s: %w", ErrUnreadableEndpoint, ep.ID, err)
		}
	}
	ep.CreatedAt, ep.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &ep, nil
}

// EndpointValues encodes the mutable columns of ep, sealing its secrets and custom headers, in the order uid, url,
// description, version, disabled, filter_types, channels, rate_limit, metadata, headers,
// secret_sealed, old_secrets_sealed, disabled_reason. Old secrets' expiry times are rounded in
// place to the microseconds the database keeps, so what was written equals what is read.
func EndpointValues(box hookline.SecretBox, ep *hookline.Endpoint) ([]any, error) {
	var jsonCols [3]string
	for i, v := range []any{ep.FilterTypes, ep.Channels, ep.Metadata} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode endpoint %s: %w", ep.ID, err)
		}
		jsonCols[i] = string(b)
	}
	headers, err := SealHeaders(box, ep.Headers)
	if err != nil {
		return nil, fmt.Errorf("seal headers of endpoint %s: %w", ep.ID, err)
	}
	secret, err := box.Seal([]byte(ep.Secret))
	if err != nil {
		return nil, fmt.Errorf("seal secret of endpoint %s: %w", ep.ID, err)
	}
	old, err := SealOldSecrets(box, ep.OldSecrets)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", ep.ID, err)
	}
	for i := range ep.OldSecrets {
		ep.OldSecrets[i].ExpiresAt = ep.OldSecrets[i].ExpiresAt.UTC().Truncate(time.Microsecond)
	}
	var rateLimit *int64
	if ep.RateLimit != nil {
		n := int64(*ep.RateLimit)
		rateLimit = &n
	}
	return []any{nullable(ep.UID), ep.URL, ep.Description, ep.Version, ep.Disabled, jsonCols[0], jsonCols[1],
		rateLimit, jsonCols[2], headers, secret, old, nullable(ep.DisabledReason)}, nil
}

// HealthColumns are what EachHealth reads of an endpoint.
const HealthColumns = `app_id, id, disabled, ` + EndpointHealthColumns

// EachHealth reads rows of HealthColumns and calls fn with each endpoint's health.
func EachHealth(rows Rows, fn func(hookline.EndpointHealth)) error {
	for rows.Next() {
		var (
			appID, id string
			disabled  bool
			h         healthScan
		)
		if err := rows.Scan(append([]any{&appID, &id, &disabled}, h.dest()...)...); err != nil {
			return err
		}
		fn(h.health(appID, id, disabled))
	}
	return rows.Err()
}

// healthScan receives the endpoint health columns of a row: failure_streak, failing_since,
// last_attempt_at, last_event_type, last_status.
type healthScan struct {
	streak                    int
	failingSince, lastAttempt *int64
	lastEventType             *string
	lastStatus                *int64
}

// dest returns the scan targets, in column order.
func (h *healthScan) dest() []any {
	return []any{&h.streak, &h.failingSince, &h.lastAttempt, &h.lastEventType, &h.lastStatus}
}

// Health returns what was scanned as the endpoint's health.
func (h *healthScan) health(appID, endpointID string, disabled bool) hookline.EndpointHealth {
	out := hookline.EndpointHealth{
		AppID:         appID,
		EndpointID:    endpointID,
		Disabled:      disabled,
		FailureStreak: h.streak,
		FailingSince:  fromNullMicros(h.failingSince),
		LastAttemptAt: fromNullMicros(h.lastAttempt),
		LastEventType: deref(h.lastEventType),
	}
	if h.lastStatus != nil {
		out.LastStatus = hookline.MessageStatus(*h.lastStatus)
	}
	return out
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func fromNullMicros(us *int64) *time.Time {
	if us == nil {
		return nil
	}
	t := fromMicros(*us)
	return &t
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// nullable is nil for "", so optional text columns hold NULL rather than "".
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
