package bench

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// behaviour is how one receiver endpoint answers.
type behaviour uint8

const (
	answerOK   behaviour = iota // 204 at once
	answerSlow                  // 204 after the slow delay
	answerFail                  // 500 at once
	answerHang                  // no answer until the scenario ends, then 503
)

// receivers are the loopback HTTP servers that play the webhook endpoints. Endpoint i is the
// path /r/i on listener i mod len(listeners); what it answers is fixed per endpoint, so a
// failing or slow endpoint is failing or slow for every message, as a real one is.
type receivers struct {
	servers   []*http.Server
	urls      []string
	kinds     []behaviour
	slowDelay time.Duration
	release   chan struct{} // closed when hanging requests may end
	releaseMu sync.Once
	rec       atomic.Pointer[recorder]
}

// newReceivers starts n listeners on 127.0.0.1 for endpoints whose behaviours are kinds.
func newReceivers(n int, kinds []behaviour, slowDelay time.Duration) (*receivers, error) {
	rv := &receivers{kinds: kinds, slowDelay: slowDelay, release: make(chan struct{})}
	for range max(n, 1) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			rv.close()
			return nil, fmt.Errorf("receiver listen: %w", err)
		}
		srv := &http.Server{
			Handler:           rv,
			ReadHeaderTimeout: 30 * time.Second,
			IdleTimeout:       2 * time.Minute,
		}
		rv.servers = append(rv.servers, srv)
		rv.urls = append(rv.urls, "http://"+ln.Addr().String())
		go srv.Serve(ln)
	}
	return rv, nil
}

// endpointURL is the URL of endpoint i.
func (rv *receivers) endpointURL(i int) string {
	return rv.urls[i%len(rv.urls)] + "/r/" + strconv.Itoa(i)
}

// record makes rec the recorder of the requests that arrive from now on.
func (rv *receivers) record(rec *recorder) { rv.rec.Store(rec) }

// unhang lets every hanging request end.
func (rv *receivers) unhang() { rv.releaseMu.Do(func() { close(rv.release) }) }

func (rv *receivers) close() {
	rv.unhang()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range rv.servers {
		if err := s.Shutdown(ctx); err != nil {
			s.Close()
		}
	}
}

// ServeHTTP records the arrival before anything else, so a slow answer does not count as
// delivery latency.
func (rv *receivers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := rv.rec.Load()
	var at int64
	if rec != nil {
		at = rec.now()
	}
	idx, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
	if err != nil || idx < 0 || idx >= len(rv.kinds) {
		http.NotFound(w, r)
		return
	}
	// Read the whole body, as a real receiver must before it can verify a signature; it also
	// keeps the connection reusable.
	io.Copy(io.Discard, r.Body)
	id := r.Header.Get("webhook-id")
	if id == "" {
		id = r.Header.Get("svix-id")
	}
	kind := rv.kinds[idx]
	if rec != nil && id != "" {
		rec.arrive(id, int32(idx), at, kind != answerFail && kind != answerHang)
	}
	switch kind {
	case answerSlow:
		select {
		case <-time.After(rv.slowDelay):
		case <-r.Context().Done():
			return
		}
	case answerFail:
		w.WriteHeader(http.StatusInternalServerError)
		return
	case answerHang:
		select {
		case <-rv.release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// arrivalKey names one delivery: a message (its webhook-id) at one endpoint.
type arrivalKey struct {
	id string
	ep int32
}

// arrival is what the receivers saw of one delivery.
type arrival struct {
	first int64 // nanoseconds since the recorder's start, of the first successful arrival
	n     int32 // requests, successful or not
	ok    bool  // answered 2xx at least once
}

const recorderShards = 64

// recorder keeps the arrivals of one phase in sharded maps, so concurrent receivers seldom
// wait for each other.
type recorder struct {
	t0     time.Time
	seed   maphash.Seed
	shards [recorderShards]struct {
		mu sync.Mutex
		m  map[arrivalKey]arrival
		_  [40]byte // keep shards on separate cache lines
	}
	requests   atomic.Int64 // every request that carried an id
	delivered  atomic.Int64 // distinct deliveries answered 2xx
	duplicates atomic.Int64 // 2xx-answered deliveries that came again
	lastOK     atomic.Int64 // time of the latest first successful arrival
}

func newRecorder(t0 time.Time, sizeHint int) *recorder {
	rec := &recorder{t0: t0, seed: maphash.MakeSeed()}
	for i := range rec.shards {
		rec.shards[i].m = make(map[arrivalKey]arrival, sizeHint/recorderShards+1)
	}
	return rec
}

func (rec *recorder) now() int64 { return int64(time.Since(rec.t0)) }

func (rec *recorder) arrive(id string, ep int32, at int64, ok bool) {
	rec.requests.Add(1)
	s := &rec.shards[maphash.String(rec.seed, id)%recorderShards]
	s.mu.Lock()
	k := arrivalKey{id, ep}
	a := s.m[k]
	a.n++
	first := false
	dup := false
	if ok {
		if a.ok {
			dup = true
		} else {
			a.ok, a.first, first = true, at, true
		}
	}
	s.m[k] = a
	s.mu.Unlock()
	if dup {
		rec.duplicates.Add(1)
	}
	if first {
		rec.delivered.Add(1)
		for {
			last := rec.lastOK.Load()
			if at <= last || rec.lastOK.CompareAndSwap(last, at) {
				break
			}
		}
	}
}

// each calls fn for every recorded delivery. Call it only when no request is arriving.
func (rec *recorder) each(fn func(k arrivalKey, a arrival)) {
	for i := range rec.shards {
		for k, a := range rec.shards[i].m {
			fn(k, a)
		}
	}
}

// waitDelivered waits until want deliveries arrived, the deadline passes or ctx ends, and
// reports whether all arrived.
func (rec *recorder) waitDelivered(ctx context.Context, want int64, deadline time.Time) (bool, error) {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for rec.delivered.Load() < want {
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-tick.C:
		}
	}
	return true, nil
}

// errNotReady marks a server that did not become ready.
var errNotReady = errors.New("server not ready")
