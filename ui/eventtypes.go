package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/i18n"
	"github.com/hookline/hookline/schema"
)

// hasExample reports whether the event type's latest schema has an example, which send-example
// (the dashboard's "send test") can post.
func hasExample(et *hookline.EventType) bool {
	_, examples, _ := splitSchema(et)
	return len(examples) > 0
}

// splitSchema returns the latest schema without its "examples", the examples, and the version.
// The dashboard edits the schema and the first example in separate fields; the store keeps the
// examples inside the schema, where send-example finds them.
func splitSchema(et *hookline.EventType) (schemaDoc map[string]json.RawMessage, examples []json.RawMessage, version string) {
	version, raw := et.LatestSchema()
	if raw == nil {
		return nil, nil, ""
	}
	if err := json.Unmarshal(raw, &schemaDoc); err != nil {
		return nil, nil, version
	}
	if ex, ok := schemaDoc["examples"]; ok {
		json.Unmarshal(ex, &examples)
		delete(schemaDoc, "examples")
	}
	return schemaDoc, examples, version
}

type eventTypeRow struct {
	EventType hookline.EventType
	Schema    string
	Example   string
}

type eventTypesData struct {
	Rows            []eventTypeRow
	Pager           pager
	IncludeArchived bool
	Curl            string
}

func (d *Dashboard) listEventTypes(w http.ResponseWriter, r *http.Request, s *session) error {
	opts := listOptions(r, 50, false)
	includeArchived := s.Operator && r.URL.Query().Get("archived") == "1"
	page, err := d.store.ListEventTypes(r.Context(), hookline.EventTypeListOptions{ListOptions: opts, IncludeArchived: includeArchived})
	if err != nil {
		return err
	}
	data := eventTypesData{IncludeArchived: includeArchived,
		Curl: "curl -X POST " + d.publicBase(r) + "/api/v1/event-type \\\n  -H \"Authorization: Bearer $HOOKLINE_TOKEN\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\"name\": \"order.paid\", \"description\": \"An order was paid\"}'"}
	for _, et := range page.Data {
		doc, examples, _ := splitSchema(&et)
		row := eventTypeRow{EventType: et}
		if len(doc) > 0 {
			b, _ := json.Marshal(doc)
			row.Schema = prettyJSON(b)
		}
		if len(examples) > 0 {
			row.Example = prettyJSON([]byte(examples[0]))
		}
		data.Rows = append(data.Rows, row)
	}
	if n := len(page.Data); n > 0 {
		data.Pager = makePager(r, opts, page.Done, page.Data[0].Name, page.Data[n-1].Name)
	}
	v := &view{Title: d.tr(r).T("common.eventTypes"), Session: s, Nav: "event-types", Data: data}
	if s.Portal {
		if app, err := d.store.GetApplication(r.Context(), s.AppID); err == nil {
			v.App = app
		}
	}
	return d.render(w, r, http.StatusOK, pageEventTypes, v)
}

type eventTypeFormData struct {
	EventType *hookline.EventType // nil when creating
}

func (d *Dashboard) renderEventTypeForm(w http.ResponseWriter, r *http.Request, s *session, et *hookline.EventType, status int, form url.Values, errs map[string]string, formErr string) error {
	title := d.tr(r).T("eventtypes.newEventType")
	if et != nil {
		title = d.tr(r).T("eventtypeform.editTitle", "name", et.Name)
	}
	return d.render(w, r, status, pageEventTypeForm, &view{Title: title, Session: s, Nav: "event-types",
		Data: eventTypeFormData{EventType: et}, Form: form, Errors: errs, FormError: formErr})
}

func (d *Dashboard) newEventType(w http.ResponseWriter, r *http.Request, s *session) error {
	return d.renderEventTypeForm(w, r, s, nil, http.StatusOK, url.Values{}, nil, "")
}

func (d *Dashboard) editEventType(w http.ResponseWriter, r *http.Request, s *session) error {
	et, err := d.store.GetEventType(r.Context(), r.PathValue("name"))
	if hookline.IsNotFound(err) {
		return notFound("no such event type")
	}
	if err != nil {
		return err
	}
	form := url.Values{"description": {et.Description}, "groupName": {et.GroupName}}
	if et.Deprecated {
		form.Set("deprecated", "on")
	}
	if et.Archived {
		form.Set("archived", "on")
	}
	doc, examples, _ := splitSchema(et)
	if len(doc) > 0 {
		b, _ := json.Marshal(doc)
		form.Set("schema", prettyJSON(b))
	}
	if len(examples) > 0 {
		form.Set("example", prettyJSON([]byte(examples[0])))
	}
	return d.renderEventTypeForm(w, r, s, et, http.StatusOK, form, nil, "")
}

