package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/auth"
	"github.com/hookline/hookline/portal"
)

// Cookie names. All live under Path=/dashboard and are HttpOnly. An operator's sign-in and a
// portal link each have a cookie of their own, so an operator who opens a customer's portal
// link sees the portal until leaving it, and is then still signed in as the operator.
const (
	sessionCookie = "hookline_session"
	portalCookie  = "hookline_portal"
	loginCSRF     = "hookline_login_csrf"
	flashCookie   = "hookline_flash"
)

// operatorSessionName names the short-lived operator tokens that back dashboard sign-ins, so
// they are recognisable in the token list.
const operatorSessionName = "dashboard session"

// session is the signed-in user of a request. Its cookie holds the text of a token from the
// tokens table: a short-lived operator token made at sign-in, or the portal token of a magic
// link. Sessions thus survive restarts, work across processes sharing a database, and end when
// the token is revoked or expires.
type session struct {
	Token *hookline.Token
	text  string
	// Operator sessions see every application; portal sessions see AppID only.
	Operator bool
	Portal   bool
	AppID    string
	ReadOnly bool
	// Scope is the endpoint ids a scoped portal session sees (scope.go); nil: all of them.
	Scope []string
	// CSRF is the form token of this session.
	CSRF string
	// cookie is the name of the cookie that holds it.
	cookie string
}

// CanWrite reports whether the session may change things.
func (s *session) CanWrite() bool { return s != nil && !s.ReadOnly }

// loadSession finds the request's session: a portal link's while one is open in this browser,
// else the operator's sign-in.
func (d *Dashboard) loadSession(r *http.Request) (*session, error) {
	for _, name := range []string{portalCookie, sessionCookie} {
		s, err := d.sessionOf(r, name)
		if s != nil || err != nil {
			return s, err
		}
	}
	return nil, nil
}

// sessionOf reads the session in the cookie name; nil when there is none or its token no
// longer works.
func (d *Dashboard) sessionOf(r *http.Request, name string) (*session, error) {
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	tok, err := auth.Authenticate(r.Context(), d.store, "Bearer "+c.Value, d.svc.Now())
	if hookline.ErrorCode(err) == hookline.EUNAUTHORIZED {
		return nil, nil // expired or revoked: sign in again
	}
	if err != nil {
		return nil, err
	}
	if err := auth.Touch(r.Context(), d.store, tok, d.svc.Now()); err != nil {
		d.logger.Warn("could not record a session's use", "token", tok.ID, "error", err)
	}
	s := &session{Token: tok, text: c.Value, CSRF: csrfToken(c.Value), cookie: name}
	switch tok.Kind {
	case hookline.TokenOperator:
		s.Operator = true
	case hookline.TokenPortal:
		s.Portal, s.AppID, s.ReadOnly = true, tok.AppID, portal.ReadOnly(tok.Name)
		s.Scope = tok.EndpointIDs
	default:
		return nil, nil // application tokens are API keys, not dashboard sessions
	}
	return s, nil
}

