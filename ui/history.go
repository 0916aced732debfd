package ui

import (
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/destination"
)

// attemptRow is an attempt with the event type of its message, for the history tables, and
// on the application-wide history the name of its endpoint.
type attemptRow struct {
	Attempt   hookline.Attempt
	EventType string
	Endpoint  string
}

// attemptRows looks up the event types of the attempts' messages, each message once.
func (d *Dashboard) attemptRows(r *http.Request, app *hookline.Application, attempts []hookline.Attempt) ([]attemptRow, error) {
	types := map[string]string{}
	rows := make([]attemptRow, len(attempts))
	for i, at := range attempts {
		et, ok := types[at.MessageID]
		if !ok {
			msg, err := d.store.GetMessage(r.Context(), app.ID, at.MessageID)
			switch {
			case hookline.IsNotFound(err):
				et = "(purged)"
			case err != nil:
				return nil, err
			default:
				et = msg.EventType
			}
			types[at.MessageID] = et
		}
		rows[i] = attemptRow{Attempt: at, EventType: et}
	}
	return rows, nil
}

// statusFilters are the status choices of the history filter, by query value.
var statusFilters = map[string]hookline.MessageStatus{
	"success": hookline.StatusSuccess, "failed": hookline.StatusFail,
	"pending": hookline.StatusPending, "sending": hookline.StatusSending, "canceled": hookline.StatusCanceled,
}

type historyData struct {
	// Endpoint is the endpoint whose history this is; nil on the application's history.
	Endpoint *hookline.Endpoint
	// Base is the page's own path, which the filter form and its links use.
	Base string
	// Waiting is a message just sent to the endpoint (the "sent" parameter after Send test)
	// that has no attempt yet; nil otherwise.
	Waiting *hookline.Message
	Rows    []attemptRow
	Pager   pager
	Filter  deliveryFilter
	Choices filterChoices
	Search  search
	// Live is the route that answers the attempts finished since Since (the page's time), on
	// the first page ("" on later pages); Select is the id of the bulk-resend form, when the
	// session may resend.
	Live, Since string
	Select      string
}

// history is an endpoint's delivery history: its attempts, newest first, with filters.
func (d *Dashboard) history(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	return d.renderHistory(w, r, s, app, ep)
}

// appHistory is the delivery history of all the application's endpoints.
func (d *Dashboard) appHistory(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	return d.renderHistory(w, r, s, app, nil)
}

// historyQuery reads the history's filters from the request: the store's list options (the
// page the iterator names, else the first), the filter as the page shows it, the fields that did
// not parse, and what the search found.
func (d *Dashboard) historyQuery(r *http.Request, s *session, app *hookline.Application, ep *hookline.Endpoint) (hookline.AttemptListOptions, deliveryFilter, map[string]string, search, error) {
	f, errs := parseDeliveryFilter(d.tr(r), r.URL.Query())
	f.Channel = "" // attempts have no channel filter
	if ep != nil {
		f.Endpoint = ""
	} else {
		f.Endpoint = s.scopedEndpoint(f.Endpoint)
	}
	opts := hookline.AttemptListOptions{ListOptions: listOptions(r, 25, true), EndpointID: f.Endpoint, Status: f.status,
		CodeClass: f.codeClass, Before: f.until, After: f.after()}
	if ep != nil {
		opts.EndpointID = ep.ID
	}
	if f.EventType != "" {
		opts.EventTypes = []string{f.EventType}
	}
	srch, err := d.resolveSearch(r, app, f.Q)
	if err != nil {
		return opts, f, errs, srch, err
	}
	if srch.Message != nil {
		opts.MessageID = srch.Message.ID
	}
	opts.Tag = srch.Tag
	return opts, f, errs, srch, nil
}

// nameEndpoints fills in the endpoint column of the application-wide history: each attempt's
// endpoint by its description or host, else (deleted) by its id.
func nameEndpoints(rows []attemptRow, endpoints []hookline.Endpoint) {
	names := map[string]string{}
	for _, e := range endpoints {
		names[e.ID] = endpointName(&e)
	}
	for i := range rows {
		if rows[i].Endpoint = names[rows[i].Attempt.EndpointID]; rows[i].Endpoint == "" {
			rows[i].Endpoint = rows[i].Attempt.EndpointID
		}
	}
}

