package hookline

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes are stable strings that clients may match on. The HTTP layer maps each code to a
// status in exactly one place (statusByCode, below); everything else only picks the code.
const (
	EBADREQUEST       = "bad_request"        // the request asks for something contradictory (Svix answers these 400)
	ECONFLICT         = "conflict"           // a unique field (uid, name) is already taken
	EDUPLICATEEVENT   = "duplicate_event_id" // a message with this eventId already exists
	EFORBIDDEN        = "forbidden"          // authenticated, but not allowed to do this
	EINTERNAL         = "internal"           // a fault of ours; details are logged, never returned
	EINVALID          = "validation"         // the request is well-formed JSON but a field is wrong
	EINVALIDJSON      = "invalid_json"       // the body is not valid JSON for this route
	EINVALIDUTF8      = "invalid_utf8"       // a payload is not UTF-8 (or escapes a lone surrogate)
	EDUPLICATEKEY     = "duplicate_key"      // a payload has an object with the same key twice
	ENOTFOUND         = "not_found"          // no such resource (or not visible to this token)
	EPAYLOADTOOLARGE  = "payload_too_large"  // the body is bigger than the configured limit
	ESCHEMA           = "schema_violation"   // the payload does not match its event type's schema
	EUNAUTHORIZED     = "unauthorized"       // no token, or an unknown, revoked or expired one
	EUNKNOWNEVENTTYPE = "unknown_event_type" // the message names an event type that is not defined
	EURLNOTALLOWED    = "url_not_allowed"    // the endpoint URL is not https or points inside the network
	EUNAVAILABLE      = "unavailable"        // the database is unreachable; try again
	EIDEMPOTENCY      = "idempotency_conflict"
	ERATELIMITED      = "rate_limited"
	EEXPUNGED         = "missing_payload" // the message's payload was expunged, so it cannot be sent again
	// ETRANSFORMATION: an endpoint's transformation does not compile, or failed when simulated.
	ETRANSFORMATION = "transformation_failed"
)

// statusByCode maps every error code to its HTTP status: the one place where this happens.
var statusByCode = map[string]int{
	EINVALIDJSON:      http.StatusBadRequest,
	EBADREQUEST:       http.StatusBadRequest,
	EINVALIDUTF8:      http.StatusBadRequest,
	EDUPLICATEKEY:     http.StatusBadRequest,
	EEXPUNGED:         http.StatusBadRequest,
	EUNAUTHORIZED:     http.StatusUnauthorized,
	EFORBIDDEN:        http.StatusForbidden,
	ENOTFOUND:         http.StatusNotFound,
	ECONFLICT:         http.StatusConflict,
	EDUPLICATEEVENT:   http.StatusConflict,
	EIDEMPOTENCY:      http.StatusConflict,
	EPAYLOADTOOLARGE:  http.StatusRequestEntityTooLarge,
	EINVALID:          http.StatusUnprocessableEntity,
	ESCHEMA:           http.StatusUnprocessableEntity,
	EUNKNOWNEVENTTYPE: http.StatusUnprocessableEntity,
	EURLNOTALLOWED:    http.StatusUnprocessableEntity,
	ETRANSFORMATION:   http.StatusUnprocessableEntity,
	ERATELIMITED:      http.StatusTooManyRequests,
	EUNAVAILABLE:      http.StatusServiceUnavailable,
	EINTERNAL:         http.StatusInternalServerError,
}

// StatusForCode returns the HTTP status of an error code (500 for a code it does not know).
// The API answers with it, and the dashboard and portal pages too.
func StatusForCode(code string) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is an error meant for the client: its Code is stable and its Message is safe to show.
// Errors of any other type are internal: logged in full, shown as a generic 500.
type Error struct {
	Code    string
	Message string
	// Fields lists per-field problems of a validation error, in request order.
	Fields []FieldError
	// Existing names the resource a conflict is about (the original message of a duplicate eventId).
	Existing string
}

// FieldError is one problem with one field of a request.
type FieldError struct {
	Loc []string `json:"loc"`
	Msg string   `json:"msg"`
	// Type is a stable machine-readable kind, such as "missing", "type" or "value".
	Type string `json:"type"`
}

func (e *Error) Error() string { return fmt.Sprintf("hookline: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and EINTERNAL otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err, or a generic one for internal errors.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}

// IsNotFound reports whether err is a not-found error.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }

// ErrUnavailable marks errors caused by the database being unreachable. Stores wrap driver
// connection errors with it so the API can answer 503 instead of 500.
var ErrUnavailable = errors.New("database unavailable")
