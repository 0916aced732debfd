package service

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/secrets"
	"github.com/hookline/hookline/sqlite"
)

// reclaimFails is a real SQLite store whose first ReclaimExpunged calls fail, as a WAL that a
// long reader keeps from being truncated makes them fail.
type reclaimFails struct {
	hookline.Store
	failures, calls atomic.Int32
}

func (s *reclaimFails) ReclaimExpunged(ctx context.Context) error {
	if s.calls.Add(1) <= s.failures.Load() {
		return hookline.Errorf(hookline.EUNAVAILABLE, "too busy")
	}
	return s.Store.ReclaimExpunged(ctx)
}

// TestReclaimRunsInTheBackground: requests made while a run is due make one run; a run that
// fails is tried again after the backoff, until it succeeds, and then nothing more runs.
func TestReclaimRunsInTheBackground(t *testing.T) {
	ctx := context.Background()
	box, err := secrets.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "reclaim.db"), sqlite.Options{SecretBox: box})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st := &reclaimFails{Store: db}
	st.failures.Store(2)
	s := New(st, hookline.SystemClock{}, Config{}, nil)
	s.reclaimFirstRetry = 10 * time.Millisecond

	// Three requests before the runner starts: one run.
	for range 3 {
		s.RequestReclaim()
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.RunReclaims(runCtx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for st.calls.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // no run is due after the success
	stop()
	<-done
	if got := st.calls.Load(); got != 3 {
		t.Fatalf("ReclaimExpunged ran %d times, want 3: one request, two retries after failures, then none", got)
	}
}
