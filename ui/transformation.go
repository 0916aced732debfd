package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/service"
	"github.com/hookline/hookline/transform"
)

// The endpoint page's transformation editor: the code, enabled or not, and a Simulate button
// that runs the code on a payload and shows the request a delivery would send
// (docs/transformations.md).

// transformationData is what the editor shows: the stored transformation, or what its form sent
// back, and the last simulation's result.
type transformationData struct {
	Code      string
	Enabled   bool
	UpdatedAt *time.Time
	EventType string
	Payload   string
	// Simulated is the request the simulation showed; nil when none ran or it failed.
	Simulated *simulatedRequest
}

// simulatedRequest is a simulation's result as the page shows it.
type simulatedRequest struct {
	Cancel  bool
	Method  string
	URL     string
	Body    string
	Headers []headerRow
}

type simulationKey struct{}

// defaultSimPayload is the editor's sample payload until one is typed.
const defaultSimPayload = `{"id": "ord_1", "cents": 4550}`

func newTransformationData(ctx context.Context, ep *hookline.Endpoint, form url.Values) transformationData {
	d := transformationData{EventType: "order.paid", Payload: defaultSimPayload}
	if t := ep.Transformation; t != nil {
		d.Code, d.Enabled = t.Code, t.Enabled
		if !t.UpdatedAt.IsZero() {
			at := t.UpdatedAt
			d.UpdatedAt = &at
		}
	}
	if form.Get("transformation") != "" {
		d.Code, d.Enabled = form.Get("transformCode"), form.Get("transformEnabled") == "on"
		if form.Get("transformation") == "simulate" {
			d.Enabled = ep.Transformation != nil && ep.Transformation.Enabled
		}
	}
	if v := form.Get("transformEventType"); v != "" {
		d.EventType = v
	}
	if v := form.Get("transformPayload"); v != "" {
		d.Payload = v
	}
	if res, ok := ctx.Value(simulationKey{}).(transform.Result); ok {
		s := &simulatedRequest{Cancel: res.Cancel, Method: res.Method, URL: res.URL, Body: string(res.Payload)}
		for i, name := range sortedKeys(res.Headers) {
			s.Headers = append(s.Headers, headerRow{Index: i, Name: name, Value: res.Headers[name]})
		}
		d.Simulated = s
	}
	return d
}

// saveTransformation stores the code and whether deliveries run it; a refused one shows the
// page again with the reason under the code.
func (d *Dashboard) saveTransformation(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	code := strings.TrimSpace(r.PostFormValue("transformCode"))
	enabled := r.PostFormValue("transformEnabled") == "on"
	if _, err := d.svc.SetTransformation(r.Context(), ep, service.TransformationPatch{Code: &code, Enabled: &enabled}); err != nil {
		if fields, rest, ok := fieldErrors(d.tr(r), err, "code", "enabled"); ok {
			fields = formFields(fields, rest)
			form := r.PostForm
			form.Set("transformation", "save")
			return d.renderEndpoint(w, r, s, app, ep, statusOf(err), form, fields)
		}
		return err
	}
	msg := d.tr(r).T("transformation.savedOff")
	if enabled {
		msg = d.tr(r).T("transformation.savedOn")
	}
	return d.done(w, r, s, epURL(app.ID, ep.ID)+"#transformation", msg)
}

// simulateTransformation runs the form's code on its payload, as a delivery to this endpoint
// would, and shows the page with the request it would send. It changes nothing.
func (d *Dashboard) simulateTransformation(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	form := r.PostForm
	form.Set("transformation", "simulate")
	code, eventType, payload := strings.TrimSpace(form.Get("transformCode")), strings.TrimSpace(form.Get("transformEventType")), form.Get("transformPayload")
	fields := map[string]string{}
	var obj map[string]any
	if err := json.Unmarshal([]byte(payload), &obj); err != nil || obj == nil {
		fields["transformPayload"] = d.tr(r).T("transformation.payloadInvalid", "example", defaultSimPayload)
	}
	if eventType == "" {
		fields["transformEventType"] = d.tr(r).T("transformation.eventTypeMissing")
	}
	if len(fields) > 0 {
		return d.renderEndpoint(w, r, s, app, ep, http.StatusUnprocessableEntity, form, fields)
	}
	res, err := d.svc.SimulateTransformation(r.Context(), ep, code, eventType, []byte(payload))
	if err != nil {
		if fields, rest, ok := fieldErrors(d.tr(r), err, "code"); ok {
			fields = formFields(fields, rest)
			return d.renderEndpoint(w, r, s, app, ep, statusOf(err), form, fields)
		}
		return err
	}
	r = r.WithContext(context.WithValue(r.Context(), simulationKey{}, res))
	return d.renderEndpoint(w, r, s, app, ep, http.StatusOK, form, nil)
}

// formFields renames the service's field errors to the editor's fields (which have names of
// their own, apart from the page's other forms); rest goes under the code.
func formFields(fields map[string]string, rest string) map[string]string {
	out := map[string]string{}
	for k, v := range fields {
		out["transform"+strings.ToUpper(k[:1])+k[1:]] = v
	}
	if rest != "" {
		out["transformCode"] = rest
	}
	return out
}
