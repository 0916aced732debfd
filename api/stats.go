package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hookline/hookline"
)

// maxAttemptCount is the ceiling of an attempt count; beyond it the count is approximated.
const maxAttemptCount = 10_000

// defaultStatsWindow is the range of the attempt statistics when the request names none.
const defaultStatsWindow = 28 * 24 * time.Hour

// CountOut is a count of attempts.
type CountOut struct {
	Count        int  `json:"count"`
	Approximated bool `json:"approximated" doc:"True when there are more than 10,000: count is then 10,000."`
}

// AttemptCountQuery are the filters of the attempt count: the attempt list's.
type AttemptCountQuery struct {
	AttemptFilterQuery
}

// AttemptFilterQuery are the filters that the attempt list and count share (attemptFilters
// reads them).
type AttemptFilterQuery struct {
	Status          int       `query:"status" enum:"0,1,2,3,4" doc:"Only attempts with this status."`
	StatusCodeClass int       `query:"status_code_class" enum:"0,100,200,300,400,500" doc:"Only attempts answered with a status of this class (0: no response)."`
	EventTypes      []string  `query:"event_types" doc:"Only attempts of messages of these types."`
	Channel         string    `query:"channel" doc:"Only attempts of messages sent on this channel."`
	Tag             string    `query:"tag" doc:"Only attempts of messages with this tag."`
	Before          time.Time `query:"before"`
	After           time.Time `query:"after"`
}

// codeClassQuery parses status_code_class.
func codeClassQuery(r *http.Request) (*int, error) {
	s := r.URL.Query().Get("status_code_class")
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
	case n == 0 || n == 100 || n == 200 || n == 300 || n == 400 || n == 500:
		return &n, nil
	}
	return nil, fieldError("query", "status_code_class", "enum", "must be 0 (no response), 100, 200, 300, 400 or 500")
}

func (a *API) countAttemptsByEndpoint(w http.ResponseWriter, r *http.Request) error {
	app, ao, err := a.endpointAttemptFilters(r)
	if err != nil {
		return err
	}
	n, more, err := a.store.CountAttempts(r.Context(), app.ID, ao, maxAttemptCount)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, CountOut{Count: n, Approximated: more})
	return nil
}

// ActiveAppCount counts applications with an endpoint.
type ActiveAppCount struct {
	Count int `json:"count"`
}

// CountActiveQuery says which endpoints make an application active.
type CountActiveQuery struct {
	ExcludeSvixPlay bool `query:"exclude_svix_play" doc:"Leave out endpoints that point to play.svix.com (default true)."`
	ExcludeDisabled bool `query:"exclude_disabled" doc:"Leave out disabled endpoints (default true)."`
}

func (a *API) countActiveApps(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	play, err := boolQuery(r, "exclude_svix_play", true)
	if err != nil {
		return err
	}
	disabled, err := boolQuery(r, "exclude_disabled", true)
	if err != nil {
		return err
	}
	n, err := a.svc.CountActiveApps(r.Context(), play, disabled)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ActiveAppCount{Count: n})
	return nil
}

// EndpointCountOut counts the endpoints of every application.
type EndpointCountOut struct {
	Active   int64 `json:"active"`
	Disabled int64 `json:"disabled"`
}

// EndpointCountQuery says which endpoints count.
type EndpointCountQuery struct {
	ExcludeSvixPlay bool `query:"exclude_svix_play" doc:"Leave out endpoints that point to play.svix.com (default true)."`
}

func (a *API) countEndpoints(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	play, err := boolQuery(r, "exclude_svix_play", true)
	if err != nil {
		return err
	}
	c, err := a.svc.EndpointCounts(r.Context(), play)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, EndpointCountOut{Active: c.Active, Disabled: c.Disabled})
	return nil
}

// AppAttemptEventTypeStats counts one event type's outcomes.
type AppAttemptEventTypeStats struct {
	Success  int64 `json:"success"`
	Failure  int64 `json:"failure"`
	Canceled int64 `json:"canceled"`
}

// AppAttemptStatsOut counts an application's attempt outcomes in a range, by event type.
type AppAttemptStatsOut struct {
	ByEventType   map[string]AppAttemptEventTypeStats `json:"by_event_type"`
	TotalSuccess  int64                               `json:"total_success"`
	TotalFailure  int64                               `json:"total_failure"`
	TotalCanceled int64                               `json:"total_canceled"`
	Since         time.Time                           `json:"since"`
	Until         time.Time                           `json:"until"`
}

// AppAttemptStatsQuery selects the range and event types.
type AppAttemptStatsQuery struct {
	Since      time.Time `query:"since" doc:"Start of the range (default: 28 days before until)."`
	Until      time.Time `query:"until" doc:"End of the range, exclusive (default: now)."`
	EventTypes []string  `query:"event_types" doc:"Only messages of these event types."`
}

// statsRange reads a range's two ends, with its defaults.
func (a *API) statsRange(r *http.Request, sinceName, untilName string) (time.Time, time.Time, error) {
	until := a.svc.Now()
	if u, err := timeQuery(r, untilName); err != nil {
		return time.Time{}, time.Time{}, err
	} else if u != nil {
		until = *u
	}
	since := until.Add(-defaultStatsWindow)
	if s, err := timeQuery(r, sinceName); err != nil {
		return time.Time{}, time.Time{}, err
	} else if s != nil {
		since = *s
	}
	if !until.After(since) {
		return time.Time{}, time.Time{}, fieldError("query", untilName, "value", "must be after "+sinceName)
	}
	return since.UTC(), until.UTC(), nil
}

