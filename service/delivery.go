package service

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookline/hookline"
)

// EndpointEvents is told when an endpoint is enabled or disabled by hand, so operational
// webhooks go out (the delivery package's Announcer implements it).
type EndpointEvents interface {
	EndpointEnabled(ctx context.Context, ep *hookline.Endpoint)
	EndpointDisabled(ctx context.Context, ep *hookline.Endpoint, failSince *time.Time, trigger string)
}

// SetEndpointEvents registers who hears of manual enables and disables.
func (s *Service) SetEndpointEvents(e EndpointEvents) { s.events = e }

// applyEnabledChange records an enable or disable made through an update: the reason, the
// health reset on enabling, and the operational webhook. at stamps the change.
func (s *Service) applyEnabledChange(ctx context.Context, ep *hookline.Endpoint, wasDisabled bool, at time.Time) error {
	if ep.Disabled == wasDisabled {
		return nil
	}
	reason := ""
	if ep.Disabled {
		reason = "manual"
	}
	if _, err := s.store.SetEndpointDisabled(ctx, ep.AppID, ep.ID, ep.Disabled, reason, at); err != nil {
		return err
	}
	ep.DisabledReason = reason
	if s.events != nil {
		if ep.Disabled {
			// Svix's payload always carries failSince: the endpoint's failing streak if it has
			// one, else the moment it was switched off.
			failSince := ep.Health.FailingSince
			if failSince == nil {
				failSince = &at
			}
			s.events.EndpointDisabled(ctx, ep, failSince, "manual")
		} else {
			s.events.EndpointEnabled(ctx, ep)
		}
	}
	return nil
}

// SetEndpointEnabled enables or disables an endpoint (the dashboard's status toggle).
func (s *Service) SetEndpointEnabled(ctx context.Context, ep *hookline.Endpoint, enabled bool) error {
	was := ep.Disabled
	ep.Disabled = !enabled
	return s.applyEnabledChange(ctx, ep, was, s.clock.Now())
}

// Resend sends a message to an endpoint again now, as a manual attempt.
func (s *Service) Resend(ctx context.Context, appID, msgID, endpointID string) error {
	msg, err := s.store.GetMessage(ctx, appID, msgID)
	if err != nil {
		return err
	}
	if msg.Expunged() {
		return hookline.Errorf(hookline.EEXPUNGED, "message %s cannot be sent again: its payload was expunged", msg.ID)
	}
	if _, err := s.store.RequeueDelivery(ctx, appID, msgID, endpointID, s.clock.Now()); err != nil {
		return err
	}
	s.onWork()
	return nil
}

// SendExample sends an example message to one endpoint: a test.webhook, or the example
// (schema "examples", by index) of a named event type.
func (s *Service) SendExample(ctx context.Context, app *hookline.Application, ep *hookline.Endpoint, eventType string, index int) (*hookline.Message, error) {
	if eventType == "" {
		eventType = hookline.TestEventType
	}
	now := s.clock.Now()
	var payload json.RawMessage
	if eventType == hookline.TestEventType {
		p, err := json.Marshal(map[string]any{
			"type": hookline.TestEventType, "timestamp": now,
			"data": map[string]any{"message": "This is a test webhook from Hookline.", "endpointId": ep.ID},
		})
		if err != nil {
			return nil, err
		}
		payload = p
	} else {
		et, err := s.LookupEventType(ctx, eventType)
		if hookline.IsNotFound(err) {
			return nil, hookline.Errorf(hookline.EUNKNOWNEVENTTYPE, "event type %q does not exist", eventType)
		}
		if err != nil {
			return nil, err
		}
		ex, err := schemaExample(et, index)
		if err != nil {
			return nil, err
		}
		payload = ex
	}
	msg := &hookline.Message{EventType: eventType, Payload: payload, OnlyEndpointID: ep.ID}
	msg.ID = hookline.NewID(hookline.PrefixMessage)
	msg.AppID = app.ID
	msg.CreatedAt = now
	if err := s.store.CreateMessage(ctx, msg); err != nil {
		return nil, err
	}
	s.onWork()
	return msg, nil
}

// schemaExample returns the index-th entry of the latest schema's "examples".
func schemaExample(et *hookline.EventType, index int) (json.RawMessage, error) {
	_, raw := et.LatestSchema()
	var doc struct {
		Examples []json.RawMessage `json:"examples"`
	}
	if raw != nil {
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("read schema of %s: %w", et.Name, err)
		}
	}
	if len(doc.Examples) == 0 {
		return nil, hookline.Errorf(hookline.EINVALID, "event type %q has no example: add an \"examples\" array to its schema", et.Name)
	}
	if index < 0 || index >= len(doc.Examples) {
		return nil, hookline.Errorf(hookline.EINVALID, "exampleIndex %d is out of range: event type %q has %d examples", index, et.Name, len(doc.Examples))
	}
	if err := CheckPayload(doc.Examples[index], "examples", fmt.Sprint(index)); err != nil {
		return nil, hookline.Errorf(hookline.ErrorCode(err), "example %d of event type %q cannot be sent: %s", index, et.Name, hookline.ErrorMessage(err))
	}
	return doc.Examples[index], nil
}
