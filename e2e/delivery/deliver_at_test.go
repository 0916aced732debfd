package delivery

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/pgtest"
)

// TestDeliverAt sends a message with deliverAt (Svix's MessageIn.deliverAt) two minutes ahead,
// on SQLite and on PostgreSQL: the API answers 202 and shows deliverAt on the message, the
// message waits (no request, and no delivery in the endpoint's list, while the clock stands
// before it, though a message sent after it goes at once), then goes out once the clock passes
// it, signed with the time of its attempt. A deliverAt less than a minute or more than a day
// ahead is refused with 422 naming the field, and so is one on a test attempt, which is made
// at once.
func TestDeliverAt(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testDeliverAt(t, "")
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testDeliverAt(t, pgtest.URL(t))
	})
}

func testDeliverAt(t *testing.T, dbURL string) {
	e := startOn(t, dbURL, nil)
	rc := newReceiver(t, status(204))
	e.eventType("order.paid", nil)
	appID := e.app("Acme")
	epID := e.endpoint(appID, map[string]any{"url": rc.URL})

	now := e.clock.Now()
	for _, tc := range []struct {
		name string
		at   time.Time
	}{{"30 s ahead", now.Add(30 * time.Second)}, {"25 h ahead", now.Add(25 * time.Hour)}, {"in the past", now.Add(-time.Hour)}} {
		r := e.Do("POST", "/api/v1/app/"+appID+"/msg", e.Token, map[string]any{"eventType": "order.paid", "payload": map[string]any{},
			"deliverAt": tc.at.Format(time.RFC3339Nano)})
		if r.Status != 422 || !detailAt(r.Body, "body", "deliverAt") {
			t.Errorf("deliverAt %s: %d %s, want 422 naming body.deliverAt", tc.name, r.Status, r.Body)
		}
	}
	if r := e.Do("POST", "/api/v1/app/"+appID+"/endpoint/"+epID+"/msg/test-attempt", e.Token, map[string]any{"eventType": "order.paid",
		"payload": map[string]any{}, "deliverAt": now.Add(time.Hour).Format(time.RFC3339)}); r.Status != 422 || !detailAt(r.Body, "body", "deliverAt") {
		t.Errorf("test attempt with deliverAt: %d %s, want 422 naming body.deliverAt", r.Status, r.Body)
	}

	at := now.Add(2 * time.Minute)
	var later struct {
		ID        string     `json:"id"`
		DeliverAt *time.Time `json:"deliverAt"`
	}
	e.Op("POST", "/api/v1/app/"+appID+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"when": "later"},
		"deliverAt": at.Format(time.RFC3339Nano)}, 202).JSON(t, &later)
	if later.DeliverAt == nil || !later.DeliverAt.Equal(at) {
		t.Fatalf("created message deliverAt = %v, want %v", later.DeliverAt, at)
	}
	var got struct {
		DeliverAt *time.Time `json:"deliverAt"`
	}
	e.Op("GET", "/api/v1/app/"+appID+"/msg/"+later.ID, nil, 200).JSON(t, &got)
	if got.DeliverAt == nil || !got.DeliverAt.Equal(at) {
		t.Fatalf("GET message deliverAt = %v, want %v", got.DeliverAt, at)
	}
	// The dashboard's message page shows when it is to be sent.
	page := signInDashboard(t, e.URL, e.Token).get(t, "/dashboard/apps/"+appID+"/messages/"+later.ID)
	if !strings.Contains(page, "Scheduled for") || !strings.Contains(page, at.Format("2006-01-02T15:04:05")) {
		t.Errorf("the dashboard's message page does not show deliverAt %s", at.Format(time.RFC3339))
	}
	// A message sent at once goes before it: the scheduled one holds nothing up.
	now1 := e.send(appID, "order.paid", map[string]any{"when": "now"})
	if req := rc.next(t, 10*time.Second); req.ID() != now1 {
		t.Fatalf("first request carried %s, want the message sent at once (%s)", req.ID(), now1)
	}
	// Its outcome recorded before the clock jumps: a jump past its dispatch lease would
	// otherwise let the dispatcher fan it out again, which real time does not do.
	pollUntil(t, 10*time.Second, "the first message recorded as delivered", func() bool {
		for _, m := range e.endpointMsgs(appID, epID) {
			if m.ID == now1 && m.Status == 0 {
				return true
			}
		}
		return false
	})
	// The dispatcher polls every second: three polls with the clock before deliverAt.
	e.advanceTo(at.Add(-time.Second))
	time.Sleep(3 * time.Second)
	if reqs := rc.requests(); len(reqs) != 1 {
		var ids []string
		for _, r := range reqs {
			ids = append(ids, r.ID()+" at "+r.Header.Get("webhook-timestamp"))
		}
		t.Fatalf("the receiver got %d requests before deliverAt (%v), want 1 (%s, now %d, at %d)", len(reqs), ids, now1, e.clock.Now().Unix(), at.Unix())
	}
	for _, m := range e.endpointMsgs(appID, epID) {
		if m.ID == later.ID {
			t.Fatalf("the scheduled message is listed at the endpoint before its time: %+v", m)
		}
	}
	e.advanceTo(at.Add(time.Second))
	req := rc.next(t, 10*time.Second)
	if req.ID() != later.ID {
		t.Fatalf("request after deliverAt carried %s, want %s", req.ID(), later.ID)
	}
	ts, err := strconv.ParseInt(req.Header.Get("webhook-timestamp"), 10, 64)
	if err != nil || ts < at.Unix() {
		t.Errorf("webhook-timestamp %q, want the attempt's time, at or after %d", req.Header.Get("webhook-timestamp"), at.Unix())
	}
}

