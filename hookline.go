// Package hookline holds Hookline's domain: the types every other package speaks (applications,
// event types, endpoints, messages, deliveries, attempts, tokens), the store contract that the
// SQLite and PostgreSQL backends implement, and the error type whose codes the API returns.
//
// Subpackages are named for what they do: sqlite and postgres implement the store, api serves
// the HTTP API, delivery sends webhooks, signature signs and verifies them, server wires it all
// together and cmd/hookline is the command.
package hookline

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Application is one tenant of the platform: a customer organisation whose endpoints receive
// its messages.
type Application struct {
	ID   string
	UID  string // the platform's own id; optional, unique, usable wherever ID is
	Name string
	// RateLimit caps deliveries per second to each of the application's endpoints (nil: none).
	RateLimit *int
	Metadata  map[string]string
	// Internal marks Hookline's own application, which holds the operator's operational-webhook
	// endpoints. Lists leave it out and the application routes do not show it.
	Internal  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OperationalAppUID is the uid of the internal application of operational webhooks.
const OperationalAppUID = "hookline-operational"

// EventType is a kind of message (such as "order.paid") with optional JSON Schemas, keyed by
// version ("1", "2", ...), that its payloads must match.
type EventType struct {
	Name        string
	Description string
	Archived    bool
	Deprecated  bool
	FeatureFlag string
	GroupName   string
	Schemas     map[string]json.RawMessage
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TestEventType is the event type of the test messages that send-example posts; it is always
// defined, so no platform has to create it.
const TestEventType = "test.webhook"

// LatestSchema returns the schema of the highest version, or nil when the event type has none.
// Versions are compared as numbers when they are numbers ("10" is after "9").
func (et *EventType) LatestSchema() (version string, schema json.RawMessage) {
	if len(et.Schemas) == 0 {
		return "", nil
	}
	versions := make([]string, 0, len(et.Schemas))
	for v := range et.Schemas {
		versions = append(versions, v)
	}
	sort.Slice(versions, func(i, j int) bool {
		a, errA := strconv.Atoi(versions[i])
		b, errB := strconv.Atoi(versions[j])
		if errA == nil && errB == nil {
			return a < b
		}
		return versions[i] < versions[j]
	})
	v := versions[len(versions)-1]
	return v, et.Schemas[v]
}

// Endpoint is a URL of one application that receives its messages.
type Endpoint struct {
	ID          string
	AppID       string
	UID         string
	URL         string
	Description string
	Version     int
	Disabled    bool
	// FilterTypes limits the endpoint to these event types; empty means all.
	FilterTypes []string
	// Channels limits the endpoint to messages sent on one of these channels; empty means all.
	Channels  []string
	RateLimit *int
	Metadata  map[string]string
	// Headers are sent with every delivery to this endpoint.
	Headers map[string]string
	// Secret is the current signing secret, "whsec_" + base64. Stores keep it encrypted.
	Secret string
	// OldSecrets are previous secrets still inside their rotation grace period; deliveries are
	// signed with each of them too.
	OldSecrets []OldSecret
	// DisabledReason says why a disabled endpoint is disabled: "manual", or the automatic
	// rule that disabled it. Empty while enabled.
	DisabledReason string
	// Receiver is how deliveries reach the endpoint beyond its URL (mutual TLS, a private CA,
	// OAuth 2.0); zero for a plain endpoint. Only ReceiverStore writes it.
	Receiver Receiver
	// Transformation is the endpoint's JavaScript transformation; nil when it never had one.
	// Only TransformationStore writes it.
	Transformation *Transformation
	// Destination is the message broker the endpoint's deliveries are published to instead of
	// HTTP requests to its URL; nil for an HTTP endpoint. Only DestinationStore writes it.
	Destination *Destination
	// Health is the endpoint's delivery record; the store maintains it, writes ignore it.
	Health    EndpointHealth
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OldSecret is a rotated-out signing secret and the time it stops being used.
type OldSecret struct {
	Secret    string    `json:"secret"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Accepts reports whether a message of this event type on these channels goes to the endpoint:
// the endpoint is enabled, its type filter is empty or names the type, and its channel filter is
// empty or shares a channel with the message.
func (e *Endpoint) Accepts(eventType string, channels []string) bool {
	if e.Disabled {
		return false
	}
	if len(e.FilterTypes) > 0 && !slices.Contains(e.FilterTypes, eventType) {
		return false
	}
	if len(e.Channels) == 0 {
		return true
	}
	for _, c := range channels {
		if slices.Contains(e.Channels, c) {
			return true
		}
	}
	return false
}

// ActiveSecrets returns the current secret followed by the old secrets that have not expired at now.
func (e *Endpoint) ActiveSecrets(now time.Time) []string {
	out := []string{e.Secret}
	for _, s := range e.OldSecrets {
		if now.Before(s.ExpiresAt) {
			out = append(out, s.Secret)
		}
	}
	return out
}

// Message is one event for one application. Payload holds the JSON object exactly as the
// platform sent it: it is never re-serialised, so signatures over it stay valid.
type Message struct {
	ID        string
	AppID     string
	EventType string
	EventID   string // the platform's idempotency id; optional, unique per application
	Payload   json.RawMessage
	Channels  []string
	Tags      []string
	CreatedAt time.Time
	// DeliverAt, when set, is when the message is to be sent (Svix's deliverAt): it waits,
	// unexpanded, until then. Nil sends it at once.
	DeliverAt *time.Time
	// PayloadRetention, when set at creation, is how long after CreatedAt the payload is kept
	// (Svix's payloadRetentionPeriod/Hours): then ContentStore.ExpirePayloads expunges it. Zero
	// keeps it as long as the message. It is not read back.
	PayloadRetention time.Duration
	// OnlyEndpointID, when set at creation, sends the message to that endpoint alone, whatever
	// its filters (send-example and dashboard tests), instead of fanning out. It is not stored.
	OnlyEndpointID string
	// Lease, when set at creation, stores the message with its dispatch already leased to
	// Lease.Owner until Lease.Until: the dispatcher that accepted it fans it out itself
	// (DeliveryStore.FanOut), with no claim. CreateMessage sets it to nil when the message needs
	// no dispatch (its application has no enabled endpoint) or names its endpoint. Reads leave it nil.
	Lease *DispatchLease
}

// DispatchLease is a message's dispatch lease: until Until, only Owner fans it out.
type DispatchLease struct {
	Owner string
	Until time.Time
}

// MessageStatus is the state of a message at one endpoint, and the outcome of an attempt. The
// numbers are Svix's, so the SDKs decode them.
type MessageStatus int

// The message statuses.
const (
	StatusSuccess MessageStatus = 0
	StatusPending MessageStatus = 1
	StatusFail    MessageStatus = 2
	StatusSending MessageStatus = 3
	// StatusCanceled is final: the delivery will not be attempted (any more): cancel-msgs
	// ended it, or the endpoint's transformation canceled it (no request was made).
	StatusCanceled MessageStatus = 4
)

// String returns the status's name, as shown in the dashboard and logs.
func (s MessageStatus) String() string {
	switch s {
	case StatusSuccess:
		return "success"
	case StatusPending:
		return "pending"
	case StatusFail:
		return "fail"
	case StatusSending:
		return "sending"
	case StatusCanceled:
		return "canceled"
	}
	return "unknown"
}

// Delivery is one message on its way to one endpoint (Svix calls it a message destination).
// It is created with the message, in the same transaction, and carries the retry state.
type Delivery struct {
	ID            string
	AppID         string
	MessageID     string
	EndpointID    string
	Status        MessageStatus
	AttemptCount  int
	NextAttemptAt *time.Time // when the next attempt is due; nil once final
	// Trigger is TriggerManual when the next attempt was asked for (a resend or recover).
	Trigger   TriggerType
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TriggerType says why an attempt was made. The numbers are Svix's.
type TriggerType int

// The trigger types.
const (
	TriggerScheduled TriggerType = 0
	TriggerManual    TriggerType = 1
)

// Attempt is one HTTP try of one message to one endpoint.
type Attempt struct {
	ID         string
	AppID      string
	MessageID  string
	EndpointID string
	DeliveryID string
	URL        string
	// RequestHeaders are the headers sent, with secret values redacted.
	RequestHeaders     map[string]string
	ResponseStatusCode int    // 0 when no response came (timeout, refused connection)
	Response           string // the first 20 KB of the response body, or the transport error
	ResponseDurationMs int64
	TriggerType        TriggerType
	Status             MessageStatus
	CreatedAt          time.Time
}

// TimeWindow limits a count to what was created in [Since, Until]; a nil bound leaves that
// side open.
type TimeWindow struct {
	Since, Until *time.Time
}

// Add counts n items of status s in the stats.
func (st *EndpointStats) Add(s MessageStatus, n int64) {
	switch s {
	case StatusSuccess:
		st.Success += n
	case StatusCanceled:
		st.Canceled += n
	case StatusPending:
		st.Pending += n
	case StatusSending:
		st.Sending += n
	case StatusFail:
		st.Fail += n
	}
}

// EndpointStats counts an endpoint's deliveries by status.
type EndpointStats struct {
	Success  int64
	Pending  int64
	Sending  int64
	Fail     int64
	Canceled int64
}

// TokenKind says what a token may do.
type TokenKind string

// The token kinds.
const (
	// TokenOperator may do everything.
	TokenOperator TokenKind = "operator"
	// TokenApplication may manage one application's endpoints, messages and attempts: what
	// platforms call customer API keys.
	TokenApplication TokenKind = "application"
	// TokenPortal is a short-lived dashboard session for one application.
	TokenPortal TokenKind = "portal"
	// TokenMessage may only create messages of one application (Svix's create-message-token):
	// for a system that emits events and should be able to do nothing else.
	TokenMessage TokenKind = "message"
)

// Token is an API credential. Only its SHA-256 hash is stored; the token itself is shown once.
type Token struct {
	ID        string
	Name      string
	Kind      TokenKind
	AppID     string // the application an application or portal token is bound to
	Hash      []byte
	Prefix    string // the first characters of the token, to recognise it in lists
	CreatedAt time.Time
	ExpiresAt *time.Time
	RevokedAt *time.Time
	// LastUsedAt is when the token last authenticated a request, to the minute (TokenUseStore).
	LastUsedAt *time.Time
	// SingleUse marks a token that works once (a portal link); UsedAt is when it did.
	SingleUse bool
	UsedAt    *time.Time
	// EndpointIDs scopes a portal token to these endpoints of its application (ids, not uids);
	// nil means every endpoint. The session a scoped single-use link opens keeps the scope.
	EndpointIDs []string
	// SessionID is the caller's name for a portal link's session (Svix's sessionId), kept by
	// the session the link opens; "" for none. ExpireTokens can end one session's tokens.
	SessionID string
}

// Valid reports whether the token may be used at now: not revoked, not expired, and not a
// single-use token used already.
func (t *Token) Valid(now time.Time) bool {
	if t.RevokedAt != nil || (t.SingleUse && t.UsedAt != nil) {
		return false
	}
	return t.ExpiresAt == nil || now.Before(*t.ExpiresAt)
}

// IdempotencyRecord is the stored outcome of a request made with an Idempotency-Key header.
type IdempotencyRecord struct {
	Scope       string // who made the request: "operator" or an application id
	Key         string
	RequestHash string // a hash of method, path and body; a different request with the same key is refused
	Completed   bool
	StatusCode  int
	Body        []byte
	CreatedAt   time.Time
}

// EnsureOperationalApp returns Hookline's internal application of operational webhooks,
// creating it on first use.
func EnsureOperationalApp(ctx context.Context, store ApplicationStore, now time.Time) (*Application, error) {
	app, err := store.GetApplication(ctx, OperationalAppUID)
	if err == nil || !IsNotFound(err) {
		return app, err
	}
	app = &Application{ID: NewID(PrefixApplication), UID: OperationalAppUID,
		Name: "Operational webhooks", Internal: true, CreatedAt: now, UpdatedAt: now}
	if err := store.CreateApplication(ctx, app); err != nil {
		if ErrorCode(err) == ECONFLICT { // another process made it first
			return store.GetApplication(ctx, OperationalAppUID)
		}
		return nil, err
	}
	return app, nil
}
