package ui

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/destination"
	"github.com/hookline/hookline/i18n"
	"github.com/hookline/hookline/service"
)

// endpoint resolves {app} and {ep}.
func (d *Dashboard) endpoint(r *http.Request, s *session) (*hookline.Application, *hookline.Endpoint, error) {
	app, err := d.app(r, s)
	if err != nil {
		return nil, nil, err
	}
	ep, err := d.store.GetEndpoint(r.Context(), app.ID, r.PathValue("ep"))
	if hookline.IsNotFound(err) || (err == nil && !s.Sees(ep.ID)) {
		return nil, nil, notFound("no such endpoint")
	}
	return app, ep, err
}

// requireWrite refuses changes in a read-only portal.
func requireWrite(s *session) error {
	if !s.CanWrite() {
		return errReadOnly
	}
	return nil
}

// errReadOnly refuses a change in a read-only portal; the error page says it in the page's
// language.
var errReadOnly = hookline.Errorf(hookline.EFORBIDDEN, "This portal is read-only: you can look at everything but not change it.")

// eventTypes returns the catalogue's live (unarchived) event types, for pickers and filters.
func (d *Dashboard) eventTypes(r *http.Request) ([]hookline.EventType, error) {
	page, err := d.store.ListEventTypes(r.Context(), hookline.EventTypeListOptions{ListOptions: hookline.ListOptions{Limit: 250}})
	return page.Data, err
}

type endpointsData struct {
	Endpoints []hookline.Endpoint
	Pager     pager
	Curl      string
	// Chart is the application's deliveries over the chosen range; Health each endpoint's
	// last 24 hours, by endpoint id.
	Chart  *deliveryChart
	Health map[string]*endpointHealth
}

func (d *Dashboard) listEndpoints(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	opts := listOptions(r, 50, false)
	var page hookline.Page[hookline.Endpoint]
	if s.Scoped() {
		// A scoped portal lists its endpoints, at most 50 (the API's limit): one page.
		page.Done = true
		for _, id := range s.Scope {
			ep, err := d.store.GetEndpoint(r.Context(), app.ID, id)
			if hookline.IsNotFound(err) {
				continue // deleted since the link was made
			}
			if err != nil {
				return err
			}
			page.Data = append(page.Data, *ep)
		}
	} else if page, err = d.store.ListEndpoints(r.Context(), app.ID, opts); err != nil {
		return err
	}
	data := endpointsData{Endpoints: page.Data,
		Curl: fmt.Sprintf("curl -X POST %s/api/v1/app/%s/endpoint \\\n  -H \"Authorization: Bearer $HOOKLINE_TOKEN\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\"url\": \"https://example.com/webhooks\", \"description\": \"My endpoint\"}'", d.publicBase(r), app.ID)}
	if n := len(page.Data); n > 0 {
		data.Pager = makePager(r, opts, page.Done, page.Data[0].ID, page.Data[n-1].ID)
	}
	if len(page.Data) > 0 {
		day := rangeOf("24h")
		dayCounts, err := d.attemptStats(r, app.ID, "", day, false)
		if err != nil {
			return err
		}
		data.Health = healthByEndpoint(d.tr(r), dayCounts)
		cr, counts := rangeOf(r.URL.Query().Get("range")), dayCounts
		if cr.Key != day.Key {
			if counts, err = d.attemptStats(r, app.ID, "", cr, false); err != nil {
				return err
			}
		}
		if !s.Scoped() { // the application's chart would count other endpoints' deliveries
			data.Chart = newDeliveryChart(d.tr(r), cr, d.svc.Now(), counts, false)
		}
	}
	return d.render(w, r, http.StatusOK, pageEndpoints, &view{Title: app.Name + " · " + d.tr(r).T("common.endpoints"), Session: s, App: app, Nav: "endpoints", Data: data})
}

type endpointFormData struct {
	Endpoint   *hookline.Endpoint // nil when creating
	EventTypes []hookline.EventType
	// Dest is the destination chooser of the create form; Destination is where an edited
	// endpoint's deliveries go (its URL is a field only when they are HTTP requests).
	Dest        destChooser
	Destination destView
}

