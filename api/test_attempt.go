package api

import (
	"context"
	"net/http"
	"time"

	"github.com/hookline/hookline"
)

// testAttemptWait bounds how long a test attempt waits for its attempt to be recorded: longer
// than any delivery's timeout, so it ends only when no dispatcher took the message.
const testAttemptWait = 60 * time.Second

// testAttemptPoll is how often a test attempt looks for its attempt.
const testAttemptPoll = 20 * time.Millisecond

// testAttempt creates a message for one endpoint, whatever its filters, sends it at once and
// answers with the attempt: Svix's msg/test-attempt.
func (a *API) testAttempt(w http.ResponseWriter, r *http.Request) error {
	var in MessageIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Application != nil {
		// The endpoint's application exists: there is nothing to create, and nothing is ignored.
		return unsupportedError([]hookline.FieldError{{Loc: []string{"body", "application"}, Msg: unsupportedMsg + " here: the endpoint's application exists", Type: "unsupported"}})
	}
	if in.DeliverAt != nil {
		// A test attempt is made now, and answered with its result.
		return unsupportedError([]hookline.FieldError{{Loc: []string{"body", "deliverAt"}, Msg: unsupportedMsg + " here: a test attempt is made at once", Type: "unsupported"}})
	}
	for name, set := range map[string]bool{"payloadRetentionPeriod": in.PayloadRetentionPeriod != nil, "payloadRetentionHours": in.PayloadRetentionHours != nil} {
		if set {
			return unsupportedError([]hookline.FieldError{{Loc: []string{"body", name}, Msg: unsupportedMsg + " here: a test message is kept as long as the others", Type: "unsupported"}})
		}
	}
	app, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	if ep.Disabled {
		return &hookline.Error{Code: hookline.EINVALID, Message: "the endpoint is disabled; enable it to send it a test attempt",
			Fields: []hookline.FieldError{{Loc: []string{"path", "endpoint_id"}, Msg: "is disabled", Type: "value"}}}
	}
	msg, payloadLoc, err := in.message()
	if err != nil {
		return err
	}
	msg.OnlyEndpointID = ep.ID
	if err := a.svc.CreateMessage(r.Context(), app, msg, payloadLoc...); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), testAttemptWait)
	defer cancel()
	tick := time.NewTicker(testAttemptPoll)
	defer tick.Stop()
	for {
		page, err := a.store.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{
			ListOptions: hookline.ListOptions{Limit: 1}, MessageID: msg.ID, EndpointID: ep.ID})
		if err == nil && len(page.Data) > 0 {
			writeJSON(w, http.StatusCreated, attemptOut(&page.Data[0]))
			return nil
		}
		if err != nil && ctx.Err() == nil {
			return err
		}
		select {
		case <-ctx.Done():
			if r.Context().Err() != nil {
				return r.Context().Err()
			}
			return hookline.Errorf(hookline.EUNAVAILABLE, "message %s was created, but no attempt was made within %s: is a delivery worker running?", msg.ID, testAttemptWait)
		case <-tick.C:
		}
	}
}
