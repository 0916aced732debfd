package api

import (
	"encoding/json"
	"net/http"

	"github.com/hookline/hookline"
)

// MessageBroadcastIn is the message a broadcast creates in every application.
type MessageBroadcastIn struct {
	EventType string          `json:"eventType" doc:"An existing event type."`
	EventID   *string         `json:"eventId,omitempty" doc:"Your id for the event, used in every application; it makes the broadcast create at most one message per application."`
	Payload   json.RawMessage `json:"payload" doc:"The JSON object to deliver, byte for byte."`
	Channels  []string        `json:"channels,omitempty"`
}

// MessageBroadcastOut is the message.broadcast task, started: follow it with
// GET /api/v1/background-task/{id}; its data lists messagesCreated ({appId, msgId}).
type MessageBroadcastOut struct{ TaskStartedOut }

func (a *API) broadcastMessage(w http.ResponseWriter, r *http.Request) error {
	var in MessageBroadcastIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := requireOperator(r); err != nil {
		return err
	}
	msg := &hookline.Message{EventType: in.EventType, EventID: deref(in.EventID), Payload: in.Payload, Channels: in.Channels}
	task, err := a.svc.Broadcast(r.Context(), msg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, MessageBroadcastOut{taskStartedOut(task)})
	return nil
}
