// Package tasks runs background tasks: work that goes on after the request that started it
// (Svix's QueueBackgroundTask), such as a recover, a replay, a bulk expunge or a usage
// statistic. Tasks live in the store (hookline.TaskStore), so they outlive the process that
// started them, and clients follow them with GET /api/v1/background-task/{task_id}.
//
// # API
//
// A process has one Runner: the server makes it, runs it in every role, and gives it to the
// service (service.SetTasks registers the service's kinds; others reach the runner with
// service.Tasks()). Each capability registers the kinds it runs, once, before Run:
//
//	runner.Handle(hookline.TaskEndpointRecover, func(ctx context.Context, run *tasks.Run) (any, error) {
//		var in recoverInput
//		if err := run.Input(&in); err != nil {
//			return nil, err
//		}
//		// ... work in steps; after each, record progress and where to continue:
//		if err := run.Progress(ctx, map[string]any{"messagesSent": n}, lastID); err != nil {
//			return nil, err // the task was taken over, or the process is stopping
//		}
//		return map[string]any{"messagesSent": n}, nil // the task's data once finished
//	})
//
// and a handler of a request starts a task and answers with it at once:
//
//	task, err := runner.Start(ctx, hookline.TaskEndpointRecover, app.ID, recoverInput{...})
//	// task.ID is the "qtask_…" id; task.Status is "running"
//
// Start stores the task (appID "" for a task across applications, which only operators see)
// and, when the runner has a free slot, runs it at once in this process; otherwise a runner
// with room, in this process or another sharing the database, claims it. The handler's input is
// whatever Start was given, encoded as JSON; run.Input decodes it. Its result (any value that
// encodes as a JSON object; nil is {}) becomes the task's data with status "finished"; an error
// makes it "failed" with data {"error": "..."} (the message of a *hookline.Error, or a generic
// one for internal errors, which are logged).
//
// # Crashes, restarts and many processes
//
// A running task is held by one runner under a lease (Options.Lease) that the runner renews
// while the handler works. If the process dies, the lease ends and the task is taken up again
// by the next claim, in any process: the handler runs again from the start, with run.Task's
// Data and Cursor as its last Progress left them, so it can continue where it stopped (or
// start over, if its work is safe to repeat). A task taken up Options.MaxRuns times without
// finishing (it keeps killing its process) is marked failed instead. One SQLite database has
// one Hookline process, so Options.TakeOverAtStart makes its first claim take every running
// task at once, without waiting for leases to end. On PostgreSQL claims use FOR UPDATE SKIP
// LOCKED: each task runs in one process at a time.
//
// When the runner stops (its Run context ends), handlers see their context cancelled; the
// tasks they leave unfinished are released, unheld, for the next claim, and that run is not
// counted.
package tasks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hookline/hookline"
)

// Handler runs one task. It returns the task's result, or an error that fails it. It must stop
// when ctx ends, and may run again for the same task after a crash (see run.Task.Cursor).
type Handler func(ctx context.Context, run *Run) (result any, err error)

// Options configure a Runner. Zero values pick the defaults.
type Options struct {
	// Owner names this process in leases; it must differ between processes. Default: host,
	// pid and a random suffix.
	Owner string
	// Lease is how long a claim holds a task without renewal (default 30 s); the runner renews
	// it every third of that while the handler works.
	Lease time.Duration
	// PollInterval is how often the runner looks for tasks no one holds: started while every
	// slot was busy, or left by a process that died (default 2 s).
	PollInterval time.Duration
	// Slots is how many tasks run at once in this process (default 4).
	Slots int
	// MaxRuns is how many times a task is taken up before it is failed (default 3).
	MaxRuns int
	// TakeOverAtStart makes the first claim take every running task whatever its lease: set it
	// when this process is the only one on its database (SQLite).
	TakeOverAtStart bool
}

// Runner starts and runs background tasks.
type Runner struct {
	store  hookline.TaskStore
	clock  hookline.Clock
	opts   Options
	logger *slog.Logger

	mu       sync.Mutex
	handlers map[hookline.TaskKind]Handler
	ctx      context.Context // Run's context, while it runs
	wg       sync.WaitGroup  // running handlers

	slots chan struct{}
	wake  chan struct{}
}

