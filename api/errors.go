package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/hookline/hookline"
)

// statusByCode maps every error code to its HTTP status: the one place where this happens.
var statusByCode = map[string]int{
	hookline.EINVALIDJSON:      http.StatusBadRequest,
	hookline.EINVALIDUTF8:      http.StatusBadRequest,
	hookline.EDUPLICATEKEY:     http.StatusBadRequest,
	hookline.EUNAUTHORIZED:     http.StatusUnauthorized,
	hookline.EFORBIDDEN:        http.StatusForbidden,
	hookline.ENOTFOUND:         http.StatusNotFound,
	hookline.ECONFLICT:         http.StatusConflict,
	hookline.EDUPLICATEEVENT:   http.StatusConflict,
	hookline.EIDEMPOTENCY:      http.StatusConflict,
	hookline.EPAYLOADTOOLARGE:  http.StatusRequestEntityTooLarge,
	hookline.EINVALID:          http.StatusUnprocessableEntity,
	hookline.ESCHEMA:           http.StatusUnprocessableEntity,
	hookline.EUNKNOWNEVENTTYPE: http.StatusUnprocessableEntity,
	hookline.EURLNOTALLOWED:    http.StatusUnprocessableEntity,
	hookline.ERATELIMITED:      http.StatusTooManyRequests,
	hookline.EUNAVAILABLE:      http.StatusServiceUnavailable,
	hookline.EINTERNAL:         http.StatusInternalServerError,
}

// StatusForCode returns the HTTP status of an error code.
func StatusForCode(code string) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorBody turns err into the client's view of it. Errors that are not *hookline.Error are
// internal: they are logged with the request and answered with a generic message.
func errorBody(logger *slog.Logger, r *http.Request, err error) (int, HTTPError) {
	if errors.Is(err, hookline.ErrUnavailable) {
		logger.Warn("database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		return http.StatusServiceUnavailable, HTTPError{Code: hookline.EUNAVAILABLE, Detail: "The database is unavailable; try again shortly."}
	}
	code := hookline.ErrorCode(err)
	if code == hookline.EINTERNAL {
		logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var he *hookline.Error
	body := HTTPError{Code: code, Detail: hookline.ErrorMessage(err)}
	if errors.As(err, &he) {
		body.Errors = he.Fields
	}
	return StatusForCode(code), body
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := errorBody(a.logger, r, err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, body)
}
