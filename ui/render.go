package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/portal"
)

// view is what every page template receives.
type view struct {
	Title   string
	Session *session
	CSRF    string
	Flash   *flashMsg
	// App is the application the page belongs to, for the navigation; nil outside one.
	App *hookline.Application
	// Nav names the active navigation entry.
	Nav  string
	Data any
	// Form holds submitted values to show again, Errors the problems by field name, and
	// FormError problems that belong to no field.
	Form      url.Values
	Errors    map[string]string
	FormError string
	Version   string
	// Theme is the colour scheme a portal link forced ("dark" or "light"); "" follows the
	// system.
	Theme string
	// Refresh, when above zero, reloads the page after that many seconds (a meta refresh).
	Refresh int
	// NoScriptRefresh is a meta refresh for browsers without JavaScript only (inside
	// <noscript>): with it, app.js updates the page in place instead.
	NoScriptRefresh int
	// Brand is the name, images, stylesheet and footer line the page shows.
	Brand brandView
}

// Value returns a submitted form value, for refilling a form after an error.
func (v *view) Value(name string) string { return v.Form.Get(name) }

// Has reports whether a submitted form value list contains value.
func (v *view) Has(name, value string) bool {
	for _, x := range v.Form[name] {
		if x == value {
			return true
		}
	}
	return false
}

// staticURL is the address of a static file, with its version.
func (d *Dashboard) staticURL(name string) string {
	return "/dashboard/static/" + name + "?v=" + d.staticVer
}

