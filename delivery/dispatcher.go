// Package delivery sends webhooks. A Dispatcher claims due deliveries from the store under a
// lease, sends each through a bounded pool of workers with a per-endpoint concurrency cap and
// rate limit (so a slow or dead endpoint never holds up the others), signs every request with
// the configured wire profile, and records each attempt with its consequence — success, a
// retry on the schedule, or exhaustion — in batched transactions (group commit). It disables
// endpoints that keep failing and announces what happened as operational webhooks.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/destination"
	"github.com/hookline/hookline/egress"
	"github.com/hookline/hookline/signature"
	"github.com/hookline/hookline/transform"
)

// Store is what the dispatcher needs of the store.
type Store interface {
	hookline.Store
	hookline.DeliveryStore
}

// Config holds the dispatcher's settings; zero fields take the defaults.
type Config struct {
	// Owner names this process in leases; default host-pid-random.
	Owner string
	// Workers is the number of requests in flight at most, over all endpoints.
	Workers int
	// EndpointConcurrency caps the requests in flight to one endpoint.
	EndpointConcurrency int
	// ClaimBatch is the most deliveries claimed in one query.
	ClaimBatch int
	// RecordLinger is how long the recorder waits, under load (when its previous transaction
	// held at least lingerAfter outcomes), after an outcome arrives, for more to share its
	// transaction. Every commit rewrites each page it touches (an endpoint's part of the attempt
	// log, its health row), so under load a few milliseconds of waiting make commits several
	// times larger and each delivery cheaper. Under light load outcomes are recorded at once:
	// an outcome not yet recorded when the process dies is a delivery sent twice. Negative: no
	// waiting.
	RecordLinger time.Duration
	// PollInterval is how often the store is checked for due work when nothing wakes the
	// dispatcher (new messages wake it at once).
	PollInterval time.Duration
	// Timeout is the per-request timeout; a 2xx must arrive within it.
	Timeout time.Duration
	// MaxResponseHeaderBytes bounds a response's status line and headers; 0 picks
	// DefaultMaxResponseHeaderBytes.
	MaxResponseHeaderBytes int64
	// Lease is how long a claimed delivery stays with this process before another may take it.
	Lease time.Duration
	// Retry is the retry policy.
	Retry RetryPolicy
	// Schedules gives the retry schedules of event types that have their own, which replace
	// Retry.Schedule for their messages; nil: the store. It is read after failed attempts only.
	Schedules ScheduleSource
	// Profile signs the requests.
	Profile signature.Profile
	// UserAgent is sent with every request.
	UserAgent string
	// Egress is the outbound address policy, checked at dial time.
	Egress egress.Policy
	// Transform bounds each run of an endpoint's transformation (zero fields: the defaults).
	Transform transform.Limits
	// DisableAfterFailures and DisableAfterPeriod form the automatic deactivation rule: an
	// endpoint whose last DisableAfterFailures attempts all failed, over at least
	// DisableAfterPeriod, is disabled. Zero failures turns the rule off.
	DisableAfterFailures int
	DisableAfterPeriod   time.Duration
	// FailingAfterAttempts is the attempt count at which a message.attempt.failing operational
	// webhook is sent (and after which a success sends message.attempt.recovered).
	FailingAfterAttempts int
}

// heldPerWorker sets how many claimed jobs a dispatcher holds (in flight and queued) per
// worker. The queue keeps the workers busy while a claim waits for the database behind a
// recording transaction: with 4 per worker, 100 fast endpoints ran dry between claims
// (8,300 deliveries/s in the 100ep benchmark); with 16, 10,900/s.
const heldPerWorker = 16

// Defaults for Config.
const (
	DefaultWorkers              = 128
	DefaultEndpointConcurrency  = 16
	DefaultClaimBatch           = 1024
	DefaultRecordLinger         = 10 * time.Millisecond
	DefaultPollInterval         = time.Second
	DefaultTimeout              = 15 * time.Second
	DefaultDisableAfterFailures = 10
	DefaultDisableAfterPeriod   = time.Hour
	DefaultFailingAfterAttempts = 4
)

