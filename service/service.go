// Package service holds the operations that the API and the dashboard share: it validates input,
// fills in defaults (ids, secrets, timestamps), checks payloads against their event type's
// schema and asks the store to save. Handlers translate HTTP to these calls and back; they hold
// no rules of their own.
package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/egress"
	"github.com/hookline/hookline/schema"
	"github.com/hookline/hookline/tasks"
	"github.com/hookline/hookline/transform"
)

// Config holds the settings the operations depend on.
type Config struct {
	// SecretGracePeriod is how long a rotated-out signing secret keeps signing deliveries.
	SecretGracePeriod time.Duration
	// Egress decides which endpoint URLs are accepted.
	Egress egress.Policy
	// Transform bounds each run of a transformation the service simulates; the delivery engine
	// should have the same.
	Transform transform.Limits
}

// DefaultSecretGracePeriod is how long an old secret stays valid after a rotation (seed 002).
const DefaultSecretGracePeriod = 24 * time.Hour

// maxOldSecrets bounds how many rotated-out secrets an endpoint keeps signing with.
const maxOldSecrets = 5

// Service runs the management operations over a store.
type Service struct {
	store   hookline.Store
	clock   hookline.Clock
	cfg     Config
	schemas *schema.Cache
	logger  *slog.Logger
	// onWork is told about new messages and deliveries so the dispatcher can start at once.
	onWork func()
	// handOff, when set, takes new messages straight to this process's dispatcher.
	handOff HandOff
	events  EndpointEvents
	// tasks runs background tasks (SetTasks).
	tasks *tasks.Runner
	// throttling knows which endpoints wait for their rate limit (SetThrottling).
	throttling Throttling

	// transforms simulates endpoints' transformations.
	transforms *transform.Engine
	// reclaims holds a request for RunReclaims (RequestReclaim).
	reclaims chan struct{}
	// reclaimFirstRetry is RunReclaims' first wait after a failed run (zero: a tenth of
	// reclaimRetry); tests shorten it.
	reclaimFirstRetry time.Duration
}

// New returns a Service. logger may be nil.
func New(store hookline.Store, clock hookline.Clock, cfg Config, logger *slog.Logger) *Service {
	if cfg.SecretGracePeriod <= 0 {
		cfg.SecretGracePeriod = DefaultSecretGracePeriod
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: store, clock: clock, cfg: cfg, schemas: schema.NewCache(schema.DefaultCacheSize), logger: logger, onWork: func() {},
		reclaims: make(chan struct{}, 1)}
	s.transforms = transform.New(cfg.Transform)
	return s
}

// HandOff is a dispatcher that takes messages this process creates (delivery.Dispatcher).
type HandOff interface {
	// Lease returns the dispatch lease to create a message with, or nil to store it due.
	Lease() *hookline.DispatchLease
	// HandOff gives the created message (nil when its creation failed) to the dispatcher.
	HandOff(msg *hookline.Message)
}

// SetHandOff makes new messages go straight to this process's dispatcher, when it has room.
func (s *Service) SetHandOff(h HandOff) { s.handOff = h }

// OnWork registers the function told when new messages or deliveries are due, such as the
// dispatcher's Notify.
func (s *Service) OnWork(f func()) { s.onWork = f }

// Store returns the underlying store, for reads that need no rules.
func (s *Service) Store() hookline.Store { return s.store }

// Now returns the service clock's time.
func (s *Service) Now() time.Time { return s.clock.Now() }

// idPattern is what Svix allows in uids, event type names, event ids and channels.
var idPattern = regexp.MustCompile(`^[a-zA-Z0-9\-_.]+$`)

// fieldErrors collects validation problems so a client sees all of them at once.
type fieldErrors []hookline.FieldError

func (f *fieldErrors) add(typ, msg string, loc ...string) {
	*f = append(*f, hookline.FieldError{Loc: append([]string{"body"}, loc...), Msg: msg, Type: typ})
}

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	code := hookline.EINVALID
	msgs := make([]string, len(f))
	for i, e := range f {
		msgs[i] = strings.Join(e.Loc[1:], ".") + ": " + e.Msg
		// The more specific codes win, so clients can tell these cases apart.
		switch e.Type {
		case "url":
			code = hookline.EURLNOTALLOWED
		case "unknown_event_type":
			if code == hookline.EINVALID {
				code = hookline.EUNKNOWNEVENTTYPE
			}
		}
	}
	return &hookline.Error{Code: code, Message: strings.Join(msgs, "; "), Fields: f}
}

