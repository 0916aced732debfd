package service

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/tasks"
)

// broadcastInput is the input of a message.broadcast task: the message to create in every
// application.
type broadcastInput struct {
	EventType  string          `json:"eventType"`
	EventID    string          `json:"eventId,omitempty"`
	Payload    json.RawMessage `json:"payload"`
	Channels   []string        `json:"channels,omitempty"`
	PayloadLoc []string        `json:"payloadLoc,omitempty"`
}

// createdMessage is one message a broadcast created, as Svix words it.
type createdMessage struct {
	AppID string `json:"appId"`
	MsgID string `json:"msgId"`
}

// broadcastData is the data of a message.broadcast task.
type broadcastData struct {
	MessagesCreated []createdMessage `json:"messagesCreated"`
}

// broadcastPage is how many applications a broadcast reads at a time; it records its progress
// after each page.
const broadcastPage = 100

// Broadcast checks msg as CreateMessage would and starts a task (message.broadcast) that
// creates it in every application (the internal one of operational webhooks aside), each a
// message of its own with its own id. Its data lists them as messagesCreated. An application
// that already has a message with the eventId (the broadcast ran there before it was taken up
// again) keeps it, and the list names that one. Without an eventId, a broadcast taken up again
// after its process died may create a second message in the applications it reached after its
// last recorded page: give an eventId to make it exactly once per application.
func (s *Service) Broadcast(ctx context.Context, msg *hookline.Message, payloadLoc ...string) (*hookline.BackgroundTask, error) {
	if err := s.CheckMessage(ctx, msg, payloadLoc...); err != nil {
		return nil, err
	}
	return s.startTask(ctx, hookline.TaskMessageBroadcast, "", broadcastInput{EventType: msg.EventType, EventID: msg.EventID,
		Payload: msg.Payload, Channels: msg.Channels, PayloadLoc: payloadLoc})
}

func (s *Service) runBroadcast(ctx context.Context, run *tasks.Run) (any, error) {
	var in broadcastInput
	if err := run.Input(&in); err != nil {
		return nil, err
	}
	data := broadcastData{MessagesCreated: []createdMessage{}}
	if len(run.Task.Data) > 0 {
		json.Unmarshal(run.Task.Data, &data)
		if data.MessagesCreated == nil {
			data.MessagesCreated = []createdMessage{}
		}
	}
	opts := hookline.ListOptions{Limit: broadcastPage, Iterator: run.Task.Cursor}
	for {
		page, err := s.store.ListApplications(ctx, hookline.ApplicationListOptions{ListOptions: opts})
		if err != nil {
			return nil, err
		}
		for i := range page.Data {
			app := &page.Data[i]
			if app.Internal {
				continue
			}
			msg := &hookline.Message{EventType: in.EventType, EventID: in.EventID, Payload: in.Payload, Channels: in.Channels}
			err := s.CreateMessage(ctx, app, msg, in.PayloadLoc...)
			var he *hookline.Error
			switch {
			case err == nil:
			case hookline.ErrorCode(err) == hookline.EDUPLICATEEVENT && errors.As(err, &he) && he.Existing != "":
				msg.ID = he.Existing
			default:
				return nil, err
			}
			data.MessagesCreated = append(data.MessagesCreated, createdMessage{AppID: app.ID, MsgID: msg.ID})
		}
		if page.Done || len(page.Data) == 0 {
			return data, nil
		}
		opts.Iterator = page.Data[len(page.Data)-1].ID
		if err := run.Progress(ctx, data, opts.Iterator); err != nil {
			return nil, err
		}
	}
}
