// Package testload is the load of the crash, kill and many-node tests: posters that send
// order.paid messages to running servers from several goroutines and keep the ids of those
// accepted, and a receiver that counts what arrives, by path and message id, so a test can
// check that every accepted message arrived and count what arrived twice.
package testload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Receiver is a webhook receiver on a loopback port that counts deliveries by path and
// webhook-id, remembers when each first arrived, and answers 204 after a delay (so that, as
// with real receivers, requests are in flight when a server dies).
type Receiver struct {
	URL string

	mu    sync.Mutex
	got   map[string]map[string]int       // path → webhook-id → deliveries
	first map[string]map[string]time.Time // path → webhook-id → first arrival
}

// NewReceiver starts a receiver that answers after delay; it is closed when the test ends.
//
// The receiver answers under a random path of its own, which ends URL; it counts by the path
// below it (URL+"/all" counts as "/all"). A request for any other path is a stray, answered
// 404 and not counted: the receiver's port is an ephemeral one that may have been, a moment
// before, another test's receiver's, to which that test's server may still send.
func NewReceiver(t testing.TB, delay time.Duration) *Receiver {
	t.Helper()
	rc := &Receiver{got: map[string]map[string]int{}, first: map[string]map[string]time.Time{}}
	prefix := "/r" + strconv.FormatUint(rand.Uint64(), 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok || path != "" && !strings.HasPrefix(path, "/") {
			http.NotFound(w, r)
			return
		}
		if path == "" {
			path = "/"
		}
		io.Copy(io.Discard, r.Body)
		now := time.Now()
		id := r.Header.Get("webhook-id")
		rc.mu.Lock()
		if rc.got[path] == nil {
			rc.got[path] = map[string]int{}
			rc.first[path] = map[string]time.Time{}
		}
		rc.got[path][id]++
		if _, ok := rc.first[path][id]; !ok {
			rc.first[path][id] = now
		}
		rc.mu.Unlock()
		if delay > 0 {
			time.Sleep(delay) // the receiver's own work, not the test waiting
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL + prefix
	return rc
}

// ArrivedAt returns when the message first reached path, if it did.
func (rc *Receiver) ArrivedAt(path, id string) (time.Time, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	at, ok := rc.first[path][id]
	return at, ok
}

// Missing counts the (path, id) pairs that have not arrived yet, and returns one of them.
func (rc *Receiver) Missing(paths, ids []string) (n int, example string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, id := range ids {
		for _, p := range paths {
			if rc.got[p][id] == 0 {
				n++
				example = p + " " + id
			}
		}
	}
	return n, example
}

// WaitDelivered polls until every id reached every path, failing the test at the deadline.
func (rc *Receiver) WaitDelivered(t testing.TB, timeout time.Duration, paths, ids []string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n, example := rc.Missing(paths, ids)
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries of accepted messages never arrived within %s, such as %s", n, timeout, example)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-t.Context().Done():
			t.Fatal("test ended while waiting for deliveries")
		}
	}
}

// Tally counts, over paths, deliveries of ids, duplicates (arrivals after the first), and
// deliveries of messages not in ids (accepted by a server whose answer was lost).
func (rc *Receiver) Tally(paths, ids []string) (received, duplicates, unknown int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	known := make(map[string]bool, len(ids))
	for _, id := range ids {
		known[id] = true
	}
	for _, p := range paths {
		for id, n := range rc.got[p] {
			received += n
			duplicates += n - 1
			if !known[id] {
				unknown++
			}
		}
	}
	return received, duplicates, unknown
}

// FirstAfter counts the ids that first reached path after at.
func (rc *Receiver) FirstAfter(path string, ids []string, at time.Time) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, id := range ids {
		if first, ok := rc.first[path][id]; ok && first.After(at) {
			n++
		}
	}
	return n
}

// Count returns how many deliveries reached path.
func (rc *Receiver) Count(path string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, c := range rc.got[path] {
		n += c
	}
	return n
}

