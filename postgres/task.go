package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/sqlcodec"
)

// CreateTask inserts a background task.
func (db *DB) CreateTask(ctx context.Context, t *hookline.BackgroundTask) error {
	if t.ID == "" || t.Kind == "" || t.Status == "" {
		return errors.New("postgres: create task: ID, Kind and Status are required")
	}
	db.stampCreated(&t.CreatedAt, &t.UpdatedAt)
	t.LeasedUntil = normTimePtr(t.LeasedUntil)
	_, err := db.pool.Exec(ctx, `INSERT INTO background_tasks (`+sqlcodec.TaskColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
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
	t, err := sqlcodec.ScanTask(db.pool.QueryRow(ctx, `SELECT `+sqlcodec.TaskColumns+` FROM background_tasks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "background task %q not found", id)
	}
	if err != nil {
		return nil, dbErr(err, "get task %q", id)
	}
	return t, nil
}

// ListTasks lists tasks by id, newest first unless opts says otherwise.
func (db *DB) ListTasks(ctx context.Context, opts hookline.TaskListOptions) (hookline.Page[hookline.BackgroundTask], error) {
	var a args
	cond, tail, reverse := pageQuery(&a, "id", opts.ListOptions)
	conds := []string{cond}
	if opts.AppID != "" {
		conds = append(conds, "app_id = "+a.add(opts.AppID))
	}
	if opts.Status != "" {
		conds = append(conds, "status = "+a.add(string(opts.Status)))
	}
	if opts.Kind != "" {
		conds = append(conds, "kind = "+a.add(string(opts.Kind)))
	}
	out, err := queryAll(ctx, db, `SELECT `+sqlcodec.TaskColumns+` FROM background_tasks`+where(conds...)+tail, a, sqlcodec.ScanTask)
	if err != nil {
		return hookline.Page[hookline.BackgroundTask]{}, dbErr(err, "list tasks")
	}
	return finishPage(out, opts.ListOptions, reverse), nil
}

// ClaimTasks takes running tasks that no runner holds. FOR UPDATE SKIP LOCKED gives each task
// to one of several processes claiming at once; a task another claim just took is skipped, and
// the lease condition is checked again on the locked row.
func (db *DB) ClaimTasks(ctx context.Context, p hookline.ClaimParams) ([]hookline.BackgroundTask, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	out, err := queryAll(ctx, db, `UPDATE background_tasks SET owner = $1, leased_until = $2, runs = runs + 1
		WHERE id IN (SELECT id FROM background_tasks
			WHERE status = 'running' AND (leased_until IS NULL OR leased_until <= $3)
			ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING `+sqlcodec.TaskColumns,
		args{p.Owner, micros(p.LeaseUntil), micros(p.Now), p.Limit}, sqlcodec.ScanTask)
	if err != nil {
		return nil, dbErr(err, "claim tasks")
	}
	// RETURNING keeps no order; the contract's is oldest first.
	slices.SortFunc(out, func(a, b hookline.BackgroundTask) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// UpdateTask changes a task that owner holds.
func (db *DB) UpdateTask(ctx context.Context, id, owner string, u hookline.TaskUpdate) error {
	var a args
	set := sqlcodec.TaskUpdateSet(u, micros(normTime(u.Now)), a.add)
	tag, err := db.pool.Exec(ctx, `UPDATE background_tasks SET `+set+` WHERE id = `+a.add(id)+
		` AND owner = `+a.add(owner)+` AND status = 'running'`, a...)
	if err := mustAffect(tag, err, "update task %q", id); err != nil {
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

// PurgeTasks deletes the tasks that ended before the given time.
func (db *DB) PurgeTasks(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM background_tasks WHERE status <> 'running' AND updated_at < $1`, micros(before))
	if err != nil {
		return 0, dbErr(err, "purge tasks")
	}
	return int(tag.RowsAffected()), nil
}
