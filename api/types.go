package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/service"
)

// The request and response bodies. Names and JSON shapes follow Svix's public API, so the
// official Svix SDKs decode them; the OpenAPI document is generated from these types.

// Nullable is a PATCH field that can be left out (unchanged), set to null (cleared) or set.
type Nullable[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON records that the field was present, and whether it was null.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		n.Null = true
		return nil
	}
	return json.Unmarshal(b, &n.Value)
}

// JSONSchema describes the field as its value type or null.
func (n Nullable[T]) JSONSchema() map[string]any {
	switch any(n.Value).(type) {
	case int:
		return map[string]any{"type": []any{"integer", "null"}}
	case string:
		return map[string]any{"type": []any{"string", "null"}}
	case []string:
		return map[string]any{"type": []any{"array", "null"}, "items": map[string]any{"type": "string"}}
	}
	return map[string]any{}
}

func (n Nullable[T]) apply(dst *T, zero T) {
	switch {
	case !n.Set:
	case n.Null:
		*dst = zero
	default:
		*dst = n.Value
	}
}

func (n Nullable[T]) applyPtr(dst **T) {
	switch {
	case !n.Set:
	case n.Null:
		*dst = nil
	default:
		v := n.Value
		*dst = &v
	}
}

// ListResponse is one page of a list.
type ListResponse[T any] struct {
	Data         []T     `json:"data"`
	Iterator     *string `json:"iterator" doc:"Pass as iterator to get the next page; null when the list is empty."`
	PrevIterator *string `json:"prevIterator,omitempty" doc:"Pass as iterator to get the previous page."`
	Done         bool    `json:"done" doc:"True when this is the last page."`
}

