package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
)

// taskOut is a background task as the API shows it.
type taskOut struct {
	ID        string         `json:"id"`
	Status    string         `json:"status"`
	Task      string         `json:"task"`
	Data      map[string]any `json:"data"`
	UpdatedAt time.Time      `json:"updatedAt"`
}

// waitTaskDone polls GET /background-task/{id} with token until the task is no longer running.
func waitTaskDone(t *testing.T, srv *testserver.Instance, token, id string) taskOut {
	t.Helper()
	var out taskOut
	pollUntil(t, 10*time.Second, "task "+id+" done", func() bool {
		r := srv.Do("GET", "/api/v1/background-task/"+id, token, nil)
		if r.Status != 200 {
			t.Fatalf("GET task %s: %d %s", id, r.Status, r.Body)
		}
		r.JSON(t, &out)
		return out.Status != "running"
	})
	return out
}

// TestBackgroundTasks: recover answers with a task that the background-task routes resolve,
// the list filters by status and kind and pages; an application
// token sees its application's tasks only, and bad filters are 422s naming them.
func TestBackgroundTasks(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.created", "description": "Order created"}, 201)
	a := newTenant(t, srv, "alpha")
	b := newTenant(t, srv, "bravo")
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)

	// Three recovers of alpha's endpoint, one of bravo's.
	var alphaTasks []string
	for range 3 {
		var started taskOut
		srv.Op("POST", "/api/v1/app/"+a.appID+"/endpoint/"+a.epID+"/recover", map[string]any{"since": since}, 202).JSON(t, &started)
		if !strings.HasPrefix(started.ID, "qtask_") || started.Task != "endpoint.recover" || started.UpdatedAt.IsZero() ||
			(started.Status != "running" && started.Status != "finished") {
			t.Fatalf("recover answered %+v", started)
		}
		alphaTasks = append(alphaTasks, started.ID)
	}
	var bravoTask taskOut
	srv.Op("POST", "/api/v1/app/"+b.appID+"/endpoint/"+b.epID+"/recover", map[string]any{"since": since}, 202).JSON(t, &bravoTask)

	// Each resolves, and finishes with Svix's data. The delivery is pending (its first attempt
	// failed: the host does not resolve), not failed, so there is nothing to send again.
	for _, id := range append(alphaTasks, bravoTask.ID) {
		got := waitTaskDone(t, srv, srv.Token, id)
		if got.Status != "finished" || got.Task != "endpoint.recover" || len(got.Data) != 1 || got.Data["messagesSent"] != float64(0) {
			t.Errorf("task %s = %+v, want finished with {messagesSent: 0}", id, got)
		}
	}

	// Svix's BackgroundTaskOut: every required field, and nothing else (the Go SDK v1.44 has
	// no public client for these routes; the JavaScript SDK test reads them through its own).
	var raw map[string]any
	srv.Op("GET", "/api/v1/background-task/"+alphaTasks[0], nil, 200).JSON(t, &raw)
	if len(raw) != 5 || raw["id"] != alphaTasks[0] || raw["status"] != "finished" || raw["task"] != "endpoint.recover" {
		t.Errorf("task body = %v, want exactly data, id, status, task, updatedAt", raw)
	}
	if _, err := time.Parse(time.RFC3339Nano, raw["updatedAt"].(string)); err != nil {
		t.Errorf("updatedAt %v: %v", raw["updatedAt"], err)
	}
	var page map[string]any
	srv.Op("GET", "/api/v1/background-task?limit=2", nil, 200).JSON(t, &page)
	if data, _ := page["data"].([]any); len(data) != 2 || page["done"] != false || page["iterator"] == nil {
		t.Errorf("list page = %v, want 2 tasks, done false, an iterator", page)
	} else if data[0].(map[string]any)["id"] != bravoTask.ID || data[1].(map[string]any)["id"] != alphaTasks[2] {
		t.Errorf("list, newest first = %v", data)
	}

	list2 := func(token, query string) []string {
		t.Helper()
		r := srv.Do("GET", "/api/v1/background-task"+query, token, nil)
		if r.Status != 200 {
			t.Fatalf("list %s: %d %s", query, r.Status, r.Body)
		}
		var page struct {
			Data []taskOut `json:"data"`
			Done bool      `json:"done"`
		}
		r.JSON(t, &page)
		var ids []string
		for _, tk := range page.Data {
			ids = append(ids, tk.ID)
		}
		return ids
	}
	eq := func(what string, got, want []string) {
		t.Helper()
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	eq("operator, ascending", list2(srv.Token, "?order=ascending"), append(append([]string{}, alphaTasks...), bravoTask.ID))
	eq("finished recovers", list2(srv.Token, "?status=finished&task=endpoint.recover&order=ascending"), append(append([]string{}, alphaTasks...), bravoTask.ID))
	eq("running", list2(srv.Token, "?status=running"), nil)
	eq("replays", list2(srv.Token, "?task=endpoint.replay"), nil)
	eq("page after the first", list2(srv.Token, "?order=ascending&limit=2&iterator="+alphaTasks[0]), alphaTasks[1:3])

	// Tenancy: alpha's token sees alpha's tasks; bravo's task is not found for it.
	eq("alpha's token", list2(a.token, "?order=ascending"), alphaTasks)
	eq("bravo's token", list2(b.token, ""), []string{bravoTask.ID})
	if r := srv.Do("GET", "/api/v1/background-task/"+bravoTask.ID, a.token, nil); r.Status != 404 || strings.Contains(string(r.Body), "endpoint.recover") {
		t.Errorf("alpha's token reading bravo's task: %d %s", r.Status, r.Body)
	}
	if got := waitTaskDone(t, srv, b.token, bravoTask.ID); got.ID != bravoTask.ID {
		t.Errorf("bravo's token reading its task: %+v", got)
	}
	if r := srv.Do("GET", "/api/v1/background-task/qtask_2zZZZZZZZZZZZZZZZZZZZZ", srv.Token, nil); r.Status != 404 || r.Code() != "not_found" {
		t.Errorf("unknown task: %d %s", r.Status, r.Body)
	}
	if r := srv.Do("GET", "/api/v1/background-task", "", nil); r.Status != 401 {
		t.Errorf("no token: %d", r.Status)
	}

	// Bad filters name themselves.
	for q, field := range map[string]string{"?status=done": "status", "?task=endpoint.explode": "task", "?limit=0": "limit", "?order=up": "order"} {
		r := srv.Do("GET", "/api/v1/background-task"+q, srv.Token, nil)
		if r.Status != 422 || !strings.Contains(string(r.Body), `"`+field+`"`) {
			t.Errorf("list%s: %d %s, want a 422 naming %s", q, r.Status, r.Body, field)
		}
	}
}

