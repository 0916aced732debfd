package delivery

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/hookline/hookline"
)

// The operational webhooks: events about delivery itself, sent to the operator's endpoints
// (managed at /api/v1/operational-webhook/endpoint). Names and payloads follow Svix's.
const (
	EventEndpointDisabled = "endpoint.disabled"
	EventEndpointEnabled  = "endpoint.enabled"
	EventAttemptExhausted = "message.attempt.exhausted"
	EventAttemptFailing   = "message.attempt.failing"
	EventAttemptRecovered = "message.attempt.recovered"
)

// OperationalEventTypes lists the operational webhooks' event types.
var OperationalEventTypes = []string{EventEndpointDisabled, EventEndpointEnabled, EventAttemptExhausted, EventAttemptFailing, EventAttemptRecovered}

// Announcer sends operational webhooks. They are ordinary messages of Hookline's internal
// application, so they are signed, retried and logged like any other.
type Announcer struct {
	store  Store
	clock  hookline.Clock
	logger *slog.Logger
	notify func()

	mu    sync.Mutex
	appID string
}

// NewAnnouncer returns an Announcer; notify wakes the dispatcher after an announcement.
func NewAnnouncer(store Store, clock hookline.Clock, logger *slog.Logger, notify func()) *Announcer {
	return &Announcer{store: store, clock: clock, logger: logger, notify: notify}
}

// Ensure finds or creates the internal application.
func (a *Announcer) Ensure(ctx context.Context) error {
	app, err := hookline.EnsureOperationalApp(ctx, a.store, a.clock.Now())
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.appID = app.ID
	a.mu.Unlock()
	return nil
}

// AppID returns the internal application's id ("" before Ensure).
func (a *Announcer) AppID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.appID
}

type endpointEventData struct {
	AppID       string     `json:"appId"`
	AppUID      *string    `json:"appUid,omitempty"`
	EndpointID  string     `json:"endpointId"`
	EndpointUID *string    `json:"endpointUid,omitempty"`
	FailSince   *time.Time `json:"failSince,omitempty"`
	Trigger     string     `json:"trigger,omitempty"`
}

type attemptEventData struct {
	AppID       string      `json:"appId"`
	AppUID      *string     `json:"appUid,omitempty"`
	MsgID       string      `json:"msgId"`
	MsgEventID  *string     `json:"msgEventId,omitempty"`
	EndpointID  string      `json:"endpointId"`
	LastAttempt lastAttempt `json:"lastAttempt"`
}

type lastAttempt struct {
	ID                 string    `json:"id"`
	Timestamp          time.Time `json:"timestamp"`
	ResponseStatusCode int       `json:"responseStatusCode"`
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// EndpointDisabled announces that an endpoint was disabled (trigger "automatic" or "manual").
func (a *Announcer) EndpointDisabled(ctx context.Context, ep *hookline.Endpoint, failSince *time.Time, trigger string) {
	a.send(ctx, EventEndpointDisabled, ep.AppID, endpointEventData{AppID: ep.AppID, AppUID: a.appUID(ctx, ep.AppID),
		EndpointID: ep.ID, EndpointUID: opt(ep.UID), FailSince: failSince, Trigger: trigger})
}

// EndpointEnabled announces that an endpoint was enabled again.
func (a *Announcer) EndpointEnabled(ctx context.Context, ep *hookline.Endpoint) {
	a.send(ctx, EventEndpointEnabled, ep.AppID, endpointEventData{AppID: ep.AppID, AppUID: a.appUID(ctx, ep.AppID),
		EndpointID: ep.ID, EndpointUID: opt(ep.UID)})
}

// Attempt announces an attempt event (failing, exhausted, recovered).
func (a *Announcer) Attempt(ctx context.Context, eventType string, job hookline.Job, at *hookline.Attempt) {
	a.send(ctx, eventType, job.Delivery.AppID, attemptEventData{AppID: job.Delivery.AppID, AppUID: a.appUID(ctx, job.Delivery.AppID),
		MsgID: job.Message.ID, MsgEventID: opt(job.Message.EventID), EndpointID: job.Endpoint.ID,
		LastAttempt: lastAttempt{ID: at.ID, Timestamp: at.CreatedAt, ResponseStatusCode: at.ResponseStatusCode}})
}

func (a *Announcer) appUID(ctx context.Context, appID string) *string {
	app, err := a.store.GetApplication(ctx, appID)
	if err != nil {
		return nil
	}
	return opt(app.UID)
}

func (a *Announcer) send(ctx context.Context, eventType, aboutApp string, data any) {
	internal := a.AppID()
	if internal == "" || aboutApp == internal {
		return // never announce about the announcements themselves
	}
	now := a.clock.Now()
	payload, err := json.Marshal(struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      any       `json:"data"`
	}{eventType, now, data})
	if err != nil {
		a.logger.Error("encode operational webhook", "type", eventType, "err", err)
		return
	}
	msg := &hookline.Message{ID: hookline.NewID(hookline.PrefixMessage), AppID: internal, EventType: eventType,
		Payload: payload, CreatedAt: now}
	if err := a.store.CreateMessage(ctx, msg); err != nil {
		a.logger.Error("send operational webhook", "type", eventType, "err", err)
		return
	}
	if a.notify != nil {
		a.notify()
	}
}
