package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

// newTask creates a running, unheld task of app ("" for one across applications).
func newTask(t *testing.T, st hookline.Store, appID string, kind hookline.TaskKind, at time.Time) *hookline.BackgroundTask {
	t.Helper()
	task := &hookline.BackgroundTask{ID: hookline.NewID(hookline.PrefixTask), AppID: appID, Kind: kind,
		Status: hookline.TaskRunning, Input: json.RawMessage(`{"since":"2026-01-01T00:00:00Z"}`), Data: json.RawMessage(`{}`),
		CreatedAt: at}
	must(t, st.CreateTask(context.Background(), task))
	return task
}

func getTask(t *testing.T, st hookline.Store, id string) *hookline.BackgroundTask {
	t.Helper()
	got, err := st.GetTask(context.Background(), id)
	must(t, err)
	return got
}

func assertTask(t *testing.T, got, want *hookline.BackgroundTask) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("task\n got %+v\nwant %+v\n(data %s / %s)", got, want, got.Data, want.Data)
	}
}

func taskIDs(tasks []hookline.BackgroundTask) []string {
	ids := make([]string, len(tasks))
	for i, tk := range tasks {
		ids[i] = tk.ID
	}
	return ids
}

func (suite) tasksCreateGet(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	n := now()
	free := newTask(t, st, app.ID, hookline.TaskEndpointRecover, n)
	free.UpdatedAt = free.CreatedAt
	assertTask(t, getTask(t, st, free.ID), free)

	// Stored already held by its starter, and across applications (no AppID).
	until := n.Add(time.Minute)
	held := &hookline.BackgroundTask{ID: hookline.NewID(hookline.PrefixTask), Kind: hookline.TaskApplicationStats,
		Status: hookline.TaskRunning, Input: json.RawMessage(`{"appIds":["a","b"]}`), Data: json.RawMessage(`{}`),
		Runs: 1, Owner: "node-1", LeasedUntil: &until, CreatedAt: n}
	must(t, st.CreateTask(ctx, held))
	assertTask(t, getTask(t, st, held.ID), held)

	_, err := st.GetTask(ctx, hookline.NewID(hookline.PrefixTask))
	wantCode(t, err, hookline.ENOTFOUND)
	wantCode(t, st.CreateTask(ctx, held), hookline.ECONFLICT)
	orphan := &hookline.BackgroundTask{ID: hookline.NewID(hookline.PrefixTask), AppID: hookline.NewID(hookline.PrefixApplication),
		Kind: hookline.TaskEndpointReplay, Status: hookline.TaskRunning, CreatedAt: n}
	wantCode(t, st.CreateTask(ctx, orphan), hookline.ENOTFOUND)

	// Deleting the application deletes its tasks, not the others.
	must(t, st.DeleteApplication(ctx, app.ID))
	_, err = st.GetTask(ctx, free.ID)
	wantCode(t, err, hookline.ENOTFOUND)
	getTask(t, st, held.ID)
}