// csrfToken derives the session's form token from its secret token text: it is bound to the
// session, needs no storage, and cannot be computed by a site that cannot read the cookie.
func csrfToken(sessionText string) string {
	m := hmac.New(sha256.New, []byte(sessionText))
	m.Write([]byte("hookline dashboard csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF checks a form POST: the browser must not call it cross-origin (Sec-Fetch-Site,
// Origin) and the form must carry the session's token.
func (d *Dashboard) validCSRF(r *http.Request, s *session) bool {
	if d.cop.Check(r) != nil || s == nil {
		return false
	}
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(s.CSRF))
}

// secure reports whether cookies should be Secure: the request came over TLS or the public
// URL is https (TLS ends at a proxy in front).
func (d *Dashboard) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(d.cfg.PublicURL, "https://")
}

// cookie builds a dashboard cookie. An embeddable portal's cookies must be sent inside a
// third-party iframe: SameSite=None, which browsers accept only with Secure, and Partitioned
// so browsers that block third-party cookies keep one jar per embedding site.
func (d *Dashboard) cookie(r *http.Request, portal bool, name, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/dashboard", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: d.secure(r)}
	if portal && d.embeddable() && c.Secure {
		c.SameSite = http.SameSiteNoneMode
		c.Partitioned = true
	}
	return c
}

func (d *Dashboard) home(w http.ResponseWriter, r *http.Request, s *session) error {
	switch {
	case s == nil:
		d.redirectToLogin(w, r)
	case s.Portal:
		http.Redirect(w, r, appURL(s.AppID), http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/dashboard/apps", http.StatusSeeOther)
	}
	return nil
}

func (d *Dashboard) redirectToLogin(w http.ResponseWriter, r *http.Request) {
	target := "/dashboard/login"
	if r.Method == http.MethodGet && r.URL.Path != "/dashboard/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext keeps a post-login redirect inside the dashboard.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/dashboard/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/dashboard/"
}

type loginData struct {
	Next  string
	Error string
}

func (d *Dashboard) loginForm(w http.ResponseWriter, r *http.Request, s *session) error {
	if s != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	return d.renderLogin(w, r, http.StatusOK, loginData{Next: r.URL.Query().Get("next")})
}

// renderLogin shows the sign-in form. Without a session, its CSRF token is a random value
// also kept in a cookie (double submit), so no other site can sign a visitor in.
func (d *Dashboard) renderLogin(w http.ResponseWriter, r *http.Request, status int, data loginData) error {
	tokenValue := ""
	if c, err := r.Cookie(loginCSRF); err == nil && len(c.Value) >= 32 {
		tokenValue = c.Value
	} else {
		tokenValue = randomToken()
		http.SetCookie(w, d.cookie(r, false, loginCSRF, tokenValue, 3600))
	}
	return d.render(w, r, status, pageLogin, &view{Title: d.tr(r).T("common.signIn"), CSRF: tokenValue, Data: data})
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request, _ *session) error {
	c, err := r.Cookie(loginCSRF)
	if d.cop.Check(r) != nil || err != nil || len(c.Value) < 32 || !hmac.Equal([]byte(c.Value), []byte(r.PostFormValue("csrf"))) {
		return errCSRF
	}
	next := r.PostFormValue("next")
	text := strings.TrimSpace(r.PostFormValue("token"))
	tok, err := auth.Authenticate(r.Context(), d.store, "Bearer "+text, d.svc.Now())
	if hookline.ErrorCode(err) == hookline.EUNAUTHORIZED || (err == nil && tok.Kind != hookline.TokenOperator) {
		msg := d.tr(r).T("login.invalid")
		if err == nil && tok.Kind == hookline.TokenApplication {
			msg = d.tr(r).T("login.apiKey")
		}
		return d.renderLogin(w, r, http.StatusUnauthorized, loginData{Next: next, Error: msg})
	}
	if err != nil {
		return err
	}
	sessText, _, err := d.svc.CreateToken(r.Context(), hookline.TokenOperator, "", operatorSessionName, d.cfg.SessionTTL)
	if err != nil {
		return err
	}
	http.SetCookie(w, d.cookie(r, false, sessionCookie, sessText, int(d.cfg.SessionTTL/time.Second)))
	http.SetCookie(w, d.cookie(r, false, loginCSRF, "", -1))
	d.flash(w, r, false, "success", d.tr(r).T("login.signedIn"))
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
	return nil
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request, s *session) error {
	// The operator's session token is ours to end, and so is a portal session made from a
	// single-use link; a reusable portal link stays usable until it expires, as the platform
	// that made it decided.
	if (s.Operator && s.Token.Name == operatorSessionName) || (s.Portal && portal.IsSession(s.Token.Name)) {
		if err := d.store.RevokeToken(r.Context(), s.Token.ID, d.svc.Now()); err != nil {
			return err
		}
	}
	http.SetCookie(w, d.cookie(r, s.Portal, s.cookie, "", -1))
	if s.Portal {
		p := d.tr(r)
		return d.render(w, r, http.StatusOK, pageError, &view{Title: p.T("login.signedOutTitle"),
			Data: errorData{Title: p.T("login.signedOutTitle"), Message: p.T("portal.signedOut"), HideActions: true}})
	}
	d.flash(w, r, false, "success", d.tr(r).T("login.signedOut"))
	http.Redirect(w, r, "/dashboard/login", http.StatusSeeOther)
	return nil
}

// portalLogin follows a magic link: it checks the portal token, keeps a session in the cookie
// and redirects, so the token leaves the address bar (and history) at once. A single-use link
// is used up here, and exchanged for a session token of its own that ends with the link's
// expiry: the link cannot be replayed, and the session can be listed and revoked alone.
func (d *Dashboard) portalLogin(w http.ResponseWriter, r *http.Request, _ *session) error {
	d.setSecurityHeaders(w, true)
	text := r.URL.Query().Get("token")
	now := d.svc.Now()
	tok, err := auth.Authenticate(r.Context(), d.store, "Bearer "+text, now)
	if hookline.ErrorCode(err) == hookline.EUNAUTHORIZED || (err == nil && tok.Kind != hookline.TokenPortal) {
		return d.renderBadPortalLink(w, r, text)
	}
	if err != nil {
		return err
	}
	if tok.SingleUse {
		used, err := d.store.UseToken(r.Context(), tok.ID, now)
		if err != nil {
			return err
		}
		if !used { // opened a moment ago, by another request
			return d.renderBadPortalLink(w, r, text)
		}
		name := portal.SessionNameFor(tok.Name)
		var ttl time.Duration
		if tok.ExpiresAt != nil {
			ttl = tok.ExpiresAt.Sub(now)
		}
		// The session keeps the link's endpoint scope and session id.
		if text, tok, err = d.svc.CreatePortalToken(r.Context(), tok.AppID, name, ttl, false, tok.EndpointIDs, tok.SessionID); err != nil {
			return err
		}
	}
	maxAge := 0
	if tok.ExpiresAt != nil {
		maxAge = int(tok.ExpiresAt.Sub(now) / time.Second)
	}
	http.SetCookie(w, d.cookie(r, true, portalCookie, text, maxAge))
	d.setPortalTheme(w, r, maxAge)
	d.setPortalLang(w, r, maxAge)
	http.Redirect(w, r, appURL(tok.AppID), http.StatusSeeOther)
	return nil
}

// flash leaves a one-time message for the next page, which shows it in a live region.
func (d *Dashboard) flash(w http.ResponseWriter, r *http.Request, portal bool, kind, msg string) {
	http.SetCookie(w, d.cookie(r, portal, flashCookie, url.QueryEscape(kind+":"+msg), 60))
}

type flashMsg struct {
	Kind    string // success or error
	Message string
}

// takeFlash reads and clears the flash message.
func (d *Dashboard) takeFlash(w http.ResponseWriter, r *http.Request, s *session) *flashMsg {
	c, err := r.Cookie(flashCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	http.SetCookie(w, d.cookie(r, s != nil && s.Portal, flashCookie, "", -1))
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		return nil
	}
	kind, msg, ok := strings.Cut(v, ":")
	if !ok || (kind != "success" && kind != "error") || msg == "" || len(msg) > 500 {
		return nil
	}
	return &flashMsg{Kind: kind, Message: msg}
}

// done ends a successful action: a flash message and a redirect (POST-redirect-GET).
func (d *Dashboard) done(w http.ResponseWriter, r *http.Request, s *session, target, msg string) error {
	d.flash(w, r, s.Portal, "success", msg)
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}
