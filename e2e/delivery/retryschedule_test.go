package delivery

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestEventTypeRetryScheduleSetsWhenTheNextAttemptIsDue gives one event type its own retry
// schedule (1 h, then 3 h) and another an empty one (no retries), leaves a third on the default,
// and fails every delivery: on the injected clock, the next attempt of each is due after its own
// schedule's delay, within the jitter, until that schedule is exhausted.
func TestEventTypeRetryScheduleSetsWhenTheNextAttemptIsDue(t *testing.T) {
	t.Parallel()
	e := start(t, nil)
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "down")
	})
	for _, name := range []string{"order.paid", "order.shipped", "order.noted"} {
		e.eventType(name, nil)
	}
	path := func(name string) string { return "/api/v1/event-type/" + name + "/retry-schedule" }

	// None at first: null.
	if got := string(e.Op("GET", path("order.paid"), nil, 200).Body); got != "{\"retrySchedule\":null}\n" {
		t.Errorf("schedule of a new event type: %s, want {\"retrySchedule\":null}", got)
	}
	custom := map[string]any{"retrySchedule": []map[string]any{{"secs": 3600, "nanos": 0}, {"secs": 3 * 3600, "nanos": 500}}}
	var set struct {
		RetrySchedule []struct{ Secs, Nanos int64 } `json:"retrySchedule"`
	}
	e.Op("PUT", path("order.paid"), custom, 200).JSON(t, &set)
	if len(set.RetrySchedule) != 2 || set.RetrySchedule[1].Secs != 3*3600 || set.RetrySchedule[1].Nanos != 500 {
		t.Errorf("PUT answered %+v, want the schedule sent", set)
	}
	var got json.RawMessage
	e.Op("GET", path("order.paid"), nil, 200).JSON(t, &got)
	sameJSON(t, "schedule read back", got, `{"retrySchedule":[{"secs":3600,"nanos":0},{"secs":10800,"nanos":500}]}`)
	e.Op("PUT", path("order.noted"), map[string]any{"retrySchedule": []any{}}, 200)

	app := e.app("Acme")
	epPaid := e.endpoint(app, map[string]any{"url": rc.URL, "filterTypes": []string{"order.paid"}})
	epShipped := e.endpoint(app, map[string]any{"url": rc.URL, "filterTypes": []string{"order.shipped"}})
	epNoted := e.endpoint(app, map[string]any{"url": rc.URL, "filterTypes": []string{"order.noted"}})
	paid := e.send(app, "order.paid", map[string]any{"n": 1})
	shipped := e.send(app, "order.shipped", map[string]any{"n": 2})
	noted := e.send(app, "order.noted", map[string]any{"n": 3})
	e.waitAttempts(app, epPaid, 1)
	e.waitAttempts(app, epShipped, 1)
	e.waitAttempts(app, epNoted, 1)

	sent := e.clock.Now()
	within(t, "order.paid after attempt 1", e.endpointMsgState(app, epPaid, paid).NextAttempt, sent, time.Hour, 0.2)
	within(t, "order.shipped after attempt 1 (the default)", e.endpointMsgState(app, epShipped, shipped).NextAttempt, sent, e.Config.RetrySchedule[0], 0.2)
	if st := e.endpointMsgState(app, epNoted, noted); st.Status != 2 || st.NextAttempt != nil {
		t.Errorf("order.noted (no retries) after attempt 1: status %d, next %v; want 2 (fail) and none", st.Status, st.NextAttempt)
	}

	// The second delay of order.paid's schedule, then exhaustion.
	e.advanceTo(*e.endpointMsgState(app, epPaid, paid).NextAttempt)
	e.waitAttempts(app, epPaid, 2)
	within(t, "order.paid after attempt 2", e.endpointMsgState(app, epPaid, paid).NextAttempt, e.clock.Now(), 3*time.Hour+500, 0.2)
	e.advanceTo(*e.endpointMsgState(app, epPaid, paid).NextAttempt)
	e.waitAttempts(app, epPaid, 3)
	if st := e.endpointMsgState(app, epPaid, paid); st.Status != 2 || st.NextAttempt != nil {
		t.Errorf("order.paid after its schedule's last retry: status %d, next %v; want 2 (fail) and none", st.Status, st.NextAttempt)
	}

	// Back to the default: a new message of order.paid waits the default's first delay.
	if got := string(e.Op("PUT", path("order.paid"), map[string]any{"retrySchedule": nil}, 200).Body); got != "{\"retrySchedule\":null}\n" {
		t.Errorf("PUT null answered %s", got)
	}
	again := e.send(app, "order.paid", map[string]any{"n": 4})
	e.waitAttempts(app, epPaid, 4)
	within(t, "order.paid on the default", e.endpointMsgState(app, epPaid, again).NextAttempt, e.clock.Now(), e.Config.RetrySchedule[0], 0.2)
}

