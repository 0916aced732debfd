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
	"unicode"
	"unicode/utf8"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/i18n"
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
	// Lang is the page's language, Langs the language switch, and Script the texts app.js
	// shows, as JSON for a data attribute.
	Lang   string
	Langs  []langChoice
	Script string
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
	p := d.tr(r)
	t, ok := d.pages[p.Lang()][page]
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
	v.Lang, v.Langs = p.Lang(), d.langChoices(r, p.Lang())
	if b, err := json.Marshal(p.Script()); err == nil {
		v.Script = string(b)
	}
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
	p := d.tr(r)
	data := errorData{Status: status, Message: hookline.ErrorMessage(err)}
	switch {
	case status == http.StatusNotFound:
		data.Title = p.T("error.notFound")
		data.Message = p.T("error.notFoundText")
	case status == http.StatusForbidden && errors.Is(err, errCSRF):
		data.Title = p.T("error.csrf")
		data.Message = p.T("error.csrfText")
	case status == http.StatusForbidden && errors.Is(err, errScoped):
		data.Title = p.T("error.forbidden")
		data.Message = p.T("error.scoped")
	case status == http.StatusForbidden && errors.Is(err, errReadOnly):
		data.Title = p.T("error.forbidden")
		data.Message = p.T("error.readOnly")
	case status == http.StatusForbidden:
		data.Title = p.T("error.forbidden")
	case status == http.StatusServiceUnavailable:
		data.Title = p.T("error.unavailable")
		data.Message = p.T("error.unavailableText")
	case status >= 500:
		d.logger.Error("dashboard request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		data.Title = p.T("error.internal")
		data.Message = p.T("error.internalText")
	default:
		data.Title = p.T("error.invalid")
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
func fieldErrors(p *i18n.Printer, err error, known ...string) (fields map[string]string, rest string, ok bool) {
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
			fields[name] = fieldMessage(p, name, msg)
		}
	}
	if len(he.Fields) == 0 {
		other = append(other, hookline.ErrorMessage(err))
	}
	return fields, strings.Join(other, "; "), true
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[size:]
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// funcs are the template functions of the pages in p's language.
func (d *Dashboard) funcs(p *i18n.Printer) template.FuncMap {
	return template.FuncMap{
		"static": d.staticURL,
		// t is a message of the catalogue: {{t "endpoints.title"}}, {{t "x" "count" 3}}.
		"t":   p.HTML,
		"num": p.Number,
		"rel": func(t time.Time) string { return p.Relative(d.svc.Now(), t) },
		"abs": p.Date,
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"deref": func(t *time.Time) time.Time {
			if t == nil {
				return time.Time{}
			}
			return *t
		},
		"status":      statusName,
		"statusWord":  func(s hookline.MessageStatus) string { return statusWord(p, s) },
		"attemptWord": func(s hookline.MessageStatus) string { return attemptWord(p, s) },
		"codeText":    codeText,
		"pretty":      prettyJSON,
		"join":        strings.Join,
		"appURL":      appURL,
		"epURL":       epURL,
		"sortKeys":    sortedKeys,
		"host":        urlHost,
		"broker":      attemptBroker,
		"epAddress":   func(v any) string { return endpointAddress(p, v) },
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
		"reason":      func(stored string) disabledReason { return reasonOf(p, stored) },
		"bucketLabel": func(start, end time.Time) string { return bucketLabel(p, start, end) },
		// lower makes a label start a phrase: only its first letter, as German nouns keep
		// their capital ("Letzte 24 Stunden" becomes "letzte 24 Stunden").
		"lower": lowerFirst,
		"add":   func(a, b int) int { return a + b },
		"list":  func(s ...string) []string { return s },
		// code, mono, strong, strongid, link and msglink make markup for an argument of t,
		// which puts it in as it is: {{t "search.tagged" "tag" (code .)}}.
		"code":   func(s string) template.HTML { return markup("code", "", s) },
		"mono":   func(s string) template.HTML { return markup("span", `class="mono"`, s) },
		"strong": func(s any) template.HTML { return markup("strong", "", s) },
		"strongid": func(id string, v any) template.HTML {
			return markup("strong", `id="`+template.HTMLEscapeString(id)+`"`, v)
		},
		"link": func(href string, text any) template.HTML {
			return markup("a", `href="`+template.HTMLEscapeString(href)+`"`, text)
		},
		"msglink": func(appID, msgID string) template.HTML {
			return markup("a", `class="mono" href="`+template.HTMLEscapeString(appURL(appID)+"/messages/"+url.PathEscape(msgID))+`"`, msgID)
		},
		"timeabs": func(t time.Time) template.HTML { return timeHTML(p, time.Time{}, t) },
		"timerel": func(t time.Time) template.HTML { return timeHTML(p, d.svc.Now(), t) },
	}
}

// markup is an element with attrs (already escaped) around text (escaped here).
// Text that is template.HTML already (a message from t) goes in as it is.
func markup(tag, attrs string, text any) template.HTML {
	if attrs != "" {
		attrs = " " + attrs
	}
	inner, ok := text.(template.HTML)
	if !ok {
		inner = template.HTML(template.HTMLEscapeString(fmt.Sprint(text)))
	}
	return template.HTML("<" + tag + attrs + ">" + string(inner) + "</" + tag + ">")
}

// timeHTML is a <time> element, as the "timeabs" and "time" partials write it, for a message
// that takes a time as an argument: relative to now, or absolute when now is zero.
func timeHTML(p *i18n.Printer, now, t time.Time) template.HTML {
	iso, abs := t.UTC().Format(time.RFC3339), p.Date(t)
	if !now.IsZero() {
		return template.HTML(`<time datetime="` + iso + `" title="` + template.HTMLEscapeString(abs) + `" data-rel>` +
			template.HTMLEscapeString(p.Relative(now, t)) + `</time>`)
	}
	return template.HTML(`<time datetime="` + iso + `" title="` + template.HTMLEscapeString(abs) + `" data-abs>` +
		template.HTMLEscapeString(abs) + `</time>`)
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
