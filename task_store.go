package hookline

import (
	"context"
	"encoding/json"
	"time"
)

// BackgroundTask is work that goes on after the request that started it (Svix's
// QueueBackgroundTask): a recover, a replay, a usage statistic. The tasks package runs them;
// the store keeps them, so a task outlives the process that started it.
type BackgroundTask struct {
	ID string // "qtask_…"
	// AppID is the application the task works on, or "" for a task across every application
	// (statistics, broadcast), which only operators see.
	AppID  string
	Kind   TaskKind
	Status TaskStatus
	// Input is the task's parameters as the runner's Start was given them (JSON).
	Input json.RawMessage
	// Data is a JSON object: the progress while the task runs, its result once finished, and
	// {"error": "..."} once failed. Svix's clients read it as the task's "data".
	Data json.RawMessage
	// Cursor is where a run taken up again continues (the handler's own bookmark), "" at first.
	Cursor string
	// Runs counts how many times a runner took the task up.
	Runs int
	// Owner holds the task while LeasedUntil is in the future; an expired lease means its runner
	// is gone and another may take the task up.
	Owner       string
	LeasedUntil *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TaskKind is what a background task does; the values are Svix's BackgroundTaskType.
type TaskKind string

// The task kinds Svix names.
const (
	TaskEndpointReplay     TaskKind = "endpoint.replay"
	TaskEndpointRecover    TaskKind = "endpoint.recover"
	TaskEndpointBulkReplay TaskKind = "endpoint.bulk-replay"
	TaskApplicationStats   TaskKind = "application.stats"
	TaskMessageBroadcast   TaskKind = "message.broadcast"
	TaskSDKGenerate        TaskKind = "sdk.generate"
	TaskEventTypeAggregate TaskKind = "event-type.aggregate"
	TaskPurgeContent       TaskKind = "application.purge_content"
)

// TaskKinds lists every kind, in Svix's order.
var TaskKinds = []TaskKind{TaskEndpointReplay, TaskEndpointRecover, TaskApplicationStats,
	TaskMessageBroadcast, TaskSDKGenerate, TaskEventTypeAggregate, TaskPurgeContent, TaskEndpointBulkReplay}

// TaskStatus is the state of a background task; the values are Svix's BackgroundTaskStatus.
type TaskStatus string

// The task statuses.
const (
	TaskRunning  TaskStatus = "running"
	TaskFinished TaskStatus = "finished"
	TaskFailed   TaskStatus = "failed"
)

// TaskStore keeps background tasks. A running task is held by one runner at a time, under a
// lease that the runner renews while it works: with several processes on one PostgreSQL
// database, a task runs in one of them, and is taken up by another when its holder dies.
type TaskStore interface {
	// CreateTask inserts t (ID, Kind, Status, Input, Data and CreatedAt set; UpdatedAt is set
	// from CreatedAt). With Owner and LeasedUntil set, it is stored already held by that runner,
	// with Runs as given.
	CreateTask(ctx context.Context, t *BackgroundTask) error
	// GetTask finds a task by id.
	GetTask(ctx context.Context, id string) (*BackgroundTask, error)
	// ListTasks lists tasks, newest first by default.
	ListTasks(ctx context.Context, opts TaskListOptions) (Page[BackgroundTask], error)
	// ClaimTasks takes up to p.Limit running tasks that no runner holds (never taken, released,
	// or their lease ended at or before p.Now), oldest first: each becomes held by p.Owner until
	// p.LeaseUntil and its Runs grows by one. Of concurrent claims, from any number of processes,
	// each task goes to one.
	ClaimTasks(ctx context.Context, p ClaimParams) ([]BackgroundTask, error)
	// UpdateTask changes a task that owner holds, as u says. When owner no longer holds it (its
	// lease ended and another runner took it, or it is no longer running), nothing changes and
	// the error has code ECONFLICT; an unknown id is ENOTFOUND.
	UpdateTask(ctx context.Context, id, owner string, u TaskUpdate) error
	// PurgeTasks deletes the tasks that ended (finished or failed) before the given time, and
	// returns how many.
	PurgeTasks(ctx context.Context, before time.Time) (int, error)
}

// TaskUpdate is a change to a held task.
type TaskUpdate struct {
	// Status ends the task when it is TaskFinished or TaskFailed (the lease ends with it);
	// "" or TaskRunning keeps it running.
	Status TaskStatus
	// Data replaces the task's data when not nil.
	Data json.RawMessage
	// Cursor replaces the task's cursor when not nil.
	Cursor *string
	// LeaseUntil renews the lease of a running task when not nil.
	LeaseUntil *time.Time
	// Release gives a running task back unheld, so another runner takes it up at once (a
	// stopping process), and takes back the run its claim counted.
	Release bool
	// Now stamps UpdatedAt.
	Now time.Time
}

// TaskListOptions selects background tasks.
type TaskListOptions struct {
	ListOptions
	// AppID, when set, lists only that application's tasks.
	AppID  string
	Status TaskStatus // only tasks in this status; "": all
	Kind   TaskKind   // only tasks of this kind; "": all
}
