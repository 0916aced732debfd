package hookline

import (
	"context"
	"time"
)

// DeliveryStore is the part of the store the delivery engine uses: it claims due deliveries
// under a lease, records attempts with their consequences in one transaction, and answers the
// attempt-log queries. Both backends implement it; storetest checks them.
type DeliveryStore interface {
	// ClaimDeliveries returns up to p.Limit jobs, leased to p.Owner until p.LeaseUntil. First
	// the deliveries that are due: pending ones whose NextAttemptAt is at or before p.Now, and
	// sending ones whose lease expired (their holder died); they become StatusSending. Then,
	// with the room left, messages awaiting dispatch (new ones, and ones whose dispatch lease
	// expired) are leased and fanned out: one Fresh job per endpoint that accepts the message,
	// existed when it was created and has no delivery of it yet. A Fresh job has no delivery
	// row: RecordAttempts inserts it with the job's first outcome, so a delivery that succeeds
	// at once costs one insert. When a message's fan-out is larger than the room left, the
	// jobs beyond it are stored as pending deliveries due now instead of returned; a message
	// the room ran out before is released instead: due again at its creation, with no
	// delivery stored, for a claim with room to fan out (a stored delivery would cost an
	// insert, a claim and an update where a job costs one insert). Each job
	// carries its message and endpoint; jobs of one message share one *Message.
	ClaimDeliveries(ctx context.Context, p ClaimParams) ([]Job, error)
	// FanOut fans out messages created with their dispatch leased to owner (Message.Lease), as
	// ClaimDeliveries fans out the messages it leases: at most room Fresh jobs, stamped with
	// now; the rest of the message that fills the room is stored as pending deliveries due
	// now, the messages after it are released as ClaimDeliveries releases them (room 0
	// releases every message that has something to send), and the dispatch of messages with
	// nothing to send ends. Messages whose lease owner is no longer owner (it
	// expired and another process took them) may still be fanned out: a Fresh outcome for a
	// delivery that exists by then is dropped.
	FanOut(ctx context.Context, owner string, msgs []*Message, room int, now time.Time) ([]Job, error)
	// RecordAttempts applies the outcomes of finished jobs, each in full or not at all, in as
	// few transactions as the backend likes: it inserts the attempt, moves the delivery to its
	// next state (inserting it for a Fresh outcome) and updates the endpoint's health; an
	// outcome with CompletesDispatch ends its message's dispatch. It returns the endpoints'
	// health after the update, one entry per distinct endpoint.
	RecordAttempts(ctx context.Context, outcomes []Outcome) ([]EndpointHealth, error)
	// ReleaseDeliveries hands leased deliveries back (status pending, due time unchanged), for
	// jobs claimed but not started when a process stops.
	ReleaseDeliveries(ctx context.Context, owner string, deliveryIDs []string) error
	// ReleaseExpiredLeases returns to pending every sending delivery whose lease ends before the
	// given time, and makes every message whose dispatch lease ends before it due for dispatch
	// again. A single SQLite process calls it at start with a time far in the future.
	ReleaseExpiredLeases(ctx context.Context, before time.Time) (int, error)
	// NextDueAt returns when the earliest pending delivery or message awaiting dispatch is due
	// (a leased message counts as due when its lease ends), or nil when nothing waits.
	NextDueAt(ctx context.Context) (*time.Time, error)

	// Backlog counts the work waiting: messages awaiting dispatch (new, or being fanned out)
	// and stored deliveries that are pending. A message's deliveries are stored when it is
	// fanned out, so a backlog of messages is the first thing an outage grows.
	Backlog(ctx context.Context) (Backlog, error)

	// SetEndpointDisabled enables or disables an endpoint and reports whether it changed, so
	// only one of several processes announces the change.
	SetEndpointDisabled(ctx context.Context, appID, endpointID string, disabled bool, reason string, at time.Time) (bool, error)

	// ListAttempts lists attempts of one application, newest first by default.
	ListAttempts(ctx context.Context, appID string, opts AttemptListOptions) (Page[Attempt], error)
	// GetAttempt finds one attempt of the application.
	GetAttempt(ctx context.Context, appID, attemptID string) (*Attempt, error)
	// ListEndpointMessages lists the messages sent (or being sent) to an endpoint, with their
	// status there, newest first by default.
	ListEndpointMessages(ctx context.Context, appID, endpointID string, opts EndpointMessageListOptions) (Page[EndpointMessage], error)

	// RequeueDelivery makes the message due again at the endpoint now (a manual resend); it
	// creates the delivery when the message never went to that endpoint.
	RequeueDelivery(ctx context.Context, appID, messageID, endpointID string, now time.Time) (*Delivery, error)
	// RequeueFailed makes every failed delivery of the endpoint whose message was created in
	// [since, until) due again now (recover), and returns how many.
	RequeueFailed(ctx context.Context, appID, endpointID string, since time.Time, until *time.Time, now time.Time) (int, error)

	// Purge deletes messages created before the given time with their deliveries and attempts,
	// except messages awaiting dispatch or with deliveries pending or sending; it returns how many
	// messages it deleted. Backends may delete in batches.
	Purge(ctx context.Context, before time.Time) (int, error)
}