func (c *Config) setDefaults() {
	if c.Owner == "" {
		host, _ := os.Hostname()
		c.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hookline.NewID("")[16:])
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.EndpointConcurrency <= 0 {
		c.EndpointConcurrency = DefaultEndpointConcurrency
	}
	if c.ClaimBatch <= 0 {
		c.ClaimBatch = DefaultClaimBatch
	}
	if c.RecordLinger == 0 {
		c.RecordLinger = DefaultRecordLinger
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Lease <= 0 {
		// Long enough for a job to wait its turn behind a slow endpoint and then time out.
		c.Lease = 4*c.Timeout + 30*time.Second
	}
	if c.Retry.Schedule == nil {
		c.Retry = DefaultRetryPolicy()
	}
	if c.UserAgent == "" {
		c.UserAgent = "Hookline"
	}
	if c.FailingAfterAttempts <= 0 {
		c.FailingAfterAttempts = DefaultFailingAfterAttempts
	}
}

// Dispatcher sends due deliveries.
type Dispatcher struct {
	store    Store
	clock    hookline.Clock
	cfg      Config
	sender   *Sender
	logger   *slog.Logger
	metrics  *Metrics
	announce *Announcer
	rnd      func() float64

	// transforms runs endpoints' transformations and caches their compiled programs.
	transforms *transform.Engine

	wake     chan struct{}
	work     chan *task
	done     chan *task
	recorded chan *task
	rateCh   chan string
	// stopped closes when Run returns, so rate-limit timers that fire later do not block.
	stopped chan struct{}

	// maxHeld bounds the jobs claimed and not yet finished: in flight plus queued.
	maxHeld int
	// lowWater is the least room worth a claim query while jobs are held.
	lowWater int
	// speeds remembers how long each endpoint takes to answer, so fast endpoints may queue
	// many jobs and slow ones few (see queueCap). Only the Run goroutine uses it.
	speeds map[string]*endpointSpeed
	// throttled holds, for each endpoint whose jobs are waiting for its rate limit, since when
	// they have been (endpoint id -> time.Time), for Throttled.
	throttled sync.Map

	// The hand-off of messages this process's API accepts (see Lease): inbox holds the ones
	// created and not yet fanned out, leased counts the leases given whose messages are still
	// being created. accepting is set while Run dispatches.
	handMu    sync.Mutex
	inbox     []*hookline.Message
	leased    int
	accepting bool
	handed    chan struct{}
	// heldNow mirrors the Run loop's count of jobs held, and behind is set while the last claim
	// filled its limit (more work is due in the store than the dispatcher holds): Lease reads them.
	heldNow atomic.Int64
	behind  atomic.Bool
	// retries carries, from the recorder, the earliest retry time of a batch it recorded.
	retries chan time.Time

	running sync.WaitGroup
}

// task is one job on its way through the dispatcher.
type task struct {
	job      hookline.Job
	outcome  hookline.Outcome
	result   Result
	sentAt   time.Time
	attempts int // attempts made, this one included
	postpone bool
	// dispatch is shared by the Fresh jobs one claim fanned out from a message; nil for jobs
	// of stored deliveries.
	dispatch *dispatch
}

// dispatch counts the Fresh jobs of one message whose outcomes are not recorded yet. Only the
// recorder touches it after the claim: the outcome that brings it to zero ends the message's
// dispatch, in the same transaction as that outcome or after the others.
type dispatch struct{ unrecorded int }

// errRefreshTokenChanged leaves an endpoint's OAuth client as it is: its refresh token is no
// longer the one a token server rotated (an operator set another meanwhile).
var errRefreshTokenChanged = errors.New("the endpoint's refresh token changed meanwhile")

// storeRefreshToken replaces an endpoint's refresh token old with new, the one its token server
// rotated it to, unless the stored one is no longer old. The endpoint's UpdatedAt moves, so the
// processes that deliver to it build their token source anew from the new token. A failure is
// logged: this process goes on with new in memory, and the next rotation is stored again.
func (d *Dispatcher) storeRefreshToken(ctx context.Context, rs hookline.ReceiverStore, ep *hookline.Endpoint, old, new string) {
	_, _, err := rs.UpdateEndpointReceiver(ctx, ep.AppID, ep.ID, func(r *hookline.Receiver) error {
		if r.OAuth == nil || r.OAuth.RefreshToken != old {
			return errRefreshTokenChanged
		}
		r.OAuth.RefreshToken = new
		return nil
	})
	if err != nil && !errors.Is(err, errRefreshTokenChanged) {
		d.logger.Warn("store the refresh token an endpoint's token server rotated", "endpoint", ep.ID, "err", err)
	}
}

// baseOutcome starts the outcome of the task's job: which delivery, and for a Fresh job what
// storing it needs.
func (t *task) baseOutcome(owner string) hookline.Outcome {
	d := &t.job.Delivery
	return hookline.Outcome{DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID,
		Fresh: t.job.Fresh, Owner: owner, DispatchUntil: t.job.DispatchUntil}
}

// newTasks wraps claimed jobs in tasks, sharing one dispatch per message among Fresh jobs.
func newTasks(jobs []hookline.Job) []*task {
	tasks := make([]*task, len(jobs))
	var groups map[string]*dispatch
	for i := range jobs {
		t := &task{job: jobs[i]}
		if jobs[i].Fresh {
			if groups == nil {
				groups = map[string]*dispatch{}
			}
			g := groups[jobs[i].Delivery.MessageID]
			if g == nil {
				g = &dispatch{}
				groups[jobs[i].Delivery.MessageID] = g
			}
			g.unrecorded++
			t.dispatch = g
		}
		tasks[i] = t
	}
	return tasks
}

// New returns a Dispatcher. metrics may be nil.
func New(store Store, clock hookline.Clock, cfg Config, logger *slog.Logger, metrics *Metrics) *Dispatcher {
	cfg.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	d := &Dispatcher{
		store:   store,
		clock:   clock,
		cfg:     cfg,
		sender:  NewSender(cfg.Egress, cfg.Timeout, cfg.MaxResponseHeaderBytes),
		logger:  logger,
		metrics: metrics,
		rnd:     rand.Float64,
		wake:    make(chan struct{}, 1),
		maxHeld: cfg.Workers * heldPerWorker,
		speeds:  map[string]*endpointSpeed{},
		rateCh:  make(chan string, 64),
		stopped: make(chan struct{}),
		handed:  make(chan struct{}, 1),
		retries: make(chan time.Time, 16),
	}
	if rs, ok := store.(hookline.ReceiverStore); ok {
		d.sender.refreshed = func(ctx context.Context, ep *hookline.Endpoint, old, new string) {
			d.storeRefreshToken(ctx, rs, ep, old, new)
		}
	}
	d.transforms = transform.New(cfg.Transform)
	d.behind.Store(true) // until the first claim shows otherwise
	d.lowWater = max(1, min(cfg.ClaimBatch, d.maxHeld/4))
	d.announce = NewAnnouncer(store, clock, logger, d.Notify)
	d.work = make(chan *task, d.maxHeld)
	d.done = make(chan *task, d.maxHeld)
	// Room for what arrives while a batch lingers and commits, so senders rarely wait.
	d.recorded = make(chan *task, max(d.maxHeld, maxRecordBatch))
	return d
}

// Announcer returns the dispatcher's operational-webhook announcer.
func (d *Dispatcher) Announcer() *Announcer { return d.announce }

// Owner returns the name this dispatcher leases deliveries under.
func (d *Dispatcher) Owner() string { return d.cfg.Owner }

// Notify wakes the dispatcher: there may be new due work. It never blocks.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// maxInbox bounds the messages leased by Lease and not yet fanned out.
const maxInbox = 1024

// Lease offers to dispatch a message this process is about to create: it returns the dispatch
// lease to create it with (Message.Lease), or nil when the message should wait in the store to
// be claimed, because Run is not dispatching, work is due in the store that the dispatcher has
// not caught up with (a handed-off message must not overtake it), or the dispatcher holds
// plenty already. A message created with the lease saves the claim that would lease it back:
// the dispatcher fans it out at once, with a read. Every lease must be followed by HandOff.
func (d *Dispatcher) Lease() *hookline.DispatchLease {
	if d.behind.Load() {
		return nil
	}
	if d.heldNow.Load() >= int64(d.maxHeld/2) {
		// The message waits in the store; until a claim has taken what waits there, the
		// messages after it must not overtake it.
		d.behind.Store(true)
		return nil
	}
	d.handMu.Lock()
	defer d.handMu.Unlock()
	if !d.accepting {
		return nil
	}
	if d.leased+len(d.inbox) >= maxInbox {
		d.behind.Store(true)
		return nil
	}
	d.leased++
	return &hookline.DispatchLease{Owner: d.cfg.Owner, Until: d.clock.Now().Add(d.cfg.Lease)}
}

// HandOff ends a lease Lease gave: msg, when not nil and still leased (msg.Lease not nil, as
// CreateMessage leaves it when the message awaits dispatch), is the created message, which
// the dispatcher now fans out; nil gives the lease back unused (the message was not created).
// The dispatcher only reads msg.
func (d *Dispatcher) HandOff(msg *hookline.Message) {
	d.handMu.Lock()
	d.leased--
	if msg != nil && msg.Lease != nil {
		d.inbox = append(d.inbox, msg)
	}
	d.handMu.Unlock()
	if msg != nil && msg.Lease != nil {
		select {
		case d.handed <- struct{}{}:
		default:
		}
	}
}

// takeInbox returns the messages handed off and not yet fanned out.
func (d *Dispatcher) takeInbox() []*hookline.Message {
	d.handMu.Lock()
	defer d.handMu.Unlock()
	msgs := d.inbox
	d.inbox = nil
	return msgs
}

// requeue puts back messages whose fan-out failed, before the ones handed off since.
func (d *Dispatcher) requeue(msgs []*hookline.Message) {
	d.handMu.Lock()
	defer d.handMu.Unlock()
	d.inbox = append(msgs[:len(msgs):len(msgs)], d.inbox...)
}

// inboxWaiting reports whether messages handed off wait to be fanned out.
func (d *Dispatcher) inboxWaiting() bool {
	d.handMu.Lock()
	defer d.handMu.Unlock()
	return len(d.inbox) > 0
}

// endpointState tracks one endpoint's jobs in this process.
type endpointState struct {
	inflight int
	queue    []*task
	bucket   *bucket // nil without a rate limit
	timerSet bool
}

// Run dispatches until ctx ends, then stops claiming, hands queued jobs back, lets in-flight
// requests finish (each within its timeout), records their outcomes and returns.
func (d *Dispatcher) Run(ctx context.Context) error {
	// The internal application of operational webhooks must exist before anything is sent.
	// A database that is down at start (or goes down then) delays the dispatcher; it does not
	// stop it for good.
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 5*time.Second) {
		err := d.announce.Ensure(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		d.logger.Warn("prepare operational webhooks; retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
	}
	defer close(d.stopped)
	sendCtx := context.WithoutCancel(ctx)
	var workers sync.WaitGroup
	for range d.cfg.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for t := range d.work {
				d.send(sendCtx, t)
				d.done <- t
			}
		}()
	}
	recorderDone := make(chan struct{})
	go func() {
		defer close(recorderDone)
		d.recordLoop()
	}()

	endpoints := map[string]*endpointState{}
	held := 0
	claimNow := true
	timer := time.NewTimer(0) // the next due work, or the next poll
	defer timer.Stop()
	timerAt := time.Now() // when timer fires; zero once it has
	setTimer := func(wait time.Duration) {
		wait = max(wait, 0)
		resetTimer(timer, wait)
		timerAt = time.Now().Add(wait)
	}
	gap := time.NewTimer(time.Hour) // the claim gap
	gap.Stop()
	defer gap.Stop()

	// finish releases an endpoint slot and starts the next queued job of that endpoint.
	finish := func(t *task) {
		held--
		if t.postpone {
			return
		}
		if t.result.Duration > 0 {
			d.learn(t.job.Endpoint.ID, t.result.Duration)
		}
		ep := endpoints[t.job.Endpoint.ID]
		if ep == nil {
			return
		}
		ep.inflight--
		d.startQueued(t.job.Endpoint.ID, ep)
		d.forgetIdle(endpoints, t.job.Endpoint.ID, ep)
	}

	// Claims and fan-outs of handed-off messages run beside the loop, one at a time, so
	// finished jobs keep starting queued ones while a claim waits for the database.
	claims := make(chan claimResult, 1)
	claiming := false
	fanNow := false
	var lastClaim time.Time
	d.handMu.Lock()
	d.accepting = true
	d.handMu.Unlock()
	for ctx.Err() == nil {
		// Claim in batches: one claim per freed slot would cost a transaction per delivery. With
		// little room left, wait until enough jobs finish, unless nothing is held at all.
		// Messages handed off go first: they were leased when they were created.
		roomy := held == 0 || d.maxHeld-held >= d.lowWater
		if !claiming && (fanNow || claimNow && roomy) {
			// Messages arriving one by one wake the dispatcher one by one: claims at most every
			// claimGap gather them, and leave the writer to the API in between.
			if wait := claimGap - time.Since(lastClaim); wait > 0 {
				resetTimer(gap, wait)
			} else {
				var msgs []*hookline.Message
				if fanNow {
					msgs, fanNow = d.takeInbox(), false
				}
				switch {
				case len(msgs) > 0:
					lastClaim, claiming = time.Now(), true
					d.startFanOut(ctx, msgs, d.maxHeld-held, claims)
				case claimNow && roomy:
					lastClaim, claiming = time.Now(), true
					claimNow = false
					d.startClaim(ctx, min(d.cfg.ClaimBatch, d.maxHeld-held), claims)
				}
			}
		}
		d.metrics.held.Set(float64(held))
		d.heldNow.Store(int64(held))
		select {
		case <-ctx.Done():
		case r := <-claims:
			claiming = false
			if r.err != nil {
				if r.handedOff > 0 {
					// Still leased to this process: try again after the poll interval (or
					// with the next hand-off), ahead of the messages handed off since.
					d.requeue(r.msgs)
					if ctx.Err() == nil {
						d.logger.Error("fan out messages accepted here; trying again", "err", r.err, "messages", r.handedOff, "in", d.cfg.PollInterval)
					}
				} else if ctx.Err() == nil {
					d.logger.Error("claim deliveries", "err", r.err)
				}
				setTimer(d.cfg.PollInterval)
				break
			}
			if r.handedOff > 0 {
				d.metrics.handedOff.Observe(float64(r.handedOff))
			} else {
				d.metrics.claimed.Observe(float64(len(r.jobs)))
			}
			for _, t := range newTasks(r.jobs) {
				held++
				d.admit(endpoints, t)
			}
			switch {
			case r.handedOff > 0:
				if len(r.jobs) >= r.limit {
					// The room ran out: the store released the messages after (see FanOut).
					// They wait there now, and the messages after them must not overtake them.
					d.behind.Store(true)
					claimNow = true
				}
			case len(r.jobs) == r.limit:
				d.behind.Store(true)
				claimNow = true // there may be more due right now
			default:
				d.behind.Store(false)
				setTimer(r.wait)
			}
		case <-d.handed:
			fanNow = true
		case <-gap.C:
			// What waited for the claim gap starts now.
		case at := <-d.retries:
			// A retry recorded for sooner than the next claim: claim it when it is due.
			if wait := at.Sub(d.clock.Now()); timerAt.IsZero() || wait < time.Until(timerAt) {
				setTimer(wait)
			}
		case <-d.wake:
			claimNow = true
		case <-timer.C:
			timerAt = time.Time{}
			claimNow = true
			fanNow = fanNow || d.inboxWaiting() // messages whose fan-out failed
		case t := <-d.done:
			finish(t)
		case id := <-d.rateCh:
			if ep := endpoints[id]; ep != nil {
				ep.timerSet = false
				d.startQueued(id, ep)
				d.forgetIdle(endpoints, id, ep)
			}
		}
	}

	// Shutting down: queued jobs go back to the store untouched (Fresh ones are stored as
	// pending, due now), in-flight ones finish. So do the jobs of a claim still under way, and
	// the messages handed off and not fanned out yet are released to the store, due at once.
	d.stopHandOffs(ctx)
	var queued []string
	handBack := func(t *task) {
		held--
		if !t.job.Fresh {
			queued = append(queued, t.job.Delivery.ID)
			return
		}
		t.postpone = true
		now := d.clock.Now()
		t.outcome = t.baseOutcome(d.cfg.Owner)
		t.outcome.Status, t.outcome.NextAttemptAt = hookline.StatusPending, &now
		d.recorded <- t
	}
	if claiming {
		if r := <-claims; r.err == nil {
			for _, t := range newTasks(r.jobs) {
				held++
				handBack(t)
			}
		} else if r.handedOff > 0 {
			d.requeue(r.msgs)
			d.storeInbox(ctx)
		}
	}
	for _, ep := range endpoints {
		for _, t := range ep.queue {
			handBack(t)
		}
		ep.queue = nil
	}
	d.throttled.Clear()
	// Jobs handed to the workers but not taken by one yet have not started either: sending
	// them now, one worker round after another, could outlast the shutdown.
	for drained := false; !drained; {
		select {
		case t := <-d.work:
			handBack(t)
		default:
			drained = true
		}
	}
	if len(queued) > 0 {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := d.store.ReleaseDeliveries(rctx, d.cfg.Owner, queued); err != nil {
			d.logger.Warn("release queued deliveries; their leases will expire instead", "err", err, "count", len(queued))
		}
		cancel()
	}
	close(d.work)
	go func() {
		workers.Wait()
		close(d.done)
	}()
	for range d.done {
	}
	close(d.recorded)
	<-recorderDone
	d.sender.CloseBrokers()
	d.logger.Info("dispatcher stopped", "owner", d.cfg.Owner)
	return nil
}

