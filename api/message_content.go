package api

import (
	"fmt"
	"net/http"
	"regexp"

	"github.com/hookline/hookline"
)

// Expunging content: a message's payload (with its attempts' response bodies), one attempt's
// response body, a list of messages, or every message of an application (a background task).
// As in Svix, these need an operator token: an application token may read and send, not erase.

// BulkExpungeContentsIn names the messages whose payloads to expunge.
type BulkExpungeContentsIn struct {
	IDs []string `json:"ids" doc:"Message ids or eventIds, at most 250."`
}

// BulkExpungeContentsOut says, per name, whether its payload was expunged.
type BulkExpungeContentsOut struct {
	Results map[string]string `json:"results" doc:"Per id or eventId: expunged or not-found."`
}

// MessageRawPayloadOut is a message's payload as the exact text it was sent with.
type MessageRawPayloadOut struct {
	Payload string `json:"payload"`
}

// MessagePrecheckIn names the message a precheck asks about.
type MessagePrecheckIn struct {
	EventType string   `json:"eventType"`
	Channels  []string `json:"channels,omitempty"`
}

// MessagePrecheckOut says whether an enabled endpoint would receive the message.
type MessagePrecheckOut struct {
	Active bool `json:"active"`
}

// maxBulkExpunge is how many messages one bulk-expunge may name (Svix's limit).
const maxBulkExpunge = 250

// msgIDPattern is Svix's rule for a message id or eventId in a request.
var msgIDPattern = regexp.MustCompile(`^[a-zA-Z0-9\-_.]+$`)

func (a *API) expungeMessageContent(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	app, msg, err := a.message(r)
	if err != nil {
		return err
	}
	if _, err := a.svc.ExpungeMessages(r.Context(), app.ID, []string{msg.ID}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) bulkExpungeContents(w http.ResponseWriter, r *http.Request) error {
	var in BulkExpungeContentsIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := requireOperator(r); err != nil {
		return err
	}
	app, err := a.application(r)
	if err != nil {
		return err
	}
	var fields []hookline.FieldError
	if len(in.IDs) > maxBulkExpunge {
		fields = append(fields, hookline.FieldError{Loc: []string{"body", "ids"}, Msg: fmt.Sprintf("may name at most %d messages", maxBulkExpunge), Type: "value"})
	}
	names := make([]string, 0, len(in.IDs))
	seen := map[string]bool{}
	for i, id := range in.IDs {
		if len(id) == 0 || len(id) > 256 || !msgIDPattern.MatchString(id) {
			fields = append(fields, hookline.FieldError{Loc: []string{"body", "ids", fmt.Sprint(i)},
				Msg: "must be a message id or eventId: 1 to 256 letters, digits, '-', '_' or '.'", Type: "value"})
			continue
		}
		if !seen[id] {
			seen[id] = true
			names = append(names, id)
		}
	}
	if len(fields) > 0 {
		return &hookline.Error{Code: hookline.EINVALID, Message: "ids: " + fields[0].Msg, Fields: fields}
	}
	out := BulkExpungeContentsOut{Results: map[string]string{}}
	if len(names) > 0 {
		found, err := a.svc.ExpungeMessages(r.Context(), app.ID, names)
		if err != nil {
			return err
		}
		for _, n := range names {
			if found[n] {
				out.Results[n] = "expunged"
			} else {
				out.Results[n] = "not-found"
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) expungeAttemptContent(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	at, err := a.attempt(r)
	if err != nil {
		return err
	}
	if err := a.svc.ExpungeAttempt(r.Context(), at.AppID, at.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) getRawPayload(w http.ResponseWriter, r *http.Request) error {
	_, msg, err := a.message(r)
	if err != nil {
		return err
	}
	payload := msg.Payload
	if msg.Expunged() {
		payload = hookline.ExpiredPayload
	}
	writeJSON(w, http.StatusOK, MessageRawPayloadOut{Payload: string(payload)})
	return nil
}

func (a *API) precheckMessage(w http.ResponseWriter, r *http.Request) error {
	var in MessagePrecheckIn
	if err := decode(r, &in); err != nil {
		return err
	}
	app, err := a.application(r)
	if err != nil {
		return err
	}
	active, err := a.svc.Precheck(r.Context(), app.ID, in.EventType, in.Channels)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, MessagePrecheckOut{Active: active})
	return nil
}

// ExpungeAllContentsOut is the application.purge_content task, started: follow it with
// GET /api/v1/background-task/{id}; its data counts messagesPurged.
type ExpungeAllContentsOut struct{ TaskStartedOut }

func (a *API) expungeAllContents(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	app, err := a.application(r)
	if err != nil {
		return err
	}
	task, err := a.svc.ExpungeAllContents(r.Context(), app.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, ExpungeAllContentsOut{taskStartedOut(task)})
	return nil
}