func (d *Dashboard) renderEndpointForm(w http.ResponseWriter, r *http.Request, s *session, app *hookline.Application, ep *hookline.Endpoint, status int, form url.Values, errs map[string]string, formErr string) error {
	ets, err := d.eventTypes(r)
	if err != nil {
		return err
	}
	title := d.tr(r).T("endpoints.addEndpoint")
	if ep != nil {
		title = d.tr(r).T("endpointform.editEndpoint")
	}
	data := endpointFormData{Endpoint: ep, EventTypes: ets}
	if ep == nil {
		data.Dest = newDestChooser(d.tr(r), nil, form, true)
	} else {
		data.Destination = newDestView(d.tr(r), ep)
	}
	return d.render(w, r, status, pageEndpointForm, &view{Title: title, Session: s, App: app, Nav: "endpoints",
		Data: data, Form: form, Errors: errs, FormError: formErr})
}

func (d *Dashboard) newEndpoint(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	if err := requireUnscoped(s); err != nil {
		return err
	}
	return d.renderEndpointForm(w, r, s, app, nil, http.StatusOK, url.Values{"enabled": {"on"}}, nil, "")
}

// applyEndpointForm copies the form's fields into ep; it reports fields it cannot read.
func applyEndpointForm(p *i18n.Printer, f url.Values, ep *hookline.Endpoint) map[string]string {
	errs := map[string]string{}
	ep.Description = strings.TrimSpace(f.Get("description"))
	if f.Has("url") { // a broker endpoint's form has no url: it keeps the one it has
		ep.URL = strings.TrimSpace(f.Get("url"))
	}
	ep.FilterTypes = nil
	for _, t := range f["filterTypes"] {
		if t = strings.TrimSpace(t); t != "" {
			ep.FilterTypes = append(ep.FilterTypes, t)
		}
	}
	ep.Channels = strings.FieldsFunc(f.Get("channels"), func(r rune) bool { return r == ',' || r == ' ' })
	ep.RateLimit = nil
	if s := strings.TrimSpace(f.Get("rateLimit")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			errs["rateLimit"] = p.T("endpointform.rateLimitInvalid")
		} else {
			ep.RateLimit = &n
		}
	}
	return errs
}

var endpointFields = []string{"description", "url", "filterTypes", "channels", "rateLimit", "secret", "uid"}

func (d *Dashboard) createEndpoint(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	if err := requireUnscoped(s); err != nil {
		return err
	}
	ep := &hookline.Endpoint{AppID: app.ID, Secret: strings.TrimSpace(r.PostFormValue("secret")), Disabled: r.PostFormValue("enabled") != "on"}
	errs := applyEndpointForm(d.tr(r), r.PostForm, ep)
	typ, dest, destErrs := parseDestination(d.tr(r), r.PostForm, nil)
	if dest != nil {
		ep.URL = brokerEndpointURL(typ)
		maps.Copy(destErrs, destErrors(typ, destination.Check(*dest)))
	}
	maps.Copy(errs, destErrs)
	if len(errs) > 0 {
		return d.renderEndpointForm(w, r, s, app, nil, http.StatusUnprocessableEntity, r.PostForm, errs, "")
	}
	if ep.Disabled {
		ep.DisabledReason = "manual"
	}
	if err := d.svc.CreateEndpoint(r.Context(), ep); err != nil {
		if errs, rest, ok := fieldErrors(d.tr(r), err, endpointFields...); ok {
			return d.renderEndpointForm(w, r, s, app, nil, statusOf(err), r.PostForm, errs, rest)
		}
		return err
	}
	if dest != nil {
		if err := d.setCreatedDestination(r, ep, dest); err != nil {
			if errs, ok := destServiceErrors(typ, err); ok {
				return d.renderEndpointForm(w, r, s, app, nil, statusOf(err), r.PostForm, errs, "")
			}
			return err
		}
	}
	return d.done(w, r, s, epURL(app.ID, ep.ID), d.tr(r).T("endpoint.created"))
}

func (d *Dashboard) editEndpoint(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	form := url.Values{"description": {ep.Description}, "url": {ep.URL}, "filterTypes": ep.FilterTypes,
		"channels": {strings.Join(ep.Channels, ", ")}}
	if ep.RateLimit != nil {
		form.Set("rateLimit", strconv.Itoa(*ep.RateLimit))
	}
	return d.renderEndpointForm(w, r, s, app, ep, http.StatusOK, form, nil, "")
}

