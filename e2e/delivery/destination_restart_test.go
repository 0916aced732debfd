package delivery

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startRedis runs a Redis server of the test's own on a free loopback port (never the
// machine's shared one) and returns its address and a function that stops it.
func startRedis(t *testing.T, port int) (addr string, stop func()) {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server is not installed: %v", err)
		}
		t.Skipf("redis-server is not installed (%v); the test runs a broker of its own", err)
	}
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(path, "--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--save", "", "--appendonly", "no",
		"--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	pollUntil(t, 10*time.Second, "the test's Redis to answer", func() bool { return rdb.Ping(context.Background()).Err() == nil })
	return addr, stop
}

// TestBrokerRestart: the destination's broker stops; the attempts meanwhile fail and are
// retried; once it is back (on the same address), the next attempt dials a new connection and
// the message arrives. It runs a Redis server of its own.
func TestBrokerRestart(t *testing.T) {
	t.Parallel()
	addr, stop := startRedis(t, 0)
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

	stop()
	msg := e.send(app, "order.paid", map[string]any{"order": 2})
	a := e.waitAttempts(app, ep, 2)[0]
	if a.Status != 2 || a.MsgID != msg {
		t.Fatalf("attempt while the broker is down: %+v; want a failure", a)
	}
	st := e.endpointMsgState(app, ep, msg)
	if st.Status != 1 || st.NextAttempt == nil {
		t.Fatalf("after the failure: %+v; want pending with a next attempt", st)
	}

	_, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	startRedis(t, p) // a new process: the old connections are gone
	e.advanceTo(*st.NextAttempt)
	got := e.waitAttempts(app, ep, 3)
	if got[0].Status != 0 || got[0].MsgID != msg || !strings.HasPrefix(got[0].Response, "XADD ") {
		t.Fatalf("retry after the restart: %+v; want a success", got[0])
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	entries, err := rdb.XRange(context.Background(), stream, "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("the restarted broker's stream: %v %v; want the one message sent after the restart", entries, err)
	}
	body, headers := redisEntry(t, entries[0])
	verifyBrokerMessage(t, secret, msg, "order.paid", map[string]any{"order": 2}, body, headers)
}

// TestBrokerRestartUnderLoad: messages keep coming while the destination's broker is killed
// and started again; every accepted message arrives (counted by webhook-id at the consumer),
// those that failed meanwhile by their retries. It runs a Redis server of its own.
func TestBrokerRestartUnderLoad(t *testing.T) {
	t.Parallel()
	addr, stop := startRedis(t, 0)
	stream := uniqueName(t)
	e := start(t, nil)
	e.eventType("order.paid", nil)
	app := e.app("Acme")
	ep, _ := e.brokerEndpoint(app, map[string]any{"type": "redis", "url": "redis://" + addr,
		"options": map[string]string{"stream": stream}})
	const perPhase = 20
	sent := map[string]bool{}
	for i := range perPhase {
		sent[e.send(app, "order.paid", map[string]any{"order": i})] = true
	}
	stop() // the first phase's deliveries may still be in flight
	for i := range perPhase {
		sent[e.send(app, "order.paid", map[string]any{"order": perPhase + i})] = true
	}
	_, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	startRedis(t, p) // a new, empty Redis: what the first process held is gone with it
	for i := range perPhase {
		sent[e.send(app, "order.paid", map[string]any{"order": 2*perPhase + i})] = true
	}

	// The consumer reads every entry and counts the message ids; the clock moves on so the
	// failed attempts' retries come due. The first process lost what it held (no persistence),
	// so those messages count as arrived only when the new one has them too: the endpoint's
	// message list tells which succeeded on which process.
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	got := map[string]bool{}
	pollUntil(t, 60*time.Second, "every message sent after the restart or retried after it to arrive", func() bool {
		e.advanceTo(e.clock.Now().Add(10 * time.Minute))
		entries, err := rdb.XRange(context.Background(), stream, "-", "+").Result()
		if err != nil {
			return false
		}
		for _, m := range entries {
			if id, ok := m.Values["webhook-id"].(string); ok {
				got[id] = true
			}
		}
		for _, m := range e.endpointMsgs(app, ep) {
			if m.Status != 0 {
				return false // a delivery still pending or failed
			}
		}
		return true
	})
	// Every message succeeded; those whose success the new process does not hold succeeded
	// on the first one, before it was killed.
	atts := listAllAttempts(e, app, ep)
	lastSuccess := map[string]time.Time{}
	for _, a := range atts {
		if a.Status == 0 {
			lastSuccess[a.MsgID] = a.Timestamp
		}
	}
	if len(lastSuccess) != len(sent) {
		t.Fatalf("%d messages with a successful attempt, want all %d", len(lastSuccess), len(sent))
	}
	for id := range sent {
		if got[id] {
			continue
		}
		// Not on the new process: it must have succeeded before the kill, in the first phase.
		var failedAfter bool
		for _, a := range atts {
			failedAfter = failedAfter || (a.MsgID == id && a.Status != 0)
		}
		if failedAfter {
			t.Errorf("message %s failed an attempt, yet its successful retry is not on the restarted broker", id)
		}
	}
	if len(got) < 2*perPhase {
		t.Fatalf("the restarted broker holds %d of the messages, want at least the %d sent after the kill", len(got), 2*perPhase)
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