func (suite) tasksList(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	a, b := newApp(t, st, "a"), newApp(t, st, "b")
	n := now()
	var all []string // oldest first
	kinds := []hookline.TaskKind{hookline.TaskEndpointRecover, hookline.TaskEndpointReplay, hookline.TaskEndpointRecover}
	for i := range 6 {
		app := a.ID
		if i%2 == 1 {
			app = b.ID
		}
		tk := newTask(t, st, app, kinds[i%3], n.Add(time.Duration(i)*time.Millisecond))
		all = append(all, tk.ID)
	}
	global := newTask(t, st, "", hookline.TaskApplicationStats, n)
	all = append(all, global.ID)
	// Finish one, so the status filter has something to tell apart.
	claimed, err := st.ClaimTasks(ctx, hookline.ClaimParams{Owner: "o", Now: n, LeaseUntil: n.Add(time.Hour), Limit: 1})
	must(t, err)
	if len(claimed) != 1 || claimed[0].ID != all[0] {
		t.Fatalf("claimed %v, want the oldest task %s", taskIDs(claimed), all[0])
	}
	must(t, st.UpdateTask(ctx, all[0], "o", hookline.TaskUpdate{Status: hookline.TaskFinished, Data: json.RawMessage(`{"messagesSent":3}`), Now: n}))

	list := func(opts hookline.TaskListOptions) []string {
		t.Helper()
		if opts.Limit == 0 {
			opts.Limit = 50
		}
		page, err := st.ListTasks(ctx, opts)
		must(t, err)
		return taskIDs(page.Data)
	}
	desc := slices.Clone(all)
	slices.Reverse(desc)
	if got := list(hookline.TaskListOptions{ListOptions: hookline.ListOptions{Descending: true}}); !slices.Equal(got, desc) {
		t.Errorf("all tasks, newest first = %v, want %v", got, desc)
	}
	if got := list(hookline.TaskListOptions{AppID: b.ID}); !slices.Equal(got, []string{all[1], all[3], all[5]}) {
		t.Errorf("tasks of b = %v", got)
	}
	if got := list(hookline.TaskListOptions{Status: hookline.TaskFinished}); !slices.Equal(got, []string{all[0]}) {
		t.Errorf("finished tasks = %v, want %v", got, all[:1])
	}
	if got := list(hookline.TaskListOptions{AppID: a.ID, Status: hookline.TaskRunning, Kind: hookline.TaskEndpointRecover}); !slices.Equal(got, []string{all[2]}) {
		t.Errorf("running recovers of a = %v, want %v", got, all[2:3])
	}
	if got := list(hookline.TaskListOptions{Kind: hookline.TaskApplicationStats}); !slices.Equal(got, []string{global.ID}) {
		t.Errorf("application.stats tasks = %v", got)
	}
	// Pages of two, forward and back.
	page, err := st.ListTasks(ctx, hookline.TaskListOptions{ListOptions: hookline.ListOptions{Limit: 2, Iterator: all[1]}})
	must(t, err)
	if got := taskIDs(page.Data); !slices.Equal(got, all[2:4]) || page.Done {
		t.Errorf("page after %s = %v done=%v, want %v", all[1], got, page.Done, all[2:4])
	}
	page, err = st.ListTasks(ctx, hookline.TaskListOptions{ListOptions: hookline.ListOptions{Limit: 2, Iterator: all[2], Backward: true}})
	must(t, err)
	if got := taskIDs(page.Data); !slices.Equal(got, all[0:2]) || !page.Done {
		t.Errorf("page before %s = %v done=%v, want %v", all[2], got, page.Done, all[0:2])
	}
}

