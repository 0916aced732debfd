package sqlcodec

import (
	"encoding/json"
	"strings"

	"github.com/hookline/hookline"
)

// TaskColumns are the columns of background_tasks that ScanTask reads, in its order.
const TaskColumns = `id, app_id, kind, status, input, data, cursor, runs, owner, leased_until, created_at, updated_at`

// ScanTask reads a row of TaskColumns.
func ScanTask(s Scanner) (*hookline.BackgroundTask, error) {
	var (
		t                    hookline.BackgroundTask
		appID, owner         *string
		kind, status         string
		input, data          string
		leased               *int64
		createdAt, updatedAt int64
	)
	if err := s.Scan(&t.ID, &appID, &kind, &status, &input, &data, &t.Cursor, &t.Runs, &owner, &leased,
		&createdAt, &updatedAt); err != nil {
		return nil, err
	}
	t.AppID, t.Owner = deref(appID), deref(owner)
	t.Kind, t.Status = hookline.TaskKind(kind), hookline.TaskStatus(status)
	t.Input, t.Data = json.RawMessage(input), json.RawMessage(data)
	t.LeasedUntil = fromNullMicros(leased)
	t.CreatedAt, t.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &t, nil
}

// TaskValues returns the values of t's TaskColumns, in their order.
func TaskValues(t *hookline.BackgroundTask) []any {
	var leased *int64
	if t.LeasedUntil != nil {
		us := t.LeasedUntil.UnixMicro()
		leased = &us
	}
	return []any{t.ID, nullable(t.AppID), string(t.Kind), string(t.Status), TaskJSON(t.Input, "{}"),
		TaskJSON(t.Data, "{}"), t.Cursor, t.Runs, nullable(t.Owner), leased,
		t.CreatedAt.UnixMicro(), t.UpdatedAt.UnixMicro()}
}

// TaskJSON returns raw as the text of a JSON column, or def when raw is empty.
func TaskJSON(raw json.RawMessage, def string) string {
	if len(raw) == 0 {
		return def
	}
	return string(raw)
}

// TaskUpdateSet builds the SET list of UpdateTask for both stores. add binds an argument and
// returns its placeholder; nowMicros stamps updated_at.
func TaskUpdateSet(u hookline.TaskUpdate, nowMicros int64, add func(v any) string) string {
	set := []string{"updated_at = " + add(nowMicros)}
	final := u.Status == hookline.TaskFinished || u.Status == hookline.TaskFailed
	if final {
		set = append(set, "status = "+add(string(u.Status)))
	}
	if u.Data != nil {
		set = append(set, "data = "+add(string(u.Data)))
	}
	if u.Cursor != nil {
		set = append(set, "cursor = "+add(*u.Cursor))
	}
	switch {
	case final || u.Release:
		// A finished task is held by no one; a released one is free for the next claim, and
		// the run its claim counted did not happen.
		set = append(set, "owner = NULL", "leased_until = NULL")
		if u.Release && !final {
			set = append(set, "runs = runs - 1")
		}
	case u.LeaseUntil != nil:
		set = append(set, "leased_until = "+add(u.LeaseUntil.UnixMicro()))
	}
	return strings.Join(set, ", ")
}
