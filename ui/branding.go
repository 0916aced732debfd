package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hookline/hookline"
)

// White-label portal: the installation's brand (Config.Brand, from the brand-* settings) names
// the dashboard, and an application's metadata can override it for that application's portal
// (brand.name, brand.logo, brand.favicon, brand.accent, brand.font, brand.poweredBy). The CSP
// stays as strict as elsewhere: colours and fonts come from a stylesheet the dashboard serves
// (/dashboard/brand.css), images from the dashboard (/dashboard/brand/logo, …/favicon) or from
// data: URIs, which img-src allows.

// Brand is how the dashboard presents itself to the people who use it.
type Brand struct {
	// Name replaces "Hookline" in titles, the top bar and texts (default "Hookline").
	Name string
	// LogoFile and FaviconFile are image files (SVG, PNG, JPEG, WebP, GIF or ICO) read once at
	// start; empty keeps the built-in mark and icon.
	LogoFile, FaviconFile string
	// Accent is a colour #rgb or #rrggbb for links, buttons and highlights.
	Accent string
	// Font is a CSS font-family list of fonts installed on the viewer's device (no font is
	// downloaded from elsewhere), such as `"Inter", system-ui, sans-serif`.
	Font string
	// HidePoweredBy leaves out the portal's "powered by Hookline" line.
	HidePoweredBy bool
}

// The metadata keys with which an application overrides the brand of its portal.
const (
	metaBrandName      = "brand.name"
	metaBrandLogo      = "brand.logo"    // a data:image/… URI
	metaBrandFavicon   = "brand.favicon" // a data:image/… URI
	metaBrandAccent    = "brand.accent"
	metaBrandFont      = "brand.font"
	metaBrandPoweredBy = "brand.poweredBy" // "false" hides the line
)

var (
	accentPattern  = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
	fontPattern    = regexp.MustCompile(`^[A-Za-z0-9 ,"'_-]{1,200}$`)
	dataURIPattern = regexp.MustCompile(`^data:image/(?:png|svg\+xml|jpeg|webp|gif|x-icon);base64,[A-Za-z0-9+/=]+$`)
)

// maxBrandImage bounds the logo and favicon files.
const maxBrandImage = 256 << 10

// brandImage is an image file of the installation's brand.
type brandImage struct {
	body        []byte
	contentType string
	version     string
}

var imageTypes = map[string]string{".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
	".webp": "image/webp", ".gif": "image/gif", ".ico": "image/x-icon"}