func (suite) tasksClaim(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	n := now()
	free := newTask(t, st, app.ID, hookline.TaskEndpointRecover, n)
	live := n.Add(time.Minute)
	held := &hookline.BackgroundTask{ID: hookline.NewID(hookline.PrefixTask), AppID: app.ID, Kind: hookline.TaskEndpointReplay,
		Status: hookline.TaskRunning, Runs: 1, Owner: "alive", LeasedUntil: &live, CreatedAt: n}
	must(t, st.CreateTask(ctx, held))
	dead := n.Add(-time.Second)
	expired := &hookline.BackgroundTask{ID: hookline.NewID(hookline.PrefixTask), AppID: app.ID, Kind: hookline.TaskEndpointBulkReplay,
		Status: hookline.TaskRunning, Runs: 1, Owner: "dead", LeasedUntil: &dead, Cursor: "msg_x", CreatedAt: n}
	must(t, st.CreateTask(ctx, expired))

	until := n.Add(30 * time.Second)
	got, err := st.ClaimTasks(ctx, hookline.ClaimParams{Owner: "me", Now: n, LeaseUntil: until, Limit: 10})
	must(t, err)
	if ids := taskIDs(got); !slices.Equal(ids, []string{free.ID, expired.ID}) {
		t.Fatalf("claimed %v, want the unheld %s and the expired %s, not the held %s", ids, free.ID, expired.ID, held.ID)
	}
	for _, tk := range got {
		want := tk.ID
		if tk.Owner != "me" || tk.LeasedUntil == nil || !tk.LeasedUntil.Equal(until) {
			t.Errorf("claimed %s: owner %q until %v", want, tk.Owner, tk.LeasedUntil)
		}
	}
	if got[0].Runs != 1 || got[1].Runs != 2 || got[1].Cursor != "msg_x" {
		t.Errorf("runs %d and %d (cursor %q), want 1 and 2 (msg_x)", got[0].Runs, got[1].Runs, got[1].Cursor)
	}
	assertTask(t, getTask(t, st, got[1].ID), &got[1])
	again, err := st.ClaimTasks(ctx, hookline.ClaimParams{Owner: "other", Now: n, LeaseUntil: until, Limit: 10})
	must(t, err)
	if len(again) != 0 {
		t.Errorf("a second claim took %v", taskIDs(again))
	}
	// Once the leases end, the tasks are free again; a finished one never is.
	must(t, st.UpdateTask(ctx, free.ID, "me", hookline.TaskUpdate{Status: hookline.TaskFailed, Data: json.RawMessage(`{"error":"x"}`), Now: n}))
	later, err := st.ClaimTasks(ctx, hookline.ClaimParams{Owner: "other", Now: until, LeaseUntil: until.Add(time.Minute), Limit: 10})
	must(t, err)
	if ids := taskIDs(later); !slices.Equal(ids, []string{expired.ID}) {
		t.Errorf("claim after the lease = %v, want %v (held's lease runs longer, free is failed)", ids, []string{expired.ID})
	}
	none, err := st.ClaimTasks(ctx, hookline.ClaimParams{Owner: "x", Now: n, LeaseUntil: until, Limit: 0})
	must(t, err)
	if len(none) != 0 {
		t.Errorf("a claim of 0 took %v", taskIDs(none))
	}
}

func (suite) tasksClaimConcurrent(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	n := now()
	var want []string
	for range 40 {
		want = append(want, newTask(t, st, app.ID, hookline.TaskEndpointRecover, n).ID)
	}
	var (
		mu  sync.Mutex
		got []string
		wg  sync.WaitGroup
	)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				tasks, err := st.ClaimTasks(ctx, hookline.ClaimParams{Owner: fmt.Sprint("runner-", w), Now: n, LeaseUntil: n.Add(time.Hour), Limit: 3})
				if err != nil {
					t.Error(err)
					return
				}
				if len(tasks) == 0 {
					return
				}
				mu.Lock()
				got = append(got, taskIDs(tasks)...)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("8 runners claimed %d tasks (%d distinct), want each of the %d once", len(got), len(slices.Compact(slices.Clone(got))), len(want))
	}
}

