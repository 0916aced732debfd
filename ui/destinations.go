package ui

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/destination"
	"github.com/hookline/hookline/i18n"
)

// An endpoint's destination (docs/destinations.md): HTTP, the default, or a message broker.
// The create form and the endpoint page's Destination section show one chooser: a radio
// button per type, each followed by its fields, which the stylesheet shows for the chosen type
// only (no script). Every broker type's fields come from its description in the destination
// package, so a new type needs no new template. The password is write-only: the page says it
// is set, never what it is.

// Field names: the chosen type is "type"; the HTTP URL is "url", as in the endpoint form; a
// broker type's fields are "<type>-url", "<type>-user", "<type>-password",
// "<type>-removePassword" and "<type>-opt-<option>" ("<type>-options" for a type that does not
// describe itself, as name=value lines).
const destTypeField = "type"

func destField(typ, name string) string { return typ + "-" + name }

func destOptionField(typ, option string) string { return typ + "-opt-" + option }

// destChooser is what the chooser shows: every type, the chosen one checked.
type destChooser struct {
	Types []destChoice
	// HTTPURL is the HTTP type's URL field.
	HTTPURL string
	// Creating: the chooser is part of the create form. Open: it shows a refused change.
	Creating, Open bool
}

// destChoice is one type of the chooser with its fields' values.
type destChoice struct {
	Name, Title string
	Checked     bool
	// URL is the connection URL without credentials, User its user name; HasPassword says a
	// password (or token) is stored for this type.
	URL, User               string
	HasPassword             bool
	URLPlaceholder, URLHint string
	TokenAuth               bool
	Options                 []destOptionInput
	// Generic: the type does not describe its options; they are name=value lines.
	Generic     bool
	GenericText string
}

// destOptionInput is one option's input.
type destOptionInput struct {
	Field string // the input's name and id
	destination.Option
	Value string
}

// newDestChooser fills the chooser from the stored destination, or from the form that was
// refused (form non-nil with a "type").
func newDestChooser(p *i18n.Printer, ep *hookline.Endpoint, form url.Values, creating bool) destChooser {
	var stored *hookline.Destination
	chosen := hookline.EndpointTypeHTTP
	c := destChooser{Creating: creating}
	if ep != nil {
		stored = ep.Destination
		if stored != nil {
			chosen = stored.Type
		} else {
			c.HTTPURL = ep.URL
		}
	}
	fromForm := form != nil && form.Get(destTypeField) != ""
	if fromForm {
		c.Open = true
		chosen = form.Get(destTypeField)
		c.HTTPURL = form.Get("url")
	}
	c.Types = append(c.Types, destChoice{Name: hookline.EndpointTypeHTTP, Title: "HTTP", Checked: chosen == hookline.EndpointTypeHTTP})
	for _, name := range destination.Names() {
		desc, described := describeIn(p, name)
		ch := destChoice{Name: name, Title: desc.Title, Checked: chosen == name, URLPlaceholder: desc.URLPlaceholder,
			URLHint: desc.URLHint, TokenAuth: desc.TokenAuth, Generic: !described}
		var opts map[string]string
		if stored != nil && stored.Type == name {
			ch.URL, ch.User, ch.HasPassword = splitCredentials(stored.URL, desc.TokenAuth)
			opts = stored.Options
		}
		if fromForm && chosen == name {
			ch.URL, ch.User = form.Get(destField(name, "url")), form.Get(destField(name, "user"))
		}
		for _, o := range desc.Options {
			in := destOptionInput{Field: destOptionField(name, o.Name), Option: o, Value: opts[o.Name]}
			if fromForm && chosen == name {
				in.Value = form.Get(in.Field)
			}
			ch.Options = append(ch.Options, in)
		}
		if ch.Generic {
			ch.GenericText = optionLines(opts)
			if fromForm && chosen == name {
				ch.GenericText = form.Get(destField(name, "options"))
			}
		}
		c.Types = append(c.Types, ch)
	}
	return c
}

// splitCredentials parses a stored connection URL into the URL without credentials, the user
// name and whether a password is set. With tokenAuth, a user name without a password is a
// token, which counts as the password.
func splitCredentials(raw string, tokenAuth bool) (bare, user string, hasPassword bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", false
	}
	if u.User != nil {
		user = u.User.Username()
		_, hasPassword = u.User.Password()
		if tokenAuth && !hasPassword && user != "" {
			user, hasPassword = "", true
		}
	}
	u.User = nil
	return u.String(), user, hasPassword
}