func (a *API) appAttemptStats(w http.ResponseWriter, r *http.Request) error {
	app, err := a.application(r)
	if err != nil {
		return err
	}
	since, until, err := a.statsRange(r, "since", "until")
	if err != nil {
		return err
	}
	counts, err := a.store.OutcomeCounts(r.Context(), app.ID, hookline.OutcomeQuery{Since: since, Until: until, EventTypes: eventTypesQuery(r)})
	if err != nil {
		return err
	}
	out := AppAttemptStatsOut{ByEventType: map[string]AppAttemptEventTypeStats{}, Since: since, Until: until}
	for _, c := range counts {
		s := out.ByEventType[c.EventType]
		switch c.Status {
		case hookline.StatusSuccess:
			s.Success += c.N
			out.TotalSuccess += c.N
		case hookline.StatusFail:
			s.Failure += c.N
			out.TotalFailure += c.N
		case hookline.StatusCanceled:
			s.Canceled += c.N
			out.TotalCanceled += c.N
		}
		out.ByEventType[c.EventType] = s
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// AttemptStatisticsData holds one count per period, oldest first.
type AttemptStatisticsData struct {
	SuccessCount  []int64 `json:"successCount"`
	FailureCount  []int64 `json:"failureCount"`
	CanceledCount []int64 `json:"canceledCount"`
}

// AttemptStatisticsResponse counts an application's outcomes per period.
type AttemptStatisticsResponse struct {
	StartDate time.Time             `json:"startDate"`
	EndDate   time.Time             `json:"endDate"`
	Period    string                `json:"period" enum:"OneDay,OneHour,FiveMinutes"`
	Data      AttemptStatisticsData `json:"data"`
}

// AttemptStatisticsQuery selects the range, the period and the event types.
type AttemptStatisticsQuery struct {
	StartDate  time.Time `query:"startDate" doc:"Start of the range, rounded down to the period (default: 28 days before endDate)."`
	EndDate    time.Time `query:"endDate" doc:"End of the range (default: now)."`
	Period     string    `query:"period" enum:"OneDay,OneHour,FiveMinutes" doc:"The width of each count (default OneDay)."`
	EventTypes []string  `query:"event_types" doc:"Only messages of these event types."`
}

// maxStatisticsPeriods bounds the counts of one answer.
const maxStatisticsPeriods = 2000

func (a *API) appAttemptStatistics(w http.ResponseWriter, r *http.Request) error {
	app, err := a.application(r)
	if err != nil {
		return err
	}
	period := r.URL.Query().Get("period")
	step := map[string]time.Duration{"": 24 * time.Hour, "OneDay": 24 * time.Hour, "OneHour": time.Hour, "FiveMinutes": 5 * time.Minute}[period]
	if step == 0 {
		return fieldError("query", "period", "enum", `must be "OneDay", "OneHour" or "FiveMinutes"`)
	}
	if period == "" {
		period = "OneDay"
	}
	since, until, err := a.statsRange(r, "startDate", "endDate")
	if err != nil {
		return err
	}
	since = since.Truncate(step)
	n := int((until.Sub(since) + step - 1) / step)
	if n > maxStatisticsPeriods {
		return fieldError("query", "startDate", "value", "the range holds more than 2000 periods: shorten it or choose a longer period")
	}
	until = since.Add(time.Duration(n) * step)
	counts, err := a.store.OutcomeCounts(r.Context(), app.ID, hookline.OutcomeQuery{Since: since, Until: until, Step: step, EventTypes: eventTypesQuery(r)})
	if err != nil {
		return err
	}
	out := AttemptStatisticsResponse{StartDate: since, EndDate: until, Period: period, Data: AttemptStatisticsData{
		SuccessCount: make([]int64, n), FailureCount: make([]int64, n), CanceledCount: make([]int64, n)}}
	for _, c := range counts {
		if c.Bucket < 0 || c.Bucket >= n {
			continue
		}
		switch c.Status {
		case hookline.StatusSuccess:
			out.Data.SuccessCount[c.Bucket] += c.N
		case hookline.StatusFail:
			out.Data.FailureCount[c.Bucket] += c.N
		case hookline.StatusCanceled:
			out.Data.CanceledCount[c.Bucket] += c.N
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// AppUsageStatsIn selects the applications and the range of a usage count.
type AppUsageStatsIn struct {
	Since  time.Time `json:"since" doc:"Count the deliveries of messages created at or after this time..."`
	Until  time.Time `json:"until" doc:"... and before this time."`
	AppIDs []string  `json:"appIds,omitempty" doc:"Applications (ids or uids) to count; default every application."`
}

// AppUsageStatsOut is the application.stats task, started.
type AppUsageStatsOut struct {
	TaskStartedOut
	UnresolvedAppIDs []string `json:"unresolvedAppIds" doc:"The appIds that name no application."`
}

func (a *API) appUsageStats(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	var in AppUsageStatsIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Since.IsZero() {
		return fieldError("body", "since", "missing", "is required")
	}
	if in.Until.IsZero() {
		return fieldError("body", "until", "missing", "is required")
	}
	task, unresolved, err := a.svc.AppUsageStats(r.Context(), in.Since, in.Until, in.AppIDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, AppUsageStatsOut{TaskStartedOut: taskStartedOut(task), UnresolvedAppIDs: unresolved})
	return nil
}

// AggregateEventTypesOut is the event-type.aggregate task, started.
type AggregateEventTypesOut struct{ TaskStartedOut }

func (a *API) aggregateEventTypes(w http.ResponseWriter, r *http.Request) error {
	if err := requireOperator(r); err != nil {
		return err
	}
	task, err := a.svc.AggregateEventTypes(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, AggregateEventTypesOut{taskStartedOut(task)})
	return nil
}