func (d *Dashboard) updateEndpoint(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	if errs := applyEndpointForm(d.tr(r), r.PostForm, ep); len(errs) > 0 {
		return d.renderEndpointForm(w, r, s, app, ep, http.StatusUnprocessableEntity, r.PostForm, errs, "")
	}
	if err := d.svc.UpdateEndpoint(r.Context(), ep); err != nil {
		if errs, rest, ok := fieldErrors(d.tr(r), err, endpointFields...); ok {
			return d.renderEndpointForm(w, r, s, app, ep, statusOf(err), r.PostForm, errs, rest)
		}
		return err
	}
	return d.done(w, r, s, epURL(app.ID, ep.ID), d.tr(r).T("endpoint.saved"))
}

// confirmData describes a confirmation step before a destructive action.
type confirmData struct {
	Heading string
	Message string
	Detail  string
	Action  string
	Button  string
	Cancel  string
	Danger  bool
}

func (d *Dashboard) confirmDeleteEndpoint(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	return d.render(w, r, http.StatusOK, pageConfirm, &view{Title: d.tr(r).T("endpoint.deleteTitle"), Session: s, App: app, Nav: "endpoints", Data: confirmData{
		Heading: d.tr(r).T("endpoint.deleteHeading"), Message: d.tr(r).T("endpoint.deleteText"),
		Detail: endpointAddress(d.tr(r), ep), Action: epURL(app.ID, ep.ID) + "/delete", Button: d.tr(r).T("endpoint.deleteTitle"), Cancel: epURL(app.ID, ep.ID), Danger: true}})
}

func (d *Dashboard) deleteEndpoint(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	if err := d.store.DeleteEndpoint(r.Context(), app.ID, ep.ID); err != nil {
		return err
	}
	return d.done(w, r, s, appURL(app.ID), d.tr(r).T("endpoint.deleted", "url", endpointAddress(d.tr(r), ep)))
}

func (d *Dashboard) setEndpointStatus(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	enable := r.PostFormValue("enabled") == "true"
	if err := d.svc.SetEndpointEnabled(r.Context(), ep, enable); err != nil {
		return err
	}
	msg := d.tr(r).T("endpoint.turnedOff")
	if enable {
		msg = d.tr(r).T("endpoint.turnedOn")
	}
	back := epURL(app.ID, ep.ID)
	if b := r.PostFormValue("back"); b != "" {
		back = safeNext(b)
	}
	return d.done(w, r, s, back, msg)
}

func (d *Dashboard) confirmRotate(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	return d.render(w, r, http.StatusOK, pageConfirm, &view{Title: d.tr(r).T("endpoint.rotateTitle"), Session: s, App: app, Nav: "endpoints", Data: confirmData{
		Heading: d.tr(r).T("endpoint.rotateHeading"), Message: d.tr(r).T("endpoint.rotateText"),
		Detail: endpointAddress(d.tr(r), ep), Action: epURL(app.ID, ep.ID) + "/rotate", Button: d.tr(r).T("endpoint.rotateTitle"), Cancel: epURL(app.ID, ep.ID)}})
}

func (d *Dashboard) rotateSecret(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	if err := d.svc.RotateSecret(r.Context(), ep, ""); err != nil {
		return err
	}
	return d.done(w, r, s, epURL(app.ID, ep.ID), d.tr(r).T("endpoint.rotated"))
}

type headerRow struct {
	Index     int
	Name      string
	Value     string
	Sensitive bool
}

type endpointData struct {
	Endpoint     *hookline.Endpoint
	Stats        hookline.EndpointStats
	Recent       []attemptRow
	TestTypes    []string
	Headers      []headerRow
	OldSecrets   []hookline.OldSecret
	AutoDisabled bool
	RecoverSince string
	Chart        *deliveryChart
	Receiver     receiverData
	// Since is the page's time, where the live list of recent attempts starts.
	Since string

	Transformation transformationData
	// Destination is where deliveries go; Dest the chooser that changes it.
	Destination destView
	Dest        destChooser
}

func (d *Dashboard) showEndpoint(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	return d.renderEndpoint(w, r, s, app, ep, http.StatusOK, nil, nil)
}