func readBrandImage(setting, path string) (*brandImage, error) {
	if path == "" {
		return nil, nil
	}
	ct, ok := imageTypes[strings.ToLower(filepath.Ext(path))]
	if !ok {
		return nil, fmt.Errorf("ui: %s %s: must be an .svg, .png, .jpg, .webp, .gif or .ico file", setting, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ui: %s: %w", setting, err)
	}
	if len(b) > maxBrandImage {
		return nil, fmt.Errorf("ui: %s %s: %d bytes, at most %d", setting, path, len(b), maxBrandImage)
	}
	sum := sha256.Sum256(b)
	return &brandImage{body: b, contentType: ct, version: hex.EncodeToString(sum[:])[:12]}, nil
}

// checkBrand validates the installation's brand and reads its images.
func (d *Dashboard) checkBrand() error {
	b := &d.cfg.Brand
	b.Name = strings.TrimSpace(b.Name)
	if b.Name == "" {
		b.Name = "Hookline"
	}
	if b.Accent != "" && !accentPattern.MatchString(b.Accent) {
		return fmt.Errorf("ui: brand accent %q: must be a colour such as #0a7cff", b.Accent)
	}
	if b.Font != "" && !fontPattern.MatchString(b.Font) {
		return fmt.Errorf("ui: brand font %q: must be a font-family list such as \"Inter\", system-ui, sans-serif", b.Font)
	}
	var err error
	if d.logo, err = readBrandImage("brand logo", b.LogoFile); err != nil {
		return err
	}
	d.favicon, err = readBrandImage("brand favicon", b.FaviconFile)
	return err
}

// brandView is the brand a page shows.
type brandView struct {
	Name      string
	Logo      template.URL // URL of the logo, "" for the built-in mark
	Favicon   template.URL // URL of the icon
	CSS       string       // URL of the brand's stylesheet, "" when it sets nothing
	PoweredBy bool
}

// brandOf returns the brand of a page: the installation's, and for a portal session the
// overrides of its application's metadata. Values that are not valid are left out.
func (d *Dashboard) brandOf(app *hookline.Application, s *session) brandView {
	b := d.cfg.Brand
	// The URLs are the dashboard's own or data:image URIs that dataURIPattern accepted, which
	// html/template would otherwise refuse to put in src and href.
	v := brandView{Name: b.Name, PoweredBy: !b.HidePoweredBy, Favicon: template.URL(d.staticURL("icon.svg"))}
	if d.logo != nil {
		v.Logo = template.URL("/dashboard/brand/logo?v=" + d.logo.version)
	}
	if d.favicon != nil {
		v.Favicon = template.URL("/dashboard/brand/favicon?v=" + d.favicon.version)
	}
	accent, font := b.Accent, b.Font
	if s != nil && s.Portal && app != nil && app.ID == s.AppID {
		m := app.Metadata
		if n := strings.TrimSpace(m[metaBrandName]); n != "" && len(n) <= 60 {
			v.Name = n
		}
		if l := m[metaBrandLogo]; dataURIPattern.MatchString(l) {
			v.Logo = template.URL(l)
		}
		if f := m[metaBrandFavicon]; dataURIPattern.MatchString(f) {
			v.Favicon = template.URL(f)
		}
		if a := m[metaBrandAccent]; accentPattern.MatchString(a) {
			accent = a
		}
		if f := m[metaBrandFont]; fontPattern.MatchString(f) {
			font = f
		}
		switch m[metaBrandPoweredBy] {
		case "false":
			v.PoweredBy = false
		case "true":
			v.PoweredBy = true
		}
	}
	if css := brandCSS(accent, font); css != "" {
		sum := sha256.Sum256([]byte(css))
		v.CSS = "/dashboard/brand.css?v=" + hex.EncodeToString(sum[:])[:12]
	}
	return v
}

// brandCSS is the stylesheet of an accent colour and a font, "" when both are unset.
func brandCSS(accent, font string) string {
	var b strings.Builder
	if accent != "" {
		fmt.Fprintf(&b, ":root, :root[data-theme=\"dark\"] { --accent: %[1]s; --accent-hover: color-mix(in srgb, %[1]s 80%%, black); }\n", accent)
		fmt.Fprintf(&b, ":root { --accent-soft: color-mix(in srgb, %[1]s 12%%, white); }\n", accent)
		fmt.Fprintf(&b, "@media (prefers-color-scheme: dark) { :root:not([data-theme=\"light\"]) { --accent: %[1]s; --accent-soft: color-mix(in srgb, %[1]s 25%%, black); --accent-hover: color-mix(in srgb, %[1]s 80%%, white); } }\n", accent)
		fmt.Fprintf(&b, ":root[data-theme=\"dark\"] { --accent-soft: color-mix(in srgb, %[1]s 25%%, black); --accent-hover: color-mix(in srgb, %[1]s 80%%, white); }\n", accent)
	}
	if font != "" {
		fmt.Fprintf(&b, "body { font-family: %s; }\n", font)
	}
	return b.String()
}

// serveBrandCSS serves the brand's stylesheet for the session asking (the installation's, or a
// portal application's).
func (d *Dashboard) serveBrandCSS(w http.ResponseWriter, r *http.Request, s *session) error {
	var app *hookline.Application
	if s != nil && s.Portal {
		a, err := d.store.GetApplication(r.Context(), s.AppID)
		if err != nil && !hookline.IsNotFound(err) {
			return err
		}
		app = a
	}
	b := d.cfg.Brand
	accent, font := b.Accent, b.Font
	if app != nil {
		if a := app.Metadata[metaBrandAccent]; accentPattern.MatchString(a) {
			accent = a
		}
		if f := app.Metadata[metaBrandFont]; fontPattern.MatchString(f) {
			font = f
		}
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, err := w.Write([]byte(brandCSS(accent, font)))
	return err
}

// serveBrandImage serves the installation's logo or favicon.
func (d *Dashboard) serveBrandImage(img **brandImage) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		if *img == nil {
			return notFound("There is no page at this address.")
		}
		w.Header().Set("Content-Type", (*img).contentType)
		w.Header().Set("Cache-Control", "public, max-age=86400")
		// An SVG opened on its own runs no script and loads nothing.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
		_, err := w.Write((*img).body)
		return err
	}
}
