package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/hookline/hookline"
)

// ApplicationListQuery are the query parameters of the application list.
type ApplicationListQuery struct {
	ListQuery
	ExcludeNoEndpoints  bool `query:"exclude_apps_with_no_endpoints" doc:"Leave out applications without endpoints."`
	ExcludeOnlyDisabled bool `query:"exclude_apps_with_disabled_endpoints" doc:"Leave out applications whose endpoints are all disabled."`
	ExcludeOnlySvixPlay bool `query:"exclude_apps_with_svix_play_endpoints" doc:"Leave out applications whose endpoints all point to Svix Play (play.svix.com)."`
}

// CreateApplicationQuery are the query parameters of application creation.
type CreateApplicationQuery struct {
	GetIfExists bool `query:"get_if_exists" doc:"Return the application with this uid if it exists, instead of 409."`
}

func (a *API) listApplications(w http.ResponseWriter, r *http.Request) error {
	opts, err := listOptions(r, false)
	if err != nil {
		return err
	}
	filter := hookline.ApplicationListOptions{ListOptions: opts}
	for name, dst := range map[string]*bool{"exclude_apps_with_no_endpoints": &filter.ExcludeNoEndpoints,
		"exclude_apps_with_disabled_endpoints": &filter.ExcludeOnlyDisabled, "exclude_apps_with_svix_play_endpoints": &filter.ExcludeOnlySvixPlay} {
		if *dst, err = boolQuery(r, name, false); err != nil {
			return err
		}
	}
	tok := tokenFrom(r.Context())
	var page hookline.Page[hookline.Application]
	if tok.Kind == hookline.TokenOperator {
		page, err = a.store.ListApplications(r.Context(), filter)
		if err != nil {
			return err
		}
	} else {
		// An application token's list holds its own application only.
		app, err := a.store.GetApplication(r.Context(), tok.AppID)
		if err != nil {
			return err
		}
		page = hookline.Page[hookline.Application]{Data: []hookline.Application{*app}, Done: true}
		keep, err := a.passesEndpointFilter(r, app.ID, filter)
		if err != nil {
			return err
		}
		if opts.Iterator != "" || !keep {
			page.Data = nil
		}
	}
	writeJSON(w, http.StatusOK, listResponse(page, opts, func(a *hookline.Application) string { return a.ID }, applicationOut))
	return nil
}

// passesEndpointFilter reports whether the application stays in a list with filter's
// exclude_apps_with_* (what the stores' ListApplications decides in SQL), reading its endpoints.
func (a *API) passesEndpointFilter(r *http.Request, appID string, filter hookline.ApplicationListOptions) (bool, error) {
	if !filter.ExcludeNoEndpoints && !filter.ExcludeOnlyDisabled && !filter.ExcludeOnlySvixPlay {
		return true, nil
	}
	var some, enabled, notPlay bool
	opts := hookline.ListOptions{Limit: 250}
	for {
		page, err := a.store.ListEndpoints(r.Context(), appID, opts)
		if err != nil {
			return false, err
		}
		for _, ep := range page.Data {
			some = true
			enabled = enabled || !ep.Disabled
			notPlay = notPlay || !strings.Contains(ep.URL, hookline.SvixPlayHost)
		}
		if page.Done || len(page.Data) == 0 {
			break
		}
		opts.Iterator = page.Data[len(page.Data)-1].ID
	}
	switch {
	case filter.ExcludeNoEndpoints && !some,
		filter.ExcludeOnlyDisabled && some && !enabled,
		filter.ExcludeOnlySvixPlay && some && !notPlay:
		return false, nil
	}
	return true, nil
}

func (a *API) createApplication(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	var in ApplicationIn
	if err := decode(r, &in); err != nil {
		return err
	}
	rate, err := in.rate()
	if err != nil {
		return err
	}
	app := &hookline.Application{Name: in.Name, UID: deref(in.UID), RateLimit: rate, Metadata: in.Metadata}
	if getIfExists, _ := strconv.ParseBool(r.URL.Query().Get("get_if_exists")); getIfExists {
		got, created, err := a.svc.GetOrCreateApplication(r.Context(), app)
		if err != nil {
			return err
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		writeJSON(w, status, applicationOut(got))
		return nil
	}
	if err := a.svc.CreateApplication(r.Context(), app); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, applicationOut(app))
	return nil
}

func (a *API) getApplication(w http.ResponseWriter, r *http.Request) error {
	app, err := a.application(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, applicationOut(app))
	return nil
}

// updateApplication replaces an application, creating it (with the path's value as uid) when
// it does not exist, as Svix's PUT does.
func (a *API) updateApplication(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	var in ApplicationIn
	if err := decode(r, &in); err != nil {
		return err
	}
	rate, err := in.rate()
	if err != nil {
		return err
	}
	app, err := a.application(r)
	if hookline.IsNotFound(err) && !hookline.HasIDPrefix(r.PathValue("app_id"), hookline.PrefixApplication) {
		app := &hookline.Application{Name: in.Name, UID: r.PathValue("app_id"), RateLimit: rate, Metadata: in.Metadata}
		if in.UID != nil {
			app.UID = *in.UID
		}
		if err := a.svc.CreateApplication(r.Context(), app); err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, applicationOut(app))
		return nil
	}
	if err != nil {
		return err
	}
	app.Name, app.UID, app.RateLimit, app.Metadata = in.Name, deref(in.UID), rate, in.Metadata
	if err := a.svc.UpdateApplication(r.Context(), app); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, applicationOut(app))
	return nil
}

func (a *API) patchApplication(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	var in ApplicationPatch
	if err := decode(r, &in); err != nil {
		return err
	}
	app, err := a.application(r)
	if err != nil {
		return err
	}
	if in.Name != nil {
		app.Name = *in.Name
	}
	in.UID.apply(&app.UID, "")
	rate, err := alias(in.ThrottleRate, in.RateLimit, sentNullable[int], "throttleRate", "rateLimit")
	if err != nil {
		return err
	}
	rate.applyPtr(&app.RateLimit)
	if in.Metadata != nil {
		app.Metadata = *in.Metadata
	}
	if err := a.svc.UpdateApplication(r.Context(), app); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, applicationOut(app))
	return nil
}

func (a *API) deleteApplication(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	app, err := a.application(r)
	if err != nil {
		return err
	}
	if err := a.store.DeleteApplication(r.Context(), app.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
