package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

// Sending messages again, many at a time. Replay in bulk: the delivery history and the message
// log have checkboxes that belong to one plain form (bulkFormID) posting to resendSelected, with
// the session's CSRF token like every form. The endpoint page's recover and replay-missing forms
// start a background task (startWindowTask), whose page (showTask) shows how it goes.

// bulkFormID is the id of the bulk-resend form, which the rows' checkboxes name.
const bulkFormID = "bulk-resend"

// maxBulk is how many attempts or messages one bulk resend takes: a page of the history or
// of the message log at most.
const maxBulk = 100

// resendSelected sends again, now, the messages of the selected attempts (each to the endpoint
// of its attempt) and the selected messages (each to every endpoint it went to), once per
// message and endpoint.
func (d *Dashboard) resendSelected(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	back := appURL(app.ID) + "/attempts"
	if b := r.PostFormValue("back"); b != "" {
		back = safeNext(b)
	}
	attempts, messages := r.PostForm["attempt"], r.PostForm["message"]
	if len(attempts)+len(messages) == 0 {
		d.flash(w, r, s.Portal, "error", d.tr(r).T("bulk.nothingSelected"))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	}
	if len(attempts)+len(messages) > maxBulk {
		return hookline.Errorf(hookline.EINVALID, "%s", d.tr(r).T("bulk.tooMany", "count", maxBulk))
	}
	type pair struct{ msg, ep string }
	var pairs []pair
	seen := map[pair]bool{}
	add := func(p pair) {
		if !seen[p] {
			seen[p] = true
			pairs = append(pairs, p)
		}
	}
	for _, id := range attempts {
		at, err := d.store.GetAttempt(r.Context(), app.ID, id)
		if hookline.IsNotFound(err) || (err == nil && !s.Sees(at.EndpointID)) {
			return notFound("no such attempt")
		}
		if err != nil {
			return err
		}
		add(pair{at.MessageID, at.EndpointID})
	}
	for _, id := range messages {
		if _, err := d.store.GetMessage(r.Context(), app.ID, id); hookline.IsNotFound(err) {
			return notFound("no such message")
		} else if err != nil {
			return err
		}
		deliveries, err := d.store.ListDeliveries(r.Context(), app.ID, id)
		if err != nil {
			return err
		}
		for _, dl := range deliveries {
			if !s.Sees(dl.EndpointID) {
				continue // a scoped portal resends to its endpoints only
			}
			add(pair{id, dl.EndpointID})
		}
	}
	sent, skipped := 0, 0
	for _, p := range pairs {
		err := d.svc.Resend(r.Context(), app.ID, p.msg, p.ep)
		switch {
		case err == nil:
			sent++
		case hookline.IsNotFound(err) || hookline.ErrorCode(err) == hookline.EEXPUNGED:
			skipped++ // the endpoint was deleted, or the message purged or expunged, meanwhile
		default:
			return err
		}
	}
	msg := d.tr(r).T("bulk.sent", "count", sent)
	if skipped > 0 {
		msg += " " + d.tr(r).T("bulk.skipped", "count", skipped)
	}
	return d.done(w, r, s, back, msg)
}

// plural writes n with the singular or plural noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// taskData is what the task page shows of a background task.
type taskData struct {
	Task     *hookline.BackgroundTask
	Kind     string
	Endpoint *hookline.Endpoint // the endpoint the task works on; nil when deleted or none
	Sent     int                // messagesSent, with HasSent when the task's data has it
	HasSent  bool
	Error    string
	Since    *time.Time
	Until    *time.Time
}

// taskKinds names the task kinds the dashboard starts.
var taskKinds = map[hookline.TaskKind]string{
	hookline.TaskEndpointRecover:    "endpoint.recoverFailedMessages",
	hookline.TaskEndpointReplay:     "endpoint.sendMissingMessages",
	hookline.TaskEndpointBulkReplay: "task.bulkReplay",
}

