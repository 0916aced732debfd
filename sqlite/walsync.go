package sqlite

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// walSync makes the writer's commits durable after the writer has moved on: with
// synchronous=FULL (the default) the writer connection still runs with synchronous=NORMAL, so
// a commit writes its WAL frames without waiting for the disk, and the commit's caller is
// answered only once an fsync of the WAL file that started after the commit has returned.
// Data written to a file is on disk after any fsync of it, whichever descriptor wrote it, so
// that fsync covers the commit's frames (and the WAL header, when the commit started the WAL
// over): the commit is as durable as under FULL when its caller hears of it. Meanwhile the
// next commit runs; one fsync covers every commit that finished before it started (group
// commit), and the writer never holds the database while the disk flushes.
//
// SQLite's own guarantees under NORMAL are unchanged: the WAL is synced before each checkpoint
// and the database after it, so a crash loses at most commits whose callers were not answered.
type walSync struct {
	path   string
	reqs   chan func(error)
	quit   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	closed bool
	// f is the WAL file, opened on first use; only loop touches it.
	f *os.File
	// hist counts and times the fsyncs made (see SyncStats).
	hist syncHistogram
}

// maxSyncWaiters is the buffer of commits waiting for the next fsync before after blocks.
const maxSyncWaiters = 4096

func newWALSync(dbPath string) *walSync {
	s := &walSync{path: dbPath + "-wal", reqs: make(chan func(error), maxSyncWaiters),
		quit: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

// after calls fn, from the syncer's goroutine, once an fsync of the WAL that started after
// this call has returned (with its error). fn must not block.
func (s *walSync) after(fn func(error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		fn(errClosed)
		return
	}
	s.reqs <- fn // the loop takes requests until closed is set, so this never waits for long
}

// wait returns once an fsync of the WAL that started after this call has returned. It waits
// even when ctx ends: the caller's write is committed and it must learn whether it is durable.
func (s *walSync) wait(context.Context) error {
	ch := make(chan error, 1)
	s.after(func(err error) { ch <- err })
	return <-ch
}

func (s *walSync) loop() {
	defer close(s.done)
	var batch []func(error)
	for {
		select {
		case fn := <-s.reqs:
			batch = append(batch[:0], fn)
		case <-s.quit:
			s.drain()
			return
		}
	gather:
		for {
			select {
			case fn := <-s.reqs:
				batch = append(batch, fn)
			default:
				break gather
			}
		}
		err := s.sync()
		for _, fn := range batch {
			fn(err)
		}
	}
}

// drain answers the commits still waiting when the syncer stops, after a last fsync.
func (s *walSync) drain() {
	var batch []func(error)
	for {
		select {
		case fn := <-s.reqs:
			batch = append(batch, fn)
			continue
		default:
		}
		break
	}
	if len(batch) > 0 {
		err := s.sync()
		for _, fn := range batch {
			fn(err)
		}
	}
	if s.f != nil {
		s.f.Close()
	}
}

func (s *walSync) sync() error {
	if s.f == nil {
		f, err := os.OpenFile(s.path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("sqlite: open the WAL to sync it: %w", err)
		}
		s.f = f
	}
	start := time.Now()
	err := s.f.Sync()
	s.hist.observe(time.Since(start))
	if err != nil {
		return fmt.Errorf("sqlite: sync the WAL: %w", err)
	}
	return nil
}

// close stops the syncer after answering every commit waiting.
func (s *walSync) close() {
	s.mu.Lock()
	already := s.closed
	s.closed = true
	s.mu.Unlock()
	if !already {
		close(s.quit)
	}
	<-s.done
}

// SyncBounds are the upper bounds of SyncStats' buckets: from a fast local disk's flush to a
// stalled one's.
var SyncBounds = [...]time.Duration{250 * time.Microsecond, 500 * time.Microsecond, time.Millisecond,
	2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, time.Second}

// SyncStats is how long the WAL fsyncs that acknowledged commits took, since the database was
// opened: each API request waits for one (and for the one in progress when it committed), so
// a disk whose fsync is slow or uneven shows here first.
type SyncStats struct {
	Count uint64
	Sum   time.Duration
	// Buckets[i] counts the fsyncs that took at most SyncBounds[i] (cumulative, as in a
	// Prometheus histogram); the ones over the last bound count in Count only.
	Buckets []uint64
}

// syncHistogram counts fsync durations by SyncBounds.
type syncHistogram struct {
	count   atomic.Uint64
	sum     atomic.Int64 // nanoseconds
	buckets [len(SyncBounds)]atomic.Uint64
}

func (h *syncHistogram) observe(d time.Duration) {
	for i, b := range SyncBounds {
		if d <= b {
			h.buckets[i].Add(1)
			break
		}
	}
	h.sum.Add(int64(d))
	h.count.Add(1)
}

func (h *syncHistogram) stats() SyncStats {
	st := SyncStats{Buckets: make([]uint64, len(SyncBounds))}
	var cum uint64
	for i := range SyncBounds {
		cum += h.buckets[i].Load()
		st.Buckets[i] = cum
	}
	// observe counts the bucket first: a sync observed meanwhile may be in a bucket only.
	st.Count, st.Sum = max(h.count.Load(), cum), time.Duration(h.sum.Load())
	return st
}

// WALSyncStats reports the WAL fsyncs made so far; ok is false when there are none to report,
// with synchronous=NORMAL.
func (db *DB) WALSyncStats() (st SyncStats, ok bool) {
	if db.wal == nil {
		return SyncStats{}, false
	}
	return db.wal.hist.stats(), true
}
