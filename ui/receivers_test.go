package ui_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testserver"
)

// TestReceiverForms: the endpoint page's forms set a client certificate, a server CA and an
// OAuth 2.0 client; the page then shows the certificate's subject and the OAuth client, never
// the private key or the client secret; an empty secret keeps the stored one; a bad
// certificate is refused on the page with its reason, and nothing is stored.
func TestReceiverForms(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	var app, ep struct{ ID string }
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	srv.Op("POST", "/api/v1/app/"+app.ID+"/endpoint", map[string]any{"url": "https://example.com/hook"}, 201).JSON(t, &ep)
	b := newBrowser(t, srv.URL)
	b.signIn(srv.Token)
	base := "/dashboard/apps/" + app.ID + "/endpoints/" + ep.ID

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "hookline-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	keyLine := strings.Split(keyPEM, "\n")[1]
	const secret = "dashboard-client-secret-Zq81"

	post := func(path string, form url.Values, want int) page {
		t.Helper()
		form.Set("csrf", csrfOf(t, b.get(base)))
		p := b.post(base+path, form)
		if p.Status != want {
			t.Fatalf("POST %s: status %d, want %d: %s", path, p.Status, want, p.Body)
		}
		return p
	}
	// A key without its certificate: refused on the page, nothing stored.
	p := post("/mtls", url.Values{"identity": {keyPEM}}, http.StatusUnprocessableEntity)
	if !strings.Contains(p.Body, "olds no certificate") || strings.Contains(p.Body, keyLine) {
		t.Fatalf("a refused identity: the page does not say why, or shows the key: %s", p.Body[strings.Index(p.Body, "mtls-section"):][:1500])
	}
	post("/mtls", url.Values{"identity": {keyPEM + certPEM}}, http.StatusSeeOther)
	post("/ca", url.Values{"cert": {certPEM}, "trustSystemRoots": {"on"}}, http.StatusSeeOther)
	post("/oauth", url.Values{"tokenUrl": {"https://auth.example.com/token"}, "clientId": {"acme-hooks"}, "clientSecret": {secret},
		"scopes": {"a:b c"}, "authMethod": {"clientSecretPost"}}, http.StatusSeeOther)
	// Saving again without a secret keeps it.
	post("/oauth", url.Values{"tokenUrl": {"https://auth.example.com/token2"}, "clientId": {"acme-hooks"}, "scopes": {"a:b c"}, "authMethod": {"clientSecretPost"}}, http.StatusSeeOther)

	page := b.get(base)
	for _, want := range []string{"CN=hookline-client", "https://auth.example.com/token2", "acme-hooks", "hidden; leave empty to keep"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the endpoint page does not show %q", want)
		}
	}
	if strings.Contains(page.Body, keyLine) || strings.Contains(page.Body, secret) {
		t.Fatal("the endpoint page shows the private key or the client secret")
	}
	stored, err := srv.Server.Store().GetEndpoint(context.Background(), app.ID, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	r := stored.Receiver
	if r.MTLS == nil || r.ServerCA == nil || !r.ServerCA.WithSystemRoots || r.OAuth == nil || r.OAuth.ClientSecret != secret ||
		r.OAuth.TokenURL != "https://auth.example.com/token2" || r.OAuth.AuthMethod != "clientSecretPost" || len(r.OAuth.Scopes) != 2 {
		t.Fatalf("stored receiver settings = %+v / %+v / %+v", r.MTLS != nil, r.ServerCA, r.OAuth)
	}

	post("/mtls", url.Values{"remove": {"on"}}, http.StatusSeeOther)
	post("/oauth", url.Values{"remove": {"on"}}, http.StatusSeeOther)
	post("/ca", url.Values{"cert": {""}}, http.StatusSeeOther)
	if stored, _ = srv.Server.Store().GetEndpoint(context.Background(), app.ID, ep.ID); !stored.Receiver.IsZero() {
		t.Fatalf("after removing everything: %+v", stored.Receiver)
	}
}
