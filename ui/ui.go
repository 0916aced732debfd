// Package ui serves Hookline's dashboard under /dashboard/: server-rendered pages for operators
// (every application) and the customer portal (one application, opened by a magic link from
// /api/v1/auth/app-portal-access). Pages are html/template views embedded in the binary and
// parsed once at start; every action is a plain form POST answered by a redirect, so nothing
// needs JavaScript. A small script only adds comfort: live relative times, copy buttons,
// confirmation prompts, filters that apply on change, and delivery lists that follow new
// attempts (live.go).
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/i18n"
	"github.com/hookline/hookline/service"
)

// Config holds the dashboard's settings.
type Config struct {
	// PublicURL is the externally visible base URL; an https one marks cookies Secure.
	PublicURL string
	// FrameAncestors is the CSP frame-ancestors source list of the customer portal; "" or
	// "'none'" forbids embedding. The operator pages are never embeddable.
	FrameAncestors string
	// SessionTTL is how long an operator sign-in lasts (default 12 hours).
	SessionTTL time.Duration
	// Version is shown in the footer.
	Version string
	// Brand is how the dashboard presents itself; applications override it for their portal.
	Brand Brand
	// Language is the default language of the pages (i18n.Default when empty); StringsFile
	// names a JSON file of the installation's own texts (i18n.ReadOverrides).
	Language    string
	StringsFile string
}

// DefaultSessionTTL is the default lifetime of an operator sign-in.
const DefaultSessionTTL = 12 * time.Hour

// maxFormBytes caps form bodies; event-type schemas are the largest thing a form carries.
const maxFormBytes = 1 << 20

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Dashboard is the dashboard's HTTP handler set.
type Dashboard struct {
	svc    *service.Service
	store  hookline.Store
	cfg    Config
	logger *slog.Logger
	// pages holds every page's template per language: each language's set is parsed with
	// template functions that speak it.
	pages     map[string]map[string]*template.Template
	cat       *i18n.Catalogue
	staticVer string
	cop       *http.CrossOriginProtection
	// logo and favicon are the brand's image files, nil when it has none.
	logo, favicon *brandImage
}