// TestEndpointTaskRoutesTenancy: another application's token cannot start a replay, recover or
// cancel on an endpoint, nor read its rate-limit status: 404, as if it did not exist, and
// nothing is started. The endpoint's own application's token can.
func TestEndpointTaskRoutesTenancy(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.created", "description": "Order created"}, 201)
	a := newTenant(t, srv, "alpha")
	b := newTenant(t, srv, "bravo")
	since := time.Now().Add(-time.Hour).UTC()
	base := "/api/v1/app/" + a.appID + "/endpoint/" + a.epID
	calls := []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/replay-missing", map[string]any{"since": since}, 202},
		{"POST", "/bulk-replay", map[string]any{"since": since}, 202},
		{"POST", "/recover", map[string]any{"since": since}, 202},
		{"POST", "/cancel-msgs", map[string]any{"createdBefore": since}, 204},
		{"GET", "/rate-limit-status", nil, 200},
	}
	for _, c := range calls {
		r := srv.Do(c.method, base+c.path, b.token, c.body)
		if r.Status != 404 || r.Code() != "not_found" {
			t.Errorf("bravo's token: %s %s = %d %s, want 404", c.method, c.path, r.Status, r.Body)
		}
	}
	var page struct {
		Data []taskOut `json:"data"`
	}
	srv.Op("GET", "/api/v1/background-task", nil, 200).JSON(t, &page)
	if len(page.Data) != 0 {
		t.Errorf("refused calls started tasks: %+v", page.Data)
	}
	for _, c := range calls {
		if r := srv.Do(c.method, base+c.path, a.token, c.body); r.Status != c.status {
			t.Errorf("alpha's token: %s %s = %d %s, want %d", c.method, c.path, r.Status, r.Body, c.status)
		}
	}
	srv.Op("GET", "/api/v1/background-task", nil, 200).JSON(t, &page)
	if len(page.Data) != 3 {
		t.Errorf("alpha's calls started %d tasks, want 3", len(page.Data))
	}
	// bravo's token sees none of them.
	r := srv.Do("GET", "/api/v1/background-task", b.token, nil)
	r.JSON(t, &page)
	if r.Status != 200 || len(page.Data) != 0 {
		t.Errorf("bravo's token lists %d %s", r.Status, r.Body)
	}
}

