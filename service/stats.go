package service

import (
	"context"
	"slices"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/tasks"
)

// appStatsInput is the input of an application.stats task.
type appStatsInput struct {
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until"`
	AppIDs []string  `json:"appIds,omitempty"` // resolved ids; empty: every application
}

// AppUsage is one application's line in an application.stats task's result (Svix's words).
type AppUsage struct {
	MessageDestinations int64   `json:"messageDestinations"`
	AppID               string  `json:"appId"`
	AppUID              *string `json:"appUid"`
}

// AppUsageStats starts a task (application.stats) that counts, for each application (those
// idsOrUIDs name, or all), the deliveries ("message destinations") of its messages created in
// [since, until). It returns the task and the ids or uids that name no application; when
// some were given and none resolves, it fails with a validation error instead.
func (s *Service) AppUsageStats(ctx context.Context, since, until time.Time, idsOrUIDs []string) (*hookline.BackgroundTask, []string, error) {
	if !until.After(since) {
		return nil, nil, &hookline.Error{Code: hookline.EINVALID, Message: "until: must be after since",
			Fields: []hookline.FieldError{{Loc: []string{"body", "until"}, Msg: "must be after since", Type: "value"}}}
	}
	in := appStatsInput{Since: since, Until: until}
	unresolved := []string{}
	for _, id := range idsOrUIDs {
		app, err := s.store.GetApplication(ctx, id)
		switch {
		case hookline.IsNotFound(err) || (err == nil && app.Internal):
			unresolved = append(unresolved, id)
		case err != nil:
			return nil, nil, err
		case !slices.Contains(in.AppIDs, app.ID):
			in.AppIDs = append(in.AppIDs, app.ID)
		}
	}
	if len(idsOrUIDs) > 0 && len(in.AppIDs) == 0 {
		return nil, nil, &hookline.Error{Code: hookline.EINVALID, Message: "appIds: none of them names an application",
			Fields: []hookline.FieldError{{Loc: []string{"body", "appIds"}, Msg: "none of them names an application", Type: "value"}}}
	}
	t, err := s.startTask(ctx, hookline.TaskApplicationStats, "", in)
	return t, unresolved, err
}

func (s *Service) runAppStats(ctx context.Context, run *tasks.Run) (any, error) {
	var in appStatsInput
	if err := run.Input(&in); err != nil {
		return nil, err
	}
	counts, err := s.store.CountDeliveries(ctx, in.Since, in.Until, in.AppIDs)
	if err != nil {
		return nil, err
	}
	out := []AppUsage{}
	err = s.eachApp(ctx, in.AppIDs, func(app *hookline.Application) {
		u := AppUsage{MessageDestinations: counts[app.ID], AppID: app.ID}
		if app.UID != "" {
			u.AppUID = &app.UID
		}
		out = append(out, u)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"appStats": out}, nil
}

// eachApp calls fn for the named applications, or for every application but the internal one.
func (s *Service) eachApp(ctx context.Context, ids []string, fn func(*hookline.Application)) error {
	if len(ids) > 0 {
		for _, id := range ids {
			app, err := s.store.GetApplication(ctx, id)
			if hookline.IsNotFound(err) {
				continue // deleted meanwhile
			}
			if err != nil {
				return err
			}
			fn(app)
		}
		return nil
	}
	opts := hookline.ListOptions{Limit: 250}
	for {
		page, err := s.store.ListApplications(ctx, hookline.ApplicationListOptions{ListOptions: opts})
		if err != nil {
			return err
		}
		for i := range page.Data {
			if !page.Data[i].Internal {
				fn(&page.Data[i])
			}
		}
		if page.Done || len(page.Data) == 0 {
			return nil
		}
		opts.Iterator = page.Data[len(page.Data)-1].ID
	}
}

// EventTypeUsage is one application's line in an event-type.aggregate task's result.
type EventTypeUsage struct {
	AppID                          string   `json:"appId"`
	ExplicitlySubscribedEventTypes []string `json:"explicitlySubscribedEventTypes"`
	HasCatchAllEndpoint            bool     `json:"hasCatchAllEndpoint"`
}

// AggregateEventTypes starts a task (event-type.aggregate) that lists, for each application,
// the event types its enabled endpoints subscribe to by name, and whether one of them takes
// every event type (no filter).
func (s *Service) AggregateEventTypes(ctx context.Context) (*hookline.BackgroundTask, error) {
	return s.startTask(ctx, hookline.TaskEventTypeAggregate, "", nil)
}

func (s *Service) runAggregateEventTypes(ctx context.Context, run *tasks.Run) (any, error) {
	out := []EventTypeUsage{}
	var listErr error
	err := s.eachApp(ctx, nil, func(app *hookline.Application) {
		if listErr != nil {
			return
		}
		u := EventTypeUsage{AppID: app.ID, ExplicitlySubscribedEventTypes: []string{}}
		opts := hookline.ListOptions{Limit: 250}
		for {
			page, err := s.store.ListEndpoints(ctx, app.ID, opts)
			if err != nil {
				listErr = err
				return
			}
			for _, ep := range page.Data {
				if ep.Disabled {
					continue
				}
				if len(ep.FilterTypes) == 0 {
					u.HasCatchAllEndpoint = true
				}
				for _, et := range ep.FilterTypes {
					if !slices.Contains(u.ExplicitlySubscribedEventTypes, et) {
						u.ExplicitlySubscribedEventTypes = append(u.ExplicitlySubscribedEventTypes, et)
					}
				}
			}
			if page.Done || len(page.Data) == 0 {
				break
			}
			opts.Iterator = page.Data[len(page.Data)-1].ID
		}
		slices.Sort(u.ExplicitlySubscribedEventTypes)
		out = append(out, u)
	})
	if err == nil {
		err = listErr
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"event_types": out}, nil
}

// EndpointCounts counts the endpoints of every application; excludePlay leaves out the ones
// that point to Svix Play (play.svix.com).
func (s *Service) EndpointCounts(ctx context.Context, excludePlay bool) (hookline.EndpointCounts, error) {
	return s.store.CountEndpoints(ctx, playFilter(excludePlay, false))
}

// CountActiveApps counts the applications with at least one endpoint (enabled, when
// excludeDisabled; not pointing to Svix Play, when excludePlay).
func (s *Service) CountActiveApps(ctx context.Context, excludePlay, excludeDisabled bool) (int, error) {
	return s.store.CountActiveApps(ctx, playFilter(excludePlay, excludeDisabled))
}

func playFilter(excludePlay, enabledOnly bool) hookline.EndpointCountQuery {
	q := hookline.EndpointCountQuery{EnabledOnly: enabledOnly}
	if excludePlay {
		q.ExcludeURL = hookline.SvixPlayHost
	}
	return q
}