// New parses the templates and returns the dashboard. It fails when a page the handlers use
// has no template, or a template is not a known page.
func New(svc *service.Service, cfg Config, logger *slog.Logger) (*Dashboard, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if strings.TrimSpace(cfg.FrameAncestors) == "" {
		cfg.FrameAncestors = "'none'"
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	d := &Dashboard{svc: svc, store: svc.Store(), cfg: cfg, logger: logger, cop: http.NewCrossOriginProtection()}
	ver, err := staticVersion()
	if err != nil {
		return nil, err
	}
	d.staticVer = ver
	if err := d.checkBrand(); err != nil {
		return nil, err
	}
	overrides, err := i18n.ReadOverrides(cfg.StringsFile)
	if err != nil {
		return nil, err
	}
	if d.cat, err = i18n.New(cfg.Language, overrides); err != nil {
		return nil, err
	}
	d.pages = map[string]map[string]*template.Template{}
	for _, lang := range i18n.Languages {
		if d.pages[lang], err = d.parsePages(d.cat.Printer(lang)); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// staticVersion hashes the static files, so their URLs change when they do and browsers may
// cache them for good.
func staticVersion() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(staticFS, "static", func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("ui: read static files: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// Page names: one template file each, templates/<name>.html.
const (
	pageLogin          = "login"
	pageApps           = "apps"
	pageEndpoints      = "endpoints"
	pageEndpointForm   = "endpoint_form"
	pageEndpoint       = "endpoint"
	pageConfirm        = "confirm"
	pageHistory        = "history"
	pageAttempt        = "attempt"
	pageMessages       = "messages"
	pageMessage        = "message"
	pageEventTypes     = "event_types"
	pageEventTypeForm  = "event_type_form"
	pagePortalLink     = "portal_link"
	pageAPIKeys        = "api_keys"
	pageCatalogue      = "catalogue"
	pagePortalSessions = "portal_sessions"
	pageTask           = "task"
	pageError          = "error"
)

var allPages = []string{pageLogin, pageApps, pageEndpoints, pageEndpointForm, pageEndpoint, pageConfirm,
	pageHistory, pageAttempt, pageMessages, pageMessage, pageEventTypes, pageEventTypeForm, pagePortalLink, pageError,
	pageAPIKeys, pageCatalogue, pagePortalSessions, pageTask}

// sharedTemplates are the layout and the partials every page is parsed with.
var sharedTemplates = []string{"layout.html", "partials.html", "receivers.html", "transformation.html", "destinations.html"}

func (d *Dashboard) parsePages(p *i18n.Printer) (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(d.funcs(p)).ParseFS(templateFS, prefixAll("templates/", sharedTemplates)...)
	if err != nil {
		return nil, fmt.Errorf("ui: parse layout: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, p := range allPages {
		known[p] = true
	}
	for _, s := range sharedTemplates {
		known[strings.TrimSuffix(s, ".html")] = true
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")
		if !known[name] {
			return nil, fmt.Errorf("ui: template %s is not a known page", f)
		}
	}
	pages := map[string]*template.Template{}
	for _, name := range allPages {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFS, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("ui: parse page %s: %w", name, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("ui: page %s defines no \"content\" block", name)
		}
		pages[name] = t
	}
	return pages, nil
}

func prefixAll(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

// access says who may use a route.
type access int

const (
	public       access = iota // anyone; the handler checks what it needs
	signedIn                   // an operator or a portal session
	operatorOnly               // operators; portal sessions get the not-found page
)

// handlerFunc is a page handler: it writes a response or returns an error, which becomes the
// error page.
type handlerFunc func(w http.ResponseWriter, r *http.Request, s *session) error

// Register adds the dashboard's routes to mux, and a redirect from / to /dashboard/.
func (d *Dashboard) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/dashboard/", http.StatusFound)
	})
	mux.HandleFunc("GET /dashboard", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/dashboard/", http.StatusMovedPermanently)
	})
	mux.Handle("GET /dashboard/static/", http.StripPrefix("/dashboard/static/", http.HandlerFunc(d.serveStatic)))
	for _, rt := range d.routes() {
		mux.Handle(rt.pattern, d.wrap(rt.access, rt.handler))
	}
	mux.Handle("/dashboard/", d.wrap(public, func(w http.ResponseWriter, r *http.Request, s *session) error {
		return notFound("There is no page at this address.")
	}))
}

type route struct {
	pattern string
	access  access
	handler handlerFunc
}

// routes lists every page and action of the dashboard.
func (d *Dashboard) routes() []route {
	const (
		app = "/dashboard/apps/{app}"
		ep  = app + "/endpoints/{ep}"
	)
	return []route{
		{"GET /dashboard/{$}", public, d.home},
		{"GET /dashboard/login", public, d.loginForm},
		{"POST /dashboard/login", public, d.login},
		{"POST /dashboard/logout", signedIn, d.logout},
		{"GET /dashboard/portal/login", public, d.portalLogin},
		{"GET /dashboard/brand.css", public, d.serveBrandCSS},
		{"GET /dashboard/language", public, d.setLanguage},
		{"GET /dashboard/brand/logo", public, d.serveBrandImage(&d.logo)},
		{"GET /dashboard/brand/favicon", public, d.serveBrandImage(&d.favicon)},

		{"GET /dashboard/apps", operatorOnly, d.listApps},
		{"POST /dashboard/apps", operatorOnly, d.createApp},
		{"POST " + app + "/portal-link", operatorOnly, d.createPortalLink},
		{"GET " + app + "/portal-sessions", operatorOnly, d.listPortalSessions},
		{"POST " + app + "/portal-sessions/{session}/revoke", operatorOnly, d.revokePortalSession},

		{"GET " + app, signedIn, d.listEndpoints},
		{"GET " + app + "/endpoints/new", signedIn, d.newEndpoint},
		{"POST " + app + "/endpoints", signedIn, d.createEndpoint},
		{"GET " + ep, signedIn, d.showEndpoint},
		{"GET " + ep + "/edit", signedIn, d.editEndpoint},
		{"POST " + ep + "/edit", signedIn, d.updateEndpoint},
		{"GET " + ep + "/delete", signedIn, d.confirmDeleteEndpoint},
		{"POST " + ep + "/delete", signedIn, d.deleteEndpoint},
		{"POST " + ep + "/status", signedIn, d.setEndpointStatus},
		{"GET " + ep + "/rotate", signedIn, d.confirmRotate},
		{"POST " + ep + "/rotate", signedIn, d.rotateSecret},
		{"POST " + ep + "/headers", signedIn, d.updateHeaders},
		{"POST " + ep + "/mtls", signedIn, d.saveMTLS},
		{"POST " + ep + "/ca", signedIn, d.saveServerCA},
		{"POST " + ep + "/oauth", signedIn, d.saveOAuth},
		{"POST " + ep + "/transformation", signedIn, d.saveTransformation},
		{"POST " + ep + "/transformation/simulate", signedIn, d.simulateTransformation},
		{"POST " + ep + "/destination", signedIn, d.saveDestination},
		{"POST " + ep + "/test", signedIn, d.sendTest},
		{"POST " + ep + "/recover", signedIn, d.recoverEndpoint},
		{"POST " + ep + "/replay-missing", signedIn, d.replayMissing},
		{"GET " + ep + "/history", signedIn, d.history},
		{"GET " + ep + "/history/live", signedIn, d.liveHistory},

		{"GET " + app + "/attempts", signedIn, d.appHistory},
		{"GET " + app + "/attempts/live", signedIn, d.liveAppHistory},
		{"GET " + app + "/attempts/{attempt}", signedIn, d.showAttempt},
		{"GET " + app + "/messages", signedIn, d.listMessages},
		{"GET " + app + "/messages/{msg}", signedIn, d.showMessage},
		{"POST " + app + "/messages/{msg}/resend", signedIn, d.resend},
		{"POST " + app + "/resend", signedIn, d.resendSelected},
		{"GET " + app + "/tasks/{task}", signedIn, d.showTask},

		{"GET " + app + "/api-keys", signedIn, d.listAPIKeys},
		{"POST " + app + "/api-keys", signedIn, d.createAPIKey},
		{"POST " + app + "/api-keys/{key}/revoke", signedIn, d.revokeAPIKey},

		{"GET /dashboard/event-types", signedIn, d.listEventTypes},
		{"GET /dashboard/catalogue", signedIn, d.catalogue},
		{"GET /dashboard/event-types/new", operatorOnly, d.newEventType},
		{"POST /dashboard/event-types", operatorOnly, d.createEventType},
		{"GET /dashboard/event-types/{name}/edit", operatorOnly, d.editEventType},
		{"POST /dashboard/event-types/{name}/edit", operatorOnly, d.updateEventType},
	}
}

// wrap applies, in order: panic recovery, security headers, the session, the route's access
// rule, and for POSTs the body limit and the CSRF check; errors become the error page.
func (d *Dashboard) wrap(acc access, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sess *session
		defer func() {
			if v := recover(); v != nil {
				d.logger.Error("panic in dashboard handler", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				d.renderError(w, r, sess, fmt.Errorf("panic: %v", v))
			}
		}()
		d.setSecurityHeaders(w, false)
		sess, err := d.loadSession(r)
		if err != nil {
			d.renderError(w, r, nil, err)
			return
		}
		if sess != nil && sess.Portal {
			d.setSecurityHeaders(w, true)
		}
		r = withPrinter(r, d.cat.Printer(d.langOf(r, sess)))
		if acc != public && sess == nil {
			d.redirectToLogin(w, r)
			return
		}
		if acc == operatorOnly && !sess.Operator {
			d.renderError(w, r, sess, notFound("There is no page at this address."))
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				d.renderError(w, r, sess, hookline.Errorf(hookline.EINVALID, "%s", d.tr(r).T("error.formUnreadable")))
				return
			}
			// Login forms carry a token bound to a cookie instead of a session; the login handler
			// checks it.
			if acc != public && !d.validCSRF(r, sess) {
				d.renderError(w, r, sess, errCSRF)
				return
			}
		}
		if err := h(w, r, sess); err != nil {
			d.renderError(w, r, sess, err)
		}
	})
}

// errCSRF is the answer to a form without a valid CSRF token.
var errCSRF = hookline.Errorf(hookline.EFORBIDDEN, "This form has expired or was sent from another site, so it was not accepted. Go back, reload the page and try again.")

func notFound(msg string) error { return hookline.Errorf(hookline.ENOTFOUND, "%s", msg) }

// setSecurityHeaders sets the headers of every dashboard response. Only portal pages may be
// framed, and only by the configured ancestors.
func (d *Dashboard) setSecurityHeaders(w http.ResponseWriter, portal bool) {
	h := w.Header()
	ancestors := "'none'"
	if portal && d.embeddable() {
		ancestors = d.cfg.FrameAncestors
		h.Del("X-Frame-Options")
	} else {
		h.Set("X-Frame-Options", "DENY")
	}
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors "+ancestors)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// Pages show secrets and per-session data: no cache may keep them.
	h.Set("Cache-Control", "no-store")
}

// embeddable reports whether the portal may be framed by another site.
func (d *Dashboard) embeddable() bool { return d.cfg.FrameAncestors != "'none'" }

func (d *Dashboard) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Path
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("v") == d.staticVer {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// statusOf maps an error to the page's HTTP status, through the API's one mapping.
func statusOf(err error) int {
	if errors.Is(err, hookline.ErrUnavailable) {
		return http.StatusServiceUnavailable
	}
	return hookline.StatusForCode(hookline.ErrorCode(err))
}