// TestTaskTakenUpAfterRestart: a recover that a killed process held (its lease still running,
// as kill -9 leaves it) is taken up by the next process on the same SQLite data directory as
// soon as it starts, and the failed message reaches the receiver.
func TestTaskTakenUpAfterRestart(t *testing.T) {
	t.Parallel()
	var healthy atomic.Bool
	got := make(chan string, 10)
	hookURL := hookServer(t, func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("webhook-id")
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	dir := t.TempDir()
	noRetries := func(c *config.Config) { c.RetrySchedule = []time.Duration{} }
	first := testserver.Start(t, testserver.Options{DataDir: dir, Configure: noRetries})
	first.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.created", "description": "Order created"}, 201)
	var app, ep, msg struct {
		ID string `json:"id"`
	}
	first.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	first.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": hookURL}, 201).JSON(t, &ep)
	since := time.Now().UTC().Add(-time.Minute)
	first.Op("POST", "/api/v1/app/"+app.ID+"/msg", map[string]any{"eventType": "order.created", "payload": map[string]any{"n": 1}}, 202).JSON(t, &msg)
	if id := <-got; id != msg.ID {
		t.Fatalf("first request for %s, want %s", id, msg.ID)
	}
	pollUntil(t, 10*time.Second, "the failure recorded", func() bool {
		var st struct{ Fail int }
		first.Op("GET", "/api/v1/app/"+app.ID+"/endpoint/"+ep.ID+"/stats", nil, 200).JSON(t, &st)
		return st.Fail == 1
	})
	// The recover a killed process was running: held, its lease an hour from ending.
	until := time.Now().UTC().Add(time.Hour)
	task := &hookline.BackgroundTask{ID: hookline.NewID(hookline.PrefixTask), AppID: app.ID, Kind: hookline.TaskEndpointRecover,
		Status: hookline.TaskRunning, Input: json.RawMessage(`{"endpointId":"` + ep.ID + `","since":"` + since.Format(time.RFC3339Nano) + `"}`),
		Data: json.RawMessage(`{}`), Runs: 1, Owner: "killed-process", LeasedUntil: &until, CreatedAt: time.Now().UTC()}
	if err := first.Server.Store().CreateTask(t.Context(), task); err != nil {
		t.Fatal(err)
	}
	if err := first.Server.Close(); err != nil {
		t.Fatal(err)
	}
	healthy.Store(true)

	second := testserver.Start(t, testserver.Options{DataDir: dir, Configure: noRetries})
	done := waitTaskDone(t, second, second.Token, task.ID)
	if done.Status != "finished" || done.Data["messagesSent"] != float64(1) {
		t.Errorf("the task after the restart = %+v, want finished with messagesSent 1", done)
	}
	select {
	case id := <-got:
		if id != msg.ID {
			t.Errorf("recovered %s, want %s", id, msg.ID)
		}
	case <-time.After(10 * time.Second):
		t.Error("the recovered message never arrived")
	}
}

// TestTaskOfDeletedEndpointFails: a replay whose endpoint is gone by the time it runs fails,
// and its data says why.
func TestTaskOfDeletedEndpointFails(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	var app, ep struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": "https://acme.example/hook"}, 201).JSON(t, &ep)
	srv.Op("DELETE", "/api/v1/app/"+app.ID+"/endpoint/"+ep.ID, nil, 204)
	// Stored unheld, as a task started while every slot was busy: the runner's next poll runs it.
	task := &hookline.BackgroundTask{ID: hookline.NewID(hookline.PrefixTask), AppID: app.ID, Kind: hookline.TaskEndpointBulkReplay,
		Status: hookline.TaskRunning, Input: json.RawMessage(`{"endpointId":"` + ep.ID + `","since":"2026-01-01T00:00:00Z"}`),
		Data: json.RawMessage(`{}`), CreatedAt: time.Now().UTC()}
	if err := srv.Server.Store().CreateTask(t.Context(), task); err != nil {
		t.Fatal(err)
	}
	got := waitTaskDone(t, srv, srv.Token, task.ID)
	if msg, _ := got.Data["error"].(string); got.Status != "failed" || !strings.Contains(msg, ep.ID) || !strings.Contains(msg, "not found") {
		t.Errorf("task of a deleted endpoint = %+v, want failed, naming the endpoint", got)
	}
}
