package ui

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/hookline/hookline"
)

// Live updates: a history page (and the endpoint page's recent attempts) names a live route
// and the server's time when it was rendered; app.js asks that route, every few seconds, for the
// attempts that finished since, and puts the rows it answers, those it does not show yet, at the
// top of the table. The route is a GET of the dashboard like any page: the same session cookie,
// nothing to change, so no CSRF token. The page without JavaScript is unchanged (a test send's
// history reloads itself with a meta refresh in <noscript>).
//
// An attempt's id and time are taken when its request starts, so an attempt that finishes after
// a newer one started sorts before it: following "ids after the newest shown" would miss it.
// The route looks instead at the attempts started in the last liveLookback before "finished" and
// answers those that finished since then; the script drops rows it already has.

// liveBatch bounds the rows of one answer of the live route (the newest of them).
const liveBatch = 100

// liveLookback is how long before "finished" an attempt that finished after it may have started:
// longer than any delivery's timeout.
const liveLookback = 2 * time.Minute

// liveMargin is how long before "finished" an attempt may have finished and not be in the page
// yet: the time the dispatcher takes to record it.
const liveMargin = 5 * time.Second

// liveHeader marks an answer of the live route, so the script can tell it from a sign-in page
// that a redirect of an ended session would give it; liveNowHeader is the server's time of the
// answer (Unix milliseconds), the script's next "finished".
const (
	liveHeader    = "X-Hookline-Live"
	liveNowHeader = "X-Hookline-Now"
)

// liveSince is the page's "finished": the server's time now, in Unix milliseconds.
func (d *Dashboard) liveSince() string { return strconv.FormatInt(d.svc.Now().UnixMilli(), 10) }

// liveHistory answers the attempts of an endpoint made after the query's "after" attempt id,
// with the history's filters.
func (d *Dashboard) liveHistory(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	return d.renderLive(w, r, s, app, ep)
}

// liveAppHistory is liveHistory for the application-wide history.
func (d *Dashboard) liveAppHistory(w http.ResponseWriter, r *http.Request, s *session) error {
	app, err := d.app(r, s)
	if err != nil {
		return err
	}
	return d.renderLive(w, r, s, app, nil)
}

// renderLive writes the rows of the attempts that finished after the query's "finished" as an HTML
// fragment (the rows the page itself renders, newest first), or 204 No Content when there are
// none.
func (d *Dashboard) renderLive(w http.ResponseWriter, r *http.Request, s *session, app *hookline.Application, ep *hookline.Endpoint) error {
	q := r.URL.Query()
	ms, perr := strconv.ParseInt(q.Get("finished"), 10, 64)
	if perr != nil || ms < 0 {
		return hookline.Errorf(hookline.EINVALID, "finished: must be a time in Unix milliseconds")
	}
	now := d.svc.Now()
	w.Header().Set(liveNowHeader, strconv.FormatInt(now.UnixMilli(), 10))
	since := time.UnixMilli(ms)
	if since.After(now) {
		since = now
	}
	opts, _, errs, _, err := d.historyQuery(r, s, app, ep)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		// The page showed the fields' errors and no live list; nothing follows them.
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	opts.ListOptions = hookline.ListOptions{Limit: liveBatch, Descending: true}
	if from := since.Add(-liveLookback); opts.After == nil || opts.After.Before(from) {
		opts.After = &from
	}
	page, err := d.store.ListAttempts(r.Context(), app.ID, opts)
	if err != nil {
		return err
	}
	var fresh []hookline.Attempt
	for _, at := range page.Data {
		finished := at.CreatedAt.Add(time.Duration(at.ResponseDurationMs) * time.Millisecond)
		if !finished.Before(since.Add(-liveMargin)) {
			fresh = append(fresh, at)
		}
	}
	if len(fresh) == 0 {
		w.Header().Set(liveHeader, "none")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	rows, err := d.attemptRows(r, app, fresh)
	if err != nil {
		return err
	}
	if ep == nil {
		eps, err := d.store.ListEndpoints(r.Context(), app.ID, hookline.ListOptions{Limit: 250})
		if err != nil {
			return err
		}
		nameEndpoints(rows, eps.Data)
	}
	args := map[string]any{"Rows": rows, "App": app, "ShowEndpoint": ep == nil}
	if s.CanWrite() && q.Get("select") != "0" {
		args["Select"] = bulkFormID
	}
	var buf bytes.Buffer
	if err := d.pages[d.tr(r).Lang()][pageHistory].ExecuteTemplate(&buf, "attemptrows", args); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set(liveHeader, "rows")
	_, err = w.Write(buf.Bytes())
	return err
}
