package api

import (
	"context"
	"net/http"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/service"
)

// ReplayIn selects the messages a replay-missing sends.
type ReplayIn struct {
	Since time.Time  `json:"since" doc:"Send the messages created at or after this time..."`
	Until *time.Time `json:"until,omitempty" doc:"... and before this time (default: now)."`
}

// ReplayOut is the replay task, started.
type ReplayOut struct{ TaskStartedOut }

// BulkReplayIn selects the messages a bulk replay sends again (every one of Svix's filters is
// honoured).
type BulkReplayIn struct {
	Since           time.Time  `json:"since" doc:"Messages created at or after this time..."`
	Until           *time.Time `json:"until,omitempty" doc:"... and before this time (default: now)."`
	EventTypes      []string   `json:"eventTypes,omitempty" doc:"Only messages of these event types."`
	Channel         *string    `json:"channel,omitempty" doc:"Only messages sent on this channel."`
	Tag             *string    `json:"tag,omitempty" doc:"Only messages with this tag."`
	Status          *int       `json:"status,omitempty" enum:"0,1,2,3,4" doc:"Only messages in this status at the endpoint."`
	StatusCodeClass *int       `json:"statusCodeClass,omitempty" enum:"0,100,200,300,400,500" doc:"Only messages with an attempt at the endpoint answered with a status of this class (0: no response)."`
}

// CancelMsgsIn says which pending messages to cancel.
type CancelMsgsIn struct {
	CreatedBefore time.Time `json:"createdBefore" doc:"Cancel the endpoint's pending messages created before this time."`
}

// EndpointThrottleRateStatusOut says whether the endpoint's rate limit holds its deliveries back.
type EndpointThrottleRateStatusOut struct {
	Status         string     `json:"status" enum:"Ok,RateLimited" doc:"RateLimited while deliveries wait for the endpoint's throttleRate in this process."`
	ThrottledSince *time.Time `json:"throttledSince,omitempty" doc:"Since when deliveries have been waiting, while RateLimited."`
}

// startReplay starts the replay task of the request's endpoint with start, once since is
// given, and answers 202 with the task.
func (a *API) startReplay(w http.ResponseWriter, r *http.Request, since time.Time,
	start func(context.Context, *hookline.Endpoint) (*hookline.BackgroundTask, error)) error {
	if since.IsZero() {
		return fieldError("body", "since", "missing", "is required")
	}
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	task, err := start(r.Context(), ep)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, ReplayOut{taskStartedOut(task)})
	return nil
}

func (a *API) replayMissing(w http.ResponseWriter, r *http.Request) error {
	var in ReplayIn
	if err := decode(r, &in); err != nil {
		return err
	}
	return a.startReplay(w, r, in.Since, func(ctx context.Context, ep *hookline.Endpoint) (*hookline.BackgroundTask, error) {
		return a.svc.ReplayMissing(ctx, ep, in.Since, in.Until)
	})
}

func (a *API) bulkReplay(w http.ResponseWriter, r *http.Request) error {
	var in BulkReplayIn
	if err := decode(r, &in); err != nil {
		return err
	}
	f := service.ReplayFilter{Since: in.Since, Until: in.Until, EventTypes: in.EventTypes, Channel: deref(in.Channel),
		Tag: deref(in.Tag), CodeClass: in.StatusCodeClass}
	if in.Status != nil {
		st := hookline.MessageStatus(*in.Status)
		f.Status = &st
	}
	return a.startReplay(w, r, in.Since, func(ctx context.Context, ep *hookline.Endpoint) (*hookline.BackgroundTask, error) {
		return a.svc.BulkReplay(ctx, ep, f)
	})
}

func (a *API) cancelMsgs(w http.ResponseWriter, r *http.Request) error {
	var in CancelMsgsIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.CreatedBefore.IsZero() {
		return fieldError("body", "createdBefore", "missing", "is required")
	}
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	if _, err := a.svc.CancelPending(r.Context(), ep, in.CreatedBefore); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) rateLimitStatus(w http.ResponseWriter, r *http.Request) error {
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	out := EndpointThrottleRateStatusOut{Status: "Ok"}
	if since, ok := a.svc.Throttled(ep.ID); ok {
		out.Status, out.ThrottledSince = "RateLimited", &since
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
