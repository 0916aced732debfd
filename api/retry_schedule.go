package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hookline/hookline"
)

// An event type's own retry schedule (Svix's per-event-type retry schedule): the delays before
// the 1st, 2nd, ... retry of a message of that event type at an endpoint, in place of the
// server's --retry-schedule. Jitter, the longer waits after a 429 or a timeout, and Retry-After
// apply to it as to the default.

// Limits of a retry schedule.
const (
	maxRetryScheduleLen   = 50
	maxRetryScheduleDelay = 7 * 24 * time.Hour
)

// DurationInOut is a delay as Svix writes it (its Duration): whole seconds and nanoseconds.
type DurationInOut struct {
	Secs  int64 `json:"secs" doc:"Whole seconds."`
	Nanos int64 `json:"nanos" doc:"Nanoseconds beyond the seconds, below 1,000,000,000."`
}

// RetryScheduleInOut is an event type's retry schedule (Svix's RetryScheduleInOut).
type RetryScheduleInOut struct {
	RetrySchedule *[]DurationInOut `json:"retrySchedule" required:"false" doc:"The delays before each retry, at most 50, each at most 7 days. null: the event type has none and the server's default applies; []: no retries."`
}

func retryScheduleOut(s []time.Duration) RetryScheduleInOut {
	if s == nil {
		return RetryScheduleInOut{}
	}
	out := make([]DurationInOut, len(s))
	for i, d := range s {
		out[i] = DurationInOut{Secs: int64(d / time.Second), Nanos: int64(d % time.Second)}
	}
	return RetryScheduleInOut{RetrySchedule: &out}
}

func (a *API) getRetrySchedule(w http.ResponseWriter, r *http.Request) error {
	s, err := a.store.GetRetrySchedule(r.Context(), r.PathValue("event_type_name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, retryScheduleOut(s))
	return nil
}

func (a *API) setRetrySchedule(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	var in RetryScheduleInOut
	if err := decode(r, &in); err != nil {
		return err
	}
	var sched []time.Duration
	if in.RetrySchedule != nil {
		if len(*in.RetrySchedule) > maxRetryScheduleLen {
			return fieldError("body", "retrySchedule", "value", fmt.Sprintf("may hold at most %d delays", maxRetryScheduleLen))
		}
		sched = make([]time.Duration, len(*in.RetrySchedule))
		for i, d := range *in.RetrySchedule {
			if d.Secs < 0 || d.Nanos < 0 || d.Nanos >= int64(time.Second) {
				return indexError("retrySchedule", i, "secs must not be negative and nanos must be from 0 to 999999999")
			}
			if d.Secs > int64(maxRetryScheduleDelay/time.Second) {
				return indexError("retrySchedule", i, "must be at most 7 days (604800 seconds)")
			}
			sched[i] = time.Duration(d.Secs)*time.Second + time.Duration(d.Nanos)
			if sched[i] > maxRetryScheduleDelay {
				return indexError("retrySchedule", i, "must be at most 7 days (604800 seconds)")
			}
		}
	}
	name := r.PathValue("event_type_name")
	if err := a.store.SetRetrySchedule(r.Context(), name, sched); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, retryScheduleOut(sched))
	return nil
}

// indexError is a validation error about one item of a list in the body.
func indexError(field string, i int, msg string) error {
	return &hookline.Error{Code: hookline.EINVALID, Message: fmt.Sprintf("%s[%d]: %s", field, i, msg),
		Fields: []hookline.FieldError{{Loc: []string{"body", field, strconv.Itoa(i)}, Msg: msg, Type: "value"}}}
}
