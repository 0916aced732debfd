package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/clocktest"
	"github.com/hookline/hookline/internal/testserver"
)

type msgOut struct {
	ID        string          `json:"id"`
	EventType string          `json:"eventType"`
	Payload   json.RawMessage `json:"payload"`
	Tags      []string        `json:"tags"`
}

// TestMessageQueries covers precheck, raw payloads, search (every field of Svix's
// MessageSearchIn, and a 422 for each bad one) and the tag filter, over real HTTP.
func TestMessageQueries(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	for _, et := range []string{"order.paid", "order.shipped"} {
		srv.Op("POST", "/api/v1/event-type", map[string]any{"name": et, "description": et}, 201)
	}
	appID := createApp(t, srv, "Acme")
	base := "/api/v1/app/" + appID

	// Precheck: nothing listens until an endpoint does; then by type and channel.
	precheck := func(body map[string]any) bool {
		var out struct {
			Active *bool `json:"active"`
		}
		srv.Op("POST", base+"/msg/precheck/active", body, 200).JSON(t, &out)
		if out.Active == nil {
			t.Fatalf("precheck answer without active")
		}
		return *out.Active
	}
	if precheck(map[string]any{"eventType": "order.paid"}) {
		t.Error("precheck with no endpoint: active")
	}
	srv.Op("POST", base+"/endpoint", map[string]any{"url": "https://acme.example/paid", "filterTypes": []string{"order.paid"}, "channels": []string{"eu"}}, 201)
	disabled := map[string]any{"url": "https://acme.example/all", "disabled": true}
	srv.Op("POST", base+"/endpoint", disabled, 201)
	// Svix's channels may hold ':' and '+', and a message may list ten.
	srv.Op("POST", base+"/endpoint", map[string]any{"url": "https://acme.example/shipped", "filterTypes": []string{"order.shipped"}, "channels": []string{"project:1337"}}, 201)
	ten := []string{"a", "b", "c", "d", "e", "f", "g", "h", "eu+us", "project:1337"}
	for _, c := range []struct {
		body map[string]any
		want bool
	}{
		{map[string]any{"eventType": "order.paid", "channels": []string{"eu"}}, true},
		{map[string]any{"eventType": "order.paid", "channels": []string{"us", "eu"}}, true},
		{map[string]any{"eventType": "order.paid"}, false}, // the endpoint wants channel eu
		{map[string]any{"eventType": "order.shipped", "channels": []string{"eu"}}, false},
		{map[string]any{"eventType": "order.shipped", "channels": ten}, true},
		{map[string]any{"eventType": "order.shipped", "channels": ten[:9]}, false},
	} {
		if got := precheck(c.body); got != c.want {
			t.Errorf("precheck %v = %v, want %v", c.body, got, c.want)
		}
	}
	for _, bad := range []map[string]any{{}, {"eventType": "bad type!"}, {"eventType": "order.paid", "channels": []string{"no spaces"}}, {"eventType": "order.paid", "nope": 1}} {
		if r := srv.Do("POST", base+"/msg/precheck/active", srv.Token, bad); r.Status != 422 {
			t.Errorf("precheck %v: %d %s, want 422", bad, r.Status, r.Body)
		}
	}

	// Raw payloads are the bytes sent, not re-encoded.
	text := `{"z": 1,   "a": [1.50, "\u00e9"]}`
	var m1 msgOut
	srv.Op("POST", base+"/msg", `{"eventType": "order.paid", "tags": ["vip", "eu/1"], "payload": `+text+`}`, 202).JSON(t, &m1)
	var m2 msgOut
	srv.Op("POST", base+"/msg", map[string]any{"eventType": "order.shipped", "eventId": "evt-2", "payload": map[string]any{"n": 2}}, 202).JSON(t, &m2)
	var raw struct {
		Payload *string `json:"payload"`
	}
	srv.Op("GET", base+"/msg/"+m1.ID+"/raw", nil, 200).JSON(t, &raw)
	if raw.Payload == nil || *raw.Payload != text {
		t.Errorf("raw payload = %v, want %q", raw.Payload, text)
	}
	srv.Op("GET", base+"/msg/evt-2/raw", nil, 200).JSON(t, &raw)
	if *raw.Payload != `{"n":2}` {
		t.Errorf("raw payload by eventId = %q", *raw.Payload)
	}
	if r := srv.Do("GET", base+"/msg/msg_nope/raw", srv.Token, nil); r.Status != 404 {
		t.Errorf("raw of a missing message: %d", r.Status)
	}

	// The tag filter of the list.
	ids := func(path string) []string {
		var page struct {
			Data []msgOut `json:"data"`
		}
		srv.Op("GET", path, nil, 200).JSON(t, &page)
		var out []string
		for _, m := range page.Data {
			out = append(out, m.ID)
		}
		return out
	}
	if got := ids(base + "/msg?tag=vip"); !slices.Equal(got, []string{m1.ID}) {
		t.Errorf("tag=vip: %v", got)
	}
	if got := ids(base + "/msg?tag=eu%2F1"); !slices.Equal(got, []string{m1.ID}) {
		t.Errorf("tag=eu/1: %v", got)
	}
	if got := ids(base + "/msg?tag=vi"); len(got) != 0 {
		t.Errorf("tag=vi matches %v; tags match whole", got)
	}

	// Search: every field of MessageSearchIn.
	search := func(body any) ([]msgOut, bool) {
		var page struct {
			Data     []msgOut `json:"data"`
			Iterator *string  `json:"iterator"`
			Done     bool     `json:"done"`
		}
		srv.Op("POST", base+"/msg/search", body, 200).JSON(t, &page)
		return page.Data, page.Done
	}
	all, _ := search(map[string]any{})
	if len(all) != 2 || all[0].ID != m2.ID || string(all[0].Payload) != "{}" {
		t.Errorf("search {}: %+v, want both, newest first, without payloads", all)
	}
	got, _ := search(map[string]any{"tag": "vip", "with_content": true})
	if len(got) != 1 || got[0].ID != m1.ID || !strings.Contains(string(got[0].Payload), `"z"`) {
		t.Errorf("search tag+with_content: %+v", got)
	}
	got, _ = search(map[string]any{"event_types": []string{"order.shipped"}})
	if len(got) != 1 || got[0].ID != m2.ID {
		t.Errorf("search event_types: %+v", got)
	}
	got, done := search(map[string]any{"limit": 1})
	if len(got) != 1 || done {
		t.Errorf("search limit 1: %d items, done=%v", len(got), done)
	}
	got, _ = search(map[string]any{"limit": 1, "iterator": m2.ID})
	if len(got) != 1 || got[0].ID != m1.ID {
		t.Errorf("search from an iterator: %+v", got)
	}
	got, _ = search(map[string]any{"channel": "eu"})
	if len(got) != 0 {
		t.Errorf("search channel eu: %+v", got)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if got, _ = search(map[string]any{"after": future}); len(got) != 0 {
		t.Errorf("search after the future: %+v", got)
	}
	if got, _ = search(map[string]any{"before": future, "iterator": nil, "tag": nil}); len(got) != 2 {
		t.Errorf("search before the future: %+v", got)
	}
	for _, c := range []struct {
		body any
		loc  string
	}{
		{map[string]any{"limit": 0}, "limit"},
		{map[string]any{"limit": 251}, "limit"},
		{map[string]any{"with_content": "yes"}, "with_content"},
		{map[string]any{"before": "yesterday"}, "before"},
		{map[string]any{"event_types": "order.paid"}, "event_types"},
		{map[string]any{"withContent": true}, "withContent"},
	} {
		r := srv.Do("POST", base+"/msg/search", srv.Token, c.body)
		if r.Status != 422 || !strings.Contains(string(r.Body), `"`+c.loc+`"`) {
			t.Errorf("search %v: %d %s, want 422 naming %s", c.body, r.Status, r.Body, c.loc)
		}
	}
}

// TestMessageStream reads GET /app/{app_id}/events as a polling consumer does, on a clock the
// test moves: oldest first, page by page, then what was created meanwhile from the last
// iterator; nothing appears before it is a second old.
func TestMessageStream(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Now().UTC())
	srv := testserver.Start(t, testserver.Options{Clock: clock})
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "a.b", "description": "x"}, 201)
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "c.d", "description": "x"}, 201)
	appID := createApp(t, srv, "Stream")
	base := "/api/v1/app/" + appID
	send := func(et string, channels ...string) string {
		var m msgOut
		body := map[string]any{"eventType": et, "payload": map[string]any{"t": et}}
		if len(channels) > 0 {
			body["channels"] = channels
		}
		srv.Op("POST", base+"/msg", body, 202).JSON(t, &m)
		return m.ID
	}
	type page struct {
		Data     []msgOut `json:"data"`
		Iterator *string  `json:"iterator"`
		Done     *bool    `json:"done"`
	}
	read := func(query string) page {
		var p page
		srv.Op("GET", base+"/events"+query, nil, 200).JSON(t, &p)
		if p.Iterator == nil || p.Done == nil || p.Data == nil {
			t.Fatalf("events%s: missing data, iterator or done", query)
		}
		return p
	}
	// An empty stream still gives an iterator to poll from.
	p := read("")
	if len(p.Data) != 0 || !*p.Done || *p.Iterator == "" {
		t.Fatalf("empty stream: %+v", p)
	}
	start := *p.Iterator
	m1, m2, m3 := send("a.b"), send("c.d", "eu"), send("a.b", "us")
	if p := read("?iterator=" + start); len(p.Data) != 0 || *p.Iterator != start {
		t.Fatalf("messages younger than a second are in the stream: %+v", p)
	}
	clock.Advance(2 * time.Second)
	var got []string
	it := start
	for range 10 {
		p := read("?limit=2&iterator=" + it)
		for _, m := range p.Data {
			got = append(got, m.ID)
			if string(m.Payload) == "{}" {
				t.Errorf("stream message %s without its payload", m.ID)
			}
		}
		it = *p.Iterator
		if *p.Done {
			break
		}
	}
	if !slices.Equal(got, []string{m1, m2, m3}) {
		t.Fatalf("stream = %v, want %v", got, []string{m1, m2, m3})
	}
	// Read from the start without an iterator, with filters.
	if p := read("?event_types=a.b"); !slices.Equal(ids(p.Data), []string{m1, m3}) {
		t.Errorf("event_types=a.b: %v", ids(p.Data))
	}
	if p := read("?channels=eu&channels=us"); !slices.Equal(ids(p.Data), []string{m2, m3}) {
		t.Errorf("channels=eu,us: %v", ids(p.Data))
	}
	// Polling on from the last iterator gets what came since, and only that.
	m4 := send("c.d")
	clock.Advance(2 * time.Second)
	if p := read("?iterator=" + it); !slices.Equal(ids(p.Data), []string{m4}) || !*p.Done || *p.Iterator != m4 {
		t.Errorf("after m4: %+v", p)
	}
	if r := srv.Do("GET", base+"/events?iterator=-"+m4, srv.Token, nil); r.Status != 422 {
		t.Errorf("a backward iterator: %d %s, want 422", r.Status, r.Body)
	}
	if r := srv.Do("GET", base+"/events?with_content=true", srv.Token, nil); r.Status != 422 {
		t.Errorf("an unknown parameter: %d %s, want 422", r.Status, r.Body)
	}
}

