package service

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/tasks"
)

// replayBatch is how many messages a replay reads, sends again and records progress for at once.
const replayBatch = 100

// ReplayFilter selects the messages a bulk replay sends again (Svix's BulkReplayIn); a
// replay-missing uses only Since and Until.
type ReplayFilter struct {
	Since      time.Time               `json:"since"`
	Until      *time.Time              `json:"until,omitempty"`
	EventTypes []string                `json:"eventTypes,omitempty"`
	Channel    string                  `json:"channel,omitempty"`
	Tag        string                  `json:"tag,omitempty"`
	Status     *hookline.MessageStatus `json:"status,omitempty"`
	CodeClass  *int                    `json:"statusCodeClass,omitempty"`
	EndpointID string                  `json:"endpointId"`
}

// ReplayMissing starts a task (endpoint.replay) that sends to the endpoint every message of its
// application created after since (and before until) that it accepts (its event-type and
// channel filters) and that never went to it: messages from before it existed, or from while
// it filtered them out. Its data counts them as messagesSent.
func (s *Service) ReplayMissing(ctx context.Context, ep *hookline.Endpoint, since time.Time, until *time.Time) (*hookline.BackgroundTask, error) {
	if err := checkWindow(since, until); err != nil {
		return nil, err
	}
	return s.startTask(ctx, hookline.TaskEndpointReplay, ep.AppID, ReplayFilter{EndpointID: ep.ID, Since: since, Until: until})
}

// BulkReplay starts a task (endpoint.bulk-replay) that sends again to the endpoint every message
// sent to it before (successfully or not) that f selects.
func (s *Service) BulkReplay(ctx context.Context, ep *hookline.Endpoint, f ReplayFilter) (*hookline.BackgroundTask, error) {
	if err := checkWindow(f.Since, f.Until); err != nil {
		return nil, err
	}
	var fe fieldErrors
	for i, et := range f.EventTypes {
		fe.checkIdentifier(et, 256, true, "eventTypes", fmt.Sprint(i))
	}
	fe.checkChannel(f.Channel, false, "channel")
	if f.Tag != "" && (len(f.Tag) > 128 || !tagPattern.MatchString(f.Tag)) {
		fe.add("value", `must be at most 128 characters of letters, digits and - _ . / \ #`, "tag")
	}
	if f.Status != nil && (*f.Status < hookline.StatusSuccess || *f.Status > hookline.StatusCanceled) {
		fe.add("enum", "must be 0 (success), 1 (pending), 2 (fail), 3 (sending) or 4 (canceled)", "status")
	}
	if f.CodeClass != nil {
		switch *f.CodeClass {
		case 0, 100, 200, 300, 400, 500:
		default:
			fe.add("enum", "must be 0 (no response), 100, 200, 300, 400 or 500", "statusCodeClass")
		}
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	f.EndpointID = ep.ID
	return s.startTask(ctx, hookline.TaskEndpointBulkReplay, ep.AppID, f)
}

func checkWindow(since time.Time, until *time.Time) error {
	if until != nil && !until.After(since) {
		return &hookline.Error{Code: hookline.EINVALID, Message: "until: must be after since",
			Fields: []hookline.FieldError{{Loc: []string{"body", "until"}, Msg: "must be after since", Type: "value"}}}
	}
	return nil
}

// replayMode says which messages a replay sends.
type replayMode int

const (
	replayMissing replayMode = iota // never sent to the endpoint, and accepted by it
	replayBulk                      // sent to the endpoint before, as the filter says
	replayFailed                    // failed at the endpoint (recover)
)

func (s *Service) runReplayMissing(ctx context.Context, run *tasks.Run) (any, error) {
	return s.replay(ctx, run, replayMissing)
}

func (s *Service) runBulkReplay(ctx context.Context, run *tasks.Run) (any, error) {
	return s.replay(ctx, run, replayBulk)
}

// replay walks the selected messages in creation order, a batch at a time, sending each again
// to the endpoint; after each batch it records how many it sent and the last message, so a run
// taken up after a crash continues after it.
func (s *Service) replay(ctx context.Context, run *tasks.Run, mode replayMode) (any, error) {
	var f ReplayFilter
	if err := run.Input(&f); err != nil {
		return nil, err
	}
	appID := run.Task.AppID
	ep, err := s.store.GetEndpoint(ctx, appID, f.EndpointID)
	if err != nil {
		return nil, err
	}
	var done sentData
	if run.Task.Cursor != "" { // taken up again: count on from the last progress
		if err := json.Unmarshal(run.Task.Data, &done); err != nil {
			return nil, fmt.Errorf("replay %s: read progress: %w", run.Task.ID, err)
		}
	}
	since := f.Since.Add(-time.Microsecond) // After is exclusive; since is inclusive
	opts := hookline.MessageListOptions{ListOptions: hookline.ListOptions{Limit: replayBatch, Iterator: run.Task.Cursor},
		After: &since, Before: f.Until}
	switch mode {
	case replayMissing:
		opts.NoDeliveryTo = ep.ID
	case replayBulk:
		opts.EndpointID, opts.Status, opts.CodeClass = ep.ID, f.Status, f.CodeClass
		opts.EventTypes, opts.Channel, opts.Tag = f.EventTypes, f.Channel, f.Tag
	case replayFailed:
		failed := hookline.StatusFail
		opts.EndpointID, opts.Status = ep.ID, &failed
	}
	accepting := *ep
	accepting.Disabled = false // a disabled endpoint's deliveries end without a request, as any other's
	for {
		page, err := s.store.ListMessages(ctx, appID, opts)
		if err != nil {
			return nil, err
		}
		for _, msg := range page.Data {
			if mode == replayMissing && !accepting.Accepts(msg.EventType, msg.Channels) {
				continue
			}
			d, err := s.store.RequeueDelivery(ctx, appID, msg.ID, ep.ID, s.clock.Now())
			if hookline.IsNotFound(err) {
				if _, epErr := s.store.GetEndpoint(ctx, appID, ep.ID); epErr != nil {
					return nil, epErr // the endpoint was deleted meanwhile: the task fails, saying so
				}
				continue // the message was purged meanwhile
			}
			if err != nil {
				return nil, err
			}
			if d.Status == hookline.StatusPending {
				done.MessagesSent++
			}
		}
		if len(page.Data) > 0 {
			s.onWork()
			opts.Iterator = page.Data[len(page.Data)-1].ID
			if err := run.Progress(ctx, done, opts.Iterator); err != nil {
				return nil, err
			}
		}
		if page.Done || len(page.Data) == 0 {
			return done, nil
		}
	}
}