func (f *fieldErrors) checkIdentifier(value string, max int, required bool, loc ...string) {
	switch {
	case value == "" && required:
		f.add("missing", "is required", loc...)
	case value == "":
	case len(value) > max:
		f.add("value", fmt.Sprintf("must be at most %d characters", max), loc...)
	case !idPattern.MatchString(value):
		f.add("value", "may contain only letters, digits, '-', '_' and '.'", loc...)
	}
}

// channelPattern is Svix's rule for the channels of messages and endpoints: idPattern with ':'
// and '+', so that channels can name hierarchies ("project:1337", "eu+us").
var channelPattern = regexp.MustCompile(`^[a-zA-Z0-9\-_.:+]+$`)

// maxChannels is how many channels a message or an endpoint may list, as in Svix's MessageIn and
// EndpointIn.
const maxChannels = 10

func (f *fieldErrors) checkChannels(channels []string) {
	if len(channels) > maxChannels {
		f.add("value", fmt.Sprintf("may list at most %d channels", maxChannels), "channels")
	}
	for i, c := range channels {
		f.checkChannel(c, true, "channels", fmt.Sprint(i))
	}
}

func (f *fieldErrors) checkChannel(c string, required bool, loc ...string) {
	switch {
	case c == "" && required:
		f.add("missing", "is required", loc...)
	case c == "":
	case len(c) > 128:
		f.add("value", "must be at most 128 characters", loc...)
	case !channelPattern.MatchString(c):
		f.add("value", "may contain only letters, digits, '-', '_', '.', ':' and '+'", loc...)
	}
}

// tagPattern is Svix's rule for message tags (MessageIn.tags).
var tagPattern = regexp.MustCompile(`^[a-zA-Z0-9\-_./\\#]+$`)

// maxTags is how many tags a message may have, as in Svix's MessageIn.
const maxTags = 5

// Svix's bounds of a message's deliverAt: at least a minute ahead (less deliverAtSlack, for the
// sender's clock) and at most a day.
const (
	minDeliverAhead = time.Minute
	maxDeliverAhead = 24 * time.Hour
	deliverAtSlack  = 5 * time.Second
)

// checkDeliverAt checks a message's deliverAt against Svix's bounds, from now.
func (f *fieldErrors) checkDeliverAt(at *time.Time, now time.Time) {
	switch {
	case at == nil:
	case at.Before(now.Add(minDeliverAhead - deliverAtSlack)):
		f.add("value", "must be at least one minute in the future", "deliverAt")
	case at.After(now.Add(maxDeliverAhead)):
		f.add("value", "must be at most 24 hours in the future", "deliverAt")
	}
}

func (f *fieldErrors) checkTags(tags []string) {
	if len(tags) > maxTags {
		f.add("value", fmt.Sprintf("may list at most %d tags", maxTags), "tags")
	}
	for i, t := range tags {
		switch {
		case t == "":
			f.add("missing", "must not be empty", "tags", fmt.Sprint(i))
		case len(t) > 128:
			f.add("value", "must be at most 128 characters", "tags", fmt.Sprint(i))
		case !tagPattern.MatchString(t):
			f.add("value", "may contain only letters, digits, '-', '_', '.', '/', '\\' and '#'", "tags", fmt.Sprint(i))
		case slices.Contains(tags[:i], t):
			f.add("value", fmt.Sprintf("%q is listed twice", t), "tags", fmt.Sprint(i))
		}
	}
}

func (f *fieldErrors) checkUID(uid, idPrefix string) {
	f.checkIdentifier(uid, 256, false, "uid")
	if strings.HasPrefix(uid, idPrefix) {
		f.add("value", fmt.Sprintf("must not start with %q, which is reserved for ids", idPrefix), "uid")
	}
}

func (f *fieldErrors) checkRateLimit(rl *int) {
	if rl != nil && (*rl < 1 || *rl > 1_000_000) {
		f.add("value", "must be between 1 and 1000000 messages per second", "rateLimit")
	}
}

func (f *fieldErrors) checkMetadata(m map[string]string) {
	if len(m) > 100 {
		f.add("value", "may hold at most 100 keys", "metadata")
	}
	for k, v := range m {
		if len(k) > 256 || len(v) > 4096 {
			f.add("value", "keys may be at most 256 and values 4096 characters long", "metadata", k)
		}
	}
}