// detailAt reports whether an error body has a detail item located at loc.
func detailAt(body []byte, loc ...string) bool {
	var out struct {
		Detail []struct {
			Loc []string `json:"loc"`
		} `json:"detail"`
	}
	if json.Unmarshal(body, &out) != nil {
		return false
	}
	return slices.ContainsFunc(out.Detail, func(d struct {
		Loc []string `json:"loc"`
	}) bool {
		return slices.Equal(d.Loc, loc)
	})
}

// TestPayloadRetention sends messages with payloadRetentionHours and payloadRetentionPeriod
// (Svix's): the payload reads back until its time, and as {"expired": true} once the
// maintenance pass after it has run, the message staying; one kept as long as the message
// keeps it. Both fields at once, or out of Svix's bounds, are refused naming them.
func TestPayloadRetention(t *testing.T) {
	t.Parallel()
	e := start(t, nil)
	e.eventType("order.paid", nil)
	appID := e.app("Acme")
	send := func(extra map[string]any) string {
		body := map[string]any{"eventType": "order.paid", "payload": map[string]any{"card": "4242"}}
		for k, v := range extra {
			body[k] = v
		}
		var out struct {
			ID string `json:"id"`
		}
		e.Op("POST", "/api/v1/app/"+appID+"/msg", body, 202).JSON(t, &out)
		return out.ID
	}
	for _, tc := range []struct {
		body map[string]any
		loc  string
	}{
		{map[string]any{"payloadRetentionPeriod": 2, "payloadRetentionHours": 2}, "payloadRetentionHours"},
		{map[string]any{"payloadRetentionPeriod": 91}, "payloadRetentionPeriod"},
		{map[string]any{"payloadRetentionHours": 0}, "payloadRetentionHours"},
	} {
		body := map[string]any{"eventType": "order.paid", "payload": map[string]any{}}
		for k, v := range tc.body {
			body[k] = v
		}
		if r := e.Do("POST", "/api/v1/app/"+appID+"/msg", e.Token, body); r.Status != 422 || !detailAt(r.Body, "body", tc.loc) {
			t.Errorf("%v: %d %s, want 422 naming body.%s", tc.body, r.Status, r.Body, tc.loc)
		}
	}
	hour := send(map[string]any{"payloadRetentionHours": 1})
	day := send(map[string]any{"payloadRetentionPeriod": 1})
	kept := send(nil)
	payload := func(id string) string {
		var m struct {
			Payload json.RawMessage `json:"payload"`
		}
		e.Op("GET", "/api/v1/app/"+appID+"/msg/"+id, nil, 200).JSON(t, &m)
		return string(m.Payload)
	}
	e.advanceTo(e.clock.Now().Add(59 * time.Minute))
	e.Server.MaintainOnce(t.Context())
	if got := payload(hour); !strings.Contains(got, "4242") {
		t.Fatalf("before its hour the payload reads %s", got)
	}
	e.advanceTo(e.clock.Now().Add(2 * time.Minute))
	e.Server.MaintainOnce(t.Context())
	for id, want := range map[string]string{hour: `{"expired":true}`, day: `{"card":"4242"}`, kept: `{"card":"4242"}`} {
		if got := payload(id); got != want {
			t.Errorf("payload of %s after an hour = %s, want %s", id, got, want)
		}
	}
	e.advanceTo(e.clock.Now().Add(24 * time.Hour))
	e.Server.MaintainOnce(t.Context())
	if got := payload(day); got != `{"expired":true}` {
		t.Errorf("payload kept a day, a day later = %s", got)
	}
	if got := payload(kept); got != `{"card":"4242"}` {
		t.Errorf("payload without a retention, a day later = %s", got)
	}
}
