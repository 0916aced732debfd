package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

// MessageSearchIn is the body of a message search: the message list's filters, in a body.
type MessageSearchIn struct {
	Limit       *int      `json:"limit,omitempty" doc:"Page size, 1 to 250 (default 50)."`
	Iterator    *string   `json:"iterator,omitempty" doc:"The iterator (or prevIterator) of the page before."`
	Channel     *string   `json:"channel,omitempty" doc:"Only messages sent on this channel."`
	Before      *bodyTime `json:"before,omitempty" doc:"Only messages created before this time."`
	After       *bodyTime `json:"after,omitempty" doc:"Only messages created after this time."`
	WithContent *bool     `json:"with_content,omitempty" doc:"Include payloads (default false)."`
	Tag         *string   `json:"tag,omitempty" doc:"Only messages with this tag."`
	EventTypes  []string  `json:"event_types,omitempty" doc:"Only these event types."`
}

// bodyTime is a date-time member of a body that the handler parses, so that a bad one is a
// 422 naming it rather than a 400 about the whole body.
type bodyTime string

// JSONSchema describes it as the date-time it is.
func (bodyTime) JSONSchema() map[string]any {
	return map[string]any{"type": "string", "format": "date-time"}
}

// parse returns the time, or a 422 naming the member.
func (b *bodyTime) parse(name string) (*time.Time, error) {
	if b == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(*b))
	if err != nil {
		return nil, fieldError("body", name, "value", "must be an RFC 3339 time, such as 2026-06-12T14:05:00Z")
	}
	return &t, nil
}

// MessageEventsQuery are the query parameters of the message stream.
type MessageEventsQuery struct {
	Limit      int       `query:"limit" doc:"Page size, 1 to 250 (default 50)."`
	Iterator   string    `query:"iterator" doc:"The iterator of the page before; absent: from the start (or from after)."`
	EventTypes []string  `query:"event_types" doc:"Only these event types."`
	Channels   []string  `query:"channels" doc:"Only messages sent on one of these channels."`
	After      time.Time `query:"after" doc:"Without an iterator: only messages created after this time."`
}

// MessageEventsOut is one page of the message stream. Iterator is always set: pass it back to
// read on; once done, pass it again later to read what was created meanwhile.
type MessageEventsOut struct {
	Data     []MessageOut `json:"data"`
	Iterator string       `json:"iterator"`
	Done     bool         `json:"done"`
}

// streamSettle is how old a message must be to appear in the stream. Message ids follow
// creation time, but commits of concurrent requests land in any order: a message appears only
// once every message created before it has had time to commit, so none is ever added behind a
// consumer's iterator.
const streamSettle = time.Second

func (a *API) searchMessages(w http.ResponseWriter, r *http.Request) error {
	var in MessageSearchIn
	if err := decode(r, &in); err != nil {
		return err
	}
	app, err := a.application(r)
	if err != nil {
		return err
	}
	opts := hookline.ListOptions{Limit: defaultLimit, Descending: true}
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > maxLimit {
			return fieldError("body", "limit", "value", "must be a whole number from 1 to 250")
		}
		opts.Limit = *in.Limit
	}
	if in.Iterator != nil && *in.Iterator != "" {
		opts.Iterator, opts.Backward = strings.CutPrefix(*in.Iterator, "-")
		if len(opts.Iterator) > 300 {
			return fieldError("body", "iterator", "value", "is not a valid iterator")
		}
	}
	mo := hookline.MessageListOptions{ListOptions: opts}
	if mo.Before, err = in.Before.parse("before"); err != nil {
		return err
	}
	if mo.After, err = in.After.parse("after"); err != nil {
		return err
	}
	if in.Channel != nil {
		mo.Channel = *in.Channel
	}
	if in.Tag != nil {
		mo.Tag = *in.Tag
	}
	for _, t := range in.EventTypes {
		if t = strings.TrimSpace(t); t != "" {
			mo.EventTypes = append(mo.EventTypes, t)
		}
	}
	return a.writeMessages(w, r, app.ID, mo, in.WithContent != nil && *in.WithContent)
}

func (a *API) messageEvents(w http.ResponseWriter, r *http.Request) error {
	app, err := a.application(r)
	if err != nil {
		return err
	}
	opts, err := listOptions(r, false)
	if err != nil {
		return err
	}
	if opts.Backward || opts.Descending {
		return fieldError("query", "iterator", "value", "the stream reads forward only: pass the iterator of the page before")
	}
	settled := a.svc.Now().Add(-streamSettle)
	mo := hookline.MessageListOptions{ListOptions: opts, EventTypes: eventTypesQuery(r), Channels: listQuery(r, "channels"), Before: &settled}
	if opts.Iterator == "" {
		if mo.After, err = timeQuery(r, "after"); err != nil {
			return err
		}
	}
	page, err := a.store.ListMessages(r.Context(), app.ID, mo)
	if err != nil {
		return err
	}
	out := MessageEventsOut{Data: make([]MessageOut, len(page.Data)), Iterator: opts.Iterator, Done: page.Done}
	for i := range page.Data {
		out.Data[i] = messageOut(&page.Data[i], true)
	}
	switch n := len(page.Data); {
	case n > 0:
		out.Iterator = page.Data[n-1].ID
	case out.Iterator == "":
		// Nothing yet: the stream continues from the time up to which it is settled.
		from := settled
		if mo.After != nil && mo.After.After(from) {
			from = *mo.After
		}
		out.Iterator = hookline.FirstIDAt(hookline.PrefixMessage, from)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
