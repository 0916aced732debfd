package ui

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/delivery/mtls"
)

// The endpoint page's receiver settings: a client certificate (mutual TLS), a server CA and an
// OAuth 2.0 client. The private key and the client secret are write-only: the page says that
// they are set, never what they are.

// receiverData is what the endpoint page shows of the receiver settings, or what a form sent
// back when it was refused (Section names that form).
type receiverData struct {
	Section string

	HasMTLS        bool
	CertSubject    string
	CertIssuer     string
	CertNotAfter   time.Time
	CertExpired    bool
	CA             string
	TrustSystem    bool
	HasOAuth       bool
	TokenURL       string
	ClientID       string
	HasSecret      bool
	Scopes         string
	AuthMethod     string
	OAuthExtraNote bool // extraParams or extraHeaders are set (through the API)
}

func newReceiverData(ep *hookline.Endpoint, form url.Values, now time.Time) receiverData {
	r := ep.Receiver
	d := receiverData{Section: form.Get("receiver"), HasMTLS: r.MTLS != nil, HasOAuth: r.OAuth != nil,
		AuthMethod: hookline.OAuthClientSecretBasic}
	if r.MTLS != nil {
		if cert, err := mtls.Certificate(*r.MTLS); err == nil {
			d.CertSubject, d.CertIssuer = cert.Leaf.Subject.String(), cert.Leaf.Issuer.String()
			d.CertNotAfter, d.CertExpired = cert.Leaf.NotAfter, now.After(cert.Leaf.NotAfter)
		}
	}
	if r.ServerCA != nil {
		d.CA, d.TrustSystem = r.ServerCA.PEM, r.ServerCA.WithSystemRoots
	}
	if c := r.OAuth; c != nil {
		d.TokenURL, d.ClientID, d.HasSecret = c.TokenURL, c.ClientID, c.ClientSecret != ""
		d.Scopes, d.AuthMethod = strings.Join(c.Scopes, " "), c.AuthMethod
		d.OAuthExtraNote = len(c.ExtraParams) > 0 || len(c.ExtraHeaders) > 0
	}
	switch d.Section {
	case "ca":
		d.CA, d.TrustSystem = form.Get("cert"), form.Get("trustSystemRoots") == "on"
	case "oauth":
		d.TokenURL, d.ClientID, d.Scopes, d.AuthMethod = form.Get("tokenUrl"), form.Get("clientId"), form.Get("scopes"), form.Get("authMethod")
	}
	return d
}

// saveReceiver runs a change of the receiver settings; a refused one shows the page again
// with the reasons by field, under the form's section.
func (d *Dashboard) saveReceiver(w http.ResponseWriter, r *http.Request, s *session, section, done string,
	change func(ep *hookline.Endpoint) error) error {
	app, ep, err := d.endpoint(r, s)
	if err != nil {
		return err
	}
	if err := requireWrite(s); err != nil {
		return err
	}
	if err := change(ep); err != nil {
		if fields, rest, ok := fieldErrors(d.tr(r), err, "identity", "cert", "tokenUrl", "clientId", "clientSecret", "scopes", "authMethod"); ok {
			stored, gerr := d.store.GetEndpoint(r.Context(), app.ID, ep.ID)
			if gerr != nil {
				return gerr
			}
			if rest != "" {
				fields[section] = rest
			}
			form := r.PostForm
			form.Set("receiver", section)
			return d.renderEndpoint(w, r, s, app, stored, statusOf(err), form, fields)
		}
		return err
	}
	return d.done(w, r, s, epURL(app.ID, ep.ID)+"#"+section, done)
}

func (d *Dashboard) saveMTLS(w http.ResponseWriter, r *http.Request, s *session) error {
	return d.saveReceiver(w, r, s, "mtls", d.tr(r).T("receivers.mtlsSaved"), func(ep *hookline.Endpoint) error {
		if r.PostFormValue("remove") == "on" {
			return d.svc.DeleteEndpointMTLS(r.Context(), ep)
		}
		id := r.PostFormValue("identity")
		if strings.TrimSpace(id) == "" {
			return &hookline.Error{Code: hookline.EINVALID, Message: "identity: is required",
				Fields: []hookline.FieldError{{Loc: []string{"body", "identity"}, Msg: d.tr(r).T("receivers.identityMissing"), Type: "missing"}}}
		}
		return d.svc.SetEndpointMTLS(r.Context(), ep, id)
	})
}

func (d *Dashboard) saveServerCA(w http.ResponseWriter, r *http.Request, s *session) error {
	return d.saveReceiver(w, r, s, "ca", d.tr(r).T("receivers.caSaved"), func(ep *hookline.Endpoint) error {
		var bundle *string
		if pemText := r.PostFormValue("cert"); strings.TrimSpace(pemText) != "" {
			bundle = &pemText
		}
		return d.svc.SetEndpointServerCA(r.Context(), ep, bundle, r.PostFormValue("trustSystemRoots") == "on")
	})
}

func (d *Dashboard) saveOAuth(w http.ResponseWriter, r *http.Request, s *session) error {
	return d.saveReceiver(w, r, s, "oauth", d.tr(r).T("receivers.oauthSaved"), func(ep *hookline.Endpoint) error {
		if r.PostFormValue("remove") == "on" {
			return d.svc.DeleteEndpointOAuth(r.Context(), ep)
		}
		c := hookline.OAuthClient{TokenURL: strings.TrimSpace(r.PostFormValue("tokenUrl")), ClientID: strings.TrimSpace(r.PostFormValue("clientId")),
			ClientSecret: r.PostFormValue("clientSecret"), Scopes: strings.Fields(r.PostFormValue("scopes")), AuthMethod: r.PostFormValue("authMethod")}
		if old := ep.Receiver.OAuth; old != nil {
			if c.ClientSecret == "" {
				c.ClientSecret = old.ClientSecret // write-only: empty keeps it
			}
			c.ExtraParams, c.ExtraHeaders = old.ExtraParams, old.ExtraHeaders
		}
		return d.svc.SetEndpointOAuth(r.Context(), ep, c)
	})
}