// CreateApplication validates app and stores it with a new id.
func (s *Service) CreateApplication(ctx context.Context, app *hookline.Application) error {
	if err := validateApplication(app); err != nil {
		return err
	}
	now := s.clock.Now()
	app.ID = hookline.NewID(hookline.PrefixApplication)
	app.CreatedAt, app.UpdatedAt = now, now
	return s.store.CreateApplication(ctx, app)
}

// GetOrCreateApplication returns the application with app's uid when there is one, and creates
// app otherwise. created reports which happened.
func (s *Service) GetOrCreateApplication(ctx context.Context, app *hookline.Application) (got *hookline.Application, created bool, err error) {
	if app.UID != "" {
		existing, err := s.store.GetApplication(ctx, app.UID)
		if err == nil && existing.Internal {
			return nil, false, hookline.Errorf(hookline.ECONFLICT, "uid %q is reserved by Hookline", app.UID)
		}
		if err == nil {
			return existing, false, nil
		}
		if !hookline.IsNotFound(err) {
			return nil, false, err
		}
	}
	if err := s.CreateApplication(ctx, app); err != nil {
		// Another request created it between our read and our write: return theirs.
		if hookline.ErrorCode(err) == hookline.ECONFLICT && app.UID != "" {
			if existing, gerr := s.store.GetApplication(ctx, app.UID); gerr == nil && !existing.Internal {
				return existing, false, nil
			}
		}
		return nil, false, err
	}
	return app, true, nil
}

// UpdateApplication validates and saves every field of app.
func (s *Service) UpdateApplication(ctx context.Context, app *hookline.Application) error {
	if err := validateApplication(app); err != nil {
		return err
	}
	app.UpdatedAt = s.clock.Now()
	return s.store.UpdateApplication(ctx, app)
}

func validateApplication(app *hookline.Application) error {
	var f fieldErrors
	app.Name = strings.TrimSpace(app.Name)
	switch {
	case app.Name == "":
		f.add("missing", "is required", "name")
	case len(app.Name) > 256:
		f.add("value", "must be at most 256 characters", "name")
	}
	f.checkUID(app.UID, hookline.PrefixApplication)
	f.checkRateLimit(app.RateLimit)
	f.checkMetadata(app.Metadata)
	return f.err()
}

// CreateEventType validates et (its schemas must compile) and stores it.
func (s *Service) CreateEventType(ctx context.Context, et *hookline.EventType) error {
	if err := s.validateEventType(et); err != nil {
		return err
	}
	now := s.clock.Now()
	et.CreatedAt, et.UpdatedAt = now, now
	return s.store.CreateEventType(ctx, et)
}

// UpdateEventType validates and saves every field of et.
func (s *Service) UpdateEventType(ctx context.Context, et *hookline.EventType) error {
	if err := s.validateEventType(et); err != nil {
		return err
	}
	et.UpdatedAt = s.clock.Now()
	return s.store.UpdateEventType(ctx, et)
}

func (s *Service) validateEventType(et *hookline.EventType) error {
	var f fieldErrors
	f.checkIdentifier(et.Name, 256, true, "name")
	if len(et.Description) > 4096 {
		f.add("value", "must be at most 4096 characters", "description")
	}
	f.checkIdentifier(et.FeatureFlag, 256, false, "featureFlag")
	f.checkIdentifier(et.GroupName, 256, false, "groupName")
	for version, raw := range et.Schemas {
		if _, err := schema.Compile(raw); err != nil {
			f.add("schema", "is not a valid JSON Schema: "+hookline.ErrorMessage(err), "schemas", version)
		}
	}
	return f.err()
}

// LookupEventType returns the named event type; the built-in test.webhook is always defined.
func (s *Service) LookupEventType(ctx context.Context, name string) (*hookline.EventType, error) {
	et, err := s.store.GetEventType(ctx, name)
	if hookline.IsNotFound(err) && name == hookline.TestEventType {
		return &hookline.EventType{Name: hookline.TestEventType, Description: "A test message sent from the dashboard or send-example."}, nil
	}
	return et, err
}

