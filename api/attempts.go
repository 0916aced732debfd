package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

// MessageAttemptOut is one delivery attempt.
type MessageAttemptOut struct {
	ID                 string      `json:"id"`
	EndpointID         string      `json:"endpointId"`
	MsgID              string      `json:"msgId"`
	Msg                *MessageOut `json:"msg,omitempty" doc:"The message, when with_msg=true."`
	URL                string      `json:"url"`
	Response           string      `json:"response" doc:"The first 20 KB of the response body, or what went wrong when no response came."`
	ResponseStatusCode int         `json:"responseStatusCode" doc:"0 when no response came (timeout, refused connection)."`
	ResponseDurationMs int64       `json:"responseDurationMs"`
	Status             int         `json:"status" enum:"0,1,2,3,4" doc:"0 success, 1 pending, 2 fail, 3 sending, 4 canceled."`
	StatusText         string      `json:"statusText" svix:"v2,expanded_statuses" enum:"success,pending,fail,sending,canceled" doc:"The status in words (for the 1.x Svix SDKs only with expanded_statuses=true)."`
	TriggerType        int         `json:"triggerType" enum:"0,1" doc:"0 scheduled, 1 manual."`
	Timestamp          time.Time   `json:"timestamp"`
}

func attemptOut(a *hookline.Attempt) MessageAttemptOut {
	return MessageAttemptOut{ID: a.ID, EndpointID: a.EndpointID, MsgID: a.MessageID, URL: a.URL, Response: a.Response,
		ResponseStatusCode: a.ResponseStatusCode, ResponseDurationMs: a.ResponseDurationMs, Status: int(a.Status), StatusText: statusText(a.Status),
		TriggerType: int(a.TriggerType), Timestamp: a.CreatedAt}
}

// MessageAttemptHeadersOut is the request headers an attempt sent; values of credential-like
// headers are hidden and named in sensitive.
type MessageAttemptHeadersOut struct {
	SentHeaders map[string]string `json:"sentHeaders"`
	Sensitive   []string          `json:"sensitive"`
}

// EndpointMessageOut is a message with its status at one endpoint.
type EndpointMessageOut struct {
	MessageOut
	Status      int        `json:"status" enum:"0,1,2,3,4" doc:"0 success, 1 pending, 2 fail, 3 sending, 4 canceled."`
	StatusText  string     `json:"statusText" svix:"v2,expanded_statuses" enum:"success,pending,fail,sending,canceled" doc:"The status in words (for the 1.x Svix SDKs only with expanded_statuses=true)."`
	NextAttempt *time.Time `json:"nextAttempt,omitempty"`
}

// MessageEndpointOut is an endpoint with the status of one message there. It has Svix's
// fields and no others (no metadata): the Svix SDKs refuse fields they do not know.
type MessageEndpointOut struct {
	ID           string     `json:"id"`
	UID          *string    `json:"uid,omitempty"`
	URL          string     `json:"url"`
	Description  string     `json:"description"`
	Version      int        `json:"version"`
	Disabled     bool       `json:"disabled"`
	EventTypes   []string   `json:"eventTypes,omitempty" svix:"v2"`
	FilterTypes  []string   `json:"filterTypes,omitempty" doc:"The 1.x name of eventTypes."`
	Channels     []string   `json:"channels,omitempty"`
	ThrottleRate *int       `json:"throttleRate,omitempty" svix:"v2"`
	RateLimit    *int       `json:"rateLimit,omitempty" doc:"The 1.x name of throttleRate."`
	CreatedAt    time.Time  `json:"createdAt"`
	UpdatedAt    time.Time  `json:"updatedAt"`
	Status       int        `json:"status" enum:"0,1,2,3,4" doc:"0 success, 1 pending, 2 fail, 3 sending, 4 canceled."`
	StatusText   string     `json:"statusText" svix:"v2" enum:"success,pending,fail,sending,canceled" doc:"The status in words."`
	NextAttempt  *time.Time `json:"nextAttempt,omitempty"`
}

// statusText is a status in words, as Svix's MessageStatusText.
func statusText(s hookline.MessageStatus) string {
	switch s {
	case hookline.StatusSuccess:
		return "success"
	case hookline.StatusFail:
		return "fail"
	case hookline.StatusSending:
		return "sending"
	case hookline.StatusCanceled:
		return "canceled"
	}
	return "pending"
}

