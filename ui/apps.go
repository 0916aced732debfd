package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hookline/hookline"
)

// The applications: the operator's list of them, the form that adds one, and the lookup of the
// application a page is about (which a portal session may only see its own of).

// app resolves the {app} path value for the session. A portal session sees its own application
// only: any other answers exactly as one that does not exist.
func (d *Dashboard) app(r *http.Request, s *session) (*hookline.Application, error) {
	app, err := d.store.GetApplication(r.Context(), r.PathValue("app"))
	if hookline.IsNotFound(err) {
		return nil, notFound("no such application")
	}
	if err != nil {
		return nil, err
	}
	if app.Internal || (s.Portal && app.ID != s.AppID) {
		return nil, notFound("no such application")
	}
	return app, nil
}

type appRow struct {
	App       hookline.Application
	Endpoints string
}

type appsData struct {
	Apps  []appRow
	Pager pager
	Curl  string
}

func (d *Dashboard) listApps(w http.ResponseWriter, r *http.Request, s *session) error {
	return d.renderApps(w, r, s, http.StatusOK, nil, nil, "")
}

func (d *Dashboard) renderApps(w http.ResponseWriter, r *http.Request, s *session, status int, form url.Values, errs map[string]string, formErr string) error {
	opts := listOptions(r, 50, false)
	page, err := d.store.ListApplications(r.Context(), hookline.ApplicationListOptions{ListOptions: opts})
	if err != nil {
		return err
	}
	data := appsData{Curl: fmt.Sprintf("curl -X POST %s/api/v1/app \\\n  -H \"Authorization: Bearer $HOOKLINE_TOKEN\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\"name\": \"Acme Inc.\", \"uid\": \"acme\"}'", d.publicBase(r))}
	for _, a := range page.Data {
		eps, err := d.store.ListEndpoints(r.Context(), a.ID, hookline.ListOptions{Limit: 100})
		if err != nil {
			return err
		}
		n := strconv.Itoa(len(eps.Data))
		if !eps.Done {
			n = "100+"
		}
		data.Apps = append(data.Apps, appRow{App: a, Endpoints: n})
	}
	if n := len(page.Data); n > 0 {
		data.Pager = makePager(r, opts, page.Done, page.Data[0].ID, page.Data[n-1].ID)
	}
	return d.render(w, r, status, pageApps, &view{Title: d.tr(r).T("common.applications"), Session: s, Nav: "apps", Data: data, Form: form, Errors: errs, FormError: formErr})
}

func (d *Dashboard) createApp(w http.ResponseWriter, r *http.Request, s *session) error {
	app := &hookline.Application{Name: r.PostFormValue("name"), UID: strings.TrimSpace(r.PostFormValue("uid"))}
	if err := d.svc.CreateApplication(r.Context(), app); err != nil {
		if errs, rest, ok := fieldErrors(d.tr(r), err, "name", "uid"); ok {
			return d.renderApps(w, r, s, statusOf(err), r.PostForm, errs, rest)
		}
		return err
	}
	return d.done(w, r, s, appURL(app.ID), d.tr(r).T("apps.created", "name", app.Name))
}
