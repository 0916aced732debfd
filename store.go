package hookline

import (
	"context"
	"time"
)

// Store is the persistence contract. The sqlite and postgres packages implement it, and
// storetest holds the conformance suite that both must pass.
//
// Every method takes a context first and returns an *Error for conditions the client caused
// (ENOTFOUND, ECONFLICT, EDUPLICATEEVENT) and a wrapped error for anything else. Lookups that find
// nothing return ENOTFOUND, never (nil, nil). Methods scoped to an application take its internal
// id; ids and uids are resolved by the Get methods.
type Store interface {
	ApplicationStore
	EventTypeStore
	EndpointStore
	MessageStore
	TokenStore
	IdempotencyStore
	DeliveryStore
	RetryScheduleStore
	TokenExpiryStore
	TokenUseStore
	TaskStore
	AttemptStatsStore
	ContentStore
	CancelStore
	ReceiverStore
	StatsStore
	TransformationStore
	DestinationStore

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// ApplicationStore keeps applications.
type ApplicationStore interface {
	// CreateApplication inserts app; ID, CreatedAt and UpdatedAt must be set. A taken UID is ECONFLICT.
	CreateApplication(ctx context.Context, app *Application) error
	// GetApplication finds an application by id or uid.
	GetApplication(ctx context.Context, idOrUID string) (*Application, error)
	ListApplications(ctx context.Context, opts ApplicationListOptions) (Page[Application], error)
	// UpdateApplication stores every field of app (found by app.ID) and sets UpdatedAt.
	UpdateApplication(ctx context.Context, app *Application) error
	// DeleteApplication removes the application and everything it owns.
	DeleteApplication(ctx context.Context, id string) error
}

// EventTypeStore keeps the event-type catalogue.
type EventTypeStore interface {
	// CreateEventType inserts et; a taken name is ECONFLICT.
	CreateEventType(ctx context.Context, et *EventType) error
	GetEventType(ctx context.Context, name string) (*EventType, error)
	ListEventTypes(ctx context.Context, opts EventTypeListOptions) (Page[EventType], error)
	UpdateEventType(ctx context.Context, et *EventType) error
	// DeleteEventType removes the event type for good (the API's delete archives instead).
	DeleteEventType(ctx context.Context, name string) error
}

// EndpointStore keeps endpoints, their secrets (encrypted at rest) and their headers.
type EndpointStore interface {
	// CreateEndpoint inserts ep; a UID taken within the application is ECONFLICT.
	CreateEndpoint(ctx context.Context, ep *Endpoint) error
	// GetEndpoint finds an endpoint of the application by id or uid.
	GetEndpoint(ctx context.Context, appID, idOrUID string) (*Endpoint, error)
	ListEndpoints(ctx context.Context, appID string, opts ListOptions) (Page[Endpoint], error)
	// UpdateEndpoint stores every field of ep (found by ep.AppID and ep.ID), secrets included.
	UpdateEndpoint(ctx context.Context, ep *Endpoint) error
	DeleteEndpoint(ctx context.Context, appID, id string) error
	// EndpointStats counts the endpoint's deliveries by status.
	EndpointStats(ctx context.Context, appID, endpointID string, window TimeWindow) (EndpointStats, error)
}

// MessageStore keeps messages and their deliveries.
type MessageStore interface {
	// CreateMessage inserts msg awaiting dispatch, due at once: ClaimDeliveries fans it out to
	// the endpoints of the application that accept it (Endpoint.Accepts) and existed when it was
	// created; a message of an application without enabled endpoints does not wait for
	// dispatch. With Lease set, the message is stored leased for dispatch to its owner instead
	// of due at once, and Lease is set to nil if the message needs no dispatch. A message with
	// OnlyEndpointID set instead gets, in the same transaction, one pending delivery due now to
	// that endpoint, whatever its filters (and Lease is set to nil). A message whose EventID
	// the application already used is an *Error with code EDUPLICATEEVENT and Existing set to
	// the original message's id; nothing is stored then.
	CreateMessage(ctx context.Context, msg *Message) error
	// GetMessage finds a message of the application by id or eventId.
	GetMessage(ctx context.Context, appID, idOrEventID string) (*Message, error)
	ListMessages(ctx context.Context, appID string, opts MessageListOptions) (Page[Message], error)
	// ListDeliveries returns the deliveries of one message, ordered by endpoint creation.
	ListDeliveries(ctx context.Context, appID, messageID string) ([]Delivery, error)
}

// TokenStore keeps API tokens, by hash.
type TokenStore interface {
	CreateToken(ctx context.Context, t *Token) error
	// GetTokenByHash finds a token by the SHA-256 of its text, revoked and expired ones included.
	GetTokenByHash(ctx context.Context, hash []byte) (*Token, error)
	GetToken(ctx context.Context, id string) (*Token, error)
	// ListTokens lists tokens, newest first; appID "" lists all.
	ListTokens(ctx context.Context, appID string, opts ListOptions) (Page[Token], error)
	// RevokeToken marks the token revoked at the given time.
	RevokeToken(ctx context.Context, id string, at time.Time) error
	// CreateTokenIfNone inserts t unless an unrevoked token of its kind exists (expired ones
	// count), and reports whether it did. Of concurrent calls, from any
	// number of processes sharing the store, at most one creates a token.
	CreateTokenIfNone(ctx context.Context, t *Token) (bool, error)
}

// IdempotencyStore remembers the responses to requests made with an Idempotency-Key.
type IdempotencyStore interface {
	// ClaimIdempotencyKey inserts an incomplete record for (rec.Scope, rec.Key). It returns
	// (nil, nil) when the claim is new and the caller should run the request, and the existing
	// record (completed or still in progress) when the key was claimed before.
	ClaimIdempotencyKey(ctx context.Context, rec *IdempotencyRecord) (*IdempotencyRecord, error)
	// CompleteIdempotencyKey stores the response of a claimed key.
	CompleteIdempotencyKey(ctx context.Context, scope, key string, status int, body []byte) error
	// ReleaseIdempotencyKey forgets a claimed key whose request failed, so it can be retried.
	ReleaseIdempotencyKey(ctx context.Context, scope, key string) error
	// PurgeIdempotencyKeys deletes records created before the given time.
	PurgeIdempotencyKeys(ctx context.Context, before time.Time) error
}

// ListOptions selects one page of a list ordered by id (by name for event types).
type ListOptions struct {
	// Limit is the page size, at least 1 (the API enforces its own bounds).
	Limit int
	// Iterator, when set, is the id the page starts after (in the list's order).
	Iterator string
	// Backward turns Iterator into the id the page ends before: the previous page.
	Backward bool
	// Descending orders the list newest first.
	Descending bool
}

// ApplicationListOptions selects applications by their endpoints (Svix's exclude_apps_with_*).
type ApplicationListOptions struct {
	ListOptions
	// ExcludeNoEndpoints leaves out applications without endpoints.
	ExcludeNoEndpoints bool
	// ExcludeOnlyDisabled leaves out applications whose endpoints are all disabled (one
	// without endpoints stays, unless ExcludeNoEndpoints).
	ExcludeOnlyDisabled bool
	// ExcludeOnlySvixPlay leaves out applications whose endpoints all point to Svix Play
	// (SvixPlayHost in their URL).
	ExcludeOnlySvixPlay bool
}

// SvixPlayHost is the host of Svix Play, the webhook inspector Svix's statistics and lists can
// leave out.
const SvixPlayHost = "play.svix.com"

// EventTypeListOptions selects event types.
type EventTypeListOptions struct {
	ListOptions
	IncludeArchived bool
}

// MessageListOptions selects messages of one application.
type MessageListOptions struct {
	ListOptions
	EventTypes []string   // only these event types; empty: all
	Channel    string     // only messages sent on this channel
	Channels   []string   // only messages sent on one of these channels; empty: all
	Before     *time.Time // only messages created before this time
	After      *time.Time // only messages created after this time
	Tag        string     // only messages with this tag
	// EndpointID keeps only messages with a delivery to this endpoint.
	EndpointID string
	// Status keeps only messages with a delivery in this status (to EndpointID when set).
	Status *MessageStatus
	// CodeClass keeps only messages with an attempt whose response code is in this class (see
	// CodeClassRange), at EndpointID when set.
	CodeClass *int
	// NoDeliveryTo keeps only messages that were fanned out and have no delivery to this
	// endpoint: never sent there. (A message still awaiting dispatch may have deliveries on their
	// way whose rows are not stored yet, so it is left out.)
	NoDeliveryTo string
}

// Page is one page of a list. Done is true when no item follows the page in its direction.
type Page[T any] struct {
	Data []T
	// Done is true when there is nothing after the last item of Data (before the first, when
	// the page was fetched Backward).
	Done bool
}