// CreateEndpoint validates ep, generates its secret unless one is given, and stores it.
func (s *Service) CreateEndpoint(ctx context.Context, ep *hookline.Endpoint) error {
	if ep.Secret == "" {
		ep.Secret = newSigningSecret()
	}
	if ep.Version == 0 {
		ep.Version = 1
	}
	if err := s.validateEndpoint(ctx, ep); err != nil {
		return err
	}
	now := s.clock.Now()
	ep.ID = hookline.NewID(hookline.PrefixEndpoint)
	ep.CreatedAt, ep.UpdatedAt = now, now
	return s.store.CreateEndpoint(ctx, ep)
}

// UpdateEndpoint validates and saves every field of ep. Enabling or disabling it through the
// update is recorded (reason, health reset) and announced.
func (s *Service) UpdateEndpoint(ctx context.Context, ep *hookline.Endpoint) error {
	if err := s.validateEndpoint(ctx, ep); err != nil {
		return err
	}
	stored, err := s.store.GetEndpoint(ctx, ep.AppID, ep.ID)
	if err != nil {
		return err
	}
	// The update keeps the stored enabled state: applyEnabledChange switches it with
	// SetEndpointDisabled, which records the reason and resets the health on enabling, and
	// which would find nothing to change if the update had switched it already.
	disabled := ep.Disabled
	ep.Disabled, ep.DisabledReason = stored.Disabled, stored.DisabledReason
	ep.UpdatedAt = s.clock.Now()
	err = s.store.UpdateEndpoint(ctx, ep)
	ep.Disabled = disabled
	if err != nil {
		return err
	}
	// The same stamp as the update's, so the endpoint returned is the endpoint stored.
	return s.applyEnabledChange(ctx, ep, stored.Disabled, ep.UpdatedAt)
}

// RotateSecret makes newSecret (or a generated one, when empty) the endpoint's signing secret.
// The old one keeps signing deliveries for the grace period, so receivers can switch over.
func (s *Service) RotateSecret(ctx context.Context, ep *hookline.Endpoint, newSecret string) error {
	if err := s.StageRotation(ep, newSecret, "key"); err != nil {
		return err
	}
	return s.store.UpdateEndpoint(ctx, ep)
}

// StageRotation is RotateSecret without the save: it changes ep in memory only, so that a PATCH
// that also changes other fields saves them all through UpdateEndpoint, validated together, or
// nothing. field names the request field of the new secret in a validation error.
func (s *Service) StageRotation(ep *hookline.Endpoint, newSecret, field string) error {
	return s.stageRotation(ep, newSecret, field, s.cfg.SecretGracePeriod)
}

// RotateSecretWithGrace is RotateSecret with the old secret valid for grace instead of the
// configured grace period; 0 ends it at once.
func (s *Service) RotateSecretWithGrace(ctx context.Context, ep *hookline.Endpoint, newSecret string, grace time.Duration) error {
	if err := s.stageRotation(ep, newSecret, "key", grace); err != nil {
		return err
	}
	return s.store.UpdateEndpoint(ctx, ep)
}

func (s *Service) stageRotation(ep *hookline.Endpoint, newSecret, field string, grace time.Duration) error {
	if newSecret == "" {
		newSecret = newSigningSecret()
	}
	var f fieldErrors
	f.checkSecret(newSecret, field)
	if err := f.err(); err != nil {
		return err
	}
	now := s.clock.Now()
	old := make([]hookline.OldSecret, 0, len(ep.OldSecrets)+1)
	for _, o := range ep.OldSecrets {
		if now.Before(o.ExpiresAt) {
			old = append(old, o)
		}
	}
	if grace > 0 {
		old = append(old, hookline.OldSecret{Secret: ep.Secret, ExpiresAt: now.Add(grace)})
	}
	if len(old) > maxOldSecrets {
		old = old[len(old)-maxOldSecrets:]
	}
	ep.OldSecrets = old
	ep.Secret = newSecret
	ep.UpdatedAt = now
	return nil
}

