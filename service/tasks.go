package service

import (
	"context"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/tasks"
)

// SetTasks gives the service the process's task runner and registers the handlers of the tasks
// the service runs (recover, replays, statistics). Call it once, before the runner runs.
func (s *Service) SetTasks(r *tasks.Runner) {
	s.tasks = r
	r.Handle(hookline.TaskEndpointRecover, s.runRecover)
	r.Handle(hookline.TaskEndpointReplay, s.runReplayMissing)
	r.Handle(hookline.TaskEndpointBulkReplay, s.runBulkReplay)
	r.Handle(hookline.TaskPurgeContent, s.runExpungeAll)
	r.Handle(hookline.TaskMessageBroadcast, s.runBroadcast)
	r.Handle(hookline.TaskApplicationStats, s.runAppStats)
	r.Handle(hookline.TaskEventTypeAggregate, s.runAggregateEventTypes)
}

// Tasks returns the task runner, for other capabilities to register their kinds with and start
// tasks on; nil until SetTasks.
func (s *Service) Tasks() *tasks.Runner { return s.tasks }

// startTask starts a task, or fails when the service has no runner.
func (s *Service) startTask(ctx context.Context, kind hookline.TaskKind, appID string, input any) (*hookline.BackgroundTask, error) {
	if s.tasks == nil {
		return nil, hookline.Errorf(hookline.EUNAVAILABLE, "background tasks are not running in this process")
	}
	return s.tasks.Start(ctx, kind, appID, input)
}

// sentData is the data of the tasks that send messages again, as Svix words it.
type sentData struct {
	MessagesSent int `json:"messagesSent"`
}

// recoverInput is the input of an endpoint.recover task.
type recoverInput struct {
	EndpointID string     `json:"endpointId"`
	Since      time.Time  `json:"since"`
	Until      *time.Time `json:"until,omitempty"`
}

// Recover starts a task that sends again every message that failed at the endpoint and was
// created in [since, until) (until nil: up to now); its data counts them as messagesSent.
func (s *Service) Recover(ctx context.Context, ep *hookline.Endpoint, since time.Time, until *time.Time) (*hookline.BackgroundTask, error) {
	if until != nil && !until.After(since) {
		return nil, &hookline.Error{Code: hookline.EINVALID, Message: "until: must be after since",
			Fields: []hookline.FieldError{{Loc: []string{"body", "until"}, Msg: "must be after since", Type: "value"}}}
	}
	return s.startTask(ctx, hookline.TaskEndpointRecover, ep.AppID, recoverInput{EndpointID: ep.ID, Since: since, Until: until})
}

func (s *Service) runRecover(ctx context.Context, run *tasks.Run) (any, error) {
	var in recoverInput
	if err := run.Input(&in); err != nil {
		return nil, err
	}
	// Requeuing is one statement: a run taken up again requeues what is still failed, which
	// is what the first run left to do.
	n, err := s.store.RequeueFailed(ctx, run.Task.AppID, in.EndpointID, in.Since, in.Until, s.clock.Now())
	if err != nil {
		return nil, err
	}
	if n > 0 {
		s.onWork()
	}
	return sentData{MessagesSent: n}, nil
}