func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) error {
	t, ok := d.pages[page]
	if !ok {
		return fmt.Errorf("ui: no page %q", page)
	}
	if v.Session != nil && v.CSRF == "" {
		v.CSRF = v.Session.CSRF
	}
	if v.Flash == nil {
		v.Flash = d.takeFlash(w, r, v.Session)
	}
	v.Version = d.cfg.Version
	v.Theme = themeOf(r, v.Session)
	v.Brand = d.brandOf(v.App, v.Session)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		return fmt.Errorf("ui: render %s: %w", page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

type errorData struct {
	Status  int
	Title   string
	Message string
	// HideActions leaves out the sign-in and start links, for portal visitors who have
	// neither.
	HideActions bool
}

// renderError shows an error page. Errors meant for the user (*hookline.Error) say what went
// wrong; anything else is logged and shown as a generic failure.
func (d *Dashboard) renderError(w http.ResponseWriter, r *http.Request, s *session, err error) {
	status := statusOf(err)
	data := errorData{Status: status, Message: hookline.ErrorMessage(err)}
	switch {
	case status == http.StatusNotFound:
		data.Title = "Not found"
		data.Message = "There is nothing here, or you do not have access to it. Check the address, or go back to the start."
	case status == http.StatusForbidden && errors.Is(err, errCSRF):
		data.Title = "Form not accepted"
	case status == http.StatusForbidden:
		data.Title = "Not allowed"
	case status == http.StatusServiceUnavailable:
		data.Title = "Temporarily unavailable"
		data.Message = "The database is not answering. Try again in a moment."
	case status >= 500:
		d.logger.Error("dashboard request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		data.Title = "Something went wrong"
		data.Message = "The page could not be shown. The error was logged; try again, and tell your operator if it persists."
	default:
		data.Title = "Request not accepted"
	}
	v := &view{Title: data.Title, Session: s, Data: data}
	if s != nil && s.Portal {
		v.App = &hookline.Application{ID: s.AppID}
		if app, gerr := d.store.GetApplication(r.Context(), s.AppID); gerr == nil {
			v.App = app
		}
	}
	if rerr := d.render(w, r, status, pageError, v); rerr != nil {
		d.logger.Error("render error page", "err", rerr)
		http.Error(w, data.Title, status)
	}
}

// fieldErrors turns a validation error into messages by form field, with what belongs to no
// known field in rest. Field names are the service's (the second element of Loc).
func fieldErrors(err error, known ...string) (fields map[string]string, rest string, ok bool) {
	var he *hookline.Error
	if !errors.As(err, &he) || statusOf(err) != http.StatusUnprocessableEntity && statusOf(err) != http.StatusConflict {
		return nil, "", false
	}
	fields = map[string]string{}
	var other []string
	for _, f := range he.Fields {
		name := ""
		if len(f.Loc) > 1 {
			name = f.Loc[1]
		}
		isKnown := false
		for _, k := range known {
			if k == name {
				isKnown = true
			}
		}
		msg := f.Msg
		if len(f.Loc) > 2 {
			msg = strings.Join(f.Loc[2:], ".") + ": " + msg
		}
		if !isKnown {
			other = append(other, strings.Join(f.Loc[1:], ".")+": "+f.Msg)
			continue
		}
		if fields[name] != "" {
			fields[name] += "; " + msg
		} else {
			fields[name] = fieldMessage(name, msg)
		}
	}
	if len(he.Fields) == 0 {
		other = append(other, hookline.ErrorMessage(err))
	}
	return fields, strings.Join(other, "; "), true
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (d *Dashboard) funcs() template.FuncMap {
	return template.FuncMap{
		"static": d.staticURL,
		"rel":    func(t time.Time) string { return relTime(d.svc.Now(), t) },
		"abs":    func(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04:05 UTC") },
		"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"deref": func(t *time.Time) time.Time {
			if t == nil {
				return time.Time{}
			}
			return *t
		},
		"status":      statusName,
		"statusWord":  statusWord,
		"attemptWord": attemptWord,
		"codeText":    codeText,
		"pretty":      prettyJSON,
		"join":        strings.Join,
		"appURL":      appURL,
		"epURL":       epURL,
		"sortKeys":    sortedKeys,
		"host":        urlHost,
		"broker":      attemptBroker,
		"epAddress":   endpointAddress,
		"epName":      func(v any) string { return endpointName(asEndpoint(v)) },
		"clip":        clip,
		"codeClass": func(code int) string {
			switch {
			case code == 0:
				return "neutral"
			case code < 300:
				return "ok"
			case code < 500:
				return "warn"
			}
			return "bad"
		},
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"reason":      reasonOf,
		"bucketLabel": bucketLabel,
		"lower":       strings.ToLower,
		"add":         func(a, b int) int { return a + b },
		"list":        func(s ...string) []string { return s },
	}
}

func appURL(appID string) string { return "/dashboard/apps/" + url.PathEscape(appID) }

func epURL(appID, epID string) string {
	return appURL(appID) + "/endpoints/" + url.PathEscape(epID)
}

func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Host
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// statusName is the word shown for a message status: "failed" reads better than "fail".
func statusName(s hookline.MessageStatus) string {
	switch s {
	case hookline.StatusSuccess:
		return "success"
	case hookline.StatusFail:
		return "failed"
	case hookline.StatusPending:
		return "pending"
	case hookline.StatusSending:
		return "sending"
	case hookline.StatusCanceled:
		return "canceled"
	}
	return "unknown"
}

// prettyJSON indents JSON for reading; anything else is returned as it is.
func prettyJSON(raw any) string {
	var b []byte
	switch v := raw.(type) {
	case json.RawMessage:
		b = v
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Sprint(raw)
	}
	var out bytes.Buffer
	if json.Valid(b) && json.Indent(&out, b, "", "  ") == nil {
		return out.String()
	}
	return string(b)
}

// relTime says how long ago (or how soon) t is, in words.
func relTime(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < 45*time.Second:
		return "just now"
	case d < 90*time.Second:
		s = "1 minute"
	case d < time.Hour:
		s = fmt.Sprintf("%d minutes", int(d.Round(time.Minute)/time.Minute))
	case d < 90*time.Minute:
		s = "1 hour"
	case d < 24*time.Hour:
		s = fmt.Sprintf("%d hours", int(d.Round(time.Hour)/time.Hour))
	case d < 36*time.Hour:
		s = "1 day"
	default:
		s = fmt.Sprintf("%d days", int((d+12*time.Hour)/(24*time.Hour)))
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// pager holds the links to the pages around a list page; "" where there is none.
type pager struct {
	Prev, Next string
}

// makePager builds the links of a page fetched with opts, as the API's iterators do: the next
// page starts after the last id, the previous one ends before the first ("-" + id).
func makePager(r *http.Request, opts hookline.ListOptions, done bool, first, last string) pager {
	var p pager
	link := func(it string) string {
		q := r.URL.Query()
		q.Set("iterator", it)
		return r.URL.Path + "?" + q.Encode()
	}
	if first == "" {
		if opts.Iterator != "" {
			q := r.URL.Query()
			q.Del("iterator")
			p.Prev = r.URL.Path + "?" + q.Encode()
		}
		return p
	}
	if opts.Backward {
		p.Next = link(last)
		if !done {
			p.Prev = link("-" + first)
		}
		return p
	}
	if !done {
		p.Next = link(last)
	}
	if opts.Iterator != "" {
		p.Prev = link("-" + first)
	}
	return p
}

// listOptions reads the iterator of a list page.
func listOptions(r *http.Request, limit int, descending bool) hookline.ListOptions {
	opts := hookline.ListOptions{Limit: limit, Descending: descending}
	if it := r.URL.Query().Get("iterator"); it != "" && len(it) < 300 {
		opts.Iterator, opts.Backward = strings.CutPrefix(it, "-")
	}
	return opts
}

// publicBase is the base URL of the curl examples and portal links the pages show.
func (d *Dashboard) publicBase(r *http.Request) string { return portal.BaseURL(r, d.cfg.PublicURL) }