func (s *Service) validateEndpoint(ctx context.Context, ep *hookline.Endpoint) error {
	var f fieldErrors
	if strings.TrimSpace(ep.URL) == "" {
		f.add("missing", "is required", "url")
	} else if err := s.cfg.Egress.CheckURL(ep.URL); err != nil {
		f.add("url", err.Error(), "url")
	} else if len(ep.URL) > 2048 {
		f.add("value", "must be at most 2048 characters", "url")
	}
	if len(ep.Description) > 4096 {
		f.add("value", "must be at most 4096 characters", "description")
	}
	if ep.Version < 1 {
		f.add("value", "must be at least 1", "version")
	}
	f.checkUID(ep.UID, hookline.PrefixEndpoint)
	f.checkRateLimit(ep.RateLimit)
	f.checkMetadata(ep.Metadata)
	f.checkSecret(ep.Secret, "secret")
	f.checkHeaders(ep.Headers)
	f.checkChannels(ep.Channels)
	ep.FilterTypes = dedupe(ep.FilterTypes)
	ep.Channels = dedupe(ep.Channels)
	for i, name := range ep.FilterTypes {
		if _, err := s.LookupEventType(ctx, name); hookline.IsNotFound(err) {
			f.add("unknown_event_type", fmt.Sprintf("event type %q does not exist", name), "filterTypes", fmt.Sprint(i))
		} else if err != nil {
			return err
		}
	}
	return f.err()
}

// secretPattern is Svix's rule for signing secrets given by the client.
var secretPattern = regexp.MustCompile(`^(whsec_)?[a-zA-Z0-9+/=]{32,100}$`)

func (f *fieldErrors) checkSecret(secret, loc string) {
	if !secretPattern.MatchString(secret) {
		f.add("value", "must be \"whsec_\" followed by 32 to 100 base64 characters", loc)
	}
}

// reservedHeaders may not be set per endpoint: they are the transport's or the signature's.
var reservedHeaders = []string{"host", "content-length", "content-type", "transfer-encoding", "connection",
	"keep-alive", "te", "trailer", "upgrade", "proxy-authorization", "user-agent", "expect"}

// reservedHeaderPrefixes are the signature profiles' headers.
var reservedHeaderPrefixes = []string{"webhook-", "svix-"}

var headerNamePattern = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")

func (f *fieldErrors) checkHeaders(h map[string]string) {
	if len(h) > 50 {
		f.add("value", "may hold at most 50 headers", "headers")
	}
	for name, value := range h {
		lower := strings.ToLower(name)
		switch {
		case !headerNamePattern.MatchString(name):
			f.add("value", "is not a valid header name", "headers", name)
		case slices.Contains(reservedHeaders, lower):
			f.add("value", "is set by Hookline and cannot be overridden", "headers", name)
		case hasAnyPrefix(lower, reservedHeaderPrefixes):
			f.add("value", "is reserved for webhook signatures", "headers", name)
		case !validHeaderValue(value):
			f.add("value", "must not contain control characters (line breaks, NUL, \\x01-\\x1f other than tab, \\x7f)", "headers", name)
		case len(value) > 4096:
			f.add("value", "must be at most 4096 characters", "headers", name)
		}
	}
}

