package sqlcodec

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline"
)

// Target is an endpoint a message may fan out to, with the rate limit that applies to it (its
// own, or its application's).
type Target struct {
	Endpoint  *hookline.Endpoint
	RateLimit *int
}

// TargetColumns are EndpointReadColumns and the rate limit of the endpoint's application, to
// select from endpoints.
const TargetColumns = EndpointReadColumns + `,
	(SELECT rate_limit FROM applications WHERE applications.id = endpoints.app_id)`

// ScanTarget reads a row of TargetColumns: the endpoint, its secrets opened, with the rate
// limit that applies to it (its own, or else its application's). An endpoint whose secrets
// cannot be opened is an error wrapping ErrUnreadableEndpoint.
func ScanTarget(s Scanner, box hookline.SecretBox) (Target, error) {
	var appLimit *int64
	ep, err := ScanEndpoint(WithExtra{S: s, Extra: []any{&appLimit}}, box)
	if err != nil {
		return Target{}, err
	}
	t := Target{Endpoint: ep, RateLimit: ep.RateLimit}
	if t.RateLimit == nil && appLimit != nil {
		n := int(*appLimit)
		t.RateLimit = &n
	}
	return t, nil
}

// Rows is what the row sets of database/sql and pgx have in common.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// EachTarget reads rows of TargetColumns and calls fn with each target. An endpoint whose
// secrets cannot be opened goes to unreadable instead, and the rest go on: one broken row
// must not stall every batch it comes with.
func EachTarget(rows Rows, box hookline.SecretBox, unreadable func(error), fn func(Target)) error {
	for rows.Next() {
		t, err := ScanTarget(rows, box)
		if errors.Is(err, ErrUnreadableEndpoint) {
			unreadable(err)
			continue
		}
		if err != nil {
			return err
		}
		fn(t)
	}
	return rows.Err()
}

// WithExtra scans a row's trailing columns into Extra, after those its caller asks for.
type WithExtra struct {
	S     Scanner
	Extra []any
}

// Scan implements Scanner.
func (w WithExtra) Scan(dest ...any) error { return w.S.Scan(append(dest, w.Extra...)...) }

// Pair names the delivery of one message to one endpoint.
type Pair struct{ MessageID, EndpointID string }

// FanOut is the result of fanning leased messages out.
type FanOut struct {
	// Jobs are the Fresh jobs, at most the room given.
	Jobs []hookline.Job
	// Spill are the deliveries beyond the room, to store as pending, due at once.
	Spill []hookline.Delivery
	// Done lists the messages that got no Fresh job (no endpoint accepts them, or each one
	// has its delivery already): their dispatch ends now.
	Done []string
	// Released lists the messages the room ran out before (they have deliveries to make and
	// got no job): rather than store each of their deliveries as pending, to be claimed and
	// recorded later (an insert and two updates per delivery, where a job costs one insert),
	// they give their dispatch lease back, due again at their creation, for the next claim of
	// any process to fan out when it has room.
	Released []string
}

// FanOutKeys returns what fanning msgs out reads by: their applications' ids, each once, and
// their own ids, in the order of msgs.
func FanOutKeys(msgs []*hookline.Message) (appIDs, msgIDs []string) {
	seen := map[string]bool{}
	for _, m := range msgs {
		msgIDs = append(msgIDs, m.ID)
		if !seen[m.AppID] {
			seen[m.AppID] = true
			appIDs = append(appIDs, m.AppID)
		}
	}
	return appIDs, msgIDs
}

// Fan fans messages (in the order given) out to the targets of their applications (each
// application's in creation order): one Fresh job per target that accepts the message, was
// created no later than it, and has no delivery of it yet (existing). The first room jobs are
// returned as jobs; the rest of the message that fills the room is spill, and the messages
// after it are released. Jobs and spill are stamped with now.
func Fan(msgs []*hookline.Message, targets map[string][]Target, existing map[Pair]bool, room int, now time.Time) FanOut {
	var out FanOut
	for _, m := range msgs {
		fresh := 0
		var to []Target
		for _, t := range targets[m.AppID] {
			ep := t.Endpoint
			if !ep.Accepts(m.EventType, m.Channels) || ep.CreatedAt.After(m.CreatedAt) ||
				existing[Pair{m.ID, ep.ID}] {
				continue
			}
			to = append(to, t)
		}
		if len(to) > 0 && len(out.Jobs) >= room {
			out.Released = append(out.Released, m.ID)
			continue
		}
		for _, t := range to {
			ep := t.Endpoint
			d := hookline.Delivery{ID: hookline.NewID(hookline.PrefixDelivery), AppID: m.AppID, MessageID: m.ID,
				EndpointID: ep.ID, CreatedAt: now, UpdatedAt: now}
			if len(out.Jobs) < room {
				d.Status = hookline.StatusSending
				d.NextAttemptAt = &m.CreatedAt
				job := hookline.Job{Delivery: d, Fresh: true, Message: m, Endpoint: ep, RateLimit: t.RateLimit}
				if m.Lease != nil {
					job.DispatchUntil = m.Lease.Until
				}
				out.Jobs = append(out.Jobs, job)
				fresh++
				continue
			}
			due := now
			d.Status, d.NextAttemptAt = hookline.StatusPending, &due
			out.Spill = append(out.Spill, d)
		}
		if fresh == 0 {
			out.Done = append(out.Done, m.ID)
		}
	}
	return out
}

// FanOutHint estimates how many messages a claim should lease to fill its room, from the
// average fan-out of the messages leased before. The zero value knows nothing yet.
type FanOutHint struct {
	// milli is the moving average of jobs per message, times 1,000; 0 until the first sample.
	milli atomic.Int64
}

// Messages returns how many messages to lease for room jobs, at most max: as many as fit
// whole by the average fan-out, which may be 0; one while nothing is known, so the first
// claim learns the fan-out without spilling much.
func (h *FanOutHint) Messages(room, max int) int {
	avg := h.milli.Load()
	if avg <= 0 {
		return min(1, max)
	}
	return min(max, int(int64(room)*1000/avg))
}

// Observe folds in that msgs messages fanned out to jobs jobs (spilled ones included).
func (h *FanOutHint) Observe(msgs, jobs int) {
	if msgs == 0 {
		return
	}
	sample := max(int64(jobs)*1000/int64(msgs), 1000) // a message costs a lease even without jobs
	old := h.milli.Load()
	if old <= 0 {
		h.milli.Store(sample)
		return
	}
	h.milli.Store((3*old + sample) / 4)
}
