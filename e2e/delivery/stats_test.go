package delivery

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"
)

// TestStatistics makes deliveries, failures and cancellations, and checks every statistics route
// against them: the attempt count, the application's outcomes by event type and by period, the
// active applications and endpoints, and the two usage tasks (through the official Svix Go SDK).
func TestStatistics(t *testing.T) {
	t.Parallel()
	e := start(t, nil)
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	e.eventType("order.paid", nil)
	e.eventType("order.refunded", nil)
	var out struct {
		ID string `json:"id"`
	}
	e.Op("POST", "/api/v1/app", map[string]any{"name": "A", "uid": "a-uid"}, 201).JSON(t, &out)
	a := out.ID
	b, c := e.app("B"), e.app("C")
	ok := e.endpoint(a, map[string]any{"url": rc.URL + "/ok"})
	bad := e.endpoint(a, map[string]any{"url": rc.URL + "/bad", "filterTypes": []string{"order.refunded", "order.paid"}})
	e.endpoint(b, map[string]any{"url": rc.URL + "/b", "disabled": true, "filterTypes": []string{"order.paid"}})
	e.endpoint(c, map[string]any{"url": "https://play.svix.com/in/e_test/", "filterTypes": []string{"order.paid"}})
	t0 := e.clock.Now()

	// Three order.paid and one order.refunded: four successes at ok, four failures at bad whose
	// retries are then canceled.
	for i := range 3 {
		e.send(a, "order.paid", map[string]any{"n": i})
	}
	e.send(a, "order.refunded", map[string]any{"n": 3})
	e.waitAttempts(a, ok, 4)
	e.waitAttempts(a, bad, 4)
	pollUntil(t, 10*time.Second, "four retries pending", func() bool { return e.stats(a, bad)["pending"] == 4 })
	e.Op("POST", "/api/v1/app/"+a+"/endpoint/"+bad+"/cancel-msgs", map[string]any{"createdBefore": t0.Add(time.Second)}, 204)

	get := func(path string, v any) {
		t.Helper()
		e.Op("GET", path, nil, 200).JSON(t, v)
	}
	// The attempt count, with the list's filters.
	for q, want := range map[string]string{
		ok + "/count":           `{"count":4,"approximated":false}`,
		bad + "/count":          `{"count":4,"approximated":false}`,
		bad + "/count?status=0": `{"count":0,"approximated":false}`,
		bad + "/count?status=2&status_code_class=500":                                      `{"count":4,"approximated":false}`,
		bad + "/count?status_code_class=200":                                               `{"count":0,"approximated":false}`,
		ok + "/count?event_types=order.refunded":                                           `{"count":1,"approximated":false}`,
		ok + "/count?before=" + url.QueryEscape(t0.Add(-time.Second).Format(time.RFC3339)): `{"count":0,"approximated":false}`,
	} {
		var got any
		get("/api/v1/app/"+a+"/attempt/endpoint/"+q, &got)
		if !reflect.DeepEqual(got, mustJSON(t, want)) {
			t.Errorf("count %s = %v, want %s", q, got, want)
		}
	}

	// The list honours status_code_class as the count does.
	for q, want := range map[string]int{bad + "?status_code_class=500": 4, bad + "?status_code_class=200": 0, ok + "?status_code_class=200": 4} {
		var page struct {
			Data []any `json:"data"`
		}
		get("/api/v1/app/"+a+"/attempt/endpoint/"+q, &page)
		if len(page.Data) != want {
			t.Errorf("list %s: %d attempts, want %d", q, len(page.Data), want)
		}
	}

	// Outcomes by event type.
	rng := "since=" + url.QueryEscape(t0.Add(-time.Minute).Format(time.RFC3339)) + "&until=" + url.QueryEscape(t0.Add(time.Hour).Format(time.RFC3339))
	var stats map[string]any
	get("/api/v1/app/"+a+"/stats/attempts?"+rng, &stats)
	wantStats := mustJSON(t, `{"order.paid": {"success": 3, "failure": 3, "canceled": 3}, "order.refunded": {"success": 1, "failure": 1, "canceled": 1}}`)
	if !reflect.DeepEqual(stats["by_event_type"], wantStats) || stats["total_success"] != 4.0 || stats["total_failure"] != 4.0 || stats["total_canceled"] != 4.0 {
		t.Errorf("stats/attempts = %v", stats)
	}
	get("/api/v1/app/a-uid/stats/attempts?event_types=order.refunded&"+rng, &stats)
	if stats["total_success"] != 1.0 || stats["total_failure"] != 1.0 || stats["total_canceled"] != 1.0 || len(stats["by_event_type"].(map[string]any)) != 1 {
		t.Errorf("stats/attempts of order.refunded = %v", stats)
	}

	// Outcomes per hour: all of them in the hour of t0.
	var series struct {
		StartDate time.Time `json:"startDate"`
		EndDate   time.Time `json:"endDate"`
		Period    string    `json:"period"`
		Data      struct {
			SuccessCount, FailureCount, CanceledCount []int
		} `json:"data"`
	}
	start := t0.Add(-2 * time.Hour)
	get("/api/v1/stats/app/"+a+"/attempt?period=OneHour&startDate="+url.QueryEscape(start.Format(time.RFC3339))+"&endDate="+url.QueryEscape(t0.Add(time.Hour).Format(time.RFC3339)), &series)
	hour := int(t0.Sub(start.Truncate(time.Hour)) / time.Hour)
	if series.Period != "OneHour" || !series.StartDate.Equal(start.Truncate(time.Hour)) || len(series.Data.SuccessCount) != 4 ||
		series.Data.SuccessCount[hour] != 4 || series.Data.FailureCount[hour] != 4 || series.Data.CanceledCount[hour] != 4 {
		t.Errorf("hourly series = %+v, want 4 hours, the %dth with 4 of each", series, hour)
	}
	get("/api/v1/stats/app/"+a+"/attempt", &series)
	if series.Period != "OneDay" || len(series.Data.SuccessCount) < 28 || sum(series.Data.SuccessCount) != 4 || sum(series.Data.CanceledCount) != 4 {
		t.Errorf("default series = %+v, want a daily series of 28 days or more with the 4 successes", series)
	}

	// Active applications and endpoints: A's two, B's disabled one, C's on Svix Play.
	for q, want := range map[string]float64{"": 1, "?exclude_svix_play=false": 2, "?exclude_disabled=false": 2, "?exclude_svix_play=false&exclude_disabled=false": 3} {
		var n map[string]any
		get("/api/v1/app/stats/count-active"+q, &n)
		if n["count"] != want {
			t.Errorf("count-active%s = %v, want %v", q, n, want)
		}
	}
	for q, want := range map[string]string{"": `{"active":2,"disabled":1}`, "?exclude_svix_play=false": `{"active":3,"disabled":1}`} {
		var got any
		get("/api/v1/stats/endpoint/count"+q, &got)
		if !reflect.DeepEqual(got, mustJSON(t, want)) {
			t.Errorf("stats/endpoint/count%s = %v, want %s", q, got, want)
		}
	}

	// The usage tasks, through the Svix SDK: its models parse the answers.
	sdk := newSDK(t, e.Instance)
	usage, err := sdk.Statistics.AggregateAppStats(t.Context(), &svix.AppUsageStatsIn{Since: t0.Add(-time.Minute), Until: t0.Add(time.Hour),
		AppIds: []string{"a-uid", "nope"}}, nil)
	if err != nil {
		t.Fatalf("aggregate app stats: %v", err)
	}
	if usage.Task != "application.stats" || !reflect.DeepEqual(usage.UnresolvedAppIds, []string{"nope"}) {
		t.Errorf("aggregate app stats answered %+v", usage)
	}
	data := e.taskData(usage.Id)
	if want := mustJSON(t, `{"appStats": [{"messageDestinations": 8, "appId": "`+a+`", "appUid": "a-uid"}]}`); !reflect.DeepEqual(data, want) {
		t.Errorf("application.stats data = %v, want %v", data, want)
	}
	usage, err = sdk.Statistics.AggregateAppStats(t.Context(), &svix.AppUsageStatsIn{Since: t0.Add(-time.Minute), Until: t0.Add(time.Hour)}, nil)
	if err != nil {
		t.Fatalf("aggregate app stats: %v", err)
	}
	want := mustJSON(t, `{"appStats": [{"messageDestinations": 8, "appId": "`+a+`", "appUid": "a-uid"},
		{"messageDestinations": 0, "appId": "`+b+`", "appUid": null}, {"messageDestinations": 0, "appId": "`+c+`", "appUid": null}]}`)
	if data := e.taskData(usage.Id); !reflect.DeepEqual(data, want) {
		t.Errorf("application.stats of every application = %v, want %v", data, want)
	}
	if _, err := sdk.Statistics.AggregateAppStats(t.Context(), &svix.AppUsageStatsIn{Since: t0, Until: t0.Add(time.Hour), AppIds: []string{"nope"}}, nil); sdkStatus(err) != 422 {
		t.Errorf("aggregate app stats of unknown applications only: %v, want 422", err)
	}
	agg, err := sdk.Statistics.AggregateEventTypes(t.Context())
	if err != nil {
		t.Fatalf("aggregate event types: %v", err)
	}
	want = mustJSON(t, `{"event_types": [
		{"appId": "`+a+`", "explicitlySubscribedEventTypes": ["order.paid", "order.refunded"], "hasCatchAllEndpoint": true},
		{"appId": "`+b+`", "explicitlySubscribedEventTypes": [], "hasCatchAllEndpoint": false},
		{"appId": "`+c+`", "explicitlySubscribedEventTypes": ["order.paid"], "hasCatchAllEndpoint": false}]}`)
	if data := e.taskData(agg.Id); agg.Task != "event-type.aggregate" || !reflect.DeepEqual(data, want) {
		t.Errorf("event-type.aggregate %s data = %v, want %v", agg.Task, data, want)
	}

	// An application token: its own application's statistics only; nothing environment-wide.
	var tok struct {
		Token string `json:"token"`
	}
	e.Op("POST", "/api/v1/token", map[string]any{"kind": "application", "appId": b, "name": "b key"}, 201).JSON(t, &tok)
	for _, c := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/api/v1/app/" + b + "/stats/attempts", nil, 200},
		{"GET", "/api/v1/stats/app/" + b + "/attempt", nil, 200},
		{"GET", "/api/v1/app/" + a + "/stats/attempts", nil, 404},
		{"GET", "/api/v1/stats/app/" + a + "/attempt", nil, 404},
		{"GET", "/api/v1/app/" + a + "/attempt/endpoint/" + ok + "/count", nil, 404},
		{"GET", "/api/v1/app/stats/count-active", nil, 403},
		{"GET", "/api/v1/stats/endpoint/count", nil, 403},
		{"POST", "/api/v1/stats/usage/app", map[string]any{"since": t0, "until": t0.Add(time.Hour)}, 403},
		{"PUT", "/api/v1/stats/usage/event-types", nil, 403},
		{"GET", "/api/v1/background-task/" + agg.Id, nil, 404},
	} {
		r := e.Do(c.method, c.path, tok.Token, c.body)
		if r.Status != c.status {
			t.Errorf("b's token: %s %s = %d %s, want %d", c.method, c.path, r.Status, r.Body, c.status)
		}
		if c.status == 404 && (contains(r.Body, `"total_success"`) || contains(r.Body, `"count"`)) {
			t.Errorf("b's token: %s %s leaked %s", c.method, c.path, r.Body)
		}
	}

	// Bad parameters name themselves.
	for path, field := range map[string]string{
		"/api/v1/stats/app/" + a + "/attempt?period=OneWeek":                                         "period",
		"/api/v1/stats/app/" + a + "/attempt?period=FiveMinutes&startDate=2020-01-01T00:00:00Z":      "startDate",
		"/api/v1/app/" + a + "/stats/attempts?since=yesterday":                                       "since",
		"/api/v1/app/" + a + "/stats/attempts?since=2030-01-01T00:00:00Z&until=2029-01-01T00:00:00Z": "until",
		"/api/v1/app/" + a + "/attempt/endpoint/" + ok + "/count?status_code_class=250":              "status_code_class",
		"/api/v1/app/stats/count-active?exclude_disabled=maybe":                                      "exclude_disabled",
	} {
		r := e.Do("GET", path, e.Token, nil)
		if r.Status != 422 || !contains(r.Body, `"`+field+`"`) {
			t.Errorf("GET %s: %d %s, want a 422 naming %s", path, r.Status, r.Body, field)
		}
	}
}

// taskData waits for a background task to finish and returns its data.
func (e *env) taskData(id string) any {
	e.T.Helper()
	var tk struct {
		Status string `json:"status"`
		Data   any    `json:"data"`
	}
	pollUntil(e.T, 10*time.Second, "task "+id+" finished", func() bool {
		e.Op("GET", "/api/v1/background-task/"+id, nil, 200).JSON(e.T, &tk)
		return tk.Status != "running"
	})
	if tk.Status != "finished" {
		e.T.Fatalf("task %s %s: %v", id, tk.Status, tk.Data)
	}
	return tk.Data
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// mustJSON decodes a JSON literal of the test into a generic value.
func mustJSON(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON in test: %v", err)
	}
	return v
}
