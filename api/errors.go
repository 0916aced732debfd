package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/hookline/hookline"
)

// HTTPError is the body of every error response but 422: a stable code and a sentence.
type HTTPError struct {
	Code   string `json:"code" doc:"Stable machine-readable error code."`
	Detail string `json:"detail" doc:"What went wrong, for people."`
}

// HTTPValidationError is the body of every 422: Svix's shape (detail is a list of per-field
// problems, as Svix's clients read it), with the stable code beside it.
type HTTPValidationError struct {
	Code   string                `json:"code" doc:"Stable machine-readable error code."`
	Detail []hookline.FieldError `json:"detail" doc:"The problems, one per field, in request order."`
}

// errorBody turns err into the client's view of it: an HTTPValidationError for a 422, an
// HTTPError otherwise. Errors that are not *hookline.Error are internal: they are logged with
// the request and answered with a generic message.
func errorBody(logger *slog.Logger, r *http.Request, err error) (int, any) {
	if errors.Is(err, hookline.ErrUnavailable) {
		logger.Warn("database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		return http.StatusServiceUnavailable, HTTPError{Code: hookline.EUNAVAILABLE, Detail: "The database is unavailable; try again shortly."}
	}
	code := hookline.ErrorCode(err)
	if code == hookline.EINTERNAL {
		logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	status := hookline.StatusForCode(code)
	if status != http.StatusUnprocessableEntity {
		return status, HTTPError{Code: code, Detail: hookline.ErrorMessage(err)}
	}
	return status, HTTPValidationError{Code: code, Detail: validationDetail(err)}
}

// validationDetail lists the field problems of a 422. An error that names no field becomes one
// item located at the body, typed by its code.
func validationDetail(err error) []hookline.FieldError {
	var he *hookline.Error
	if errors.As(err, &he) && len(he.Fields) > 0 {
		return he.Fields
	}
	return []hookline.FieldError{{Loc: []string{"body"}, Msg: hookline.ErrorMessage(err), Type: hookline.ErrorCode(err)}}
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := errorBody(a.logger, r, err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, body)
}