// storedPassword is the password (or token) of a stored connection URL.
func storedPassword(raw string, tokenAuth bool) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	if p, ok := u.User.Password(); ok {
		return p
	}
	if tokenAuth {
		return u.User.Username()
	}
	return ""
}

func optionLines(opts map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(opts) {
		b.WriteString(k + "=" + opts[k] + "\n")
	}
	return b.String()
}

// parseDestination reads the chooser: the chosen type and, for a broker, its destination. A
// password left empty keeps the stored one of the same type (unless the box to remove it is
// checked); a URL typed with its credentials keeps them. errs holds what cannot be read, by
// field; what the type refuses is its Check's (destErrors).
func parseDestination(p *i18n.Printer, f url.Values, old *hookline.Destination) (typ string, d *hookline.Destination, errs map[string]string) {
	errs = map[string]string{}
	typ = strings.TrimSpace(f.Get(destTypeField))
	if typ == "" || typ == hookline.EndpointTypeHTTP {
		return hookline.EndpointTypeHTTP, nil, errs
	}
	if _, ok := destination.Lookup(typ); !ok {
		errs[destTypeField] = p.T("destinations.chooseAType")
		return typ, nil, errs
	}
	desc, described := destination.Describe(typ)
	d = &hookline.Destination{Type: typ, Options: map[string]string{}}
	raw := strings.TrimSpace(f.Get(destField(typ, "url")))
	if raw != "" {
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			errs[destField(typ, "url")] = p.T("destinations.urlInvalid")
		case u.User != nil: // typed with its credentials: those are the ones
			d.URL = raw
		default:
			user := strings.TrimSpace(f.Get(destField(typ, "user")))
			pw := f.Get(destField(typ, "password"))
			if pw == "" && f.Get(destField(typ, "removePassword")) != "on" && old != nil && old.Type == typ {
				pw = storedPassword(old.URL, desc.TokenAuth)
			}
			switch {
			case user != "" && pw != "":
				u.User = url.UserPassword(user, pw)
			case user != "":
				u.User = url.User(user)
			case pw != "" && desc.TokenAuth:
				u.User = url.User(pw)
			case pw != "":
				u.User = url.UserPassword("", pw)
			}
			d.URL = u.String()
		}
	}
	if described {
		for _, o := range desc.Options {
			if v := strings.TrimSpace(f.Get(destOptionField(typ, o.Name))); v != "" {
				d.Options[o.Name] = v
			}
		}
	} else {
		for i, line := range strings.Split(f.Get(destField(typ, "options")), "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok || strings.TrimSpace(k) == "" {
				errs[destField(typ, "options")] = p.T("destinations.optionLine", "line", i+1)
				break
			}
			d.Options[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return typ, d, errs
}

// destErrors turns what a type's Check found into messages by field of the chooser.
func destErrors(typ string, found []destination.FieldError) map[string]string {
	desc, described := destination.Describe(typ)
	labels := map[string]string{"url": "The connection URL", "type": "The type"}
	for _, o := range desc.Options {
		labels[o.Name] = o.Label
	}
	errs := map[string]string{}
	for _, e := range found {
		var field, label string
		switch e.Field {
		case "url":
			field, label = destField(typ, "url"), labels["url"]
		case "type":
			field, label = destTypeField, labels["type"]
		default:
			field, label = destOptionField(typ, e.Field), labels[e.Field]
			switch {
			case !described:
				field, label = destField(typ, "options"), e.Field
			case label == "": // an option the form has no field for: said above the types
				field, label = destTypeField, e.Field
			}
		}
		msg := strings.TrimSpace(label + " " + e.Message)
		if errs[field] != "" {
			msg = errs[field] + "; " + msg
		}
		errs[field] = msg
	}
	return errs
}

// destServiceErrors turns the service's refusal of a destination (the API's 422: locations
// ["body", "url"], ["body", "options", name], ["body", "type"]) into messages by field.
func destServiceErrors(typ string, err error) (map[string]string, bool) {
	var he *hookline.Error
	if !errors.As(err, &he) || statusOf(err) != http.StatusUnprocessableEntity || len(he.Fields) == 0 {
		return nil, false
	}
	var found []destination.FieldError
	for _, f := range he.Fields {
		loc := f.Loc
		if len(loc) > 0 && loc[0] == "body" {
			loc = loc[1:]
		}
		switch {
		case len(loc) == 2 && loc[0] == "options":
			found = append(found, destination.FieldError{Field: loc[1], Message: f.Msg})
		case len(loc) == 1:
			found = append(found, destination.FieldError{Field: loc[0], Message: f.Msg})
		default:
			found = append(found, destination.FieldError{Field: "url", Message: strings.Join(loc, ".") + ": " + f.Msg})
		}
	}
	return destErrors(typ, found), true
}

// destView is an endpoint's destination as pages show it.
type destView struct {
	Broker bool
	Type   string
	Title  string
	// Address is where deliveries go: the HTTP URL, or the broker's URL without credentials.
	Address     string
	HasPassword bool
	// Target lists the options that are set, labelled.
	Target []destTarget
}

type destTarget struct{ Label, Value string }

func newDestView(p *i18n.Printer, ep *hookline.Endpoint) destView {
	d := ep.Destination
	if d == nil {
		return destView{Type: hookline.EndpointTypeHTTP, Title: "HTTP", Address: ep.URL}
	}
	desc, _ := describeIn(p, d.Type)
	v := destView{Broker: true, Type: d.Type, Title: desc.Title}
	v.Address, _, v.HasPassword = splitCredentials(d.URL, desc.TokenAuth)
	labels := map[string]string{}
	for _, o := range desc.Options {
		labels[o.Name] = o.Label
	}
	keys := sortedKeys(d.Options)
	sort.SliceStable(keys, func(i, j int) bool { return optionRank(desc, keys[i]) < optionRank(desc, keys[j]) })
	for _, k := range keys {
		label := labels[k]
		if label == "" {
			label = k
		}
		v.Target = append(v.Target, destTarget{Label: label, Value: d.Options[k]})
	}
	return v
}

// describeIn is the type's description with its texts in p's language, where the catalogue
// has them (destinations.type.<type>.urlHint, .<option>.label, .<option>.hint); a type the
// catalogue does not know keeps its own English. The titles are the brokers' names.
func describeIn(p *i18n.Printer, typ string) (destination.Description, bool) {
	desc, ok := destination.Describe(typ)
	tr := func(id, fallback string) string {
		if s := p.T(id); s != id && fallback != "" {
			return s
		}
		return fallback
	}
	prefix := "destinations.type." + typ + "."
	desc.URLHint = tr(prefix+"urlHint", desc.URLHint)
	opts := make([]destination.Option, len(desc.Options))
	for i, o := range desc.Options {
		o.Label, o.Hint = tr(prefix+o.Name+".label", o.Label), tr(prefix+o.Name+".hint", o.Hint)
		opts[i] = o
	}
	desc.Options = opts
	return desc, ok
}

// optionRank is an option's place in its type's description (unknown ones last).
func optionRank(desc destination.Description, name string) int {
	for i, o := range desc.Options {
		if o.Name == name {
			return i
		}
	}
	return len(desc.Options)
}

// endpointAddress is where an endpoint's deliveries go, in one line: its URL, or its broker
// and target ("Redis Streams redis://host:6379/0, stream orders").
func endpointAddress(p *i18n.Printer, v any) string {
	ep := asEndpoint(v)
	if ep.ID == "" && ep.URL == "" {
		return ""
	}
	dv := newDestView(p, ep)
	if !dv.Broker {
		return dv.Address
	}
	s := dv.Title + " " + dv.Address
	for i, t := range dv.Target {
		sep := ", "
		if i == 0 {
			sep = " · "
		}
		s += sep + lowerFirst(t.Label) + " " + t.Value
	}
	return s
}

// brokerEndpointURL is the url a broker endpoint created in the dashboard gets: every
// endpoint has one (the Svix model requires it), a broker's is never used, and a name under
// .invalid never resolves, so it can reach no one if the endpoint is made HTTP again without
// a URL of its own.
func brokerEndpointURL(typ string) string { return "https://" + typ + ".destination.invalid/" }

// attemptBroker is the broker an attempt went to, by the scheme of its URL ("Redis Streams"),
// or "" for an HTTP attempt. Attempts record the destination's URL without its password.
func attemptBroker(rawURL string) string {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok || scheme == "http" || scheme == "https" {
		return ""
	}
	if name, ok := schemeTypes[strings.ToLower(scheme)]; ok {
		desc, _ := destination.Describe(name)
		return desc.Title
	}
	return "the broker"
}

// schemeTypes maps URL schemes to the types that use them, for the attempt log. A scheme of a
// type not listed shows as "the broker".
var schemeTypes = map[string]string{"redis": "redis", "rediss": "redis", "amqp": "rabbitmq", "amqps": "rabbitmq",
	"nats": "nats", "tls": "nats", "mqtt": "mqtt", "mqtts": "mqtt", "kafka": "kafka", "kafkas": "kafka"}

// saveDestination sets the endpoint's type and destination from the endpoint page's chooser;
// HTTP takes the URL typed with it. A refused one shows the page again with the reasons next
// to the fields.
func (d *Dashboard) saveDestination(w http.ResponseWriter, r *http.Request, s *session) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	refuse := func(status int, errs map[string]string) error {
		form := r.PostForm
		if form.Get(destTypeField) == "" {
			form.Set(destTypeField, hookline.EndpointTypeHTTP)
		}
		return d.renderEndpoint(w, r, s, app, ep, status, form, errs)
	}
	typ, dest, errs := parseDestination(d.tr(r), r.PostForm, ep.Destination)
	if len(errs) > 0 {
		return refuse(http.StatusUnprocessableEntity, errs)
	}
	if dest == nil {
		// HTTP: the URL first, so an endpoint is never HTTP without a usable URL.
		u := strings.TrimSpace(r.PostFormValue("url"))
		if u != ep.URL {
			changed := *ep
			changed.URL = u
			if err := d.svc.UpdateEndpoint(r.Context(), &changed); err != nil {
				if fields, rest, ok := fieldErrors(d.tr(r), err, "url"); ok {
					fields = map[string]string{"url": fields["url"]}
					if rest != "" {
						fields["url"] = strings.TrimPrefix(fields["url"]+"; "+rest, "; ")
					}
					return refuse(statusOf(err), fields)
				}
				return err
			}
			ep = &changed
		}
		if ep.Destination != nil {
			if err := d.svc.SetEndpointDestination(r.Context(), ep, nil); err != nil {
				return err
			}
		}
		return d.done(w, r, s, epURL(app.ID, ep.ID)+"#destination", d.tr(r).T("destinations.savedHTTP", "url", ep.URL))
	}
	if err := d.svc.SetEndpointDestination(r.Context(), ep, dest); err != nil {
		if errs, ok := destServiceErrors(typ, err); ok {
			return refuse(statusOf(err), errs)
		}
		return err
	}
	desc, _ := destination.Describe(typ)
	return d.done(w, r, s, epURL(app.ID, ep.ID)+"#destination", d.tr(r).T("destinations.savedBroker", "broker", desc.Title))
}

// setCreatedDestination gives an endpoint just created from the form its destination. If that
// fails, the endpoint is deleted again, so no half-made endpoint is left: the form is shown
// again to try once more. (A message sent in between went to the endpoint's .invalid url,
// failed, and its retry goes to the broker.)
func (d *Dashboard) setCreatedDestination(r *http.Request, ep *hookline.Endpoint, dest *hookline.Destination) error {
	err := d.svc.SetEndpointDestination(r.Context(), ep, dest)
	if err == nil {
		return nil
	}
	if derr := d.store.DeleteEndpoint(r.Context(), ep.AppID, ep.ID); derr != nil {
		d.logger.Error("delete the endpoint whose destination was refused", "endpoint", ep.ID, "err", derr)
	}
	return err
}

// clip shortens s to about n characters for a table cell; the details page shows it whole.
func clip(n int, s string) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// asEndpoint is the endpoint a template passes, by value or by pointer; an empty one for
// anything else.
func asEndpoint(v any) *hookline.Endpoint {
	switch e := v.(type) {
	case *hookline.Endpoint:
		if e != nil {
			return e
		}
	case hookline.Endpoint:
		return &e
	}
	return &hookline.Endpoint{}
}
