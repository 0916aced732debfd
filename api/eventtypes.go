package api

import (
	"net/http"
	"strconv"

	"github.com/hookline/hookline"
)

// EventTypeListQuery are the query parameters of the event type list.
type EventTypeListQuery struct {
	ListQuery
	IncludeArchived bool `query:"include_archived" doc:"Include archived event types."`
	WithContent     bool `query:"with_content" doc:"Include the schemas (default true)."`
}

// EventTypeDeleteQuery are the query parameters of event type deletion.
type EventTypeDeleteQuery struct {
	Expunge bool `query:"expunge" doc:"Delete for good instead of archiving."`
}

func boolQuery(r *http.Request, name string, def bool) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return def, fieldError("query", name, "value", "must be true or false")
	}
	return b, nil
}

func (a *API) listEventTypes(w http.ResponseWriter, r *http.Request) error {
	opts, err := listOptions(r, false)
	if err != nil {
		return err
	}
	includeArchived, err := boolQuery(r, "include_archived", false)
	if err != nil {
		return err
	}
	withContent, err := boolQuery(r, "with_content", true)
	if err != nil {
		return err
	}
	page, err := a.store.ListEventTypes(r.Context(), hookline.EventTypeListOptions{ListOptions: opts, IncludeArchived: includeArchived})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listResponse(page, opts, func(et *hookline.EventType) string { return et.Name },
		func(et *hookline.EventType) EventTypeOut { return eventTypeOut(et, withContent) }))
	return nil
}

func (a *API) createEventType(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	var in EventTypeIn
	if err := decode(r, &in); err != nil {
		return err
	}
	flag, err := in.featureFlag()
	if err != nil {
		return err
	}
	et := &hookline.EventType{Name: in.Name, Description: in.Description, Archived: derefBool(in.Archived),
		Deprecated: derefBool(in.Deprecated), FeatureFlag: deref(flag), GroupName: deref(in.GroupName), Schemas: in.Schemas}
	if err := a.svc.CreateEventType(r.Context(), et); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, eventTypeOut(et, true))
	return nil
}

func (a *API) getEventType(w http.ResponseWriter, r *http.Request) error {
	et, err := a.store.GetEventType(r.Context(), r.PathValue("event_type_name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, eventTypeOut(et, true))
	return nil
}

// updateEventType replaces an event type, creating it when it does not exist (Svix's PUT).
func (a *API) updateEventType(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	var in EventTypeUpdate
	if err := decode(r, &in); err != nil {
		return err
	}
	flag, err := in.featureFlag()
	if err != nil {
		return err
	}
	name := r.PathValue("event_type_name")
	et, err := a.store.GetEventType(r.Context(), name)
	created := hookline.IsNotFound(err)
	if err != nil && !created {
		return err
	}
	if created {
		et = &hookline.EventType{Name: name}
	}
	et.Description, et.Archived, et.Deprecated = in.Description, derefBool(in.Archived), derefBool(in.Deprecated)
	et.FeatureFlag, et.GroupName, et.Schemas = deref(flag), deref(in.GroupName), in.Schemas
	if created {
		err = a.svc.CreateEventType(r.Context(), et)
	} else {
		err = a.svc.UpdateEventType(r.Context(), et)
	}
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, eventTypeOut(et, true))
	return nil
}

func (a *API) patchEventType(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	var in EventTypePatch
	if err := decode(r, &in); err != nil {
		return err
	}
	flag, err := in.featureFlag()
	if err != nil {
		return err
	}
	et, err := a.store.GetEventType(r.Context(), r.PathValue("event_type_name"))
	if err != nil {
		return err
	}
	if in.Description != nil {
		et.Description = *in.Description
	}
	if in.Archived != nil {
		et.Archived = *in.Archived
	}
	if in.Deprecated != nil {
		et.Deprecated = *in.Deprecated
	}
	flag.apply(&et.FeatureFlag, "")
	in.GroupName.apply(&et.GroupName, "")
	if in.Schemas != nil {
		et.Schemas = *in.Schemas
	}
	if err := a.svc.UpdateEventType(r.Context(), et); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, eventTypeOut(et, true))
	return nil
}

// deleteEventType archives the event type (messages of it are then refused), or deletes it for
// good with expunge=true.
func (a *API) deleteEventType(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	expunge, err := boolQuery(r, "expunge", false)
	if err != nil {
		return err
	}
	et, err := a.store.GetEventType(r.Context(), r.PathValue("event_type_name"))
	if err != nil {
		return err
	}
	if expunge {
		err = a.store.DeleteEventType(r.Context(), et.Name)
	} else {
		et.Archived = true
		err = a.svc.UpdateEventType(r.Context(), et)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func derefBool(b *bool) bool { return b != nil && *b }
