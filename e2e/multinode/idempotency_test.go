package multinode

import (
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/hookline/hookline/internal/pgtest"
)

// race sends one request to each node at the same moment (both wait on one barrier) and
// returns the answers in node order.
func race(t *testing.T, nodes []*node, path string, body string, header ...string) []response {
	t.Helper()
	out := make([]response, len(nodes))
	barrier := make(chan struct{})
	var ready, done sync.WaitGroup
	for i, n := range nodes {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-barrier
			out[i] = call(t.Context(), "POST", n.URL+path, body, header...)
		}()
	}
	ready.Wait()
	close(barrier)
	done.Wait()
	for i, r := range out {
		if r.Err != nil {
			t.Fatalf("%s: POST %s: %v", nodes[i].Name, path, r.Err)
		}
	}
	return out
}

// TestConcurrentDuplicatesAcrossNodes posts one eventId to two nodes at the same moment, 20
// times over: each time exactly one is accepted (202) and the other refused with 409
// duplicate_event_id naming the stored message, which is stored once. The same
// Idempotency-Key posted to two nodes at once yields one message, whose id both answers carry.
func TestConcurrentDuplicatesAcrossNodes(t *testing.T) {
	dbURL := pgtest.URL(t)
	nodes := startNodes(t, dbURL, []string{"node-a", "node-b"})
	appID := setupApp(t, nodes[0], nil)
	msgPath := "/api/v1/app/" + appID + "/msg"

	const rounds = 20
	for i := range rounds {
		eventID := fmt.Sprintf("evt-race-%d", i)
		body := fmt.Sprintf(`{"eventType":"order.paid","eventId":%q,"payload":{"n":%d}}`, eventID, i)
		got := race(t, nodes, msgPath, body)
		var accepted, refused []response
		for _, r := range got {
			switch {
			case r.Status == 202:
				accepted = append(accepted, r)
			case r.Status == 409 && r.Code() == "duplicate_event_id":
				refused = append(refused, r)
			default:
				t.Errorf("%s: unexpected answer %d %s", eventID, r.Status, r.Body)
			}
		}
		if len(accepted) != 1 || len(refused) != 1 {
			t.Errorf("%s: %d accepted and %d refused as duplicates, want 1 and 1", eventID, len(accepted), len(refused))
			continue
		}
		// The message is stored once: looked up by its eventId, and counted in the list below.
		var stored struct {
			ID      string `json:"id"`
			EventID string `json:"eventId"`
		}
		nodes[1].op(t, "GET", msgPath+"/"+url.PathEscape(eventID), nil, 200).json(t, &stored)
		if stored.ID != accepted[0].ID() {
			t.Errorf("%s: stored message %s, but the 202 named %s", eventID, stored.ID, accepted[0].ID())
		}
	}

	var list struct {
		Data []struct {
			ID      string `json:"id"`
			EventID string `json:"eventId"`
		} `json:"data"`
		Done bool `json:"done"`
	}
	nodes[0].op(t, "GET", msgPath+"?limit=250", nil, 200).json(t, &list)
	perEvent := map[string]int{}
	for _, m := range list.Data {
		perEvent[m.EventID]++
	}
	for i := range rounds {
		if n := perEvent[fmt.Sprintf("evt-race-%d", i)]; n != 1 {
			t.Errorf("evt-race-%d is stored %d times, want once", i, n)
		}
	}
	if len(list.Data) != rounds || !list.Done {
		t.Errorf("the application holds %d messages (done %v), want %d", len(list.Data), list.Done, rounds)
	}

	// One Idempotency-Key, two nodes, one moment: one message; the second answer replays the
	// first.
	for i := range 5 {
		key := fmt.Sprintf("idem-race-%d", i)
		body := fmt.Sprintf(`{"eventType":"order.paid","payload":{"idem":%d}}`, i)
		got := race(t, nodes, msgPath, body, "Idempotency-Key", key)
		for j, r := range got {
			if r.Status != 202 || r.ID() == "" {
				t.Fatalf("%s at %s: %d %s, want 202 with a message", key, nodes[j].Name, r.Status, r.Body)
			}
		}
		if got[0].ID() != got[1].ID() {
			t.Errorf("%s: the nodes answered different messages %s and %s", key, got[0].ID(), got[1].ID())
		}
		replayed := 0
		for _, r := range got {
			if r.Header.Get("Idempotent-Replayed") == "true" {
				replayed++
			}
		}
		if replayed != 1 {
			t.Errorf("%s: %d answers marked Idempotent-Replayed, want 1", key, replayed)
		}
	}
	nodes[1].op(t, "GET", msgPath+"?limit=250", nil, 200).json(t, &list)
	if want := rounds + 5; len(list.Data) != want {
		t.Errorf("after the Idempotency-Key races the application holds %d messages, want %d", len(list.Data), want)
	}
}