func (suite) tasksUpdate(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	n := now()
	tk := newTask(t, st, app.ID, hookline.TaskEndpointBulkReplay, n)
	claimed, err := st.ClaimTasks(ctx, hookline.ClaimParams{Owner: "me", Now: n, LeaseUntil: n.Add(time.Minute), Limit: 1})
	must(t, err)
	if len(claimed) != 1 {
		t.Fatalf("claimed %d tasks", len(claimed))
	}
	// Progress: data and cursor, lease renewed.
	cursor, renewed, t1 := "msg_5", n.Add(2*time.Minute), n.Add(time.Second)
	must(t, st.UpdateTask(ctx, tk.ID, "me", hookline.TaskUpdate{Data: json.RawMessage(`{"messagesSent":5}`), Cursor: &cursor, LeaseUntil: &renewed, Now: t1}))
	want := claimed[0]
	want.Data, want.Cursor, want.LeasedUntil, want.UpdatedAt = json.RawMessage(`{"messagesSent":5}`), cursor, &renewed, t1
	assertTask(t, getTask(t, st, tk.ID), &want)
	// Only the lease: data and cursor stay.
	renewed2 := n.Add(3 * time.Minute)
	must(t, st.UpdateTask(ctx, tk.ID, "me", hookline.TaskUpdate{LeaseUntil: &renewed2, Now: t1}))
	want.LeasedUntil = &renewed2
	assertTask(t, getTask(t, st, tk.ID), &want)

	// Another runner cannot touch it; an unknown task is not found.
	wantCode(t, st.UpdateTask(ctx, tk.ID, "thief", hookline.TaskUpdate{Status: hookline.TaskFailed, Now: t1}), hookline.ECONFLICT)
	wantCode(t, st.UpdateTask(ctx, hookline.NewID(hookline.PrefixTask), "me", hookline.TaskUpdate{Now: t1}), hookline.ENOTFOUND)
	assertTask(t, getTask(t, st, tk.ID), &want)

	// Released: unheld, the claim's run taken back, claimable at once.
	must(t, st.UpdateTask(ctx, tk.ID, "me", hookline.TaskUpdate{Release: true, Now: t1}))
	want.Owner, want.LeasedUntil, want.Runs = "", nil, 0
	assertTask(t, getTask(t, st, tk.ID), &want)
	wantCode(t, st.UpdateTask(ctx, tk.ID, "me", hookline.TaskUpdate{Now: t1}), hookline.ECONFLICT)
	claimed, err = st.ClaimTasks(ctx, hookline.ClaimParams{Owner: "next", Now: n, LeaseUntil: n.Add(time.Minute), Limit: 1})
	must(t, err)
	if len(claimed) != 1 || claimed[0].Runs != 1 || claimed[0].Cursor != cursor {
		t.Fatalf("claim after release = %+v, want the task with runs 1 and its cursor", claimed)
	}

	// Finished: the result is kept, the lease is gone, and nothing changes it any more.
	t2 := n.Add(5 * time.Second)
	must(t, st.UpdateTask(ctx, tk.ID, "next", hookline.TaskUpdate{Status: hookline.TaskFinished, Data: json.RawMessage(`{"messagesSent":9}`), Now: t2}))
	want = claimed[0]
	want.Status, want.Data, want.Owner, want.LeasedUntil, want.UpdatedAt = hookline.TaskFinished, json.RawMessage(`{"messagesSent":9}`), "", nil, t2
	assertTask(t, getTask(t, st, tk.ID), &want)
	wantCode(t, st.UpdateTask(ctx, tk.ID, "next", hookline.TaskUpdate{Status: hookline.TaskFailed, Now: t2}), hookline.ECONFLICT)
}

func (suite) tasksPurge(t *testing.T, st hookline.Store) {
	ctx := context.Background()
	app := newApp(t, st, "acme")
	n := now()
	old := n.AddDate(0, 0, -100)
	ended := func(status hookline.TaskStatus, at time.Time) string {
		t.Helper()
		tk := newTask(t, st, app.ID, hookline.TaskEndpointRecover, at)
		claimed, err := st.ClaimTasks(ctx, hookline.ClaimParams{Owner: "o", Now: at, LeaseUntil: at.Add(time.Minute), Limit: 1})
		must(t, err)
		if len(claimed) != 1 || claimed[0].ID != tk.ID {
			t.Fatalf("claimed %v, want %s", taskIDs(claimed), tk.ID)
		}
		must(t, st.UpdateTask(ctx, tk.ID, "o", hookline.TaskUpdate{Status: status, Now: at}))
		return tk.ID
	}
	oldFinished, oldFailed, recent := ended(hookline.TaskFinished, old), ended(hookline.TaskFailed, old), ended(hookline.TaskFinished, n)
	stillRunning := newTask(t, st, app.ID, hookline.TaskEndpointReplay, old).ID
	purged, err := st.PurgeTasks(ctx, n.AddDate(0, 0, -90))
	must(t, err)
	if purged != 2 {
		t.Errorf("purged %d tasks, want the 2 that ended 100 days ago", purged)
	}
	for _, id := range []string{oldFinished, oldFailed} {
		_, err := st.GetTask(ctx, id)
		wantCode(t, err, hookline.ENOTFOUND)
	}
	getTask(t, st, recent)
	getTask(t, st, stillRunning)
}