// Target is a server the posters post to.
type Target struct {
	Name string // names the server in Summary
	URL  string
}

// Options say what the posters post, and where.
type Options struct {
	AppID string
	Token string // the operator token
	// Goroutines post at once; each posts until Halt, or until Max messages are accepted
	// (0: no limit).
	Goroutines, Max int
	// Targets returns the servers to post to, in turn; it is called before every post.
	Targets func() []Target
	// During, when set and true at both ends of a request, counts the request's 2xx in
	// DuringOK.
	During func() bool
	// RetryAfter is the pause after a post that was not accepted (the server or its database
	// is down), so that the posters do not spin.
	RetryAfter time.Duration
}

// Posters post order.paid messages and record every answer.
type Posters struct {
	o        Options
	mu       sync.Mutex
	accepted []string         // ids of messages answered with 2xx
	statuses map[string]int   // "status code" → answers (status 0: the request failed)
	failures int              // posts not accepted
	duringOK int              // 2xx answers to requests sent and answered while During() held
	errs     map[string]error // one example error per target whose request failed

	stop chan struct{}
	wg   sync.WaitGroup
}

// client reuses connections to every server.
var client = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second},
}

// Start starts the posters; they are halted when the test ends.
func Start(t testing.TB, o Options) *Posters {
	p := &Posters{o: o, statuses: map[string]int{}, errs: map[string]error{}, stop: make(chan struct{})}
	for w := range o.Goroutines {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-p.stop:
					return
				default:
				}
				if o.Max > 0 && p.Count() >= o.Max {
					return
				}
				targets := o.Targets()
				target := targets[(w+i)%len(targets)]
				inside := o.During != nil && o.During()
				body := fmt.Sprintf(`{"eventType":"order.paid","payload":{"poster":%d,"n":%d}}`, w, i)
				status, id, code, err := p.post(target.URL, body)
				inside = inside && o.During()
				p.mu.Lock()
				key := strconv.Itoa(status)
				if status >= 400 {
					key += " " + code
				}
				p.statuses[key]++
				ok := status/100 == 2 && id != ""
				if ok {
					p.accepted = append(p.accepted, id)
					if inside {
						p.duringOK++
					}
				} else {
					p.failures++
				}
				if err != nil {
					p.errs[target.Name] = err
				}
				p.mu.Unlock()
				if !ok {
					select {
					case <-p.stop:
						return
					case <-time.After(o.RetryAfter):
					}
				}
			}
		}()
	}
	t.Cleanup(p.Halt)
	return p
}

// post sends one message and returns the answer's status (0 when the request failed), the
// message's id and the error's code.
func (p *Posters) post(baseURL, body string) (status int, id, code string, err error) {
	req, err := http.NewRequest("POST", baseURL+"/api/v1/app/"+p.o.AppID+"/msg", bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, "", "", err
	}
	req.Header.Set("Authorization", "Bearer "+p.o.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	var out struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}
	json.Unmarshal(data, &out)
	return resp.StatusCode, out.ID, out.Code, err
}

// Count returns how many messages were accepted so far.
func (p *Posters) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.accepted)
}

// IDs returns the accepted message ids.
func (p *Posters) IDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.accepted...)
}

// Answers returns how many answers had each status ("202", "503 unavailable", "0" for a
// failed request), how many posts were not accepted, and how many 2xx answers came to requests
// made and answered while During held.
func (p *Posters) Answers() (statuses map[string]int, failures, duringOK int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	statuses = make(map[string]int, len(p.statuses))
	for k, v := range p.statuses {
		statuses[k] = v
	}
	return statuses, p.failures, p.duringOK
}

// Summary describes the answers.
func (p *Posters) Summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("answers %v, transport errors %v", p.statuses, p.errs)
}

// Halt stops the posters and waits for them; it may be called more than once.
func (p *Posters) Halt() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
}
