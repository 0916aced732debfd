package ui

import "net/http"

// themeCookie holds the colour scheme a portal link forced, "dark" or "light". Without it
// pages follow the system's setting (prefers-color-scheme).
const themeCookie = "hookline_theme"

// linkTheme reads the colour scheme a portal link asks for: theme=dark|light, or Svix's
// darkMode=true|false, which platforms moving from Svix already append. Anything else, or
// nothing, follows the system.
func linkTheme(r *http.Request) string {
	q := r.URL.Query()
	switch q.Get("theme") {
	case "dark", "light":
		return q.Get("theme")
	}
	switch q.Get("darkMode") {
	case "true", "1":
		return "dark"
	case "false", "0":
		return "light"
	}
	return ""
}

// setPortalTheme keeps the colour scheme of the portal link being opened for as long as its
// session lasts; a link that forces none clears what an earlier link forced.
func (d *Dashboard) setPortalTheme(w http.ResponseWriter, r *http.Request, maxAge int) {
	if theme := linkTheme(r); theme != "" {
		http.SetCookie(w, d.cookie(r, true, themeCookie, theme, maxAge))
	} else if c, err := r.Cookie(themeCookie); err == nil && c.Value != "" {
		http.SetCookie(w, d.cookie(r, true, themeCookie, "", -1))
	}
}

// themeOf returns the forced colour scheme of a portal page, "" to follow the system.
// Operator pages always follow the system.
func themeOf(r *http.Request, s *session) string {
	if s == nil || !s.Portal {
		return ""
	}
	if c, err := r.Cookie(themeCookie); err == nil && (c.Value == "dark" || c.Value == "light") {
		return c.Value
	}
	return ""
}
