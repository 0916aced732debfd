package ui

import (
	"context"
	"net/http"
	"net/url"

	"github.com/hookline/hookline/i18n"
)

// The language of a page (package i18n holds the catalogue). A portal link names its
// language with lang=de (the API's portal-access call adds it for its lang field), and the
// portal session keeps it in portalLangCookie; the operator dashboard follows the browser's
// Accept-Language until someone picks a language with the switch in the footer, which
// langCookie keeps. Without either, the installation's default (--language) applies.
const (
	langCookie       = "hookline_lang"
	portalLangCookie = "hookline_portal_lang"
	// langCookieAge keeps a picked language for a year.
	langCookieAge = 365 * 24 * 3600
)

type printerKey struct{}

// withPrinter keeps the request's language in its context, for the handlers' texts.
func withPrinter(r *http.Request, p *i18n.Printer) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), printerKey{}, p))
}

// tr returns the catalogue in the request's language.
func (d *Dashboard) tr(r *http.Request) *i18n.Printer {
	if p, ok := r.Context().Value(printerKey{}).(*i18n.Printer); ok {
		return p
	}
	return d.cat.Printer(d.langOf(r, nil))
}

// langOf picks the language of a request: a portal session's link language, or the language
// switch's choice; else the browser's Accept-Language; else the installation's default.
func (d *Dashboard) langOf(r *http.Request, s *session) string {
	name := langCookie
	if s != nil && s.Portal {
		name = portalLangCookie
	}
	if c, err := r.Cookie(name); err == nil && d.cat.Has(c.Value) {
		return c.Value
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		return d.cat.Match(al)
	}
	return d.cat.Default()
}

// setPortalLang keeps the language of the portal link being opened for as long as its
// session lasts; a link that names none clears what an earlier link named. A language
// Hookline does not have is ignored, as a theme it does not know is.
func (d *Dashboard) setPortalLang(w http.ResponseWriter, r *http.Request, maxAge int) {
	if lang := r.URL.Query().Get("lang"); d.cat.Has(lang) {
		http.SetCookie(w, d.cookie(r, true, portalLangCookie, lang, maxAge))
	} else if c, err := r.Cookie(portalLangCookie); err == nil && c.Value != "" {
		http.SetCookie(w, d.cookie(r, true, portalLangCookie, "", -1))
	}
}

// setLanguage is the language switch: GET /dashboard/language?lang=de&back=/dashboard/…
// keeps the choice (for the portal session when one is open, else for the operator pages)
// and goes back. It is a link, so it works without JavaScript and on the sign-in page; it
// changes nothing but the language, so it needs no CSRF token.
func (d *Dashboard) setLanguage(w http.ResponseWriter, r *http.Request, s *session) error {
	lang := r.URL.Query().Get("lang")
	if !d.cat.Has(lang) {
		return notFound(d.cat.Printer(d.langOf(r, s)).T("error.noPage"))
	}
	portal := s != nil && s.Portal
	name := langCookie
	if portal {
		name = portalLangCookie
	}
	http.SetCookie(w, d.cookie(r, portal, name, lang, langCookieAge))
	http.Redirect(w, r, safeNext(r.URL.Query().Get("back")), http.StatusSeeOther)
	return nil
}

// langChoice is one entry of the language switch.
type langChoice struct {
	Lang, Name, URL string
	Current         bool
}

// langChoices lists the languages for the switch, each named in its own language.
func (d *Dashboard) langChoices(r *http.Request, current string) []langChoice {
	back := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		back = "/dashboard/"
	}
	out := make([]langChoice, 0, len(i18n.Languages))
	for _, lang := range i18n.Languages {
		out = append(out, langChoice{Lang: lang, Name: d.cat.Printer(lang).T("language.name"), Current: lang == current,
			URL: "/dashboard/language?lang=" + lang + "&back=" + url.QueryEscape(back)})
	}
	return out
}