// claimGap is the least time between the starts of two claims.
const claimGap = 2 * time.Millisecond

// claimResult is what a claim brings back to the dispatch loop.
type claimResult struct {
	jobs  []hookline.Job
	err   error
	limit int
	wait  time.Duration // until the next due work, when the claim did not fill its limit
	// handedOff is the number of messages fanned out, for a fan-out of handed-off messages.
	handedOff int
	// msgs are the handed-off messages fanned out, to try again when the fan-out failed.
	msgs []*hookline.Message
}

// startFanOut fans out messages handed off, into at most room jobs, in a goroutine of its
// own, and sends the result on claims.
func (d *Dispatcher) startFanOut(ctx context.Context, msgs []*hookline.Message, room int, claims chan<- claimResult) {
	go func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		jobs, err := d.store.FanOut(cctx, d.cfg.Owner, msgs, room, d.clock.Now())
		claims <- claimResult{jobs: jobs, err: err, limit: room, handedOff: len(msgs), msgs: msgs}
	}()
}

// stopHandOffs stops giving leases, waits a little for the messages being created with one,
// and releases every message handed off and not fanned out (a fan-out with no room), so they
// do not wait for their leases to expire.
func (d *Dispatcher) stopHandOffs(ctx context.Context) {
	d.handMu.Lock()
	d.accepting = false
	d.handMu.Unlock()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		d.handMu.Lock()
		n := d.leased
		d.handMu.Unlock()
		if n == 0 {
			break
		}
	}
	d.storeInbox(ctx)
}