// TestEventTypeRetryScheduleRefusals: bad schedules are 422s naming the field and change
// nothing; an unknown event type is 404; an application token may read but not set.
func TestEventTypeRetryScheduleRefusals(t *testing.T) {
	t.Parallel()
	e := start(t, nil)
	e.eventType("order.paid", nil)
	path := "/api/v1/event-type/order.paid/retry-schedule"
	e.Op("PUT", path, map[string]any{"retrySchedule": []map[string]any{{"secs": 60, "nanos": 0}}}, 200)
	long := make([]map[string]any, 51)
	for i := range long {
		long[i] = map[string]any{"secs": 1, "nanos": 0}
	}
	for _, c := range []struct {
		name string
		body any
		want int
		loc  string
	}{
		{"a negative delay", map[string]any{"retrySchedule": []map[string]any{{"secs": -1, "nanos": 0}}}, 422, `["body","retrySchedule","0"]`},
		{"nanos of a second or more", map[string]any{"retrySchedule": []map[string]any{{"secs": 1, "nanos": 0}, {"secs": 1, "nanos": 1000000000}}}, 422, `["body","retrySchedule","1"]`},
		{"a delay over 7 days", map[string]any{"retrySchedule": []map[string]any{{"secs": 7*24*3600 + 1, "nanos": 0}}}, 422, `["body","retrySchedule","0"]`},
		{"51 delays", map[string]any{"retrySchedule": long}, 422, `["body","retrySchedule"]`},
		{"a string for a delay", map[string]any{"retrySchedule": []any{"5s"}}, 422, ""},
		{"not JSON", "{", 400, ""},
	} {
		r := e.Do("PUT", path, e.Token, c.body)
		if r.Status != c.want {
			t.Errorf("%s: status %d, want %d: %s", c.name, r.Status, c.want, r.Body)
			continue
		}
		if c.loc != "" {
			var body struct {
				Detail []struct {
					Loc json.RawMessage `json:"loc"`
				} `json:"detail"`
			}
			r.JSON(t, &body)
			if len(body.Detail) != 1 || string(body.Detail[0].Loc) != c.loc {
				t.Errorf("%s: errors %s, want one at %s", c.name, r.Body, c.loc)
			}
		}
	}
	var got json.RawMessage
	e.Op("GET", path, nil, 200).JSON(t, &got)
	sameJSON(t, "schedule after the refusals", got, `{"retrySchedule":[{"secs":60,"nanos":0}]}`)

	if r := e.Do("GET", "/api/v1/event-type/no.such.type/retry-schedule", e.Token, nil); r.Status != 404 {
		t.Errorf("GET the schedule of an unknown event type: status %d, want 404", r.Status)
	}
	if r := e.Do("PUT", "/api/v1/event-type/no.such.type/retry-schedule", e.Token, map[string]any{"retrySchedule": nil}); r.Status != 404 {
		t.Errorf("PUT the schedule of an unknown event type: status %d, want 404", r.Status)
	}
	app := e.app("Acme")
	var tok struct {
		Token string `json:"token"`
	}
	e.Op("POST", "/api/v1/token", map[string]any{"kind": "application", "appId": app}, 201).JSON(t, &tok)
	if r := e.Do("GET", path, tok.Token, nil); r.Status != 200 {
		t.Errorf("GET with an application token: status %d, want 200 (the catalogue is readable)", r.Status)
	}
	if r := e.Do("PUT", path, tok.Token, map[string]any{"retrySchedule": nil}); r.Status != 403 {
		t.Errorf("PUT with an application token: status %d, want 403", r.Status)
	}
	if r := e.Do("GET", path, "", nil); r.Status != 401 {
		t.Errorf("GET without a token: status %d, want 401", r.Status)
	}
}

// sameJSON fails the test unless got and want (JSON text) are the same JSON value.
func sameJSON(t testing.TB, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	json.Unmarshal([]byte(want), &w)
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("%s: %s, want %s", what, gb, wb)
	}
}
