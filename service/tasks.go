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

// Recover starts a task that sends again every message that failed at the endpoint and was
// created in [since, until) (until nil: up to now); its data counts them as messagesSent.
func (s *Service) Recover(ctx context.Context, ep *hookline.Endpoint, since time.Time, until *time.Time) (*hookline.BackgroundTask, error) {
	if until != nil && !until.After(since) {
		return nil, &hookline.Error{Code: hookline.EINVALID, Message: "until: must be after since",
			Fields: []hookline.FieldError{{Loc: []string{"body", "until"}, Msg: "must be after since", Type: "value"}}}
	}
	return s.startTask(ctx, hookline.TaskEndpointRecover, ep.AppID, ReplayFilter{EndpointID: ep.ID, Since: since, Until: until})
}

// runRecover sends the failed messages again a batch at a time, recording its progress (and
// where it got to) after each, like the replays.
func (s *Service) runRecover(ctx context.Context, run *tasks.Run) (any, error) {
	return s.replay(ctx, run, replayFailed)
}