// RecoverIn selects the failed messages to send again.
type RecoverIn struct {
	Since time.Time  `json:"since" doc:"Resend failed messages created at or after this time."`
	Until *time.Time `json:"until,omitempty" doc:"... and before this time (default: now)."`
}

// EmptyResponse is the body of a success that has nothing to say: {} (Svix's EmptyResponse).
type EmptyResponse struct{}

// EventExampleIn names the example to send.
type EventExampleIn struct {
	EventType    string `json:"eventType" doc:"test.webhook, or an event type whose schema has examples."`
	ExampleIndex *int   `json:"exampleIndex,omitempty" doc:"Which of the schema's examples (default 0)."`
}

// AttemptListQuery are the filters of the attempt lists.
type AttemptListQuery struct {
	Limit            int    `query:"limit" doc:"Page size, 1 to 250 (default 50)."`
	Iterator         string `query:"iterator"`
	Order            string `query:"order" enum:"ascending,descending" doc:"Sort order (default descending; a Hookline extension)."`
	ExpandedStatuses bool   `query:"expanded_statuses" doc:"Add statusText to each attempt (always there for clients other than the 1.x Svix SDKs)."`
	AttemptFilterQuery
	EndpointID  string `query:"endpoint_id" doc:"Only attempts to this endpoint (attempts by message)."`
	WithMsg     bool   `query:"with_msg" doc:"Include the message in each attempt."`
	WithContent bool   `query:"with_content" doc:"Include payloads of included messages (default true)."`
}

// DestinationListQuery pages the endpoints a message went to, by endpoint id.
type DestinationListQuery struct {
	Limit    int    `query:"limit" doc:"Page size, 1 to 250 (default 50)."`
	Iterator string `query:"iterator" doc:"The iterator of the page before."`
}

// AttemptGetQuery are the query parameters of an attempt read.
type AttemptGetQuery struct {
	ExpandedStatuses bool `query:"expanded_statuses" doc:"Add statusText (always there for clients other than the 1.x Svix SDKs)."`
}

// EndpointMessageListQuery are the filters of an endpoint's message list.
type EndpointMessageListQuery struct {
	Limit            int       `query:"limit" doc:"Page size, 1 to 250 (default 50)."`
	Iterator         string    `query:"iterator"`
	Order            string    `query:"order" enum:"ascending,descending" doc:"Sort order (default descending; a Hookline extension)."`
	ExpandedStatuses bool      `query:"expanded_statuses" doc:"Add statusText to each message (always there for clients other than the 1.x Svix SDKs)."`
	Status           int       `query:"status" enum:"0,1,2,3,4"`
	EventTypes       []string  `query:"event_types"`
	Channel          string    `query:"channel" doc:"Only messages sent on this channel."`
	Tag              string    `query:"tag" doc:"Only messages with this tag."`
	Before           time.Time `query:"before"`
	After            time.Time `query:"after"`
	WithContent      bool      `query:"with_content" doc:"Include payloads (default true)."`
}

func statusQuery(r *http.Request) (*hookline.MessageStatus, error) {
	s := r.URL.Query().Get("status")
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 4 {
		return nil, fieldError("query", "status", "value", "must be 0 (success), 1 (pending), 2 (fail), 3 (sending) or 4 (canceled)")
	}
	st := hookline.MessageStatus(n)
	return &st, nil
}

func eventTypesQuery(r *http.Request) []string { return listQuery(r, "event_types") }