// New returns a Runner over store. logger may be nil.
func New(store hookline.TaskStore, clock hookline.Clock, opts Options, logger *slog.Logger) *Runner {
	if opts.Owner == "" {
		host, _ := os.Hostname()
		var b [4]byte
		rand.Read(b[:])
		opts.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 2 * time.Second
	}
	if opts.Slots <= 0 {
		opts.Slots = 4
	}
	if opts.MaxRuns <= 0 {
		opts.MaxRuns = 3
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{store: store, clock: clock, opts: opts, logger: logger,
		handlers: map[hookline.TaskKind]Handler{},
		slots:    make(chan struct{}, opts.Slots), wake: make(chan struct{}, 1)}
}

// Owner returns the name this runner holds tasks under.
func (r *Runner) Owner() string { return r.opts.Owner }

// Handle registers the handler of a kind of task, replacing any before it.
func (r *Runner) Handle(kind hookline.TaskKind, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[kind] = h
}

func (r *Runner) handler(kind hookline.TaskKind) Handler {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handlers[kind]
}

// Start stores a new running task of the given kind and application ("" for one across
// applications) with input encoded as JSON, and runs it in this process at once when a slot is
// free. It returns the task as stored.
func (r *Runner) Start(ctx context.Context, kind hookline.TaskKind, appID string, input any) (*hookline.BackgroundTask, error) {
	if r.handler(kind) == nil {
		return nil, fmt.Errorf("tasks: no handler for %q", kind)
	}
	in, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("tasks: encode input of %s: %w", kind, err)
	}
	if input == nil {
		in = []byte("{}")
	}
	now := r.clock.Now()
	task := &hookline.BackgroundTask{ID: hookline.NewID(hookline.PrefixTask), AppID: appID, Kind: kind,
		Status: hookline.TaskRunning, Input: in, Data: json.RawMessage("{}"), CreatedAt: now}
	r.mu.Lock()
	runCtx := r.ctx
	r.mu.Unlock()
	held := false
	if runCtx != nil && runCtx.Err() == nil {
		select {
		case r.slots <- struct{}{}:
			held = true
			until := now.Add(r.opts.Lease)
			task.Owner, task.LeasedUntil, task.Runs = r.opts.Owner, &until, 1
		default:
		}
	}
	if err := r.store.CreateTask(ctx, task); err != nil {
		if held {
			<-r.slots
		}
		return nil, err
	}
	if held {
		r.launch(runCtx, *task)
	} else {
		r.poke() // a slot may have freed meanwhile
	}
	return task, nil
}

// Run claims and runs tasks until ctx ends, then waits for the running handlers to stop and
// releases the tasks they did not finish.
func (r *Runner) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.ctx != nil {
		r.mu.Unlock()
		return errors.New("tasks: Run called twice")
	}
	r.ctx = ctx
	r.mu.Unlock()
	defer r.wg.Wait()
	tick := time.NewTicker(r.opts.PollInterval)
	defer tick.Stop()
	all := r.opts.TakeOverAtStart
	for {
		if err := r.claim(ctx, all); err != nil && ctx.Err() == nil {
			r.logger.Error("claim background tasks", "err", err)
		} else if err == nil {
			all = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-r.wake:
		}
	}
}

// claim takes as many unheld tasks as there are free slots, and runs them.
func (r *Runner) claim(ctx context.Context, all bool) error {
	n := 0
take:
	for n < cap(r.slots) {
		select {
		case r.slots <- struct{}{}:
			n++
		default:
			break take
		}
	}
	if n == 0 {
		return nil
	}
	now := r.clock.Now()
	p := hookline.ClaimParams{Owner: r.opts.Owner, Now: now, LeaseUntil: now.Add(r.opts.Lease), Limit: n}
	if all {
		p.Now = now.Add(100 * 365 * 24 * time.Hour) // every lease has ended
	}
	claimed, err := r.store.ClaimTasks(ctx, p)
	for range n - len(claimed) {
		<-r.slots
	}
	if err != nil {
		return err
	}
	for _, t := range claimed {
		r.launch(ctx, t)
	}
	return nil
}

// launch runs a held task in a goroutine; it owns one slot, freed when it ends.
func (r *Runner) launch(ctx context.Context, t hookline.BackgroundTask) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			<-r.slots
			r.poke() // a slot is free: look for tasks waiting for one
		}()
		r.execute(ctx, &t)
	}()
}