// storeInbox releases the messages handed off and not fanned out: a fan-out with no room, which
// makes them due at once for any process's claim.
func (d *Dispatcher) storeInbox(ctx context.Context) {
	msgs := d.takeInbox()
	if len(msgs) == 0 {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := d.store.FanOut(sctx, d.cfg.Owner, msgs, 0, d.clock.Now()); err != nil {
		d.logger.Warn("release messages accepted here; they go when their dispatch lease expires", "err", err, "messages", len(msgs))
	}
}

// startClaim claims up to limit jobs in a goroutine of its own and sends the result on claims.
// The claim does not end with ctx: a claim committed but cut off before its jobs load would
// leave them leased, on PostgreSQL until the lease expires.
func (d *Dispatcher) startClaim(ctx context.Context, limit int, claims chan<- claimResult) {
	go func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		now := d.clock.Now()
		jobs, err := d.store.ClaimDeliveries(cctx, hookline.ClaimParams{
			Owner: d.cfg.Owner, Now: now, LeaseUntil: now.Add(d.cfg.Lease), Limit: limit})
		r := claimResult{jobs: jobs, err: err, limit: limit}
		if err == nil && len(jobs) < limit {
			r.wait = d.untilNextDue(cctx)
		}
		claims <- r
	}()
}