// listQuery returns the values of a query parameter that may be repeated and may list values
// separated by commas, without blanks.
func listQuery(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// attemptFilters parses the filters shared by the attempt lists.
func attemptFilters(r *http.Request) (hookline.AttemptListOptions, error) {
	opts, err := listOptions(r, true)
	if err != nil {
		return hookline.AttemptListOptions{}, err
	}
	q := r.URL.Query()
	ao := hookline.AttemptListOptions{ListOptions: opts, EventTypes: eventTypesQuery(r), Channel: q.Get("channel"), Tag: q.Get("tag")}
	if ao.Status, err = statusQuery(r); err != nil {
		return ao, err
	}
	if ao.CodeClass, err = codeClassQuery(r); err != nil {
		return ao, err
	}
	if ao.Before, err = timeQuery(r, "before"); err != nil {
		return ao, err
	}
	if ao.After, err = timeQuery(r, "after"); err != nil {
		return ao, err
	}
	return ao, nil
}

func (a *API) writeAttempts(w http.ResponseWriter, r *http.Request, app *hookline.Application, ao hookline.AttemptListOptions) error {
	withMsg, err := boolQuery(r, "with_msg", false)
	if err != nil {
		return err
	}
	withContent, err := boolQuery(r, "with_content", true)
	if err != nil {
		return err
	}
	page, err := a.store.ListAttempts(r.Context(), app.ID, ao)
	if err != nil {
		return err
	}
	msgs := map[string]*MessageOut{}
	out := func(at *hookline.Attempt) MessageAttemptOut {
		o := attemptOut(at)
		if withMsg {
			if m, ok := msgs[at.MessageID]; ok {
				o.Msg = m
			} else if msg, err := a.store.GetMessage(r.Context(), app.ID, at.MessageID); err == nil {
				mo := messageOut(msg, withContent)
				msgs[at.MessageID], o.Msg = &mo, &mo
			}
		}
		return o
	}
	writeJSON(w, http.StatusOK, listResponse(page, ao.ListOptions, func(at *hookline.Attempt) string { return at.ID }, out))
	return nil
}

func (a *API) listAttemptsByEndpoint(w http.ResponseWriter, r *http.Request) error {
	app, ao, err := a.endpointAttemptFilters(r)
	if err != nil {
		return err
	}
	return a.writeAttempts(w, r, app, ao)
}

// endpointAttemptFilters finds the request's endpoint and parses the attempt filters, limited
// to that endpoint.
func (a *API) endpointAttemptFilters(r *http.Request) (*hookline.Application, hookline.AttemptListOptions, error) {
	app, ep, err := a.endpoint(r)
	if err != nil {
		return nil, hookline.AttemptListOptions{}, err
	}
	ao, err := attemptFilters(r)
	if err != nil {
		return nil, hookline.AttemptListOptions{}, err
	}
	ao.EndpointID = ep.ID
	return app, ao, nil
}

func (a *API) listAttemptsByMessage(w http.ResponseWriter, r *http.Request) error {
	app, msg, err := a.message(r)
	if err != nil {
		return err
	}
	ao, err := attemptFilters(r)
	if err != nil {
		return err
	}
	ao.MessageID = msg.ID
	epID := r.PathValue("endpoint_id") // the older route names the endpoint in the path
	if epID == "" {
		epID = r.URL.Query().Get("endpoint_id")
	}
	if epID != "" {
		ep, err := a.store.GetEndpoint(r.Context(), app.ID, epID)
		if err != nil {
			return err
		}
		ao.EndpointID = ep.ID
	}
	return a.writeAttempts(w, r, app, ao)
}

// attempt resolves {app_id}, {msg_id} and {attempt_id}.
func (a *API) attempt(r *http.Request) (*hookline.Attempt, error) {
	app, err := a.application(r)
	if err != nil {
		return nil, err
	}
	msg, err := a.store.GetMessage(r.Context(), app.ID, r.PathValue("msg_id"))
	if err != nil {
		return nil, err
	}
	at, err := a.store.GetAttempt(r.Context(), app.ID, r.PathValue("attempt_id"))
	if err != nil {
		return nil, err
	}
	if at.MessageID != msg.ID {
		return nil, hookline.Errorf(hookline.ENOTFOUND, "attempt %q not found", r.PathValue("attempt_id"))
	}
	return at, nil
}

func (a *API) getAttempt(w http.ResponseWriter, r *http.Request) error {
	at, err := a.attempt(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, attemptOut(at))
	return nil
}

func (a *API) getAttemptHeaders(w http.ResponseWriter, r *http.Request) error {
	at, err := a.attempt(r)
	if err != nil {
		return err
	}
	out := MessageAttemptHeadersOut{SentHeaders: map[string]string{}, Sensitive: []string{}}
	for k, v := range at.RequestHeaders {
		out.SentHeaders[k] = v
		if v == "[redacted]" {
			out.Sensitive = append(out.Sensitive, k)
		}
	}
	sortStrings(out.Sensitive)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) listAttemptedMessages(w http.ResponseWriter, r *http.Request) error {
	app, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	opts, err := listOptions(r, true)
	if err != nil {
		return err
	}
	eo := hookline.EndpointMessageListOptions{ListOptions: opts, EventTypes: eventTypesQuery(r),
		Channel: r.URL.Query().Get("channel"), Tag: r.URL.Query().Get("tag")}
	if eo.Status, err = statusQuery(r); err != nil {
		return err
	}
	if eo.Before, err = timeQuery(r, "before"); err != nil {
		return err
	}
	if eo.After, err = timeQuery(r, "after"); err != nil {
		return err
	}
	withContent, err := boolQuery(r, "with_content", true)
	if err != nil {
		return err
	}
	page, err := a.store.ListEndpointMessages(r.Context(), app.ID, ep.ID, eo)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listResponse(page, opts, func(m *hookline.EndpointMessage) string { return m.DeliveryID },
		func(m *hookline.EndpointMessage) EndpointMessageOut {
			return EndpointMessageOut{MessageOut: messageOut(&m.Message, withContent), Status: int(m.Status), StatusText: statusText(m.Status), NextAttempt: m.NextAttemptAt}
		}))
	return nil
}

