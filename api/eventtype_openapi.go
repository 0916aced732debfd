package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/eventcatalog"
)

// The event-type catalogue to and from an OpenAPI document's webhooks section (Svix's
// import/openapi and export/openapi); eventcatalog does the conversion.

// EventTypeImportOpenApiIn imports event types from an OpenAPI document (Svix's
// EventTypeImportOpenApiIn): exactly one of spec and specRaw.
type EventTypeImportOpenApiIn struct {
	DryRun     *bool           `json:"dryRun,omitempty" doc:"Change nothing; data.to_modify lists the event types that would be created or updated."`
	DryRunV1   *bool           `json:"dry_run,omitempty" doc:"The 1.x SDKs' name of dryRun."`
	ReplaceAll *bool           `json:"replaceAll,omitempty" doc:"Archive every event type the document does not name."`
	Spec       json.RawMessage `json:"spec,omitempty" doc:"The OpenAPI document, as a JSON object."`
	SpecRaw    *string         `json:"specRaw,omitempty" doc:"The OpenAPI document as text, YAML or JSON."`
}

// EventTypeImportOpenApiOut is what an import changed (Svix's EventTypeImportOpenApiOut).
type EventTypeImportOpenApiOut struct {
	Data EventTypeImportOpenApiOutData `json:"data"`
}

// EventTypeImportOpenApiOutData lists the changes (Svix's EventTypeImportOpenApiOutData).
type EventTypeImportOpenApiOutData struct {
	Modified []string                `json:"modified" doc:"The event types created, updated, brought back from the archive or (replaceAll) archived; empty in a dry run."`
	ToModify *[]EventTypeFromOpenApi `json:"to_modify,omitempty" doc:"In a dry run, the event types that would be created or updated."`
}

// EventTypeFromOpenApi is an event type as read from the document (Svix's EventTypeFromOpenApi).
type EventTypeFromOpenApi struct {
	Name         string                     `json:"name"`
	Description  string                     `json:"description"`
	Schemas      map[string]json.RawMessage `json:"schemas,omitempty"`
	Deprecated   bool                       `json:"deprecated"`
	GroupName    *string                    `json:"groupName,omitempty"`
	FeatureFlags []string                   `json:"featureFlags,omitempty"`
	FeatureFlag  *string                    `json:"featureFlag,omitempty" doc:"The 1.x SDKs' featureFlags (one flag)."`
}

// ExportEventTypeOut is the export, done by the time it is answered (Svix's ExportEventTypeOut:
// a finished background task, which GET /api/v1/background-task/{task_id} shows too), with the
// document in data.spec.
type ExportEventTypeOut struct {
	ID        string                 `json:"id"`
	Status    string                 `json:"status" enum:"finished"`
	Task      string                 `json:"task" enum:"sdk.generate"`
	UpdatedAt time.Time              `json:"updatedAt"`
	Data      ExportEventTypeOutData `json:"data" doc:"Hookline's addition: the result."`
}

// ExportEventTypeOutData holds the exported document.
type ExportEventTypeOutData struct {
	Spec json.RawMessage `json:"spec" doc:"The OpenAPI 3.1 document of the catalogue's unarchived event types; import/openapi takes it as its spec."`
}

func (a *API) importEventTypesOpenAPI(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	var in EventTypeImportOpenApiIn
	if err := decode(r, &in); err != nil {
		return err
	}
	hasSpec := len(in.Spec) > 0 && !bytes.Equal(bytes.TrimSpace(in.Spec), []byte("null"))
	hasRaw := in.SpecRaw != nil
	var doc json.RawMessage
	var loc []string
	switch {
	case hasSpec == hasRaw:
		return &hookline.Error{Code: hookline.EBADREQUEST, Message: "send the OpenAPI document as exactly one of spec (a JSON object) and specRaw (YAML or JSON text)",
			Fields: []hookline.FieldError{{Loc: []string{"body", "spec"}, Msg: "exactly one of spec and specRaw is required", Type: "value"}}}
	case hasSpec:
		doc, loc = in.Spec, []string{"body", "spec"}
	default:
		loc = []string{"body", "specRaw"}
		var err error
		if doc, err = eventcatalog.ParseRaw(*in.SpecRaw, loc...); err != nil {
			return err
		}
	}
	types, err := eventcatalog.Import(doc, loc...)
	if err != nil {
		return err
	}
	if in.DryRun != nil && in.DryRunV1 != nil && *in.DryRun != *in.DryRunV1 {
		return fieldError("body", "dry_run", "value", "says the opposite of dryRun; send one of them")
	}
	dryRun := derefBool(in.DryRun) || derefBool(in.DryRunV1)
	res, err := a.svc.ImportEventTypes(r.Context(), types, derefBool(in.ReplaceAll), dryRun, append(loc, "webhooks")...)
	if err != nil {
		return err
	}
	out := EventTypeImportOpenApiOut{Data: EventTypeImportOpenApiOutData{Modified: []string{}}}
	if dryRun {
		from := make([]EventTypeFromOpenApi, len(res.Changed))
		for i, et := range res.Changed {
			from[i] = EventTypeFromOpenApi{Name: et.Name, Description: et.Description, Schemas: et.Schemas,
				Deprecated: et.Deprecated, GroupName: optString(et.GroupName)}
			if et.FeatureFlag != "" {
				from[i].FeatureFlags, from[i].FeatureFlag = []string{et.FeatureFlag}, &et.FeatureFlag
			}
		}
		out.Data.ToModify = &from
	} else {
		for _, et := range res.Changed {
			out.Data.Modified = append(out.Data.Modified, et.Name)
		}
		out.Data.Modified = append(out.Data.Modified, res.Archived...)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) exportEventTypesOpenAPI(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	var types []hookline.EventType
	opts := hookline.EventTypeListOptions{ListOptions: hookline.ListOptions{Limit: 250}}
	for {
		page, err := a.store.ListEventTypes(r.Context(), opts)
		if err != nil {
			return err
		}
		types = append(types, page.Data...)
		if page.Done || len(page.Data) == 0 {
			break
		}
		opts.Iterator = page.Data[len(page.Data)-1].Name
	}
	doc, err := eventcatalog.Export(types, "Webhooks", a.cfg.Version)
	if err != nil {
		return err
	}
	// The export is done before the answer; it is kept as a finished task all the same, so its
	// id resolves at GET /api/v1/background-task/{task_id}, with the document in its data.
	data := ExportEventTypeOutData{Spec: doc}
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	now := a.svc.Now()
	task := &hookline.BackgroundTask{ID: hookline.NewID(hookline.PrefixTask), Kind: hookline.TaskSDKGenerate,
		Status: hookline.TaskFinished, Data: raw, CreatedAt: now, UpdatedAt: now}
	if err := a.store.CreateTask(r.Context(), task); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, ExportEventTypeOut{ID: task.ID, Status: string(task.Status),
		Task: string(task.Kind), UpdatedAt: task.UpdatedAt, Data: data})
	return nil
}
