package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/hookline/hookline"
)

// taskKindEnum and taskStatusEnum are Svix's BackgroundTaskType and BackgroundTaskStatus.
const (
	taskKindEnum   = "endpoint.replay,endpoint.recover,application.stats,message.broadcast,sdk.generate,event-type.aggregate,application.purge_content,endpoint.bulk-replay"
	taskStatusEnum = "running,finished,failed"
)

// BackgroundTaskOut is a background task: what it does, how far it got, and its result.
type BackgroundTaskOut struct {
	Data      json.RawMessage `json:"data" doc:"Progress while running, the result once finished, {\"error\": ...} once failed."`
	ID        string          `json:"id"`
	Status    string          `json:"status" enum:"running,finished,failed"`
	Task      string          `json:"task" enum:"endpoint.replay,endpoint.recover,application.stats,message.broadcast,sdk.generate,event-type.aggregate,application.purge_content,endpoint.bulk-replay"`
	UpdatedAt time.Time       `json:"updatedAt" svix:"v2"`
}

func taskOut(t *hookline.BackgroundTask) BackgroundTaskOut {
	data := t.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	return BackgroundTaskOut{Data: data, ID: t.ID, Status: string(t.Status), Task: string(t.Kind), UpdatedAt: t.UpdatedAt}
}

// TaskStartedOut is the answer of a route that starts a background task: follow it with
// GET /api/v1/background-task/{id}.
type TaskStartedOut struct {
	ID        string    `json:"id"`
	Status    string    `json:"status" enum:"running,finished,failed"`
	Task      string    `json:"task" enum:"endpoint.replay,endpoint.recover,application.stats,message.broadcast,sdk.generate,event-type.aggregate,application.purge_content,endpoint.bulk-replay"`
	UpdatedAt time.Time `json:"updatedAt" svix:"v2"`
}

// RecoverOut is the recover task, started.
type RecoverOut struct{ TaskStartedOut }

func taskStartedOut(t *hookline.BackgroundTask) TaskStartedOut {
	return TaskStartedOut{ID: t.ID, Status: string(t.Status), Task: string(t.Kind), UpdatedAt: t.UpdatedAt}
}

// BackgroundTaskListQuery are the filters of the task list.
type BackgroundTaskListQuery struct {
	Status   string `query:"status" enum:"running,finished,failed" doc:"Only tasks in this status."`
	Task     string `query:"task" enum:"endpoint.replay,endpoint.recover,application.stats,message.broadcast,sdk.generate,event-type.aggregate,application.purge_content,endpoint.bulk-replay" doc:"Only tasks of this kind."`
	Limit    int    `query:"limit" doc:"Page size, 1 to 250 (default 50)."`
	Iterator string `query:"iterator" doc:"The iterator (or prevIterator) of the page before."`
	Order    string `query:"order" enum:"ascending,descending" doc:"Sort order (default: newest first)."`
}

// taskVisible reports whether the request's token may see the task: operators see every task,
// an application's tokens only that application's.
func taskVisible(r *http.Request, t *hookline.BackgroundTask) bool {
	tok := tokenFrom(r.Context())
	if tok == nil {
		return false
	}
	return tok.Kind == hookline.TokenOperator || (t.AppID != "" && tok.AppID == t.AppID)
}

func (a *API) listBackgroundTasks(w http.ResponseWriter, r *http.Request) error {
	opts, err := listOptions(r, true)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	lo := hookline.TaskListOptions{ListOptions: opts}
	if s := q.Get("status"); s != "" {
		if !slices.Contains([]hookline.TaskStatus{hookline.TaskRunning, hookline.TaskFinished, hookline.TaskFailed}, hookline.TaskStatus(s)) {
			return fieldError("query", "status", "enum", `must be "running", "finished" or "failed"`)
		}
		lo.Status = hookline.TaskStatus(s)
	}
	if s := q.Get("task"); s != "" {
		if !slices.Contains(hookline.TaskKinds, hookline.TaskKind(s)) {
			return fieldError("query", "task", "enum", "must be one of "+taskKindEnum)
		}
		lo.Kind = hookline.TaskKind(s)
	}
	if tok := tokenFrom(r.Context()); tok != nil && tok.Kind != hookline.TokenOperator {
		lo.AppID = tok.AppID
	}
	page, err := a.store.ListTasks(r.Context(), lo)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listResponse(page, opts, func(t *hookline.BackgroundTask) string { return t.ID }, taskOut))
	return nil
}

func (a *API) getBackgroundTask(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("task_id")
	t, err := a.store.GetTask(r.Context(), id)
	if err != nil {
		return err
	}
	if !taskVisible(r, t) {
		return hookline.Errorf(hookline.ENOTFOUND, "background task %q not found", id)
	}
	writeJSON(w, http.StatusOK, taskOut(t))
	return nil
}