// Backlog is the work waiting for the delivery engine.
type Backlog struct {
	MessagesAwaitingDispatch int
	DeliveriesPending        int
}

// ClaimParams says which deliveries to claim.
type ClaimParams struct {
	Owner      string
	Now        time.Time
	LeaseUntil time.Time
	Limit      int
}

// Job is a claimed delivery with what sending it needs.
type Job struct {
	Delivery Delivery
	// Fresh is set for a job fanned out from its message by this claim: Delivery is not
	// stored yet, and the job's outcome must be recorded with Outcome.Fresh.
	Fresh    bool
	Message  *Message
	Endpoint *Endpoint
	// RateLimit is the endpoint's rate limit, or its application's when it has none.
	RateLimit *int
	// DispatchUntil is, for a Fresh job, the end of the message's dispatch lease it was fanned
	// out under (zero when the store does not say); its outcome carries it back.
	DispatchUntil time.Time
}

// Outcome is the result of a finished job.
type Outcome struct {
	// Attempt is the attempt to insert; nil when no request was made (the endpoint was
	// disabled meanwhile, or the job was postponed because its endpoint was saturated). Without
	// an attempt the delivery still moves to Status and NextAttemptAt, but its attempt count, its
	// trigger (a postponed manual resend stays manual) and the endpoint's health stay as they were.
	Attempt *Attempt
	// DeliveryID identifies the delivery.
	DeliveryID string
	// Owner is the lease owner that made the attempt. When set, the outcome applies only while
	// the delivery is still leased to Owner: after its lease expired and another process took
	// the delivery over, a late outcome must not overwrite the newer claimant's (the stale one
	// is dropped, attempt included). Empty applies unconditionally.
	Owner      string
	AppID      string
	EndpointID string
	// DispatchUntil is the Job's DispatchUntil: with Owner it names the dispatch lease the job
	// was fanned out under, so a store can tell a late outcome of an earlier lease of the same
	// owner from one of the lease it holds now.
	DispatchUntil time.Time
	// Fresh marks the outcome of a Job.Fresh: the delivery is inserted, with DeliveryID,
	// AppID, MessageID and EndpointID, in the state the outcome gives. When the message already
	// has a delivery to that endpoint (another claimant fanned the message out again after this
	// one's dispatch lease expired), or the message or endpoint is gone, the outcome is dropped
	// whole.
	Fresh     bool
	MessageID string
	// CompletesDispatch ends the dispatch of MessageID, when Owner still holds its dispatch
	// lease (or Owner is empty): set on the last outcome of the Fresh jobs one claim fanned out
	// from it, recorded in the same call as that outcome or after the others.
	CompletesDispatch bool
	// Status is the delivery's next state: StatusSuccess, StatusFail or StatusCanceled (final),
	// or StatusPending (retry at NextAttemptAt).
	Status        MessageStatus
	NextAttemptAt *time.Time
}

// EndpointHealth is an endpoint's recent delivery record, maintained with every attempt.
type EndpointHealth struct {
	AppID      string
	EndpointID string
	Disabled   bool
	// FailureStreak counts consecutive failed attempts; a success resets it.
	FailureStreak int
	// FailingSince is the time of the first failed attempt of the current streak.
	FailingSince *time.Time
	// LastAttemptAt and LastEventType describe the most recent attempt ("last event hit").
	LastAttemptAt *time.Time
	LastEventType string
	LastStatus    MessageStatus
}

// AttemptListOptions selects attempts of one application.
type AttemptListOptions struct {
	ListOptions
	EndpointID string         // only attempts to this endpoint
	MessageID  string         // only attempts of this message
	Status     *MessageStatus // only attempts with this outcome
	EventTypes []string       // only attempts of messages of these types
	Channel    string         // only attempts of messages sent on this channel
	Before     *time.Time
	After      *time.Time
	// CodeClass keeps only attempts whose response code is in this class (Svix's
	// status_code_class: 0 for no response, 100, 200, 300, 400 or 500).
	CodeClass *int
	// Tag keeps only attempts of messages with this tag.
	Tag string
}

// CodeClassRange returns the response codes of a class as lo <= code < hi: class 0 is code 0
// (no response: a timeout or a connection error), class 200 is 200-299, and so on.
func CodeClassRange(class int) (lo, hi int) {
	if class <= 0 {
		return 0, 1
	}
	return class, class + 100
}

// EndpointMessageListOptions selects the messages of one endpoint.
type EndpointMessageListOptions struct {
	ListOptions
	Status     *MessageStatus
	EventTypes []string
	Channel    string // only messages sent on this channel
	Tag        string // only messages with this tag
	Before     *time.Time
	After      *time.Time
}

// EndpointMessage is a message with its delivery state at one endpoint.
type EndpointMessage struct {
	Message       Message
	Status        MessageStatus
	NextAttemptAt *time.Time
	// DeliveryID is the id the list is ordered and paginated by.
	DeliveryID string
}
