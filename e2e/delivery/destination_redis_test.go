package delivery

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const redisAddr = "127.0.0.1:6379"

// TestRedisStreamDestination: a message becomes one stream entry whose body field is the
// payload byte for byte and whose other fields are the signature headers, verified with the
// Standard Webhooks library; the attempt log shows the entry's id. A refused XADD (the key
// holds a string) is a failed attempt with Redis's answer, retried on the schedule until it
// succeeds.
func TestRedisStreamDestination(t *testing.T) {
	t.Parallel()
	needBroker(t, "Redis", redisAddr)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { rdb.Close() })
	stream := uniqueName(t)
	t.Cleanup(func() { rdb.Del(context.Background(), stream) })

	e := start(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep, secret := e.brokerEndpoint(app, map[string]any{"type": "redis", "url": "redis://" + redisAddr + "/0",
		"options": map[string]string{"stream": stream}})
	payload := map[string]any{"order": 1, "note": "café ☕ <b>&</b>", "lines": []any{1.5, "x", nil}}
	msg := e.send(app, "order.paid", payload)

	a := e.waitAttempts(app, ep, 1)[0]
	if a.Status != 0 || a.ResponseStatusCode != 200 || !strings.HasPrefix(a.Response, "XADD "+stream+" ") ||
		a.URL != "redis://"+redisAddr+"/0" {
		t.Fatalf("attempt %+v; want a success answered with the entry id", a)
	}
	entries, err := rdb.XRange(ctx, stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%d entries in the stream, want 1", len(entries))
	}
	if id := strings.TrimPrefix(a.Response, "XADD "+stream+" "); entries[0].ID != id {
		t.Fatalf("entry id %s, the attempt says %s", entries[0].ID, id)
	}
	body, headers := redisEntry(t, entries[0])
	verifyBrokerMessage(t, secret, msg, "order.paid", payload, body, headers)

	// Refused: the key is a string now, so XADD fails with WRONGTYPE.
	if err := rdb.Del(ctx, stream).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, stream, "not a stream", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	msg2 := e.send(app, "order.paid", map[string]any{"order": 2})
	a = e.waitAttempts(app, ep, 2)[0]
	if a.Status != 2 || a.ResponseStatusCode != 0 || !strings.Contains(a.Response, "WRONGTYPE") {
		t.Fatalf("attempt %+v; want a failure with Redis's WRONGTYPE answer", a)
	}
	st := e.endpointMsgState(app, ep, msg2)
	if st.Status != 1 || st.NextAttempt == nil {
		t.Fatalf("after the refused publish: %+v; want pending with a next attempt", st)
	}
	if err := rdb.Del(ctx, stream).Err(); err != nil {
		t.Fatal(err)
	}
	e.advanceTo(*st.NextAttempt)
	got := e.waitAttempts(app, ep, 3)
	if got[0].Status != 0 || got[0].MsgID != msg2 || got[1].Status != 2 || got[1].MsgID != msg2 {
		t.Fatalf("attempts %+v; want the refused one, then its successful retry", got)
	}
	entries, err = rdb.XRange(ctx, stream, "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("stream after the retry: %v %v; want one entry", entries, err)
	}
	body, headers = redisEntry(t, entries[0])
	verifyBrokerMessage(t, secret, msg2, "order.paid", map[string]any{"order": 2}, body, headers)
}

// redisEntry splits a stream entry into its body and its header fields.
func redisEntry(t *testing.T, m redis.XMessage) ([]byte, map[string]string) {
	t.Helper()
	headers := map[string]string{}
	var body []byte
	for k, v := range m.Values {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("field %s is %T", k, v)
		}
		if k == "body" {
			body = []byte(s)
			continue
		}
		headers[k] = s
	}
	if body == nil {
		t.Fatalf("entry %v has no body field", m.Values)
	}
	return body, headers
}