func resetTimer(t *time.Timer, d time.Duration) {
	t.Stop()
	t.Reset(max(d, time.Millisecond))
}

// untilNextDue returns how long to sleep: until the earliest pending delivery, at most the
// poll interval.
func (d *Dispatcher) untilNextDue(ctx context.Context) time.Duration {
	next, err := d.store.NextDueAt(ctx)
	if err != nil || next == nil {
		return d.cfg.PollInterval
	}
	return min(max(next.Sub(d.clock.Now()), time.Millisecond), d.cfg.PollInterval)
}

// admit starts a claimed job, queues it behind its endpoint, or postpones it when the
// endpoint's queue is full.
func (d *Dispatcher) admit(endpoints map[string]*endpointState, t *task) {
	epID := t.job.Endpoint.ID
	ep := endpoints[epID]
	if ep == nil {
		ep = &endpointState{}
		endpoints[epID] = ep
	}
	if rl := t.job.RateLimit; rl != nil && *rl > 0 {
		if ep.bucket == nil {
			ep.bucket = newBucket(*rl)
		}
		ep.bucket.setRate(*rl)
	} else {
		ep.bucket = nil
	}
	if len(ep.queue) >= d.queueCap(epID) {
		// The endpoint is saturated: try again a little later rather than hold the lease.
		t.postpone = true
		next := d.clock.Now().Add(time.Duration(float64(2*time.Second) * (1 + d.rnd())))
		t.outcome = t.baseOutcome(d.cfg.Owner)
		t.outcome.Status, t.outcome.NextAttemptAt = hookline.StatusPending, &next
		d.done <- t
		d.recorded <- t
		return
	}
	ep.queue = append(ep.queue, t)
	d.startQueued(epID, ep)
}