// ApplicationIn creates or replaces an application.
type ApplicationIn struct {
	Name         string            `json:"name" doc:"Display name of the application (the customer)."`
	UID          *string           `json:"uid,omitempty" doc:"Your own id for the application; usable wherever the id is."`
	ThrottleRate *int              `json:"throttleRate,omitempty" doc:"Deliveries per second to each endpoint of the application."`
	RateLimit    *int              `json:"rateLimit,omitempty" doc:"The 1.x name of throttleRate."`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

// rate returns the throttle rate sent under either name.
func (in *ApplicationIn) rate() (*int, error) {
	return alias(in.ThrottleRate, in.RateLimit, sentPtr[int], "throttleRate", "rateLimit")
}

// ApplicationPatch changes some fields of an application.
type ApplicationPatch struct {
	Name         *string            `json:"name,omitempty"`
	UID          Nullable[string]   `json:"uid,omitzero"`
	ThrottleRate Nullable[int]      `json:"throttleRate,omitzero"`
	RateLimit    Nullable[int]      `json:"rateLimit,omitzero" doc:"The 1.x name of throttleRate."`
	Metadata     *map[string]string `json:"metadata,omitempty"`
}

// ApplicationOut is an application.
type ApplicationOut struct {
	ID           string            `json:"id"`
	UID          *string           `json:"uid,omitempty"`
	Name         string            `json:"name"`
	ThrottleRate *int              `json:"throttleRate,omitempty" svix:"v2"`
	RateLimit    *int              `json:"rateLimit,omitempty" doc:"The 1.x name of throttleRate."`
	Metadata     map[string]string `json:"metadata"`
	CreatedAt    time.Time         `json:"createdAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
}

func applicationOut(a *hookline.Application) ApplicationOut {
	return ApplicationOut{ID: a.ID, UID: optString(a.UID), Name: a.Name, ThrottleRate: a.RateLimit, RateLimit: a.RateLimit,
		Metadata: nonNilMap(a.Metadata), CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

// EventTypeIn creates an event type.
type EventTypeIn struct {
	Name         string                     `json:"name" doc:"The event type's name, such as order.paid."`
	Description  string                     `json:"description"`
	Archived     *bool                      `json:"archived,omitempty"`
	Deprecated   *bool                      `json:"deprecated,omitempty"`
	FeatureFlag  *string                    `json:"featureFlag,omitempty" doc:"The 1.x name of featureFlags."`
	FeatureFlags []string                   `json:"featureFlags,omitempty" doc:"The feature flag that hides the event type (Hookline keeps one; the current name of featureFlag)."`
	GroupName    *string                    `json:"groupName,omitempty"`
	Schemas      map[string]json.RawMessage `json:"schemas,omitempty" doc:"JSON Schemas (draft 2020-12) by version, such as {\"1\": {...}}; payloads must match the latest."`
}

func (in *EventTypeIn) featureFlag() (*string, error) {
	return featureFlag(in.FeatureFlags, in.FeatureFlag)
}

// EventTypeUpdate replaces an event type.
type EventTypeUpdate struct {
	Description  string                     `json:"description"`
	Archived     *bool                      `json:"archived,omitempty"`
	Deprecated   *bool                      `json:"deprecated,omitempty"`
	FeatureFlag  *string                    `json:"featureFlag,omitempty" doc:"The 1.x name of featureFlags."`
	FeatureFlags []string                   `json:"featureFlags,omitempty" doc:"The feature flag that hides the event type (Hookline keeps one; the current name of featureFlag)."`
	GroupName    *string                    `json:"groupName,omitempty"`
	Schemas      map[string]json.RawMessage `json:"schemas,omitempty"`
}

func (in *EventTypeUpdate) featureFlag() (*string, error) {
	return featureFlag(in.FeatureFlags, in.FeatureFlag)
}

// featureFlag returns the one feature flag sent as featureFlags or featureFlag.
func featureFlag(flags []string, flag *string) (*string, error) {
	if len(flags) > 1 {
		return nil, fieldError("body", "featureFlags", "value", "Hookline keeps one feature flag per event type; send at most one")
	}
	var cur *string
	if len(flags) == 1 {
		cur = &flags[0]
	}
	return alias(cur, flag, sentPtr[string], "featureFlags", "featureFlag")
}

// EventTypePatch changes some fields of an event type.
type EventTypePatch struct {
	Description  *string                     `json:"description,omitempty"`
	Archived     *bool                       `json:"archived,omitempty"`
	Deprecated   *bool                       `json:"deprecated,omitempty"`
	FeatureFlag  Nullable[string]            `json:"featureFlag,omitzero" doc:"The 1.x name of featureFlags."`
	FeatureFlags Nullable[[]string]          `json:"featureFlags,omitzero" doc:"The feature flag that hides the event type (at most one); null or [] removes it."`
	GroupName    Nullable[string]            `json:"groupName,omitzero"`
	Schemas      *map[string]json.RawMessage `json:"schemas,omitempty"`
}

// featureFlag returns the change to the feature flag sent as featureFlags or featureFlag.
func (in *EventTypePatch) featureFlag() (Nullable[string], error) {
	cur := Nullable[string]{Set: in.FeatureFlags.Set, Null: in.FeatureFlags.Null || (in.FeatureFlags.Set && len(in.FeatureFlags.Value) == 0)}
	if len(in.FeatureFlags.Value) > 1 {
		return cur, fieldError("body", "featureFlags", "value", "Hookline keeps one feature flag per event type; send at most one")
	}
	if len(in.FeatureFlags.Value) == 1 {
		cur.Value = in.FeatureFlags.Value[0]
	}
	return alias(cur, in.FeatureFlag, sentNullable[string], "featureFlags", "featureFlag")
}

// EventTypeOut is an event type.
type EventTypeOut struct {
	Name         string                     `json:"name"`
	Description  string                     `json:"description"`
	Archived     bool                       `json:"archived"`
	Deprecated   bool                       `json:"deprecated"`
	FeatureFlag  *string                    `json:"featureFlag,omitempty"`
	FeatureFlags []string                   `json:"featureFlags,omitempty" svix:"v2"`
	GroupName    *string                    `json:"groupName,omitempty"`
	Schemas      map[string]json.RawMessage `json:"schemas,omitempty"`
	CreatedAt    time.Time                  `json:"createdAt"`
	UpdatedAt    time.Time                  `json:"updatedAt"`
}

func eventTypeOut(et *hookline.EventType, withContent bool) EventTypeOut {
	out := EventTypeOut{Name: et.Name, Description: et.Description, Archived: et.Archived, Deprecated: et.Deprecated,
		FeatureFlag: optString(et.FeatureFlag), GroupName: optString(et.GroupName), CreatedAt: et.CreatedAt, UpdatedAt: et.UpdatedAt}
	if et.FeatureFlag != "" {
		out.FeatureFlags = []string{et.FeatureFlag}
	}
	if withContent {
		out.Schemas = et.Schemas
	}
	return out
}

// EndpointIn creates an endpoint.
type EndpointIn struct {
	URL          string            `json:"url" doc:"Where deliveries are POSTed; https only outside dev mode."`
	Description  string            `json:"description,omitempty"`
	UID          *string           `json:"uid,omitempty"`
	Version      *int              `json:"version,omitempty"`
	Disabled     *bool             `json:"disabled,omitempty"`
	EventTypes   []string          `json:"eventTypes,omitempty" doc:"Event types the endpoint receives; empty or absent means all."`
	FilterTypes  []string          `json:"filterTypes,omitempty" doc:"The 1.x name of eventTypes."`
	Channels     []string          `json:"channels,omitempty" doc:"Channels the endpoint receives; empty or absent means all."`
	ThrottleRate *int              `json:"throttleRate,omitempty" doc:"At most this many deliveries per second to the endpoint."`
	RateLimit    *int              `json:"rateLimit,omitempty" doc:"The 1.x name of throttleRate."`
	Metadata     map[string]string `json:"metadata,omitempty"`
	Secret       *string           `json:"secret,omitempty" doc:"Signing secret (whsec_ + base64); generated when absent."`
	Headers      map[string]string `json:"headers,omitempty" doc:"Custom headers sent with every delivery."`
}

// filterAndRate returns the event types and throttle rate, each sent under either name.
func filterAndRate(eventTypes, filterTypes []string, throttleRate, rateLimit *int) ([]string, *int, error) {
	types, err := alias(eventTypes, filterTypes, sentSlice, "eventTypes", "filterTypes")
	if err != nil {
		return nil, nil, err
	}
	rate, err := alias(throttleRate, rateLimit, sentPtr[int], "throttleRate", "rateLimit")
	return types, rate, err
}

// EndpointUpdate replaces an endpoint's settings (its secret and headers are kept).
type EndpointUpdate struct {
	URL          string            `json:"url"`
	Description  string            `json:"description,omitempty"`
	UID          *string           `json:"uid,omitempty"`
	Version      *int              `json:"version,omitempty"`
	Disabled     *bool             `json:"disabled,omitempty"`
	EventTypes   []string          `json:"eventTypes,omitempty"`
	FilterTypes  []string          `json:"filterTypes,omitempty" doc:"The 1.x name of eventTypes."`
	Channels     []string          `json:"channels,omitempty"`
	ThrottleRate *int              `json:"throttleRate,omitempty"`
	RateLimit    *int              `json:"rateLimit,omitempty" doc:"The 1.x name of throttleRate."`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

// EndpointPatch changes some fields of an endpoint.
type EndpointPatch struct {
	URL          *string            `json:"url,omitempty"`
	Description  *string            `json:"description,omitempty"`
	UID          Nullable[string]   `json:"uid,omitzero"`
	Version      *int               `json:"version,omitempty"`
	Disabled     *bool              `json:"disabled,omitempty"`
	EventTypes   Nullable[[]string] `json:"eventTypes,omitzero" doc:"null or [] removes the filter."`
	FilterTypes  Nullable[[]string] `json:"filterTypes,omitzero" doc:"The 1.x name of eventTypes."`
	Channels     Nullable[[]string] `json:"channels,omitzero" doc:"null or [] removes the filter."`
	ThrottleRate Nullable[int]      `json:"throttleRate,omitzero"`
	RateLimit    Nullable[int]      `json:"rateLimit,omitzero" doc:"The 1.x name of throttleRate."`
	Metadata     *map[string]string `json:"metadata,omitempty"`
	Secret       Nullable[string]   `json:"secret,omitzero"`
}

// EndpointOut is an endpoint (its secret is read separately).
type EndpointOut struct {
	ID           string            `json:"id"`
	UID          *string           `json:"uid,omitempty"`
	URL          string            `json:"url"`
	Description  string            `json:"description"`
	Version      int               `json:"version"`
	Disabled     bool              `json:"disabled"`
	EventTypes   []string          `json:"eventTypes,omitempty" svix:"v2"`
	FilterTypes  []string          `json:"filterTypes,omitempty" doc:"The 1.x name of eventTypes."`
	Channels     []string          `json:"channels,omitempty"`
	ThrottleRate *int              `json:"throttleRate,omitempty" svix:"v2"`
	RateLimit    *int              `json:"rateLimit,omitempty" doc:"The 1.x name of throttleRate."`
	Metadata     map[string]string `json:"metadata"`
	CreatedAt    time.Time         `json:"createdAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
}

func endpointOut(e *hookline.Endpoint) EndpointOut {
	return EndpointOut{ID: e.ID, UID: optString(e.UID), URL: e.URL, Description: e.Description, Version: e.Version,
		Disabled: e.Disabled, EventTypes: e.FilterTypes, FilterTypes: e.FilterTypes, Channels: e.Channels,
		ThrottleRate: e.RateLimit, RateLimit: e.RateLimit,
		Metadata: nonNilMap(e.Metadata), CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

// EndpointSecretOut is an endpoint's current signing secret.
type EndpointSecretOut struct {
	Key string `json:"key"`
}

// EndpointSecretRotateIn optionally names the new secret; one is generated when absent.
type EndpointSecretRotateIn struct {
	Key                *string `json:"key,omitempty"`
	GracePeriodSeconds *int64  `json:"gracePeriodSeconds,omitempty" doc:"How long the old secret stays valid: 0 (not at all) to 604800 seconds (default: --secret-grace-period, 24 hours)."`
}

// rotate rotates ep's secret as in asks.
func (in *EndpointSecretRotateIn) rotate(r *http.Request, svc *service.Service, ep *hookline.Endpoint) error {
	if in.GracePeriodSeconds == nil {
		return svc.RotateSecret(r.Context(), ep, deref(in.Key))
	}
	if g := *in.GracePeriodSeconds; g < 0 || g > 604800 {
		return fieldError("body", "gracePeriodSeconds", "value", "must be from 0 to 604800 (7 days) seconds")
	}
	return svc.RotateSecretWithGrace(r.Context(), ep, deref(in.Key), time.Duration(*in.GracePeriodSeconds)*time.Second)
}

// EndpointHeadersIn replaces (PUT) or merges into (PATCH) an endpoint's custom headers.
type EndpointHeadersIn struct {
	Headers map[string]string `json:"headers"`
}

// EndpointHeadersPatchIn merges into an endpoint's custom headers; a null value, or a name in
// deleteHeaders, removes a header.
type EndpointHeadersPatchIn struct {
	Headers       map[string]*string `json:"headers"`
	DeleteHeaders []string           `json:"deleteHeaders,omitempty" doc:"Headers to remove."`
}

// EndpointHeadersOut lists an endpoint's custom headers; the values of sensitive ones (credentials)
// are not returned, only their names.
type EndpointHeadersOut struct {
	Headers   map[string]string `json:"headers"`
	Sensitive []string          `json:"sensitive"`
}

func endpointHeadersOut(h map[string]string) EndpointHeadersOut {
	out := EndpointHeadersOut{Headers: map[string]string{}, Sensitive: []string{}}
	for k, v := range h {
		if service.SensitiveHeader(k) {
			out.Sensitive = append(out.Sensitive, k)
		} else {
			out.Headers[k] = v
		}
	}
	sortStrings(out.Sensitive)
	return out
}

// EndpointStatsOut counts an endpoint's messages by status.
type EndpointStatsOut struct {
	Success  int64 `json:"success"`
	Pending  int64 `json:"pending"`
	Sending  int64 `json:"sending"`
	Fail     int64 `json:"fail"`
	Canceled int64 `json:"canceled" svix:"v2" doc:"Messages whose delivery was canceled."`
}

// MessageApplicationIn lets a message create its application on the fly.
type MessageApplicationIn = ApplicationIn

// MessageIn creates a message.
type MessageIn struct {
	EventType string          `json:"eventType" doc:"An existing event type."`
	EventID   *string         `json:"eventId,omitempty" doc:"Your id for the event; a second message with the same eventId is refused with 409."`
	Payload   json.RawMessage `json:"payload" doc:"The JSON object to deliver, byte for byte."`
	Channels  []string        `json:"channels,omitempty"`
	Tags      []string        `json:"tags,omitempty"`
	DeliverAt *time.Time      `json:"deliverAt,omitempty" doc:"When to send the message, at least a minute and at most 24 hours from now: it waits until then, and goes to the endpoints subscribed at that time. Best effort: within about a second of it."`
	// PayloadRetentionPeriod and PayloadRetentionHours bound how long the payload is kept.
	PayloadRetentionPeriod *int64 `json:"payloadRetentionPeriod,omitempty" doc:"Days to keep the payload, 1 to 90; then it is expunged (within a minute), the message and its attempts staying. Exclusive with payloadRetentionHours; without either the payload lives as long as the message (--retention)."`
	PayloadRetentionHours  *int64 `json:"payloadRetentionHours,omitempty" doc:"Hours to keep the payload, 1 to 2160; exclusive with payloadRetentionPeriod."`
	// Application creates the application (with the path's id as uid) if it does not exist.
	Application *MessageApplicationIn `json:"application,omitempty" doc:"Creates the application with this name, and the path's app_id as its uid, when it does not exist."`
	// TransformationsParams carries a raw payload; Hookline has no transformations, so any
	// other parameter is refused.
	TransformationsParams *TransformationsParamsIn `json:"transformationsParams,omitempty" doc:"Only rawPayload is supported."`
}

// TransformationsParamsIn are the transformation parameters of a message Hookline honours.
type TransformationsParamsIn struct {
	RawPayload *string `json:"rawPayload,omitempty" doc:"The payload as exact JSON text (an object), sent instead of payload (which must then be {} or absent): stored, schema-checked, signed and delivered byte for byte."`
}

// payloadRetention returns how long the message's payload is to be kept (zero: as long as the
// message), checked against Svix's bounds.
func (in *MessageIn) payloadRetention() (time.Duration, error) {
	switch {
	case in.PayloadRetentionPeriod != nil && in.PayloadRetentionHours != nil:
		msg := "send payloadRetentionPeriod (days) or payloadRetentionHours, not both"
		return 0, &hookline.Error{Code: hookline.EINVALID, Message: msg, Fields: []hookline.FieldError{
			{Loc: []string{"body", "payloadRetentionPeriod"}, Msg: msg, Type: "conflict"},
			{Loc: []string{"body", "payloadRetentionHours"}, Msg: msg, Type: "conflict"}}}
	case in.PayloadRetentionPeriod != nil:
		if d := *in.PayloadRetentionPeriod; d < 1 || d > 90 {
			return 0, fieldError("body", "payloadRetentionPeriod", "value", "must be 1 to 90 (days)")
		}
		return time.Duration(*in.PayloadRetentionPeriod) * 24 * time.Hour, nil
	case in.PayloadRetentionHours != nil:
		if h := *in.PayloadRetentionHours; h < 1 || h > 2160 {
			return 0, fieldError("body", "payloadRetentionHours", "value", "must be 1 to 2160 (hours)")
		}
		return time.Duration(*in.PayloadRetentionHours) * time.Hour, nil
	}
	return 0, nil
}

// payload returns the message's payload and the request field it came from: the raw text
// of transformationsParams.rawPayload, or payload.
func (in *MessageIn) payload() (json.RawMessage, []string, error) {
	if in.TransformationsParams == nil || in.TransformationsParams.RawPayload == nil {
		return in.Payload, []string{"payload"}, nil
	}
	if p := bytes.TrimSpace(in.Payload); len(p) > 0 && !bytes.Equal(p, []byte("null")) {
		var obj map[string]json.RawMessage
		if json.Unmarshal(p, &obj) != nil || len(obj) > 0 {
			msg := "a message has one payload: send payload {} (or none) with transformationsParams.rawPayload"
			return nil, nil, &hookline.Error{Code: hookline.EINVALID, Message: msg, Fields: []hookline.FieldError{
				{Loc: []string{"body", "payload"}, Msg: msg, Type: "conflict"},
				{Loc: []string{"body", "transformationsParams", "rawPayload"}, Msg: msg, Type: "conflict"}}}
		}
	}
	return json.RawMessage(*in.TransformationsParams.RawPayload), []string{"transformationsParams", "rawPayload"}, nil
}

// MessageOut is a message.
type MessageOut struct {
	ID        string          `json:"id"`
	EventType string          `json:"eventType"`
	EventID   *string         `json:"eventId,omitempty"`
	Payload   json.RawMessage `json:"payload"`
	Channels  []string        `json:"channels,omitempty"`
	Tags      []string        `json:"tags,omitempty"`
	Timestamp time.Time       `json:"timestamp"`
	DeliverAt *time.Time      `json:"deliverAt,omitempty" svix:"v2"`
}

var emptyObject = json.RawMessage("{}")

func messageOut(m *hookline.Message, withContent bool) MessageOut {
	out := MessageOut{ID: m.ID, EventType: m.EventType, EventID: optString(m.EventID), Payload: m.Payload,
		Channels: m.Channels, Tags: m.Tags, Timestamp: m.CreatedAt, DeliverAt: m.DeliverAt}
	switch {
	case !withContent:
		out.Payload = emptyObject
	case m.Expunged():
		out.Payload = hookline.ExpiredPayload
	}
	return out
}

// TokenIn creates an API token (a Hookline extension of the Svix API; operator tokens only).
type TokenIn struct {
	Kind      string  `json:"kind" enum:"operator,application" doc:"operator: everything; application: one application's endpoints, messages and attempts."`
	AppID     *string `json:"appId,omitempty" doc:"The application (id or uid) an application token is bound to."`
	Name      string  `json:"name,omitempty"`
	ExpiresIn *int64  `json:"expiresIn,omitempty" doc:"Lifetime in seconds; absent: no expiry."`
}

// TokenOut describes a token; its text is only in TokenCreatedOut.
type TokenOut struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Kind      string     `json:"kind"`
	AppID     *string    `json:"appId,omitempty"`
	Prefix    string     `json:"prefix" doc:"The first characters of the token, to recognise it."`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	// LastUsedAt is written at most once a minute per token.
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty" doc:"When the token last authenticated a request, to the minute; absent: never."`
}

// TokenCreatedOut is a new token, with its text: shown once, never again.
type TokenCreatedOut struct {
	TokenOut
	Token string `json:"token"`
}

func tokenOut(t *hookline.Token) TokenOut {
	return TokenOut{ID: t.ID, Name: t.Name, Kind: string(t.Kind), AppID: optString(t.AppID), Prefix: t.Prefix,
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, LastUsedAt: t.LastUsedAt}
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// microTime returns *t in UTC to the microsecond, as the stores keep times, or nil.
func microTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
