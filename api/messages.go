package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/hookline/hookline"
)

// MessageListQuery are the query parameters of the message list.
type MessageListQuery struct {
	Limit       int       `query:"limit" doc:"Page size, 1 to 250 (default 50)."`
	Iterator    string    `query:"iterator" doc:"The iterator (or prevIterator) of the page before."`
	Order       string    `query:"order" enum:"ascending,descending" doc:"Sort order (default descending; a Hookline extension)."`
	EventTypes  []string  `query:"event_types" doc:"Only these event types (repeat the parameter, or separate with commas)."`
	Channel     string    `query:"channel" doc:"Only messages sent on this channel."`
	Tag         string    `query:"tag" doc:"Only messages with this tag."`
	Before      time.Time `query:"before" doc:"Only messages created before this time (RFC 3339)."`
	After       time.Time `query:"after" doc:"Only messages created after this time (RFC 3339)."`
	WithContent bool      `query:"with_content" doc:"Include payloads (default true)."`
}

// MessageCreateQuery are the query parameters of message creation.
type MessageCreateQuery struct {
	WithContent bool `query:"with_content" doc:"Include the payload in the response (default true; the Svix 2.x SDKs send false)."`
}

// MessageGetQuery are the query parameters of a message read.
type MessageGetQuery struct {
	WithContent bool `query:"with_content" doc:"Include the payload (default true)."`
}

// DuplicateMessageError is the 409 answer to a message whose eventId was used before: the
// error, and the original message.
type DuplicateMessageError struct {
	HTTPError
	Existing *MessageOut `json:"existing,omitempty" doc:"The message first sent with this eventId."`
}

func (a *API) createMessage(w http.ResponseWriter, r *http.Request) error {
	var in MessageIn
	if err := decode(r, &in); err != nil {
		return err
	}
	withContent, err := boolQuery(r, "with_content", true)
	if err != nil {
		return err
	}
	payload, payloadLoc, err := in.payload()
	if err != nil {
		return err
	}
	app, err := a.application(r)
	if hookline.IsNotFound(err) && in.Application != nil {
		if err := requireOperator(r); err != nil {
			return err
		}
		var rate *int
		if rate, err = in.Application.rate(); err != nil {
			return err
		}
		app = &hookline.Application{Name: in.Application.Name, UID: r.PathValue("app_id"),
			RateLimit: rate, Metadata: in.Application.Metadata}
		app, _, err = a.svc.GetOrCreateApplication(r.Context(), app)
	}
	if err != nil {
		return err
	}
	retention, err := in.payloadRetention()
	if err != nil {
		return err
	}
	msg := &hookline.Message{EventType: in.EventType, EventID: deref(in.EventID), Payload: payload,
		Channels: in.Channels, Tags: in.Tags, DeliverAt: microTime(in.DeliverAt), PayloadRetention: retention}
	if err := a.svc.CreateMessage(r.Context(), app, msg, payloadLoc...); err != nil {
		var he *hookline.Error
		if errors.As(err, &he) && he.Code == hookline.EDUPLICATEEVENT {
			resp := DuplicateMessageError{HTTPError: HTTPError{Code: he.Code, Detail: he.Message}}
			if orig, gerr := a.store.GetMessage(r.Context(), app.ID, he.Existing); gerr == nil {
				out := messageOut(orig, true)
				resp.Existing = &out
			}
			writeJSON(w, http.StatusConflict, resp)
			return nil
		}
		return err
	}
	writeJSON(w, http.StatusAccepted, messageOut(msg, withContent))
	return nil
}

func (a *API) listMessages(w http.ResponseWriter, r *http.Request) error {
	app, err := a.application(r)
	if err != nil {
		return err
	}
	opts, err := listOptions(r, true)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	mo := hookline.MessageListOptions{ListOptions: opts, EventTypes: eventTypesQuery(r), Channel: q.Get("channel"), Tag: q.Get("tag")}
	if mo.Before, err = timeQuery(r, "before"); err != nil {
		return err
	}
	if mo.After, err = timeQuery(r, "after"); err != nil {
		return err
	}
	withContent, err := boolQuery(r, "with_content", true)
	if err != nil {
		return err
	}
	return a.writeMessages(w, r, app.ID, mo, withContent)
}

// writeMessages answers the page of the application's messages that mo selects.
func (a *API) writeMessages(w http.ResponseWriter, r *http.Request, appID string, mo hookline.MessageListOptions, withContent bool) error {
	page, err := a.store.ListMessages(r.Context(), appID, mo)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listResponse(page, mo.ListOptions, func(m *hookline.Message) string { return m.ID },
		func(m *hookline.Message) MessageOut { return messageOut(m, withContent) }))
	return nil
}

func (a *API) getMessage(w http.ResponseWriter, r *http.Request) error {
	app, err := a.application(r)
	if err != nil {
		return err
	}
	withContent, err := boolQuery(r, "with_content", true)
	if err != nil {
		return err
	}
	msg, err := a.store.GetMessage(r.Context(), app.ID, r.PathValue("msg_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, messageOut(msg, withContent))
	return nil
}

func timeQuery(r *http.Request, name string) (*time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fieldError("query", name, "value", "must be an RFC 3339 time, such as 2026-06-12T14:05:00Z")
	}
	return &t, nil
}

// message is the message a MessageIn asks for, before the service checks and stores it, and
// where its payload came from (for the locations of schema violations).
func (in *MessageIn) message() (*hookline.Message, []string, error) {
	payload, loc, err := in.payload()
	if err != nil {
		return nil, nil, err
	}
	return &hookline.Message{EventType: in.EventType, EventID: deref(in.EventID), Payload: payload,
		Channels: in.Channels, Tags: in.Tags, DeliverAt: microTime(in.DeliverAt)}, loc, nil
}