// endpointSpeed is a moving average of an endpoint's response times.
type endpointSpeed struct {
	avg  time.Duration
	seen time.Time
}

// learn folds one response time into the endpoint's average.
func (d *Dispatcher) learn(epID string, took time.Duration) {
	now := time.Now()
	sp := d.speeds[epID]
	if sp == nil {
		if len(d.speeds) >= 100_000 {
			for id, old := range d.speeds { // forget endpoints not heard from in a while
				if now.Sub(old.seen) > 10*time.Minute {
					delete(d.speeds, id)
				}
			}
		}
		sp = &endpointSpeed{avg: took}
		d.speeds[epID] = sp
	}
	sp.avg = (7*sp.avg + took) / 8
	sp.seen = now
}

// queueCap is how many jobs may wait for one endpoint: as many as it can answer within a third
// of the lease, so no queued job outlives its lease; for an endpoint not measured yet, a few
// rounds of its concurrency.
func (d *Dispatcher) queueCap(epID string) int {
	floor := d.cfg.EndpointConcurrency * 4
	sp := d.speeds[epID]
	if sp == nil || sp.avg <= 0 {
		return floor
	}
	rounds := int64(d.cfg.Lease/3) / int64(sp.avg)
	return int(min(max(int64(floor), rounds*int64(d.cfg.EndpointConcurrency)), int64(d.maxHeld)))
}

// startQueued moves queued jobs of an endpoint to the workers while its concurrency cap and
// rate limit allow.
func (d *Dispatcher) startQueued(epID string, ep *endpointState) {
	for len(ep.queue) > 0 && ep.inflight < d.cfg.EndpointConcurrency {
		if ep.bucket != nil {
			ok, wait := ep.bucket.take(time.Now())
			if !ok {
				d.throttled.LoadOrStore(epID, d.clock.Now())
				if !ep.timerSet {
					ep.timerSet = true
					time.AfterFunc(wait, func() {
						select {
						case d.rateCh <- epID:
						case <-d.stopped:
						}
					})
				}
				return
			}
		}
		t := ep.queue[0]
		ep.queue[0] = nil
		ep.queue = ep.queue[1:]
		ep.inflight++
		d.work <- t
	}
	if len(ep.queue) == 0 || ep.bucket == nil {
		d.throttled.Delete(epID) // nothing waits for the rate limit (any more)
	}
}

// Throttled reports whether jobs of the endpoint are waiting in this process for its rate limit
// (its throttleRate, or its application's), and since when they have been.
func (d *Dispatcher) Throttled(endpointID string) (since time.Time, ok bool) {
	v, ok := d.throttled.Load(endpointID)
	if !ok {
		return time.Time{}, false
	}
	return v.(time.Time), true
}

func (d *Dispatcher) forgetIdle(endpoints map[string]*endpointState, id string, ep *endpointState) {
	if ep.inflight == 0 && len(ep.queue) == 0 && !ep.timerSet && (ep.bucket == nil || ep.bucket.full(time.Now())) {
		delete(endpoints, id)
	}
}

