package ui

import (
	"net/http"
	"slices"

	"github.com/hookline/hookline"
)

// The message log of an application (filtered like the delivery history, in filters.go), a
// message's page with its deliveries and attempts, and its button that sends it to one endpoint
// again. The delivery history of attempts is history.go.

type messagesData struct {
	Messages []hookline.Message
	Pager    pager
	Filter   deliveryFilter
	Choices  filterChoices
	Search   search
	Curl     string
}

// listMessages is the application's message log, newest first, with filters.
func (d *Dashboard) listMessages(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	f, errs := parseDeliveryFilter(d.tr(r), r.URL.Query())
	f.Endpoint = s.scopedEndpoint(f.Endpoint)
	opts := hookline.MessageListOptions{ListOptions: listOptions(r, 25, true), Channel: f.Channel, EndpointID: f.Endpoint,
		Status: f.status, CodeClass: f.codeClass, Before: f.until, After: f.after()}
	if f.EventType != "" {
		opts.EventTypes = []string{f.EventType}
	}
	data := messagesData{Filter: f,
		Curl: "curl -X POST " + d.publicBase(r) + "/api/v1/app/" + app.ID + "/msg \\\n  -H \"Authorization: Bearer $HOOKLINE_TOKEN\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\"eventType\": \"order.paid\", \"payload\": {\"orderId\": \"1234\"}}'"}
	if data.Search, err = d.resolveSearch(r, app, f.Q); err != nil {
		return err
	}
	opts.Tag = data.Search.Tag
	if data.Search.Message != nil && s.Scoped() {
		if ok, err := d.messageInScope(r, s, app, data.Search.Message.ID); err != nil {
			return err
		} else if !ok {
			data.Search.Message = nil
		}
	}
	if data.Search.Message != nil {
		// A message found by its id or eventId is the one result.
		data.Messages = []hookline.Message{*data.Search.Message}
	} else {
		page, err := d.store.ListMessages(r.Context(), app.ID, opts)
		if err != nil {
			return err
		}
		data.Messages = page.Data
		if n := len(page.Data); n > 0 {
			data.Pager = makePager(r, opts.ListOptions, page.Done, page.Data[0].ID, page.Data[n-1].ID)
		} else {
			data.Pager = makePager(r, opts.ListOptions, true, "", "")
		}
	}
	if data.Choices, err = d.filterChoices(r, s, app, deliveryStatusFilters(d.tr(r)), true); err != nil {
		return err
	}
	return d.render(w, r, http.StatusOK, pageMessages, &view{Title: app.Name + " · " + d.tr(r).T("common.messages"), Session: s, App: app, Nav: "messages", Data: data, Errors: errs})
}

type deliveryRow struct {
	Delivery hookline.Delivery
	Endpoint *hookline.Endpoint // nil when deleted
}

type messageData struct {
	Message    *hookline.Message
	Deliveries []deliveryRow
	Attempts   []attemptRow
}

func (d *Dashboard) showMessage(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	msg, err := d.store.GetMessage(r.Context(), app.ID, r.PathValue("msg"))
	if hookline.IsNotFound(err) {
		return notFound("no such message")
	}
	if err != nil {
		return err
	}
	data := messageData{Message: msg}
	deliveries, err := d.store.ListDeliveries(r.Context(), app.ID, msg.ID)
	if err != nil {
		return err
	}
	deliveries = slices.DeleteFunc(deliveries, func(dl hookline.Delivery) bool { return !s.Sees(dl.EndpointID) })
	if len(deliveries) == 0 && s.Scoped() {
		return notFound("no such message") // it went to none of the scoped endpoints
	}
	for _, dl := range deliveries {
		row := deliveryRow{Delivery: dl}
		if ep, err := d.store.GetEndpoint(r.Context(), app.ID, dl.EndpointID); err == nil {
			row.Endpoint = ep
		} else if !hookline.IsNotFound(err) {
			return err
		}
		data.Deliveries = append(data.Deliveries, row)
	}
	page, err := d.store.ListAttempts(r.Context(), app.ID, hookline.AttemptListOptions{ListOptions: hookline.ListOptions{Limit: 50, Descending: true}, MessageID: msg.ID})
	if err != nil {
		return err
	}
	for _, at := range page.Data {
		if !s.Sees(at.EndpointID) {
			continue
		}
		data.Attempts = append(data.Attempts, attemptRow{Attempt: at, EventType: msg.EventType})
	}
	return d.render(w, r, http.StatusOK, pageMessage, &view{Title: d.tr(r).T("message.title", "id", msg.ID), Session: s, App: app, Nav: "messages", Data: data})
}

// resend sends a message to one endpoint again, now.
func (d *Dashboard) resend(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	msg, err := d.store.GetMessage(r.Context(), app.ID, r.PathValue("msg"))
	if hookline.IsNotFound(err) {
		return notFound("no such message")
	}
	if err != nil {
		return err
	}
	ep, err := d.store.GetEndpoint(r.Context(), app.ID, r.PostFormValue("endpoint"))
	if hookline.IsNotFound(err) || (err == nil && !s.Sees(ep.ID)) {
		return notFound("no such endpoint")
	}
	if err != nil {
		return err
	}
	if err := d.svc.Resend(r.Context(), app.ID, msg.ID, ep.ID); err != nil {
		return err
	}
	back := epURL(app.ID, ep.ID) + "/history"
	if b := r.PostFormValue("back"); b != "" {
		back = safeNext(b)
	}
	return d.done(w, r, s, back, d.tr(r).T("message.resent", "id", msg.ID, "url", endpointAddress(d.tr(r), ep)))
}

// messageInScope reports whether the message msgID went to an endpoint the session sees.
func (d *Dashboard) messageInScope(r *http.Request, s *session, app *hookline.Application, msgID string) (bool, error) {
	deliveries, err := d.store.ListDeliveries(r.Context(), app.ID, msgID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(deliveries, func(dl hookline.Delivery) bool { return s.Sees(dl.EndpointID) }), nil
}
