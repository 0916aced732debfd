package hookline

import (
	"context"
	"time"
)

// DeliveryStore is the part of the store the delivery engine uses: it claims due deliveries
// under a lease, records attempts with their consequences in one transaction, and answers the
// attempt-log queries. Both backends implement it; storetest checks them.
type DeliveryStore interface {
	// ClaimDeliveries leases up to p.Limit deliveries that are due: pending ones whose
	// NextAttemptAt is at or before p.Now, and sending ones whose lease expired (their holder
	// died). Claimed deliveries become StatusSending, leased to p.Owner until p.LeaseUntil. Each
	// job carries its message and endpoint; jobs of one message share one *Message.
	ClaimDeliveries(ctx context.Context, p ClaimParams) ([]Job, error)
	// RecordAttempts applies the outcomes of finished jobs, each in full or not at all, in as
	// few transactions as the backend likes: it inserts the attempt, moves the delivery to its
	// next state and updates the endpoint's health. It returns the endpoints' health after the
	// update, one entry per distinct endpoint.
	RecordAttempts(ctx context.Context, outcomes []Outcome) ([]EndpointHealth, error)
	// ReleaseDeliveries hands leased deliveries back (status pending, due time unchanged), for
	// jobs claimed but not started when a process stops.
	ReleaseDeliveries(ctx context.Context, owner string, deliveryIDs []string) error
	// ReleaseExpiredLeases returns to pending every sending delivery whose lease ends before the
	// given time. A single SQLite process calls it at start with a time far in the future.
	ReleaseExpiredLeases(ctx context.Context, before time.Time) (int, error)
	// NextDueAt returns when the earliest pending delivery is due, or nil when none is pending.
	NextDueAt(ctx context.Context) (*time.Time, error)

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
	// except messages that still have deliveries pending or sending; it returns how many
	// messages it deleted. Backends may delete in batches.
	Purge(ctx context.Context, before time.Time) (int, error)
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
	Message  *Message
	Endpoint *Endpoint
	// RateLimit is the endpoint's rate limit, or its application's when it has none.
	RateLimit *int
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
	// Status is the delivery's next state: StatusSuccess, StatusFail (final) or StatusPending
	// (retry at NextAttemptAt).
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
	Before     *time.Time
	After      *time.Time
}

// EndpointMessageListOptions selects the messages of one endpoint.
type EndpointMessageListOptions struct {
	ListOptions
	Status     *MessageStatus
	EventTypes []string
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