// send makes one attempt and decides what follows it.
func (d *Dispatcher) send(ctx context.Context, t *task) {
	if t.postpone {
		return
	}
	job := &t.job
	ep, msg := job.Endpoint, job.Message
	now := d.clock.Now()
	t.sentAt = now
	// The attempt's id is taken when it starts, so attempts sort by their start like their
	// timestamps do, even when a later one finishes first.
	attemptID := hookline.NewID(hookline.PrefixAttempt)
	base := t.baseOutcome(d.cfg.Owner)
	if ep.Disabled || msg.Expunged() {
		// Disabled after the delivery was created: no request; recover can resend it later.
		// Expunged meanwhile: nothing is left to send, and nothing will be.
		base.Status = hookline.StatusFail
		t.outcome = base
		d.recorded <- t
		return
	}
	d.metrics.lag.Observe(now.Sub(msg.CreatedAt).Seconds())

	// The request: what the message says, unless the endpoint's transformation changes it.
	req, failed := transform.Result{Method: http.MethodPost, URL: ep.URL, Payload: msg.Payload}, false
	if ep.Transformation.Active() {
		var err error
		req, err = d.transforms.Apply(ctx, ep, msg.EventType, msg.Payload)
		switch {
		case err != nil:
			// The attempt's duration is the transformation's run.
			t.result, failed = Result{Kind: FailTransform, Body: err.Error()}, true
			var te *transform.Error
			if errors.As(err, &te) {
				t.result.Duration = te.Ran
			}
			req.URL = ep.URL
		case req.Cancel:
			// Canceled by the endpoint's own code: final, no request, no attempt, and no mark
			// on the endpoint's health.
			base.Status = hookline.StatusCanceled
			t.outcome = base
			d.recorded <- t
			return
		case req.URL != ep.URL:
			if err := d.cfg.Egress.CheckURL(req.URL); err != nil {
				t.result, failed = Result{Kind: FailPolicy, Body: "transformed url refused by egress policy: " + err.Error()}, true
			}
		}
	}
	h := make(http.Header, 8+len(ep.Headers)+len(req.Headers))
	for k, v := range ep.Headers {
		h.Set(k, v)
	}
	for k, v := range req.Headers { // the transformation's headers take precedence
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	if ep.Destination == nil {
		h.Set("User-Agent", d.cfg.UserAgent)
	} else {
		// A broker message carries its event type as a header: a consumer routes on it without
		// parsing the body. The request's URL and method mean nothing to a broker; the attempt
		// log names the destination.
		h.Set(destination.EventTypeHeader, msg.EventType)
		req.URL = destination.Redacted(*ep.Destination)
	}
	if !failed {
		// The signature covers the body as sent: the transformed one.
		if err := d.cfg.Profile.Sign(h, msg.ID, now, msg.EventType, req.Payload, ep.ActiveSecrets(now)); err != nil {
			t.result = Result{Kind: FailConnection, Body: "could not sign the request: " + err.Error()}
		} else {
			if ep.Destination != nil {
				t.result = d.sender.Publish(ctx, ep, h, req.Payload)
			} else {
				t.result = d.sender.SendEndpoint(ctx, ep, req.Method, req.URL, h, req.Payload, now)
			}
		}
	}
	res := t.result
	t.attempts = job.Delivery.AttemptCount + 1

	status := hookline.StatusFail
	if res.OK() {
		status = hookline.StatusSuccess
	}
	attempt := &hookline.Attempt{
		ID: attemptID, AppID: job.Delivery.AppID, MessageID: msg.ID,
		EndpointID: ep.ID, DeliveryID: job.Delivery.ID, URL: req.URL, RequestHeaders: redactHeaders(h, ep, req.Headers),
		ResponseStatusCode: res.StatusCode, Response: res.Body, ResponseDurationMs: res.Duration.Milliseconds(),
		TriggerType: job.Delivery.Trigger, Status: status, CreatedAt: now,
	}
	base.Attempt = attempt
	switch {
	case res.OK():
		base.Status = hookline.StatusSuccess
	case job.Delivery.Trigger == hookline.TriggerManual:
		// A manual resend is one attempt: its failure does not restart the schedule.
		base.Status = hookline.StatusFail
	default:
		if delay, retry := d.retryPolicy(ctx, msg.EventType).Next(t.attempts, res, d.rnd); retry {
			next := now.Add(delay)
			base.Status, base.NextAttemptAt = hookline.StatusPending, &next
		} else {
			base.Status = hookline.StatusFail
		}
	}
	t.outcome = base
	d.metrics.observeAttempt(res)
	d.recorded <- t
}

// ScheduleSource gives event types' own retry schedules (storecache.Store keeps them for a moment).
type ScheduleSource interface {
	// GetRetrySchedule returns the event type's schedule, nil when it has none.
	GetRetrySchedule(ctx context.Context, eventType string) ([]time.Duration, error)
}

// retryPolicy returns the policy for a message of the event type: the configured one, with the
// event type's own schedule when it has one. When the schedule cannot be read (an event type
// deleted since, or the database briefly away), the default schedule applies: a retry is
// better than none.
func (d *Dispatcher) retryPolicy(ctx context.Context, eventType string) RetryPolicy {
	p := d.cfg.Retry
	src := d.cfg.Schedules
	if src == nil {
		src = d.store
	}
	sched, err := src.GetRetrySchedule(ctx, eventType)
	switch {
	case err == nil && sched != nil:
		p.Schedule = sched
	case err != nil && !hookline.IsNotFound(err):
		d.logger.Warn("read the retry schedule of an event type; the default applies", "event_type", eventType, "err", err)
	}
	return p
}

// redactHeaders returns the request headers for the attempt log, with the values of
// credential-like custom headers (the endpoint's and its transformation's) hidden, and the
// OAuth 2.0 access token.
func redactHeaders(h http.Header, ep *hookline.Endpoint, transformed map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		v := strings.Join(vs, ", ")
		if ep.Receiver.OAuth != nil && k == "Authorization" {
			v = "[redacted]"
		}
		for _, custom := range []map[string]string{ep.Headers, transformed} {
			for ck := range custom {
				if strings.EqualFold(ck, k) && sensitive(k) {
					v = "[redacted]"
				}
			}
		}
		out[k] = v
	}
	return out
}