func (a *API) listAttemptedDestinations(w http.ResponseWriter, r *http.Request) error {
	app, msg, err := a.message(r)
	if err != nil {
		return err
	}
	opts, err := listOptions(r, false)
	if err != nil {
		return err
	}
	deliveries, err := a.store.ListDeliveries(r.Context(), app.ID, msg.ID)
	if err != nil {
		return err
	}
	// A message has one delivery per endpoint, so the page is cut here: by endpoint id, after
	// the iterator (the last endpoint id of the page before).
	slices.SortFunc(deliveries, func(x, y hookline.Delivery) int { return strings.Compare(x.EndpointID, y.EndpointID) })
	resp := ListResponse[MessageEndpointOut]{Data: []MessageEndpointOut{}, Done: true}
	for _, d := range deliveries {
		if opts.Iterator != "" && d.EndpointID <= opts.Iterator {
			continue
		}
		if len(resp.Data) == opts.Limit {
			resp.Done = false
			break
		}
		ep, err := a.store.GetEndpoint(r.Context(), app.ID, d.EndpointID)
		if hookline.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		o := endpointOut(ep)
		resp.Data = append(resp.Data, MessageEndpointOut{ID: o.ID, UID: o.UID, URL: o.URL, Description: o.Description,
			Version: o.Version, Disabled: o.Disabled, EventTypes: o.EventTypes, FilterTypes: o.FilterTypes, Channels: o.Channels,
			ThrottleRate: o.ThrottleRate, RateLimit: o.RateLimit, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
			Status: int(d.Status), StatusText: statusText(d.Status), NextAttempt: d.NextAttemptAt})
	}
	if n := len(resp.Data); n > 0 {
		last := resp.Data[n-1].ID
		resp.Iterator = &last
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (a *API) resend(w http.ResponseWriter, r *http.Request) error {
	app, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	msg, err := a.store.GetMessage(r.Context(), app.ID, r.PathValue("msg_id"))
	if err != nil {
		return err
	}
	if err := a.svc.Resend(r.Context(), app.ID, msg.ID, ep.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, EmptyResponse{})
	return nil
}

func (a *API) recoverEndpoint(w http.ResponseWriter, r *http.Request) error {
	var in RecoverIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Since.IsZero() {
		return fieldError("body", "since", "missing", "is required")
	}
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	task, err := a.svc.Recover(r.Context(), ep, in.Since, in.Until)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, taskStartedOut(task))
	return nil
}

func (a *API) sendExample(w http.ResponseWriter, r *http.Request) error {
	var in EventExampleIn
	if err := decode(r, &in); err != nil {
		return err
	}
	app, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	idx := 0
	if in.ExampleIndex != nil {
		idx = *in.ExampleIndex
	}
	msg, err := a.svc.SendExample(r.Context(), app, ep, in.EventType, idx)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, messageOut(msg, true))
	return nil
}
