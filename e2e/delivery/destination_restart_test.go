package delivery

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookline/hookline/config"
)

// redisBroker runs a Redis server of the test's own (never the machine's shared one) that
// writes every command to its append-only file before it answers (appendfsync always), so a
// stop and start loses nothing it accepted.
func redisBroker(t *testing.T) *privateBroker {
	t.Helper()
	return startPrivateBroker(t, brokerSpec{name: "Redis", binaries: []string{"redis-server"},
		command: func(b *privateBroker) ([]string, []string) {
			return []string{"--bind", "127.0.0.1", "--port", strconv.Itoa(b.Ports[0]), "--save", "",
				"--appendonly", "yes", "--appendfsync", "always", "--dir", b.Dir}, nil
		},
		ready: func(b *privateBroker) error { // PING answers LOADING until the data is read back
			rdb := redis.NewClient(&redis.Options{Addr: b.Addr, MaxRetries: -1})
			defer rdb.Close()
			return rdb.Ping(context.Background()).Err()
		}})
}

// TestBrokerRestart: the destination's broker stops; the attempts meanwhile fail and are
// retried; once it is back (on the same address), the next attempt dials a new connection and
// the message arrives. It runs a Redis server of its own.
func TestBrokerRestart(t *testing.T) {
	t.Parallel()
	b := redisBroker(t)
	addr := b.Addr
	stream := uniqueName(t)
	e := start(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep, secret := e.brokerEndpoint(app, map[string]any{"type": "redis", "url": "redis://" + addr,
		"options": map[string]string{"stream": stream}})
	e.send(app, "order.paid", map[string]any{"order": 1})
	if a := e.waitAttempts(app, ep, 1)[0]; a.Status != 0 {
		t.Fatalf("first attempt %+v; want a success", a)
	}

	b.Stop()
	msg := e.send(app, "order.paid", map[string]any{"order": 2})
	a := e.waitAttempts(app, ep, 2)[0]
	if a.Status != 2 || a.MsgID != msg {
		t.Fatalf("attempt while the broker is down: %+v; want a failure", a)
	}
	st := e.endpointMsgState(app, ep, msg)
	if st.Status != 1 || st.NextAttempt == nil {
		t.Fatalf("after the failure: %+v; want pending with a next attempt", st)
	}

	b.Start() // a new process: the old connections are gone
	e.advanceTo(*st.NextAttempt)
	got := e.waitAttempts(app, ep, 3)
	if got[0].Status != 0 || got[0].MsgID != msg || !strings.HasPrefix(got[0].Response, "XADD ") {
		t.Fatalf("retry after the restart: %+v; want a success", got[0])
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	entries, err := rdb.XRange(context.Background(), stream, "-", "+").Result()
	if err != nil || len(entries) != 2 {
		t.Fatalf("the restarted broker's stream: %v %v; want the message sent before the stop and the one retried after it", entries, err)
	}
	body, headers := redisEntry(t, entries[1])
	verifyBrokerMessage(t, secret, msg, "order.paid", map[string]any{"order": 2}, body, headers)
}

// TestBrokerRestartUnderLoad: the Redis destination's broker is stopped and started again
// while messages keep coming, and loses none it accepted (see restartUnderLoad).
func TestBrokerRestartUnderLoad(t *testing.T) {
	t.Parallel()
	b := redisBroker(t)
	stream := uniqueName(t)
	rdb := redis.NewClient(&redis.Options{Addr: b.Addr})
	t.Cleanup(func() { rdb.Close() })
	atts := restartUnderLoad(t, b, map[string]any{"type": "redis", "url": "redis://" + b.Addr,
		"options": map[string]string{"stream": stream}}, func() (map[string]bool, error) {
		entries, err := rdb.XRange(context.Background(), stream, "-", "+").Result()
		got := map[string]bool{}
		for _, m := range entries {
			if id, ok := m.Values["webhook-id"].(string); ok {
				got[id] = true
			}
		}
		return got, err
	})
	noTimeouts(t, atts)
}

// restartUnderLoad is the restart test every destination type runs: messages keep coming while
// the endpoint's broker b, a process of the test's own, is stopped and started again, and every
// message a broker accepted is counted at the consumer. It sends 20 messages and stops the
// broker right after (their deliveries are still in flight), sends 20 while it is down (their
// attempts fail: the broker's answer or the error is in the attempt log) and starts it again,
// on the same port and data, then sends 20 more. The clock then moves so the failed attempts'
// retries come due, until every message has a successful attempt; received, the consumer,
// answers the webhook-ids it holds: every message sent, whether it succeeded before the stop
// or by a retry after the start, and nothing else. It returns the endpoint's attempts.
func restartUnderLoad(t *testing.T, b interface {
	Stop()
	Start()
}, dest map[string]any, received func() (map[string]bool, error)) []attempt {
	t.Helper()
	e := start(t, func(c *config.Config) {
		// Many retries, and no deactivation: a client that reconnects in the background (NATS's)
		// may take a second of real time, while the test's clock moves minutes at a time.
		c.RetrySchedule = slices.Repeat([]time.Duration{time.Minute}, 50)
		c.DisableAfterFailures = 0
	})
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep, _ := e.brokerEndpoint(app, dest)
	const perPhase = 20
	sent := map[string]bool{}
	send := func(from int) []string {
		var ids []string
		for i := range perPhase {
			id := e.send(app, "order.paid", map[string]any{"order": from + i})
			sent[id] = true
			ids = append(ids, id)
		}
		return ids
	}
	send(0)
	b.Stop()
	down := send(perPhase)
	pollUntil(t, time.Minute, "a failed attempt of every message sent while the broker is down", func() bool {
		failed := map[string]bool{}
		for _, a := range listAllAttempts(e, app, ep) {
			failed[a.MsgID] = failed[a.MsgID] || a.Status != 0
		}
		for _, id := range down {
			if !failed[id] {
				return false
			}
		}
		return true
	})
	b.Start()
	send(2 * perPhase)

	moved := time.Now()
	pollUntil(t, 2*time.Minute, "a successful attempt of every message", func() bool {
		if time.Since(moved) > 200*time.Millisecond {
			e.advanceTo(e.clock.Now().Add(2 * time.Minute)) // every retry due
			moved = time.Now()
		}
		msgs := e.endpointMsgs(app, ep)
		if len(msgs) != len(sent) {
			return false
		}
		for _, m := range msgs {
			if m.Status != 0 {
				return false
			}
		}
		return true
	})
	var got map[string]bool
	for deadline := time.Now().Add(time.Minute); ; {
		var err error
		got, err = received()
		missing := 0
		for id := range sent {
			if !got[id] {
				missing++
			}
		}
		if err == nil && missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the consumer holds %d of the %d messages, each with a successful attempt (%v)", len(sent)-missing, len(sent), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for id := range got {
		if !sent[id] {
			t.Errorf("the consumer holds %s, which the test did not send", id)
		}
	}
	failed, reasons := 0, map[string]int{}
	atts := listAllAttempts(e, app, ep)
	for _, a := range atts {
		if a.Status != 0 {
			failed++
			reasons[a.Response]++
			if a.ResponseStatusCode != 0 || a.Response == "" {
				t.Errorf("failed attempt %+v; want status code 0 and the reason", a)
			}
		}
	}
	t.Logf("%d messages, %d attempts of which %d failed; the consumer holds every message; the failures' reasons: %v",
		len(sent), len(atts), failed, reasons)
	return atts
}

// noTimeouts fails the test when one of the attempts failed at its timeout: a broker that
// stops (gracefully: privateBroker.Stop) closes its connections, and an attempt waiting for its
// answer fails then.
func noTimeouts(t *testing.T, atts []attempt) {
	t.Helper()
	for _, a := range atts {
		if a.Status != 0 && strings.HasPrefix(a.Response, "timed out") {
			t.Errorf("failed attempt %+v; want it to fail when the broker closed the connection", a)
		}
	}
}

// listAllAttempts lists every attempt of the endpoint, paging through.
func listAllAttempts(e *env, appID, epID string) []attempt {
	e.T.Helper()
	var all []attempt
	iter := ""
	for {
		path := "/api/v1/app/" + appID + "/attempt/endpoint/" + epID + "?limit=250"
		if iter != "" {
			path += "&iterator=" + iter
		}
		var page struct {
			Data     []attempt `json:"data"`
			Iterator *string   `json:"iterator"`
			Done     bool      `json:"done"`
		}
		e.Op("GET", path, nil, 200).JSON(e.T, &page)
		all = append(all, page.Data...)
		if page.Done || page.Iterator == nil {
			return all
		}
		iter = *page.Iterator
	}
}
