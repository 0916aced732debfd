package tasks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/internal/pgtest"
	"github.com/hookline/hookline/postgres"
	"github.com/hookline/hookline/secrets"
	"github.com/hookline/hookline/sqlite"
	"github.com/hookline/hookline/tasks"
)

func testBox(t testing.TB) hookline.SecretBox {
	box, err := secrets.NewBox(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// openSQLite opens a migrated SQLite store in a fresh file (or the given one, to reopen it).
func openSQLite(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "hookline.db")
	}
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{SecretBox: testBox(t), Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// openPostgres opens a migrated store on url (pgtest.URL gives a fresh schema); two calls with
// one url are two processes sharing a database.
func openPostgres(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, postgres.Options{SecretBox: testBox(t), MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// newApp creates an application for tasks to belong to.
func newApp(t *testing.T, st hookline.Store) *hookline.Application {
	t.Helper()
	now := time.Now().UTC()
	app := &hookline.Application{ID: hookline.NewID(hookline.PrefixApplication), Name: "acme", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateApplication(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	return app
}

// startRunner runs r until the test ends and waits for it to stop then.
func startRunner(t *testing.T, r *tasks.Runner) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitTask polls the task until cond holds, failing the test after 10 seconds.
func waitTask(t *testing.T, st hookline.Store, id string, what string, cond func(*hookline.BackgroundTask) bool) *hookline.BackgroundTask {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		task, err := st.GetTask(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(task) {
			return task
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s never %s: %+v (data %s)", id, what, task, task.Data)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func finished(t *hookline.BackgroundTask) bool { return t.Status != hookline.TaskRunning }

type countInput struct {
	To int `json:"to"`
}

// TestStartProgressResult starts a task that reports progress in steps and waits between them,
// so the test sees it running with its progress, then finished with its result.
func TestStartProgressResult(t *testing.T) {
	t.Parallel()
	st := openSQLite(t, "")
	app := newApp(t, st)
	r := tasks.New(st, hookline.SystemClock{}, tasks.Options{}, nil)
	step := make(chan struct{})
	r.Handle(hookline.TaskEndpointReplay, func(ctx context.Context, run *tasks.Run) (any, error) {
		var in countInput
		if err := run.Input(&in); err != nil {
			return nil, err
		}
		for i := 1; i <= in.To; i++ {
			select {
			case <-step:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if err := run.Progress(ctx, map[string]int{"messagesSent": i}, fmt.Sprint(i)); err != nil {
				return nil, err
			}
		}
		return map[string]int{"messagesSent": in.To}, nil
	})
	startRunner(t, r)

	task, err := r.Start(context.Background(), hookline.TaskEndpointReplay, app.ID, countInput{To: 3})
	if err != nil {
		t.Fatal(err)
	}
	if task.Status != hookline.TaskRunning || !hookline.HasIDPrefix(task.ID, hookline.PrefixTask) || string(task.Data) != "{}" {
		t.Fatalf("Start returned %+v", task)
	}
	step <- struct{}{}
	step <- struct{}{}
	got := waitTask(t, st, task.ID, "showed its progress", func(t *hookline.BackgroundTask) bool {
		return string(t.Data) == `{"messagesSent":2}`
	})
	if got.Status != hookline.TaskRunning || got.Cursor != "2" {
		t.Errorf("task in progress = %+v", got)
	}
	step <- struct{}{}
	got = waitTask(t, st, task.ID, "finished", finished)
	if got.Status != hookline.TaskFinished || string(got.Data) != `{"messagesSent":3}` || got.Owner != "" || got.LeasedUntil != nil {
		t.Errorf("finished task = %+v, data %s", got, got.Data)
	}
	if string(got.Input) != `{"to":3}` || got.AppID != app.ID || got.Kind != hookline.TaskEndpointReplay {
		t.Errorf("finished task lost its input or identity: %+v", got)
	}
}

// TestFailures: a client error's message, not an internal error's, becomes the failed task's
// data; a panic fails the task; a kind without handler cannot be started.
func TestFailures(t *testing.T) {
	t.Parallel()
	st := openSQLite(t, "")
	app := newApp(t, st)
	r := tasks.New(st, hookline.SystemClock{}, tasks.Options{}, nil)
	r.Handle(hookline.TaskEndpointRecover, func(ctx context.Context, run *tasks.Run) (any, error) {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "endpoint %q not found", "ep_gone")
	})
	r.Handle(hookline.TaskEndpointReplay, func(ctx context.Context, run *tasks.Run) (any, error) {
		return nil, errors.New("pq: connection reset by 10.0.0.7")
	})
	r.Handle(hookline.TaskEndpointBulkReplay, func(ctx context.Context, run *tasks.Run) (any, error) {
		panic("boom")
	})
	r.Handle(hookline.TaskApplicationStats, func(ctx context.Context, run *tasks.Run) (any, error) {
		return []int{1}, nil // not an object
	})
	startRunner(t, r)
	for kind, want := range map[hookline.TaskKind]string{
		hookline.TaskEndpointRecover:    `{"error":"endpoint \"ep_gone\" not found"}`,
		hookline.TaskEndpointReplay:     `{"error":"An internal error occurred."}`,
		hookline.TaskEndpointBulkReplay: `{"error":"An internal error occurred."}`,
		hookline.TaskApplicationStats:   `{"error":"An internal error occurred."}`,
	} {
		task, err := r.Start(context.Background(), kind, app.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := waitTask(t, st, task.ID, "ended", finished)
		if got.Status != hookline.TaskFailed || string(got.Data) != want {
			t.Errorf("%s: status %s data %s, want failed %s", kind, got.Status, got.Data, want)
		}
	}
	if _, err := r.Start(context.Background(), hookline.TaskSDKGenerate, app.ID, nil); err == nil {
		t.Error("a kind without a handler was started")
	}
}

// TestTakenUpAfterCrash: a task whose runner died (its lease ended) is taken up again by the
// next runner, which continues from the cursor the dead run left; one taken up too often is
// failed instead.
func TestTakenUpAfterCrash(t *testing.T) {
	t.Parallel()
	st := openSQLite(t, "")
	app := newApp(t, st)
	ctx := context.Background()
	past := time.Now().UTC().Add(-time.Second)
	crashed := &hookline.BackgroundTask{ID: hookline.NewID(hookline.PrefixTask), AppID: app.ID, Kind: hookline.TaskEndpointReplay,
		Status: hookline.TaskRunning, Input: json.RawMessage(`{"to":5}`), Data: json.RawMessage(`{"messagesSent":2}`), Cursor: "2",
		Runs: 1, Owner: "dead-process", LeasedUntil: &past, CreatedAt: past}
	doomed := &hookline.BackgroundTask{ID: hookline.NewID(hookline.PrefixTask), AppID: app.ID, Kind: hookline.TaskEndpointReplay,
		Status: hookline.TaskRunning, Input: json.RawMessage(`{"to":5}`), Data: json.RawMessage(`{}`),
		Runs: 3, Owner: "dead-process", LeasedUntil: &past, CreatedAt: past}
	for _, task := range []*hookline.BackgroundTask{crashed, doomed} {
		if err := st.CreateTask(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var resumedFrom []string
	r := tasks.New(st, hookline.SystemClock{}, tasks.Options{PollInterval: 20 * time.Millisecond}, nil)
	r.Handle(hookline.TaskEndpointReplay, func(ctx context.Context, run *tasks.Run) (any, error) {
		mu.Lock()
		resumedFrom = append(resumedFrom, fmt.Sprintf("run %d from %q data %s", run.Task.Runs, run.Task.Cursor, run.Task.Data))
		mu.Unlock()
		var in countInput
		if err := run.Input(&in); err != nil {
			return nil, err
		}
		var from int
		fmt.Sscan(run.Task.Cursor, &from)
		return map[string]int{"messagesSent": in.To, "resumedAt": from}, nil
	})
	startRunner(t, r)

	got := waitTask(t, st, crashed.ID, "finished", finished)
	if got.Status != hookline.TaskFinished || string(got.Data) != `{"messagesSent":5,"resumedAt":2}` || got.Runs != 2 {
		t.Errorf("crashed task = %+v, data %s; want finished by its second run, resumed at 2", got, got.Data)
	}
	got = waitTask(t, st, doomed.ID, "ended", finished)
	if got.Status != hookline.TaskFailed || string(got.Data) != `{"error":"The task was interrupted 3 times and was given up."}` {
		t.Errorf("task interrupted 3 times = %+v, data %s; want failed", got, got.Data)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(resumedFrom) != 1 || resumedFrom[0] != `run 2 from "2" data {"messagesSent":2}` {
		t.Errorf("handler runs: %q", resumedFrom)
	}
}

// TestRestartSQLite: a process on SQLite that stops with a task running releases it, and the
// next process on the same file (TakeOverAtStart) takes it up at once; so does a process that
// finds a task leased by a predecessor that died, though the lease has not ended yet.
func TestRestartSQLite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.db")
	st := openSQLite(t, path)
	app := newApp(t, st)
	started := make(chan string, 1)
	first := tasks.New(st, hookline.SystemClock{}, tasks.Options{}, nil)
	first.Handle(hookline.TaskEndpointRecover, func(ctx context.Context, run *tasks.Run) (any, error) {
		started <- run.Task.ID
		<-ctx.Done() // runs until the process stops
		return nil, ctx.Err()
	})
	stop := startRunner(t, first)
	task, err := first.Start(context.Background(), hookline.TaskEndpointRecover, app.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	<-started
	stop()
	got, err := st.GetTask(context.Background(), task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != hookline.TaskRunning || got.Owner != "" || got.Runs != 0 {
		t.Fatalf("after a clean stop the task is %+v, want running, unheld, its run not counted", got)
	}

	// A predecessor that died holding a task leased for an hour.
	until := time.Now().UTC().Add(time.Hour)
	orphan := &hookline.BackgroundTask{ID: hookline.NewID(hookline.PrefixTask), AppID: app.ID, Kind: hookline.TaskEndpointRecover,
		Status: hookline.TaskRunning, Data: json.RawMessage(`{}`), Runs: 1, Owner: "killed", LeasedUntil: &until, CreatedAt: time.Now()}
	if err := st.CreateTask(context.Background(), orphan); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st2 := openSQLite(t, path)
	second := tasks.New(st2, hookline.SystemClock{}, tasks.Options{TakeOverAtStart: true}, nil)
	second.Handle(hookline.TaskEndpointRecover, func(ctx context.Context, run *tasks.Run) (any, error) {
		return map[string]int{"messagesSent": 0, "run": run.Task.Runs}, nil
	})
	startRunner(t, second)
	for id, want := range map[string]string{task.ID: `{"messagesSent":0,"run":1}`, orphan.ID: `{"messagesSent":0,"run":2}`} {
		got := waitTask(t, st2, id, "finished", finished)
		if got.Status != hookline.TaskFinished || string(got.Data) != want {
			t.Errorf("task %s after restart = %s %s, want finished %s", id, got.Status, got.Data, want)
		}
	}
}

// TestSlotsFull: a task started while every slot is busy waits unheld and runs as soon as a
// slot frees, without waiting for the poll.
func TestSlotsFull(t *testing.T) {
	t.Parallel()
	st := openSQLite(t, "")
	app := newApp(t, st)
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	r := tasks.New(st, hookline.SystemClock{}, tasks.Options{Slots: 1, PollInterval: time.Hour}, nil)
	r.Handle(hookline.TaskEndpointRecover, func(ctx context.Context, run *tasks.Run) (any, error) {
		var in struct {
			Block bool `json:"block"`
		}
		run.Input(&in)
		if in.Block {
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return nil, nil
	})
	startRunner(t, r)
	block := map[string]bool{"block": true}
	a, err := r.Start(context.Background(), hookline.TaskEndpointRecover, app.ID, block)
	if err != nil {
		t.Fatal(err)
	}
	// Started before or after the runner's first claim, a is soon held.
	waitTask(t, st, a.ID, "held", func(t *hookline.BackgroundTask) bool { return t.Owner != "" })
	b, err := r.Start(context.Background(), hookline.TaskEndpointRecover, app.ID, block)
	if err != nil {
		t.Fatal(err)
	}
	if b.Owner != "" {
		t.Fatalf("with the one slot busy, a new task is held by %q", b.Owner)
	}
	once.Do(func() { close(release) })
	// The poll interval is an hour: only the freed slot's wake-up can run b.
	waitTask(t, st, b.ID, "finished", finished)
	waitTask(t, st, a.ID, "finished", finished)
	c, err := r.Start(context.Background(), hookline.TaskEndpointRecover, app.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := waitTask(t, st, c.ID, "finished", finished); got.Runs != 1 {
		t.Errorf("task c ran %d times", got.Runs)
	}
}

// TestOneRunnerPerTaskPostgres: several runners on one PostgreSQL database run each task once,
// and a task whose runner keeps its lease is not taken by the others.
func TestOneRunnerPerTaskPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	stores := []*postgres.DB{openPostgres(t, url), openPostgres(t, url), openPostgres(t, url)}
	app := newApp(t, stores[0])
	var (
		mu   sync.Mutex
		runs = map[string][]string{} // task id -> runners that ran it
	)
	hold := make(chan struct{})
	runners := make([]*tasks.Runner, len(stores))
	for i, st := range stores {
		r := tasks.New(st, hookline.SystemClock{}, tasks.Options{Owner: fmt.Sprint("node-", i), Lease: 300 * time.Millisecond,
			PollInterval: 10 * time.Millisecond, Slots: 3}, nil)
		r.Handle(hookline.TaskApplicationStats, func(ctx context.Context, run *tasks.Run) (any, error) {
			mu.Lock()
			runs[run.Task.ID] = append(runs[run.Task.ID], r.Owner())
			mu.Unlock()
			var in struct {
				Hold bool `json:"hold"`
			}
			run.Input(&in)
			if in.Hold { // outlives many leases, renewed by its runner
				select {
				case <-hold:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			return map[string]string{"ranOn": r.Owner()}, nil
		})
		runners[i] = r
	}
	// Stored before any runner runs, so the runners' claims race for them.
	var ids []string
	for i := range 30 {
		task, err := runners[i%3].Start(context.Background(), hookline.TaskApplicationStats, app.ID, map[string]bool{"hold": i == 0})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, task.ID)
	}
	for _, r := range runners {
		startRunner(t, r)
	}
	for _, id := range ids[1:] {
		waitTask(t, stores[1], id, "finished", finished)
	}
	// The held task runs for well over its lease (each runner polls every 10 ms meanwhile).
	waitTask(t, stores[2], ids[0], "held", func(t *hookline.BackgroundTask) bool { return t.Owner != "" })
	for range 3 {
		before, _ := stores[2].GetTask(context.Background(), ids[0])
		waitTask(t, stores[2], ids[0], "renewed", func(t *hookline.BackgroundTask) bool {
			return t.LeasedUntil != nil && before.LeasedUntil != nil && t.LeasedUntil.After(*before.LeasedUntil)
		})
	}
	close(hold)
	got := waitTask(t, stores[0], ids[0], "finished", finished)
	if got.Status != hookline.TaskFinished {
		t.Errorf("held task = %+v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	perNode := map[string]int{}
	for _, id := range ids {
		if len(runs[id]) != 1 {
			t.Errorf("task %s ran on %v, want exactly one runner", id, runs[id])
		}
		if len(runs[id]) > 0 {
			perNode[runs[id][0]]++
		}
	}
	t.Logf("tasks per runner: %v", perNode)
}