func (d *Dashboard) renderEndpoint(w http.ResponseWriter, r *http.Request, s *session, app *hookline.Application, ep *hookline.Endpoint, status int, form url.Values, errs map[string]string) error {
	ctx := r.Context()
	now := d.svc.Now()
	data := endpointData{Endpoint: ep, AutoDisabled: ep.Disabled && ep.DisabledReason != "" && ep.DisabledReason != "manual",
		RecoverSince: now.Add(-24 * time.Hour).UTC().Format("2006-01-02T15:04"), Receiver: newReceiverData(ep, form, now)}
	data.Transformation = newTransformationData(ctx, ep, form)
	data.Destination, data.Dest = newDestView(d.tr(r), ep), newDestChooser(d.tr(r), ep, form, false)
	var err error
	if data.Stats, err = d.store.EndpointStats(ctx, app.ID, ep.ID, hookline.TimeWindow{}); err != nil {
		return err
	}
	cr := rangeOf(r.URL.Query().Get("range"))
	counts, err := d.attemptStats(r, app.ID, ep.ID, cr, true)
	if err != nil {
		return err
	}
	data.Chart = newDeliveryChart(d.tr(r), cr, now, counts, true)
	page, err := d.store.ListAttempts(ctx, app.ID, hookline.AttemptListOptions{ListOptions: hookline.ListOptions{Limit: 5, Descending: true}, EndpointID: ep.ID})
	if err != nil {
		return err
	}
	if data.Recent, err = d.attemptRows(r, app, page.Data); err != nil {
		return err
	}
	data.Since = d.liveSince()
	ets, err := d.eventTypes(r)
	if err != nil {
		return err
	}
	data.TestTypes = []string{hookline.TestEventType}
	for _, et := range ets {
		// Only types the endpoint subscribes to: a test of another type would never reach it
		// in real use.
		subscribed := len(ep.FilterTypes) == 0 || slices.Contains(ep.FilterTypes, et.Name)
		if et.Name != hookline.TestEventType && subscribed && hasExample(&et) {
			data.TestTypes = append(data.TestTypes, et.Name)
		}
	}
	for i, name := range sortedKeys(ep.Headers) {
		row := headerRow{Index: i, Name: name, Sensitive: service.SensitiveHeader(name)}
		if !row.Sensitive {
			row.Value = ep.Headers[name]
		}
		data.Headers = append(data.Headers, row)
	}
	for i := 0; i < 2; i++ {
		data.Headers = append(data.Headers, headerRow{Index: len(ep.Headers) + i})
	}
	for _, o := range ep.OldSecrets {
		if now.Before(o.ExpiresAt) {
			data.OldSecrets = append(data.OldSecrets, o)
		}
	}
	return d.render(w, r, status, pageEndpoint, &view{Title: endpointName(ep), Session: s, App: app, Nav: "endpoints", Data: data, Form: form, Errors: errs})
}

// maxHeaderRows bounds the rows the headers form may send (the service allows 50 headers).
const maxHeaderRows = 60

func (d *Dashboard) updateHeaders(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	headers := map[string]string{}
	for i := 0; i < maxHeaderRows; i++ {
		p := "h" + strconv.Itoa(i) + "."
		name := strings.TrimSpace(r.PostFormValue(p + "name"))
		if name == "" || r.PostFormValue(p+"remove") == "on" {
			continue
		}
		value := r.PostFormValue(p + "value")
		if old, ok := ep.Headers[name]; ok && value == "" && service.SensitiveHeader(name) {
			value = old // hidden values are kept unless replaced
		}
		headers[name] = value
	}
	ep.Headers = headers
	if err := d.svc.UpdateEndpoint(r.Context(), ep); err != nil {
		if _, _, ok := fieldErrors(d.tr(r), err); ok {
			stored, gerr := d.store.GetEndpoint(r.Context(), app.ID, ep.ID)
			if gerr != nil {
				return gerr
			}
			return d.renderEndpoint(w, r, s, app, stored, statusOf(err), r.PostForm, map[string]string{"headers": hookline.ErrorMessage(err)})
		}
		return err
	}
	return d.done(w, r, s, epURL(app.ID, ep.ID)+"#headers", d.tr(r).T("endpoint.headersSaved"))
}

func (d *Dashboard) sendTest(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	msg, err := d.svc.SendExample(r.Context(), app, ep, r.PostFormValue("eventType"), 0)
	if err != nil {
		if statusOf(err) < 500 {
			d.flash(w, r, s.Portal, "error", hookline.ErrorMessage(err))
			http.Redirect(w, r, epURL(app.ID, ep.ID), http.StatusSeeOther)
			return nil
		}
		return err
	}
	return d.done(w, r, s, epURL(app.ID, ep.ID)+"/history?sent="+url.QueryEscape(msg.ID),
		d.tr(r).T("endpoint.testSent", "type", msg.EventType, "id", msg.ID))
}