// showTask is a background task of the application: what it does, its status and progress. A
// running task's page reloads itself every 2 seconds (a meta refresh, so with or without
// JavaScript) until it ends.
func (d *Dashboard) showTask(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	task, err := d.store.GetTask(r.Context(), r.PathValue("task"))
	if hookline.IsNotFound(err) || (err == nil && task.AppID != app.ID) {
		return notFound("no such task")
	}
	if err != nil {
		return err
	}
	data := taskData{Task: task, Kind: d.tr(r).T(taskKinds[task.Kind])}
	if taskKinds[task.Kind] == "" {
		data.Kind = string(task.Kind)
	}
	var in struct {
		EndpointID string     `json:"endpointId"`
		Since      *time.Time `json:"since"`
		Until      *time.Time `json:"until"`
	}
	inErr := json.Unmarshal(task.Input, &in)
	if s.Scoped() && (inErr != nil || !s.Sees(in.EndpointID)) {
		return notFound("no such task") // a task of another endpoint, or of the whole application
	}
	if inErr == nil {
		data.Since, data.Until = in.Since, in.Until
		if in.EndpointID != "" {
			if ep, err := d.store.GetEndpoint(r.Context(), app.ID, in.EndpointID); err == nil {
				data.Endpoint = ep
			} else if !hookline.IsNotFound(err) {
				return err
			}
		}
	}
	var out struct {
		MessagesSent *int   `json:"messagesSent"`
		Error        string `json:"error"`
	}
	if json.Unmarshal(task.Data, &out) == nil {
		data.Error = out.Error
		if out.MessagesSent != nil {
			data.Sent, data.HasSent = *out.MessagesSent, true
		}
	}
	v := &view{Title: data.Kind, Session: s, App: app, Nav: "endpoints", Data: data}
	if task.Status == hookline.TaskRunning {
		v.Refresh = 2
	}
	return d.render(w, r, http.StatusOK, pageTask, v)
}

// recoverEndpoint sends again the messages that failed at the endpoint in the form's period.
func (d *Dashboard) recoverEndpoint(w http.ResponseWriter, r *http.Request, s *session) error {
	return d.startWindowTask(w, r, s, d.svc.Recover, d.tr(r).T("task.recoverStarted"))
}

// replayMissing sends the endpoint the messages of the form's period that it never got (from
// before it existed, or while it filtered them out).
func (d *Dashboard) replayMissing(w http.ResponseWriter, r *http.Request, s *session) error {
	return d.startWindowTask(w, r, s, d.svc.ReplayMissing, d.tr(r).T("task.replayStarted"))
}

// startWindowTask reads the form's period (since, and until or up to now; UTC) and starts a
// background task over it, then opens the task's page.
func (d *Dashboard) startWindowTask(w http.ResponseWriter, r *http.Request, s *session,
	start func(context.Context, *hookline.Endpoint, time.Time, *time.Time) (*hookline.BackgroundTask, error), flash string) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	errs := map[string]string{}
	since, perr := time.ParseInLocation("2006-01-02T15:04", r.PostFormValue("since"), time.UTC)
	if perr != nil {
		errs["since"] = d.tr(r).T("recover.sinceInvalid")
	}
	var until *time.Time
	if u := strings.TrimSpace(r.PostFormValue("until")); u != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", u, time.UTC)
		switch {
		case err != nil:
			errs["until"] = d.tr(r).T("recover.untilInvalid")
		case perr == nil && !t.After(since):
			errs["until"] = d.tr(r).T("recover.untilBeforeSince")
		default:
			until = &t
		}
	}
	if len(errs) > 0 {
		return d.renderEndpoint(w, r, s, app, ep, http.StatusUnprocessableEntity, r.PostForm, errs)
	}
	task, err := start(r.Context(), ep, since, until)
	if err != nil {
		return err
	}
	return d.done(w, r, s, appURL(app.ID)+"/tasks/"+task.ID, flash)
}
