package multinode

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/pgtest"
	"github.com/hookline/hookline/internal/testload"
	"github.com/hookline/hookline/internal/testproc"
	"github.com/hookline/hookline/internal/testserver"
)

// TestClusterSurvivesNodeKill runs three nodes on one database, posts a stream of messages
// spread over all three, kills one node with SIGKILL midway, while posts and deliveries are in
// flight, and keeps posting to the other two: every message that got a 2xx reaches both
// matching endpoints at least once (the killed node's leased deliveries come back after the
// lease), none reaches the filtered-out endpoint, every duplicate comes from a lease the killed
// node held, and more than one node delivered.
func TestClusterSurvivesNodeKill(t *testing.T) {
	const (
		total    = 1500 // messages to accept
		killAt   = total / 2
		nPosters = 4
	)
	dbURL := pgtest.URL(t)
	nodes := startNodes(t, dbURL, []string{"node-a", "node-b", "node-c"})
	rc := testload.NewReceiver(t, 20*time.Millisecond)
	appID := setupApp(t, nodes[0], []map[string]any{
		{"url": rc.URL + "/all"},
		{"url": rc.URL + "/paid", "filterTypes": []string{"order.paid"}},
		{"url": rc.URL + "/shipped", "filterTypes": []string{"order.shipped"}},
	})
	matching := []string{"/all", "/paid"}

	var liveMu sync.Mutex
	live := nodes
	targets := func() []*node {
		liveMu.Lock()
		defer liveMu.Unlock()
		return live
	}
	start := time.Now()
	p := startPosters(t, appID, nPosters, total, targets, nil)

	testserver.PollUntil(t, 60*time.Second, "half of the messages accepted", func() bool { return p.Count() >= killAt })
	// Deliveries must be under way on the victim when it dies, not only posts: wait until it
	// holds leases.
	victim := nodes[1]
	db, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	// Leases name their owner host-pid-random. A node holds stored deliveries (retries, and
	// what did not fit its queues) and messages it fanned out, whose deliveries are stored
	// when their outcome is recorded.
	victimOwner := fmt.Sprintf("%%-%d-%%", victim.Cmd.Process.Pid)
	leasedToVictim := func() (deliveries, messages []string) {
		err := db.QueryRow(t.Context(), `SELECT
			(SELECT coalesce(array_agg(id), '{}') FROM deliveries WHERE status = 3 AND lease_owner LIKE $1),
			(SELECT coalesce(array_agg(id), '{}') FROM messages WHERE dispatch_until IS NOT NULL AND dispatch_owner LIKE $1)`,
			victimOwner).Scan(&deliveries, &messages)
		if err != nil {
			t.Fatalf("node-b's leases: %v", err)
		}
		return deliveries, messages
	}
	testserver.PollUntil(t, 30*time.Second, "node-b holding leases", func() bool {
		ds, ms := leasedToVictim()
		return len(ds)+len(ms) > 0
	})
	victim.kill() // SIGKILL, with posts and deliveries in flight
	killTime := time.Now()
	// What node-b held when it died; some may belong to messages whose 202 it never sent.
	orphans, orphanMsgs := leasedToVictim()
	killedAt, killedAfter := p.Count(), time.Since(start)
	beforeKill := p.IDs()
	liveMu.Lock()
	live = []*node{nodes[0], nodes[2]}
	liveMu.Unlock()

	testserver.PollUntil(t, 60*time.Second, "every message accepted", func() bool { return p.Count() >= total })
	p.Halt()
	postedIn := time.Since(start)
	ids := p.IDs()

	// The killed node's leases (5 s) expire, and the survivors take its deliveries over.
	rc.WaitDelivered(t, 60*time.Second, matching, ids)
	deliveredIn := time.Since(start)
	// Each delivery node-b held is taken over once its lease runs out, sent, and recorded as a
	// success by a survivor (status 0).
	// Each message node-b was fanning out is fanned out again by a survivor, and ends with a
	// success at both matching endpoints (most of them rowless deliveries: delivery_rows).
	testserver.PollUntil(t, 60*time.Second, "node-b's deliveries to succeed elsewhere", func() bool {
		var n, m int
		if err := db.QueryRow(t.Context(), `SELECT
			(SELECT count(*) FROM deliveries WHERE id = ANY($1) AND status = 0),
			(SELECT count(*) FROM messages WHERE id = ANY($2) AND dispatch_until IS NULL
				AND (SELECT count(*) FROM delivery_rows d WHERE d.msg_id = messages.id AND d.status = 0) = $3)`,
			orphans, orphanMsgs, len(matching)).Scan(&n, &m); err != nil {
			t.Fatalf("node-b's deliveries: %v", err)
		}
		return n == len(orphans) && m == len(orphanMsgs)
	})
	orphansIn := time.Since(killTime)
	if n := rc.Count("/shipped"); n != 0 {
		t.Errorf("the endpoint filtered to order.shipped got %d deliveries", n)
	}
	received, dups, unknown := rc.Tally(matching, ids)
	// Messages accepted before the kill that first arrived a lease later were node-b's.
	recovered := 0
	for _, path := range matching {
		recovered += rc.FirstAfter(path, beforeKill, killTime.Add(4*time.Second))
	}
	expected := len(matching) * len(ids)
	share := float64(dups) / float64(expected)
	perNode := map[string]float64{}
	delivering := 0
	for _, n := range []*node{nodes[0], nodes[2]} {
		perNode[n.Name] = testproc.Metric(t, n.URL, "hookline_delivery_attempts_total")
		if perNode[n.Name] > 0 {
			delivering++
		}
	}
	t.Logf("%d messages accepted in %s (%d before node-b was killed at %s); %s",
		len(ids), postedIn.Round(time.Millisecond), killedAt, killedAfter.Round(time.Millisecond), p.Summary())
	t.Logf("deliveries expected %d, received %d (all in by %s), duplicates %d (%.2f %%), deliveries of messages whose 2xx was lost with node-b %d, deliveries and messages leased to node-b when it died %d and %d (all sent again and recorded by %s after the kill; %d of accepted messages first arrived after the lease); attempts by surviving node %v",
		expected, received, deliveredIn.Round(time.Millisecond), dups, 100*share, unknown, len(orphans), len(orphanMsgs), orphansIn.Round(time.Millisecond), recovered, perNode)
	// A duplicate is a delivery node-b made and never recorded: every one must come from a lease
	// it held when it died (a delivery, or a message whose matching deliveries it was making).
	// How many that is depends on the rate and the moment of the kill; the share is a sanity
	// bound.
	if explained := len(orphans) + len(matching)*len(orphanMsgs); dups > explained {
		t.Errorf("%d duplicate deliveries, but node-b's leases at its death explain at most %d", dups, explained)
	}
	if share >= 0.10 {
		t.Errorf("duplicate deliveries are %.2f %% of the expected deliveries, want under 10 %%", 100*share)
	}
	if len(orphans)+len(orphanMsgs) == 0 {
		t.Errorf("node-b held no lease when it was killed: the test proved nothing about lease expiry")
	}
	if delivering < 2 {
		t.Errorf("only %d surviving node made delivery attempts (%v), want both", delivering, perNode)
	}
}
