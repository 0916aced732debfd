package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// CreateTask inserts a background task.
func (db *DB) CreateTask(ctx context.Context, t *hookline.BackgroundTask) error {
	if t.ID == "" || t.Kind == "" || t.Status == "" {
		return errors.New("sqlite: create task: ID, Kind and Status are required")
	}
	db.stampCreated(&t.CreatedAt, &t.UpdatedAt)
	t.LeasedUntil = normTimePtr(t.LeasedUntil)
	_, err := db.w.ExecContext(ctx, `INSERT INTO background_tasks (`+sqlcodec.TaskColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sqlcodec.TaskValues(t)...)
	switch {
	case isUniqueViolation(err):
		return hookline.Errorf(hookline.ECONFLICT, "task %q already exists", t.ID)
	case isForeignKeyViolation(err):
		return hookline.Errorf(hookline.ENOTFOUND, "application %q not found", t.AppID)
	case err != nil:
		return dbErr(err, "create task")
	}
	return nil
}

// GetTask finds a task by id.
func (db *DB) GetTask(ctx context.Context, id string) (*hookline.BackgroundTask, error) {
	t, err := sqlcodec.ScanTask(db.r.QueryRowContext(ctx, `SELECT `+sqlcodec.TaskColumns+` FROM background_tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "background task %q not found", id)
	}
	if err != nil {
		return nil, dbErr(err, "get task %q", id)
	}
	return t, nil
}

// ListTasks lists tasks by id, newest first unless opts says otherwise.
func (db *DB) ListTasks(ctx context.Context, opts hookline.TaskListOptions) (hookline.Page[hookline.BackgroundTask], error) {
	cond, args, tail, reverse := pageQuery("id", opts.ListOptions)
	conds := []string{cond}
	if opts.AppID != "" {
		conds, args = append(conds, "app_id = ?"), append(args, opts.AppID)
	}
	if opts.Status != "" {
		conds, args = append(conds, "status = ?"), append(args, string(opts.Status))
	}
	if opts.Kind != "" {
		conds, args = append(conds, "kind = ?"), append(args, string(opts.Kind))
	}
	out, err := db.queryTasks(ctx, db.r, `SELECT `+sqlcodec.TaskColumns+` FROM background_tasks`+where(conds)+tail, args...)
	if err != nil {
		return hookline.Page[hookline.BackgroundTask]{}, dbErr(err, "list tasks")
	}
	return finishPage(out, opts.ListOptions, reverse), nil
}

// ClaimTasks takes running tasks that no runner holds. SQLite has one writer, so one statement
// cannot hand a task to two claimants.
func (db *DB) ClaimTasks(ctx context.Context, p hookline.ClaimParams) ([]hookline.BackgroundTask, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	// Runners poll every few seconds and nearly always find nothing: a read says so without
	// taking the writer from the API.
	var one int
	err := db.r.QueryRowContext(ctx, `SELECT 1 FROM background_tasks
		WHERE status = 'running' AND (leased_until IS NULL OR leased_until <= ?) LIMIT 1`, micros(p.Now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, dbErr(err, "claim tasks")
	}
	var out []hookline.BackgroundTask
	err = db.commitTx(ctx, false, func(tx *txn) error {
		var err error
		out, err = db.queryTasks(ctx, tx, `UPDATE background_tasks SET owner = ?, leased_until = ?, runs = runs + 1
			WHERE id IN (SELECT id FROM background_tasks
				WHERE status = 'running' AND (leased_until IS NULL OR leased_until <= ?) ORDER BY id LIMIT ?)
			RETURNING `+sqlcodec.TaskColumns,
			p.Owner, micros(p.LeaseUntil), micros(p.Now), p.Limit)
		return err
	})
	if err != nil {
		return nil, dbErr(err, "claim tasks")
	}
	// RETURNING keeps no order; the contract's is oldest first.
	slices.SortFunc(out, func(a, b hookline.BackgroundTask) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// UpdateTask changes a task that owner holds.
func (db *DB) UpdateTask(ctx context.Context, id, owner string, u hookline.TaskUpdate) error {
	var args []any
	set := sqlcodec.TaskUpdateSet(u, micros(normTime(u.Now)), func(v any) string {
		args = append(args, v)
		return "?"
	})
	args = append(args, id, owner)
	res, err := db.w.ExecContext(ctx, `UPDATE background_tasks SET `+set+` WHERE id = ? AND owner = ? AND status = 'running'`, args...)
	if err := mustAffect(res, err, "update task %q", id); err != nil {
		if !errors.Is(err, errNoRows) {
			return err
		}
		if _, err := db.GetTask(ctx, id); err != nil {
			return err
		}
		return hookline.Errorf(hookline.ECONFLICT, "background task %q is not held by %s", id, owner)
	}
	return nil
}

func (db *DB) queryTasks(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, query string, args ...any) ([]hookline.BackgroundTask, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hookline.BackgroundTask
	for rows.Next() {
		t, err := sqlcodec.ScanTask(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// PurgeTasks deletes the tasks that ended before the given time.
func (db *DB) PurgeTasks(ctx context.Context, before time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM background_tasks WHERE status <> 'running' AND updated_at < ?`, micros(before))
	if err != nil {
		return 0, dbErr(err, "purge tasks")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, dbErr(err, "purge tasks")
	}
	return int(n), nil
}
