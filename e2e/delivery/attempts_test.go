package delivery

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"
)

// sameJSONValue reports whether a and b encode to the same JSON value.
func sameJSONValue(t *testing.T, a, b any) bool {
	t.Helper()
	norm := func(v any) any {
		if raw, ok := v.([]byte); ok {
			v = json.RawMessage(raw)
		}
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var out any
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// sendExample calls send-example through the Svix SDK and returns the message, or the HTTP
// status of a refusal. The SDK's SendExample (v1.44.0) never sends: it drops the request body
// it builds (V1EndpointSendExample's builder is used by value) and fails before any request.
// When that happens the same body goes out by hand and the answer is decoded with the SDK's own
// model, which is as strict as the SDK: the wire format is checked all the same.
func sendExample(t *testing.T, e *env, client *svix.Svix, app, ep string, in *svix.EventExampleIn) (*svix.MessageOut, int) {
	t.Helper()
	out, err := client.Endpoint.SendExample(t.Context(), app, ep, in)
	if err == nil {
		return out, 202
	}
	if st := sdkStatus(err); st != 0 {
		return nil, st
	}
	if !strings.Contains(err.Error(), "eventExampleIn is required") {
		t.Fatalf("send-example through the SDK: %v", err)
	}
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	r := e.Do("POST", "/api/v1/app/"+app+"/endpoint/"+ep+"/send-example", e.Token, body)
	if r.Status != 202 {
		return nil, r.Status
	}
	out = &svix.MessageOut{}
	if err := json.Unmarshal(r.Body, out); err != nil {
		t.Fatalf("send-example response %s does not decode as the SDK's MessageOut: %v", r.Body, err)
	}
	return out, r.Status
}

// TestAttemptRoutesWithTheSvixSDK drives resend, send-example and the attempt routes with the
// official Svix Go SDK, which decodes responses strictly: each call that succeeds proves the
// wire format too.
func TestAttemptRoutesWithTheSvixSDK(t *testing.T) {
	t.Parallel()
	e := start(t, nil)
	ctx := t.Context()
	client := newSDK(t, e.Instance)
	rc := newReceiver(t, nil)
	other := newReceiver(t, nil)
	e.eventType("order.paid", nil)
	examples := []any{
		map[string]any{"invoice": "inv_1", "amount": 10, "lines": []any{"a", "b"}},
		map[string]any{"invoice": "inv_2", "amount": 20, "lines": []any{}},
	}
	e.eventType("invoice.sent", map[string]any{"type": "object", "required": []string{"invoice"}, "examples": examples})
	e.eventType("order.refunded", map[string]any{"type": "object"})
	app := e.app("Acme")
	ep := e.endpoint(app, map[string]any{"url": rc.URL, "headers": map[string]string{"X-Api-Key": "k-live-123", "X-Tenant": "acme"}})
	ep2 := e.endpoint(app, map[string]any{"url": other.URL, "filterTypes": []string{"invoice.sent"}})

	msg := e.send(app, "order.paid", map[string]any{"order": "o_1"})
	first := rc.next(t, 10*time.Second)
	if first.ID() != msg || first.Header.Get("X-Api-Key") != "k-live-123" || first.Header.Get("X-Tenant") != "acme" {
		t.Fatalf("delivery: id %q, headers %v; want the message id and the custom headers", first.ID(), first.Header)
	}
	e.waitAttempts(app, ep, 1)

	// Attempts by endpoint and by message, and one attempt by id.
	byEP, err := client.MessageAttempt.ListByEndpoint(ctx, app, ep, nil)
	if err != nil {
		t.Fatalf("list attempts by endpoint: %v", err)
	}
	if len(byEP.Data) != 1 {
		t.Fatalf("%d attempts by endpoint, want 1", len(byEP.Data))
	}
	at := byEP.Data[0]
	if at.MsgId != msg || at.EndpointId != ep || at.ResponseStatusCode != 200 || at.Status != svix.MessageStatus(0) ||
		at.TriggerType != 0 || at.Url != rc.URL {
		t.Errorf("attempt %+v", at)
	}
	got, err := client.MessageAttempt.Get(ctx, app, msg, at.Id)
	if err != nil {
		t.Fatalf("get attempt: %v", err)
	}
	if !sameJSONValue(t, got, at) {
		t.Errorf("get attempt: %+v, want %+v", got, at)
	}
	byMsg, err := client.MessageAttempt.ListByMsg(ctx, app, msg, nil)
	if err != nil {
		t.Fatalf("list attempts by message: %v", err)
	}
	if len(byMsg.Data) != 1 || !sameJSONValue(t, byMsg.Data[0], at) {
		t.Errorf("attempts by message: %+v", byMsg.Data)
	}
	var withMsg struct {
		Data []struct {
			Msg struct {
				ID      string         `json:"id"`
				Payload map[string]any `json:"payload"`
			} `json:"msg"`
		} `json:"data"`
	}
	e.Op("GET", "/api/v1/app/"+app+"/attempt/msg/"+msg+"?with_msg=true", nil, 200).JSON(t, &withMsg)
	if len(withMsg.Data) != 1 || withMsg.Data[0].Msg.ID != msg || withMsg.Data[0].Msg.Payload["order"] != "o_1" {
		t.Errorf("attempts by message with_msg=true: %+v", withMsg.Data)
	}

	// The attempt's headers, with the credential hidden.
	var headers struct {
		SentHeaders map[string]string `json:"sentHeaders"`
		Sensitive   []string          `json:"sensitive"`
	}
	e.Op("GET", "/api/v1/app/"+app+"/msg/"+msg+"/attempt/"+at.Id+"/headers", nil, 200).JSON(t, &headers)
	if h := headers.SentHeaders; h["X-Api-Key"] != "[redacted]" || h["X-Tenant"] != "acme" || h["Webhook-Id"] != msg || h["Content-Type"] != "application/json" {
		t.Errorf("sent headers %v; want X-Api-Key redacted, the others as sent", h)
	}
	if !slices.Equal(headers.Sensitive, []string{"X-Api-Key"}) {
		t.Errorf("sensitive %v, want [X-Api-Key]", headers.Sensitive)
	}
	// Another message's id does not reach the attempt.
	msg2 := e.send(app, "order.paid", map[string]any{"order": "o_2"})
	rc.next(t, 10*time.Second)
	if _, err := client.MessageAttempt.Get(ctx, app, msg2, at.Id); sdkStatus(err) != 404 {
		t.Errorf("get attempt through another message: %v, want 404", err)
	}

	// Resend: one manual attempt, same webhook-id.
	if err := client.MessageAttempt.Resend(ctx, app, msg, ep); err != nil {
		t.Fatalf("resend: %v", err)
	}
	if r := rc.next(t, 10*time.Second); r.ID() != msg || string(r.Body) != string(first.Body) {
		t.Errorf("resend delivered %s %s, want %s %s", r.ID(), r.Body, msg, first.Body)
	}
	e.waitAttempts(app, ep, 3)
	byMsg, err = client.MessageAttempt.ListByMsg(ctx, app, msg, nil)
	if err != nil {
		t.Fatalf("list attempts by message: %v", err)
	}
	if len(byMsg.Data) != 2 || byMsg.Data[0].TriggerType != 1 || byMsg.Data[0].Status != 0 ||
		byMsg.Data[1].TriggerType != 0 {
		t.Errorf("attempts after resend (newest first): %+v; want a manual success, then the scheduled one", byMsg.Data)
	}
	// A resend to an endpoint the message never went to (filtered out) sends it there.
	if err := client.MessageAttempt.Resend(ctx, app, msg, ep2); err != nil {
		t.Fatalf("resend to a filtered endpoint: %v", err)
	}
	if r := other.next(t, 10*time.Second); r.ID() != msg {
		t.Errorf("resend to the second endpoint delivered %s", r.ID())
	}
	e.waitAttempts(app, ep2, 1)

	// Attempted destinations and attempted messages.
	dests, err := client.MessageAttempt.ListAttemptedDestinations(ctx, app, msg, nil)
	if err != nil {
		t.Fatalf("list attempted destinations: %v", err)
	}
	var destIDs []string
	for _, d := range dests.Data {
		destIDs = append(destIDs, d.Id)
		if d.Status != 0 || d.NextAttempt != nil {
			t.Errorf("destination %s: status %d, next %v; want delivered", d.Id, d.Status, d.NextAttempt)
		}
	}
	slices.Sort(destIDs)
	if want := []string{ep, ep2}; !slices.Equal(destIDs, slices.Sorted(slices.Values(want))) {
		t.Errorf("attempted destinations %v, want %v", destIDs, want)
	}
	msgs, err := client.MessageAttempt.ListAttemptedMessages(ctx, app, ep, nil)
	if err != nil {
		t.Fatalf("list attempted messages: %v", err)
	}
	if len(msgs.Data) != 2 || msgs.Data[0].Id != msg2 || msgs.Data[1].Id != msg || msgs.Data[1].Status != 0 ||
		msgs.Data[1].Payload["order"] != "o_1" {
		t.Errorf("attempted messages: %+v", msgs.Data)
	}

	// send-example: a test.webhook by default...
	var ex struct {
		ID        string          `json:"id"`
		EventType string          `json:"eventType"`
		Payload   json.RawMessage `json:"payload"`
	}
	e.Op("POST", "/api/v1/app/"+app+"/endpoint/"+ep+"/send-example", map[string]any{}, 202).JSON(t, &ex)
	r := rc.next(t, 10*time.Second)
	var test struct {
		Type string `json:"type"`
	}
	json.Unmarshal(r.Body, &test)
	if ex.EventType != "test.webhook" || r.ID() != ex.ID || test.Type != "test.webhook" || string(r.Body) != string(ex.Payload) {
		t.Errorf("send-example: %s %s arrived as %s %s", ex.ID, ex.Payload, r.ID(), r.Body)
	}
	// ... through the SDK as well, logged like any other attempt ...
	out, code := sendExample(t, e, client, app, ep, &svix.EventExampleIn{EventType: "test.webhook"})
	if code != 202 {
		t.Fatalf("send-example test.webhook: %d", code)
	}
	if r := rc.next(t, 10*time.Second); r.ID() != out.Id {
		t.Errorf("send-example through the SDK: %s arrived, want %s", r.ID(), out.Id)
	}
	// ... or a named event type's example, by index ...
	lastID := ""
	for i, want := range examples {
		idx := int32(i)
		out, code := sendExample(t, e, client, app, ep, &svix.EventExampleIn{EventType: "invoice.sent", ExampleIndex: &idx})
		if code != 202 {
			t.Fatalf("send-example invoice.sent #%d: %d", i, code)
		}
		r := rc.next(t, 10*time.Second)
		if r.ID() != out.Id || out.EventType != "invoice.sent" || !sameJSONValue(t, r.Body, want) {
			t.Errorf("send-example invoice.sent #%d delivered %s %s, want %s %v", i, r.ID(), r.Body, out.Id, want)
		}
		lastID = out.Id
	}
	// ... and only to the endpoint named, whatever the others' filters.
	if n := other.count(); n != 1 {
		t.Errorf("the other endpoint got %d requests, want only the resend", n)
	}
	e.waitAttempts(app, ep, 7)
	byEP, err = client.MessageAttempt.ListByEndpoint(ctx, app, ep, nil)
	if err != nil {
		t.Fatalf("list attempts by endpoint: %v", err)
	}
	// (Attempts are ordered by when they finished: the last two may come either way round.)
	if len(byEP.Data) != 7 || (byEP.Data[0].MsgId != lastID && byEP.Data[1].MsgId != lastID) {
		t.Errorf("%d attempts after the examples, want 7, among the newest the last example's %s: %+v", len(byEP.Data), lastID, byEP.Data)
	}
	// An unknown event type, or one without examples, is refused.
	if _, code := sendExample(t, e, client, app, ep, &svix.EventExampleIn{EventType: "no.such.type"}); code != 422 {
		t.Errorf("send-example of an unknown type: %d, want 422", code)
	}
	if r := e.Do("POST", "/api/v1/app/"+app+"/endpoint/"+ep+"/send-example", e.Token, map[string]any{"eventType": "order.refunded"}); r.Status != 422 {
		t.Errorf("send-example of a type without examples: %d %s, want 422", r.Status, r.Body)
	}
	if r := e.Do("POST", "/api/v1/app/"+app+"/endpoint/"+ep+"/send-example", e.Token, map[string]any{"eventType": "invoice.sent", "exampleIndex": 5}); r.Status != 422 {
		t.Errorf("send-example of a missing example: %d %s, want 422", r.Status, r.Body)
	}
	if n := rc.count(); n != 7 {
		t.Errorf("the endpoint got %d requests, want 7", n)
	}
}