func sensitive(name string) bool {
	lower := strings.ToLower(name)
	if lower == "authorization" || lower == "cookie" {
		return true
	}
	for _, w := range []string{"secret", "token", "key", "password", "auth"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// maxRecordBatch bounds the outcomes written in one transaction.
const maxRecordBatch = 2000

// lingerAfter is the size of a recording transaction from which the next one lingers.
const lingerAfter = 100

// recordLoop writes outcomes in batches: whatever arrived while the previous batch was being
// committed goes in the next transaction (group commit), and under load whatever arrives within
// RecordLinger of the first. It returns when d.recorded is closed and drained.
func (d *Dispatcher) recordLoop() {
	batch := make([]*task, 0, maxRecordBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	last := 0
	for t := range d.recorded {
		batch = append(batch[:0], t)
		if d.cfg.RecordLinger > 0 && last >= lingerAfter {
			linger.Reset(d.cfg.RecordLinger)
		wait:
			for len(batch) < maxRecordBatch {
				select {
				case t, ok := <-d.recorded:
					if !ok {
						break wait
					}
					batch = append(batch, t)
				case <-linger.C:
					break wait
				}
			}
			linger.Stop()
		}
	fill:
		for len(batch) < maxRecordBatch {
			select {
			case t, ok := <-d.recorded:
				if !ok {
					break fill
				}
				batch = append(batch, t)
			default:
				break fill
			}
		}
		last = len(batch)
		d.record(batch)
	}
}

// record commits one batch, retrying while the database is unavailable: an outcome that is
// lost would mean a delivery sent twice, never one lost, but we try hard to avoid even that.
func (d *Dispatcher) record(batch []*task) {
	outcomes := make([]hookline.Outcome, len(batch))
	for i, t := range batch {
		outcomes[i] = t.outcome
		if g := t.dispatch; g != nil {
			g.unrecorded--
			outcomes[i].CompletesDispatch = g.unrecorded == 0
		}
	}
	ctx := context.Background()
	var health []hookline.EndpointHealth
	backoff := 100 * time.Millisecond
	// Try again well within the lease: once it runs out, the deliveries are claimed and sent
	// again, so a slow retry after the database is back makes duplicates.
	maxBackoff := min(5*time.Second, max(d.cfg.Lease/10, 100*time.Millisecond))
	for try := 0; ; try++ {
		var err error
		health, err = d.store.RecordAttempts(ctx, outcomes)
		if err == nil {
			break
		}
		if try >= 20 {
			d.logger.Error("record attempts: giving up; the deliveries' leases will expire and they will be sent again", "err", err, "count", len(batch))
			return
		}
		d.logger.Warn("record attempts; retrying", "err", err, "count", len(batch))
		time.Sleep(backoff)
		backoff = min(2*backoff, maxBackoff)
	}
	d.metrics.recorded.Observe(float64(len(batch)))
	d.noteRetries(outcomes)
	d.afterRecord(ctx, batch, health)
}

// noteRetries tells the dispatch loop when the earliest retry just recorded is due, so it
// claims it then even if no claim would run before (handed-off messages need none).
func (d *Dispatcher) noteRetries(outcomes []hookline.Outcome) {
	var first *time.Time
	for _, o := range outcomes {
		if o.Status == hookline.StatusPending && o.NextAttemptAt != nil && (first == nil || o.NextAttemptAt.Before(*first)) {
			first = o.NextAttemptAt
		}
	}
	if first == nil {
		return
	}
	select {
	case d.retries <- *first:
	default: // the loop is behind on these; a claim soon finds the retries anyway
	}
}

// afterRecord applies the consequences that depend on the recorded state: automatic
// deactivation and operational webhooks.
func (d *Dispatcher) afterRecord(ctx context.Context, batch []*task, health []hookline.EndpointHealth) {
	internal := d.announce.AppID()
	byEndpoint := make(map[string]hookline.EndpointHealth, len(health))
	for _, h := range health {
		byEndpoint[h.EndpointID] = h
	}
	now := d.clock.Now()
	for _, t := range batch {
		o := t.outcome
		if o.Attempt == nil || o.AppID == internal {
			continue
		}
		h := byEndpoint[o.EndpointID]
		switch {
		case o.Status == hookline.StatusSuccess:
			if t.attempts > d.cfg.FailingAfterAttempts {
				d.announce.Attempt(ctx, EventAttemptRecovered, t.job, o.Attempt)
			}
		default:
			if t.attempts == d.cfg.FailingAfterAttempts && o.Status == hookline.StatusPending {
				d.announce.Attempt(ctx, EventAttemptFailing, t.job, o.Attempt)
			}
			if o.Status == hookline.StatusFail {
				d.metrics.exhausted.Inc()
				d.announce.Attempt(ctx, EventAttemptExhausted, t.job, o.Attempt)
			}
			if t.result.StatusCode == http.StatusGone {
				d.disable(ctx, t.job.Endpoint, "the endpoint answered 410 Gone", h.FailingSince, now)
			} else if d.shouldDisable(h, now) {
				reason := fmt.Sprintf("automatic: %d consecutive failed attempts since %s", h.FailureStreak, h.FailingSince.UTC().Format(time.RFC3339))
				d.disable(ctx, t.job.Endpoint, reason, h.FailingSince, now)
			}
		}
	}
}

// shouldDisable applies the deactivation rule to an endpoint's health.
func (d *Dispatcher) shouldDisable(h hookline.EndpointHealth, now time.Time) bool {
	n := d.cfg.DisableAfterFailures
	return n > 0 && !h.Disabled && h.FailureStreak >= n && h.FailingSince != nil &&
		now.Sub(*h.FailingSince) >= d.cfg.DisableAfterPeriod
}

func (d *Dispatcher) disable(ctx context.Context, ep *hookline.Endpoint, reason string, failSince *time.Time, now time.Time) {
	changed, err := d.store.SetEndpointDisabled(ctx, ep.AppID, ep.ID, true, reason, now)
	if err != nil {
		if !hookline.IsNotFound(err) {
			d.logger.Error("disable endpoint", "endpoint", ep.ID, "err", err)
		}
		return
	}
	if !changed {
		return
	}
	d.metrics.disabled.Inc()
	d.logger.Warn("endpoint disabled", "app", ep.AppID, "endpoint", ep.ID, "reason", reason)
	d.announce.EndpointDisabled(ctx, ep, failSince, "automatic")
}

// ErrStopped is returned by calls made after the dispatcher stopped.
var ErrStopped = errors.New("delivery: dispatcher stopped")
