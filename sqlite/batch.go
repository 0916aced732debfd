package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/hookline/hookline"
)

// Each message of a batch has its own savepoint.
const (
	savepointSQL           = `SAVEPOINT msg`
	rollbackToSavepointSQL = `ROLLBACK TO msg`
	releaseSavepointSQL    = `RELEASE msg`
)

// writerHotSQL are the statements writer transactions run most; warm prepares them.
var writerHotSQL = []string{savepointSQL, rollbackToSavepointSQL, releaseSavepointSQL,
	insertMessageSQL, messageByEventIDSQL, insertDeliverySQL, endpointOfAppSQL,
	recordDeliverySQL, insertFreshDeliverySQL, insertAttemptSQL, updateHealthSQL, completeDispatchSQL,
	claimQuery, leaseMessagesSQL, insertSpillSQL, endpointHealthSQL}

// maxMessageBatch bounds the requests committed together.
const maxMessageBatch = 256

// messageBatcher commits concurrent CreateMessage calls together (group commit), with small
// recording batches of the delivery engine. A goroutine takes whatever requests are waiting,
// up to maxMessageBatch, and writes them in one transaction with a savepoint each; while that
// transaction commits, new requests gather for the next one. Under light load a batch is one
// message and nothing waits. Recording in the same commits as the messages spares both an
// fsync and spares the API the wait behind a recording transaction of its own.
type messageBatcher struct {
	db       *DB
	requests chan *messageRequest
	quit     chan struct{}
	done     chan struct{}
	start    sync.Once
	stop     sync.Once
}

// messageRequest is a message to insert, or other work (fn) to run in a batch's transaction.
type messageRequest struct {
	msg    *hookline.Message
	fn     func(tx *txn) error
	result chan messageResult
}

type messageResult struct {
	err error
}

func newMessageBatcher(db *DB) *messageBatcher {
	return &messageBatcher{db: db, requests: make(chan *messageRequest), quit: make(chan struct{}), done: make(chan struct{})}
}

// errOwnFailure rolls back the transaction of a batch of one that failed for a reason of
// its own (reported to its caller as is).
var errOwnFailure = errors.New("sqlite: the batch's one request failed")

// errClosed answers calls made after Close.
var errClosed = errors.New("sqlite: database is closed")

// submit queues msg and waits for the commit that holds it. If ctx ends first the caller gets
// ctx's error, but a message already queued may still be committed, as a message may be when a
// client's connection drops after the commit: at-least-once, never lost once acknowledged.
func (b *messageBatcher) submit(ctx context.Context, msg *hookline.Message) error {
	return b.send(ctx, &messageRequest{msg: msg, result: make(chan messageResult, 1)})
}

// run runs fn in the transaction of the next batch, in a savepoint of its own: an error fn
// returns rolls back fn's writes alone and is returned. Unlike submit it waits for the commit
// even when ctx ends first, so the caller knows whether fn's writes are stored.
func (b *messageBatcher) run(ctx context.Context, fn func(tx *txn) error) error {
	return b.send(context.WithoutCancel(ctx), &messageRequest{fn: fn, result: make(chan messageResult, 1)})
}

func (b *messageBatcher) send(ctx context.Context, req *messageRequest) error {
	b.start.Do(func() { go b.loop() })
	select {
	case b.requests <- req:
	case <-b.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case res := <-req.result:
		return res.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *messageBatcher) loop() {
	defer close(b.done)
	batch := make([]*messageRequest, 0, maxMessageBatch)
	var synced <-chan struct{} = closedChan // closes when the previous batch is durable
	for {
		select {
		case <-b.quit:
			return
		case req := <-b.requests:
			batch = append(batch[:0], req)
		}
		// While the previous batch's fsync runs, gather for the next one: a commit per request
		// would cost more than the wait, unless enough requests wait to fill a commit.
	wait:
		for len(batch) < pipelineBatch {
			select {
			case req := <-b.requests:
				batch = append(batch, req)
			case <-synced:
				break wait
			}
		}
	gather:
		for len(batch) < maxMessageBatch {
			select {
			case req := <-b.requests:
				batch = append(batch, req)
			default:
				break gather
			}
		}
		synced = b.commit(batch)
	}
}

// pipelineBatch is the batch size from which a batch commits without waiting for the
// previous one's fsync.
const pipelineBatch = 16

var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// commit writes one batch. A message that fails for a reason of its own (a duplicate eventId,
// an unknown endpoint), or work that returns an error, is rolled back to its savepoint and
// gets its error; any other failure fails the whole batch, and every caller in it gets the
// error.
func (b *messageBatcher) commit(batch []*messageRequest) (synced <-chan struct{}) {
	ctx := context.Background()
	results := make([]messageResult, len(batch))
	// A batch of one needs no savepoint: its own failure rolls the transaction back.
	single := len(batch) == 1
	err := b.db.commitTx(ctx, true, func(tx *txn) error {
		for i, req := range batch {
			if !single {
				if _, err := tx.ExecContext(ctx, savepointSQL); err != nil {
					return dbErr(err, "create message: savepoint")
				}
			}
			var err error
			if req.fn != nil {
				err = req.fn(tx)
			} else {
				err = insertMessage(ctx, tx, req.msg)
				var he *hookline.Error
				if err != nil && !errors.As(err, &he) {
					return err
				}
			}
			results[i] = messageResult{err: err}
			if single {
				if err != nil {
					return errOwnFailure
				}
				continue
			}
			if err != nil {
				if _, rerr := tx.ExecContext(ctx, rollbackToSavepointSQL); rerr != nil {
					return dbErr(rerr, "create message: roll back to savepoint")
				}
			}
			if _, rerr := tx.ExecContext(ctx, releaseSavepointSQL); rerr != nil {
				return dbErr(rerr, "create message: release savepoint")
			}
		}
		return nil
	})
	if errors.Is(err, errOwnFailure) { // nothing was committed: no fsync to wait for
		batch[0].result <- results[0]
		return closedChan
	}
	if err != nil {
		for i, req := range batch {
			results[i] = messageResult{err: fmt.Errorf("sqlite: create message: %w", err)}
			if req.fn != nil {
				results[i] = messageResult{err: err}
			}
			req.result <- results[i]
		}
		return closedChan
	}
	// The callers hear once the batch is durable; the next batch gathers meanwhile.
	reqs := slices.Clone(batch)
	done := make(chan struct{})
	reply := func(serr error) {
		for i, req := range reqs {
			if serr != nil {
				results[i] = messageResult{err: serr}
			}
			req.result <- results[i]
		}
		close(done)
	}
	if b.db.wal == nil {
		reply(nil)
		return done
	}
	b.db.wal.after(reply)
	return done
}

// close stops the batcher after the batch in progress.
func (b *messageBatcher) close() {
	b.stop.Do(func() {
		close(b.quit)
		b.start.Do(func() { close(b.done) }) // never started: nothing to wait for
		<-b.done
	})
}