// applyEventTypeForm copies the form into et: the schema with the example as the first entry
// of its "examples" (the other examples are kept). The example must match the schema.
func applyEventTypeForm(p *i18n.Printer, f url.Values, et *hookline.EventType) map[string]string {
	errs := map[string]string{}
	et.Description = strings.TrimSpace(f.Get("description"))
	et.GroupName = strings.TrimSpace(f.Get("groupName"))
	et.Deprecated = f.Get("deprecated") == "on"
	et.Archived = f.Get("archived") == "on"
	_, oldExamples, version := splitSchema(et)
	if version == "" {
		version = "1"
	}
	schemaText, exampleText := strings.TrimSpace(f.Get("schema")), strings.TrimSpace(f.Get("example"))
	var doc map[string]json.RawMessage
	if schemaText != "" {
		if err := json.Unmarshal([]byte(schemaText), &doc); err != nil {
			errs["schema"] = p.T("eventtypeform.notJSON", "error", err.Error())
		}
	}
	var example json.RawMessage
	if exampleText != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(exampleText), &obj); err != nil {
			errs["example"] = p.T("eventtypeform.notJSON", "error", err.Error())
		} else {
			example = json.RawMessage(exampleText)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if doc == nil && example == nil {
		et.Schemas = nil
		return errs
	}
	if doc == nil {
		doc = map[string]json.RawMessage{}
	}
	delete(doc, "examples")
	if example != nil {
		examples := append([]json.RawMessage{example}, tail(oldExamples)...)
		b, err := json.Marshal(examples)
		if err != nil {
			errs["example"] = err.Error()
			return errs
		}
		doc["examples"] = b
		if sch, err := schema.Compile(mustMarshal(doc)); err == nil {
			if v := sch.Validate(example); len(v) > 0 {
				msgs := make([]string, len(v))
				for i, x := range v {
					path := x.Path
					if path == "" {
						path = "/"
					}
					msgs[i] = path + ": " + x.Message
				}
				errs["example"] = p.T("eventtypeform.exampleMismatch", "problems", strings.Join(msgs, "; "))
				return errs
			}
		}
	}
	et.Schemas = map[string]json.RawMessage{version: mustMarshal(doc)}
	return errs
}

func tail(s []json.RawMessage) []json.RawMessage {
	if len(s) < 2 {
		return nil
	}
	return s[1:]
}

func mustMarshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("ui: marshal: %v", err))
	}
	return b
}

var eventTypeFields = []string{"name", "description", "groupName", "schemas"}

// eventTypeErrors moves the service's schema errors to the schema field.
func eventTypeErrors(p *i18n.Printer, err error) (map[string]string, string, bool) {
	errs, rest, ok := fieldErrors(p, err, eventTypeFields...)
	if ok && errs["schemas"] != "" {
		errs["schema"] = errs["schemas"]
		delete(errs, "schemas")
	}
	return errs, rest, ok
}

func (d *Dashboard) createEventType(w http.ResponseWriter, r *http.Request, s *session) error {
	et := &hookline.EventType{Name: strings.TrimSpace(r.PostFormValue("name"))}
	if errs := applyEventTypeForm(d.tr(r), r.PostForm, et); len(errs) > 0 {
		return d.renderEventTypeForm(w, r, s, nil, http.StatusUnprocessableEntity, r.PostForm, errs, "")
	}
	if err := d.svc.CreateEventType(r.Context(), et); err != nil {
		if errs, rest, ok := eventTypeErrors(d.tr(r), err); ok {
			if hookline.ErrorCode(err) == hookline.ECONFLICT {
				errs["name"] = d.tr(r).T("eventtypeform.nameTaken")
				rest = ""
			}
			return d.renderEventTypeForm(w, r, s, nil, statusOf(err), r.PostForm, errs, rest)
		}
		return err
	}
	return d.done(w, r, s, "/dashboard/event-types", d.tr(r).T("eventtypeform.created", "name", et.Name))
}

func (d *Dashboard) updateEventType(w http.ResponseWriter, r *http.Request, s *session) error {
	et, err := d.store.GetEventType(r.Context(), r.PathValue("name"))
	if hookline.IsNotFound(err) {
		return notFound("no such event type")
	}
	if err != nil {
		return err
	}
	if errs := applyEventTypeForm(d.tr(r), r.PostForm, et); len(errs) > 0 {
		return d.renderEventTypeForm(w, r, s, et, http.StatusUnprocessableEntity, r.PostForm, errs, "")
	}
	if err := d.svc.UpdateEventType(r.Context(), et); err != nil {
		if errs, rest, ok := eventTypeErrors(d.tr(r), err); ok {
			return d.renderEventTypeForm(w, r, s, et, statusOf(err), r.PostForm, errs, rest)
		}
		return err
	}
	return d.done(w, r, s, "/dashboard/event-types", d.tr(r).T("eventtypeform.saved", "name", et.Name))
}