func (d *Dashboard) renderHistory(w http.ResponseWriter, r *http.Request, s *session, app *hookline.Application, ep *hookline.Endpoint) error {
	q := r.URL.Query()
	data := historyData{Endpoint: ep, Base: appURL(app.ID) + "/attempts"}
	if ep != nil {
		data.Base = epURL(app.ID, ep.ID) + "/history"
	}
	opts, f, errs, srch, err := d.historyQuery(r, s, app, ep)
	if err != nil {
		return err
	}
	data.Filter, data.Search = f, srch
	page, err := d.store.ListAttempts(r.Context(), app.ID, opts)
	if err != nil {
		return err
	}
	if data.Rows, err = d.attemptRows(r, app, page.Data); err != nil {
		return err
	}
	if n := len(page.Data); n > 0 {
		data.Pager = makePager(r, opts.ListOptions, page.Done, page.Data[0].ID, page.Data[n-1].ID)
	} else {
		data.Pager = makePager(r, opts.ListOptions, true, "", "")
	}
	if data.Choices, err = d.filterChoices(r, s, app, attemptStatusFilters(d.tr(r)), ep == nil); err != nil {
		return err
	}
	if ep == nil {
		nameEndpoints(data.Rows, data.Choices.Endpoints)
	}
	if opts.Iterator == "" && len(errs) == 0 {
		// The first page follows new attempts (app.js asks the live route for them).
		data.Live, data.Since = f.Link(data.Base+"/live"), d.liveSince()
	}
	if s.CanWrite() {
		data.Select = bulkFormID
	}
	v := &view{Title: d.tr(r).T("common.deliveryHistory"), Session: s, App: app, Nav: "history", Errors: errs}
	if ep != nil {
		v.Nav = "endpoints"
		if data.Waiting, err = d.waitingMessage(r, app, ep, q.Get("sent")); err != nil {
			return err
		}
		if data.Waiting != nil {
			// Without JavaScript the page reloads itself (a meta refresh in <noscript>) until
			// the attempt is there; with it, app.js adds the attempt as it comes.
			v.NoScriptRefresh = 2
		}
	}
	v.Data = data
	return d.render(w, r, http.StatusOK, pageHistory, v)
}

// endpointName is what an endpoint is called in lists: its description, else its URL's host.
func endpointName(ep *hookline.Endpoint) string {
	if ep.Description != "" {
		return ep.Description
	}
	if ep.Destination != nil {
		desc, _ := destination.Describe(ep.Destination.Type)
		return desc.Title + " " + urlHost(destination.Redacted(*ep.Destination))
	}
	return urlHost(ep.URL)
}

type headerPair struct{ Name, Value string }

type attemptData struct {
	Attempt  *hookline.Attempt
	Message  *hookline.Message // nil when purged
	Endpoint *hookline.Endpoint
	Headers  []headerPair
}

func (d *Dashboard) showAttempt(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	at, err := d.store.GetAttempt(r.Context(), app.ID, r.PathValue("attempt"))
	if hookline.IsNotFound(err) || (err == nil && !s.Sees(at.EndpointID)) {
		return notFound("no such attempt")
	}
	if err != nil {
		return err
	}
	data := attemptData{Attempt: at}
	if msg, err := d.store.GetMessage(r.Context(), app.ID, at.MessageID); err == nil {
		data.Message = msg
	} else if !hookline.IsNotFound(err) {
		return err
	}
	if ep, err := d.store.GetEndpoint(r.Context(), app.ID, at.EndpointID); err == nil {
		data.Endpoint = ep
	} else if !hookline.IsNotFound(err) {
		return err
	}
	for _, k := range sortedKeys(at.RequestHeaders) {
		data.Headers = append(data.Headers, headerPair{k, at.RequestHeaders[k]})
	}
	return d.render(w, r, http.StatusOK, pageAttempt, &view{Title: d.tr(r).T("attempt.title", "id", at.ID), Session: s, App: app, Nav: "endpoints", Data: data})
}

// waitingFor is how long after a test send the history page waits for its first attempt,
// reloading itself; a delivery that takes longer is retried later and shows up then.
const waitingFor = time.Minute

// waitingMessage returns the message msgID, just sent to ep, while it has no attempt there.
func (d *Dashboard) waitingMessage(r *http.Request, app *hookline.Application, ep *hookline.Endpoint, msgID string) (*hookline.Message, error) {
	if !strings.HasPrefix(msgID, hookline.PrefixMessage) || len(msgID) > 64 {
		return nil, nil
	}
	msg, err := d.store.GetMessage(r.Context(), app.ID, msgID)
	if hookline.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if msg.ID != msgID || d.svc.Now().Sub(msg.CreatedAt) > waitingFor {
		return nil, nil
	}
	page, err := d.store.ListAttempts(r.Context(), app.ID, hookline.AttemptListOptions{ListOptions: hookline.ListOptions{Limit: 1}, EndpointID: ep.ID, MessageID: msg.ID})
	if err != nil || len(page.Data) > 0 {
		return nil, err
	}
	return msg, nil
}