// poke makes Run claim now.
func (r *Runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// execute runs the handler of a held task and records how it ended.
func (r *Runner) execute(ctx context.Context, t *hookline.BackgroundTask) {
	log := r.logger.With("task", t.ID, "kind", string(t.Kind))
	bg := context.WithoutCancel(ctx)
	if t.Runs > r.opts.MaxRuns {
		log.Error("background task given up: it was interrupted too often", "runs", t.Runs-1)
		r.finish(bg, t, hookline.TaskFailed, errorData(fmt.Sprintf("The task was interrupted %d times and was given up.", t.Runs-1)))
		return
	}
	h := r.handler(t.Kind)
	if h == nil {
		log.Error("no handler for the kind of this background task")
		r.finish(bg, t, hookline.TaskFailed, errorData("This kind of task is not supported."))
		return
	}
	if t.Runs > 1 {
		log.Info("taking up a background task again", "run", t.Runs, "cursor", t.Cursor)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	lost := make(chan struct{})
	stopRenew := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		r.renew(runCtx, t, stopRenew, lost, cancel, log)
	}()
	run := &Run{Task: t, r: r, lost: lost, cancel: cancel}
	result, err := r.call(runCtx, h, run)
	close(stopRenew)
	<-renewed

	select {
	case <-lost:
		log.Warn("background task taken over by another runner; this run's outcome is dropped")
		return
	default:
	}
	if err != nil && ctx.Err() != nil { // stopping: another run finishes it
		rctx, rcancel := context.WithTimeout(bg, 5*time.Second)
		defer rcancel()
		if err := r.store.UpdateTask(rctx, t.ID, r.opts.Owner, hookline.TaskUpdate{Release: true, Now: r.clock.Now()}); err != nil {
			log.Warn("release background task", "err", err)
		}
		return
	}
	if err != nil {
		if hookline.ErrorCode(err) == hookline.EINTERNAL {
			log.Error("background task failed", "err", err)
		}
		r.finish(bg, t, hookline.TaskFailed, errorData(hookline.ErrorMessage(err)))
		return
	}
	data, err := resultData(result)
	if err != nil {
		log.Error("background task result", "err", err)
		r.finish(bg, t, hookline.TaskFailed, errorData(hookline.ErrorMessage(err)))
		return
	}
	r.finish(bg, t, hookline.TaskFinished, data)
}

// call runs h, turning a panic into an error.
func (r *Runner) call(ctx context.Context, h Handler, run *Run) (result any, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("tasks: handler panicked: %v", v)
		}
	}()
	return h(ctx, run)
}

// renew extends t's lease every third of it until stop closes. When the task is no longer
// this runner's, it closes lost and cancels the handler.
func (r *Runner) renew(ctx context.Context, t *hookline.BackgroundTask, stop <-chan struct{}, lost chan struct{}, cancel func(), log *slog.Logger) {
	tick := time.NewTicker(r.opts.Lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := r.clock.Now()
		until := now.Add(r.opts.Lease)
		err := r.store.UpdateTask(ctx, t.ID, r.opts.Owner, hookline.TaskUpdate{LeaseUntil: &until, Now: now})
		switch {
		case err == nil:
		case hookline.ErrorCode(err) == hookline.ECONFLICT || hookline.IsNotFound(err):
			markLost(lost)
			cancel()
			return
		case ctx.Err() == nil:
			log.Warn("renew background task lease", "err", err)
		}
	}
}

func markLost(lost chan struct{}) {
	select {
	case <-lost:
	default:
		close(lost)
	}
}

// finish records how a task ended.
func (r *Runner) finish(ctx context.Context, t *hookline.BackgroundTask, status hookline.TaskStatus, data json.RawMessage) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.store.UpdateTask(ctx, t.ID, r.opts.Owner, hookline.TaskUpdate{Status: status, Data: data, Now: r.clock.Now()}); err != nil {
		r.logger.Error("record the end of a background task", "task", t.ID, "status", string(status), "err", err)
	}
}

func errorData(msg string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return b
}

// resultData encodes a handler's result as the JSON object the task's data must be.
func resultData(v any) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("{}"), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("tasks: encode result: %w", err)
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("tasks: a result must encode as a JSON object, not %.20s", b)
	}
	return b, nil
}

// Run is one run of a task, given to its handler.
type Run struct {
	// Task is the task as claimed: Input, Runs, and the Data and Cursor its last run's
	// Progress left (empty on the first run).
	Task   *hookline.BackgroundTask
	r      *Runner
	lost   chan struct{}
	cancel func()
}

// Input decodes the task's input into v.
func (run *Run) Input(v any) error {
	if err := json.Unmarshal(run.Task.Input, v); err != nil {
		return fmt.Errorf("tasks: decode input of %s %s: %w", run.Task.Kind, run.Task.ID, err)
	}
	return nil
}

// Progress records the task's data so far (what clients see while it runs) and the cursor a
// later run continues from, and renews the lease. It fails when the task is no longer this
// runner's (the handler should then return) and when ctx has ended.
func (run *Run) Progress(ctx context.Context, data any, cursor string) error {
	raw, err := resultData(data)
	if err != nil {
		return err
	}
	now := run.r.clock.Now()
	until := now.Add(run.r.opts.Lease)
	err = run.r.store.UpdateTask(ctx, run.Task.ID, run.r.opts.Owner, hookline.TaskUpdate{Data: raw, Cursor: &cursor, LeaseUntil: &until, Now: now})
	if hookline.ErrorCode(err) == hookline.ECONFLICT || hookline.IsNotFound(err) {
		markLost(run.lost)
		run.cancel()
	}
	if err != nil {
		return err
	}
	run.Task.Data, run.Task.Cursor = raw, cursor
	return nil
}