// validHeaderValue reports whether net/http would send value in a header: no control
// characters but the horizontal tab (RFC 9110's field-value, the rule of
// golang.org/x/net/http/httpguts.ValidHeaderFieldValue). Bytes from 0x80 are allowed, as they
// are there.
func validHeaderValue(value string) bool {
	for i := range len(value) {
		if b := value[i]; (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// SensitiveHeader reports whether a custom header's value is a credential, which reads of the
// headers do not return.
func SensitiveHeader(name string) bool {
	lower := strings.ToLower(name)
	if lower == "authorization" || lower == "cookie" {
		return true
	}
	for _, word := range []string{"secret", "token", "key", "password", "auth"} {
		if strings.Contains(lower, word) {
			return true
		}
	}
	return false
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func dedupe(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// CreateMessage validates msg for the application, stores it awaiting dispatch and wakes the
// dispatcher. The payload must be a JSON object of a defined, unarchived event type and must
// match its latest schema. payloadLoc names the request field the payload came from, for the
// errors (default "payload"; a raw payload's is "transformationsParams", "rawPayload"): a
// payload is checked the same way, by CheckPayload and the schema, whichever field it came in.
func (s *Service) CreateMessage(ctx context.Context, app *hookline.Application, msg *hookline.Message, payloadLoc ...string) error {
	if err := s.CheckMessage(ctx, msg, payloadLoc...); err != nil {
		return err
	}
	msg.ID = hookline.NewID(hookline.PrefixMessage)
	msg.AppID = app.ID
	msg.CreatedAt = s.clock.Now()
	return s.storeMessage(ctx, msg)
}

// CheckMessage checks a message as CreateMessage does before it stores it: its fields, its
// payload, and that its event type exists, is not archived and its latest schema accepts the
// payload.
func (s *Service) CheckMessage(ctx context.Context, msg *hookline.Message, payloadLoc ...string) error {
	if len(payloadLoc) == 0 {
		payloadLoc = []string{"payload"}
	}
	var f fieldErrors
	f.checkIdentifier(msg.EventType, 256, true, "eventType")
	f.checkIdentifier(msg.EventID, 256, false, "eventId")
	f.checkChannels(msg.Channels)
	f.checkTags(msg.Tags)
	f.checkDeliverAt(msg.DeliverAt, s.clock.Now())
	if err := f.err(); err != nil {
		return err
	}
	if err := CheckPayload(msg.Payload, payloadLoc...); err != nil {
		return err
	}
	et, err := s.LookupEventType(ctx, msg.EventType)
	if hookline.IsNotFound(err) {
		return &hookline.Error{Code: hookline.EUNKNOWNEVENTTYPE,
			Message: fmt.Sprintf("event type %q does not exist; create it first (POST /api/v1/event-type)", msg.EventType),
			Fields:  []hookline.FieldError{{Loc: []string{"body", "eventType"}, Msg: "unknown event type", Type: "unknown_event_type"}}}
	}
	if err != nil {
		return err
	}
	if et.Archived {
		return &hookline.Error{Code: hookline.EUNKNOWNEVENTTYPE,
			Message: fmt.Sprintf("event type %q is archived; unarchive it to send messages of this type", msg.EventType),
			Fields:  []hookline.FieldError{{Loc: []string{"body", "eventType"}, Msg: "archived event type", Type: "unknown_event_type"}}}
	}
	return s.checkSchema(et, msg.Payload, payloadLoc...)
}

// storeMessage stores a new message and gets it dispatched: handed off to this process's
// dispatcher when it has room (the message is stored leased to it, and no claim is needed),
// otherwise stored due, with the dispatcher woken to claim it.
func (s *Service) storeMessage(ctx context.Context, msg *hookline.Message) error {
	if s.handOff == nil || msg.OnlyEndpointID != "" || msg.DeliverAt != nil {
		// A message sent later waits in the store, due at its deliverAt.
		msg.Lease = nil
	} else {
		msg.Lease = s.handOff.Lease()
	}
	if msg.Lease == nil {
		if err := s.store.CreateMessage(ctx, msg); err != nil {
			return err
		}
		s.onWork()
		return nil
	}
	// A message created with a lease is handed off or the lease given back: its creation is
	// not cut short when the client goes away, or the message could be stored leased to a
	// dispatcher that was never told.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.store.CreateMessage(cctx, msg); err != nil {
		s.handOff.HandOff(nil)
		return err
	}
	s.handOff.HandOff(msg)
	return nil
}

func (s *Service) checkSchema(et *hookline.EventType, payload json.RawMessage, payloadLoc ...string) error {
	if len(payloadLoc) == 0 {
		payloadLoc = []string{"payload"}
	}
	version, raw := et.LatestSchema()
	if raw == nil {
		return nil
	}
	sch, err := s.schemas.Get(et.Name, raw)
	if he := (*hookline.Error)(nil); errors.As(err, &he) {
		// Saved before a newer rule refused it, such as a loop of $refs: the client can fix it.
		return hookline.Errorf(hookline.ESCHEMA, "the schema of event type %q (version %s) can no longer be used: %s; update the event type",
			et.Name, version, he.Message)
	}
	if err != nil {
		return fmt.Errorf("compile schema of %s v%s: %w", et.Name, version, err)
	}
	violations := sch.Validate(payload)
	if len(violations) == 0 {
		return nil
	}
	fields := make([]hookline.FieldError, len(violations))
	msgs := make([]string, len(violations))
	for i, v := range violations {
		loc := append(append([]string{"body"}, payloadLoc...), v.Loc()...)
		fields[i] = hookline.FieldError{Loc: loc, Msg: v.Message, Type: "schema"}
		path := v.Path
		if path == "" {
			path = "/"
		}
		msgs[i] = path + ": " + v.Message
	}
	return &hookline.Error{Code: hookline.ESCHEMA,
		Message: fmt.Sprintf("payload does not match the schema of event type %q (version %s): %s", et.Name, version, strings.Join(msgs, "; ")),
		Fields:  fields}
}

func isJSONObject(raw json.RawMessage) bool {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return json.Valid(raw)
		default:
			return false
		}
	}
	return false
}