func ids(ms []msgOut) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

// TestTestAttempt sends a test attempt to a real receiver: the answer is the attempt, made
// before the answer; the endpoint's filters do not apply; a disabled endpoint is refused.
func TestTestAttempt(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	var mu sync.Mutex
	var bodies []string
	hookURL := hookServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		w.WriteHeader(201)
		io.WriteString(w, `{"got":"it"}`)
	})
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "x"}, 201)
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "other.type", "description": "x"}, 201)
	appID := createApp(t, srv, "Acme")
	var ep struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app/"+appID+"/endpoint", map[string]any{"url": hookURL, "filterTypes": []string{"other.type"}}, 201).JSON(t, &ep)
	_, appToken := createToken(t, srv, map[string]any{"kind": "application", "appId": appID})
	r := srv.Do("POST", "/api/v1/app/"+appID+"/endpoint/"+ep.ID+"/msg/test-attempt", appToken, `{"eventType":"order.paid","payload":{"x": 1}}`)
	if r.Status != 201 {
		t.Fatalf("test-attempt: %d %s", r.Status, r.Body)
	}
	var at struct {
		ID                 string `json:"id"`
		MsgID              string `json:"msgId"`
		EndpointID         string `json:"endpointId"`
		ResponseStatusCode int    `json:"responseStatusCode"`
		Response           string `json:"response"`
		Status             int    `json:"status"`
	}
	r.JSON(t, &at)
	mu.Lock()
	got := slices.Clone(bodies)
	mu.Unlock()
	if at.EndpointID != ep.ID || at.ResponseStatusCode != 201 || at.Response != `{"got":"it"}` || at.Status != 0 || len(got) != 1 || got[0] != `{"x": 1}` {
		t.Fatalf("test-attempt answered %+v; the receiver got %q", at, got)
	}
	srv.Op("GET", "/api/v1/app/"+appID+"/msg/"+at.MsgID+"/attempt/"+at.ID, nil, 200)
	// Bad input loses nothing and sends nothing.
	for _, bad := range []string{`{"eventType":"order.paid"}`, `{"eventType":"no.such","payload":{}}`, `{"eventType":"order.paid","payload":{},"nope":1}`} {
		if r := srv.Do("POST", "/api/v1/app/"+appID+"/endpoint/"+ep.ID+"/msg/test-attempt", srv.Token, bad); r.Status != 422 {
			t.Errorf("test-attempt %s: %d %s, want 422", bad, r.Status, r.Body)
		}
	}
	srv.Op("PATCH", "/api/v1/app/"+appID+"/endpoint/"+ep.ID, map[string]any{"disabled": true}, 200)
	if r := srv.Do("POST", "/api/v1/app/"+appID+"/endpoint/"+ep.ID+"/msg/test-attempt", srv.Token, `{"eventType":"order.paid","payload":{}}`); r.Status != 422 {
		t.Errorf("test-attempt to a disabled endpoint: %d %s, want 422", r.Status, r.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 {
		t.Errorf("the receiver got %d requests, want 1", len(bodies))
	}
}

// TestBroadcast sends one message to every application in a background task: each gets its
// own message with the eventId, the internal application of operational webhooks none; a bad
// message is refused before any task starts; application tokens may not broadcast.
func TestBroadcast(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, testserver.Options{})
	srv.Op("POST", "/api/v1/event-type", map[string]any{"name": "maintenance.planned", "description": "x",
		"schemas": map[string]any{"1": map[string]any{"type": "object", "required": []string{"at"}}}}, 201)
	apps := []string{createApp(t, srv, "A"), createApp(t, srv, "B"), createApp(t, srv, "C")}
	// An operational endpoint makes the internal application exist.
	srv.Op("POST", "/api/v1/operational-webhook/endpoint", map[string]any{"url": "https://ops.example/hook"}, 201)
	_, appToken := createToken(t, srv, map[string]any{"kind": "application", "appId": apps[0]})
	body := map[string]any{"eventType": "maintenance.planned", "eventId": "maint-1", "payload": map[string]any{"at": "02:00"}, "channels": []string{"ops"}}
	if r := srv.Do("POST", "/api/v1/msg/broadcast", appToken, body); r.Status != 403 {
		t.Fatalf("broadcast with an application token: %d %s", r.Status, r.Body)
	}
	for _, bad := range []map[string]any{
		{"eventType": "maintenance.planned", "payload": map[string]any{}},                                       // schema
		{"eventType": "no.such", "payload": map[string]any{"at": "x"}},                                          // unknown type
		{"eventType": "maintenance.planned", "payload": map[string]any{"at": "x"}, "payloadRetentionPeriod": 5}, // unsupported
	} {
		if r := srv.Do("POST", "/api/v1/msg/broadcast", srv.Token, bad); r.Status != 422 {
			t.Errorf("broadcast %v: %d %s, want 422", bad, r.Status, r.Body)
		}
	}
	var task struct {
		ID        string    `json:"id"`
		Status    string    `json:"status"`
		Task      string    `json:"task"`
		UpdatedAt time.Time `json:"updatedAt"`
	}
	srv.Op("POST", "/api/v1/msg/broadcast", body, 202).JSON(t, &task)
	if task.Task != "message.broadcast" || !strings.HasPrefix(task.ID, "qtask_") || task.UpdatedAt.IsZero() {
		t.Fatalf("broadcast answered %+v", task)
	}
	var done struct {
		Status string `json:"status"`
		Data   struct {
			MessagesCreated []struct {
				AppID string `json:"appId"`
				MsgID string `json:"msgId"`
			} `json:"messagesCreated"`
		} `json:"data"`
	}
	pollUntil(t, 20*time.Second, "the broadcast finished", func() bool {
		srv.Op("GET", "/api/v1/background-task/"+task.ID, nil, 200).JSON(t, &done)
		return done.Status != "running"
	})
	if done.Status != "finished" || len(done.Data.MessagesCreated) != len(apps) {
		t.Fatalf("broadcast ended %+v, want one message per application", done)
	}
	for i, c := range done.Data.MessagesCreated {
		if c.AppID != apps[i] {
			t.Errorf("message %d went to %s, want %s", i, c.AppID, apps[i])
		}
		var m struct {
			ID       string          `json:"id"`
			EventID  string          `json:"eventId"`
			Payload  json.RawMessage `json:"payload"`
			Channels []string        `json:"channels"`
		}
		srv.Op("GET", "/api/v1/app/"+c.AppID+"/msg/maint-1", nil, 200).JSON(t, &m)
		if m.ID != c.MsgID || string(m.Payload) != `{"at":"02:00"}` || !slices.Equal(m.Channels, []string{"ops"}) {
			t.Errorf("app %s: message %+v, want %s", c.AppID, m, c.MsgID)
		}
	}
	// Broadcasting the same eventId again creates nothing new: each application keeps its one.
	srv.Op("POST", "/api/v1/msg/broadcast", body, 202).JSON(t, &task)
	pollUntil(t, 20*time.Second, "the second broadcast finished", func() bool {
		srv.Op("GET", "/api/v1/background-task/"+task.ID, nil, 200).JSON(t, &done)
		return done.Status != "running"
	})
	if done.Status != "finished" || len(done.Data.MessagesCreated) != len(apps) {
		t.Errorf("second broadcast ended %+v", done)
	}
	for _, appID := range apps {
		var page struct{ Data []any }
		srv.Op("GET", "/api/v1/app/"+appID+"/msg", nil, 200).JSON(t, &page)
		if len(page.Data) != 1 {
			t.Errorf("app %s has %d messages after two broadcasts with one eventId", appID, len(page.Data))
		}
	}
}
