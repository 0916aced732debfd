package receivers

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestMutualTLS: a receiver that requires a client certificate (RequireAndVerifyClientCert)
// refuses a delivery from an endpoint without one, and accepts the endpoint's certificate once
// it is set; the receiver itself is on a private CA, reached with the endpoint's CA. The key is
// never answered by the API and is not in any file of the data directory in clear. Removing the
// certificate makes deliveries fail again.
func TestMutualTLS(t *testing.T) {
	serverCA, clientCA := newCA(t, "receiver CA"), newCA(t, "client CA")
	rc := newTLSReceiver(t, serverCA.validLeaf(t, "receiver", true).tls, clientCA, nil)
	client := clientCA.validLeaf(t, "hookline-client", false)

	e := start(t, nil)
	ep := e.endpoint(rc.URL + "/in")
	e.Op("PUT", e.epPath(ep)+"/ca", map[string]any{"cert": serverCA.pem}, 204)

	// Without a client certificate the handshake fails, and the attempt says so.
	a := e.attemptOf(ep, e.send(1))
	if a.Status != 2 || a.ResponseStatusCode != 0 || !strings.Contains(a.Response, "certificate") {
		t.Fatalf("attempt without a client certificate = %+v; want a failed one naming the certificate", a)
	}
	if rc.count() != 0 {
		t.Fatalf("the receiver accepted %d requests without a client certificate", rc.count())
	}
	var cfg map[string]any
	e.Op("GET", e.epPath(ep)+"/mtls-config", nil, 200).JSON(t, &cfg)
	if cfg["enabled"] != false || cfg["config"] != nil {
		t.Fatalf("mtls-config before = %v; want enabled false, config null", cfg)
	}
	if r := e.Do("GET", e.epPath(ep)+"/mtls", e.Token, nil); r.Status != 404 {
		t.Fatalf("GET /mtls without a certificate = %d %s; want 404", r.Status, r.Body)
	}

	// Svix's identity: the key and the certificate in one PEM text.
	e.Op("PUT", e.epPath(ep)+"/mtls", map[string]any{"identity": client.keyPEM + client.certPEM}, 204)
	a = e.attemptOf(ep, e.send(2))
	if a.Status != 0 || a.ResponseStatusCode != 204 {
		t.Fatalf("attempt with the client certificate = %+v; want a success", a)
	}
	if !rc.seen["hookline-client"] {
		t.Fatalf("the receiver saw client certificates %v; want hookline-client", rc.seen)
	}

	secrets := map[string]string{"private key": keyLine(client.keyPEM)}
	for _, path := range []string{"/mtls", "/mtls-config", ""} {
		r := e.Op("GET", e.epPath(ep)+path, nil, 200)
		notInBody(t, "GET "+path, r.Body, secrets)
		notInBody(t, "GET "+path, r.Body, map[string]string{"certificate": keyLine(client.certPEM)})
	}
	e.Op("GET", e.epPath(ep)+"/mtls-config", nil, 200).JSON(t, &cfg)
	if cfg["enabled"] != true || cfg["config"] == nil {
		t.Fatalf("mtls-config after = %v; want enabled true and a config", cfg)
	}
	notInFiles(t, e.Config.DataDir, secrets)

	// Deleting it: the receiver refuses again (and the CA stays).
	e.Op("DELETE", e.epPath(ep)+"/mtls", nil, 204)
	e.Op("DELETE", e.epPath(ep)+"/mtls", nil, 204)
	if a = e.attemptOf(ep, e.send(3)); a.Status != 2 || rc.count() != 1 {
		t.Fatalf("after DELETE /mtls: attempt %+v, receiver count %d; want a failure and still 1", a, rc.count())
	}
}

// TestServerCA: a receiver whose certificate is signed by a private CA is refused with the
// system's roots, reached once the endpoint has that CA (alone, or with the system's roots),
// refused with another CA, and refused again when the CA is set back to null.
func TestServerCA(t *testing.T) {
	private := newCA(t, "private CA")
	rc := newTLSReceiver(t, private.validLeaf(t, "receiver", true).tls, nil, nil)
	e := start(t, nil)
	ep := e.endpoint(rc.URL + "/in")

	a := e.attemptOf(ep, e.send(1))
	if a.Status != 2 || !strings.Contains(a.Response, "unknown authority") {
		t.Fatalf("attempt with the system's roots = %+v; want a failure naming the unknown authority", a)
	}
	var ca map[string]any
	e.Op("GET", e.epPath(ep)+"/ca", nil, 200).JSON(t, &ca)
	if ca["cert"] != nil || ca["trustSystemRoots"] != false {
		t.Fatalf("GET /ca before = %v; want cert null", ca)
	}

	e.Op("PUT", e.epPath(ep)+"/ca", map[string]any{"cert": private.pem}, 204)
	if a = e.attemptOf(ep, e.send(2)); a.Status != 0 {
		t.Fatalf("attempt with the endpoint's CA = %+v; want a success", a)
	}
	e.Op("GET", e.epPath(ep)+"/ca", nil, 200).JSON(t, &ca)
	if ca["cert"] != private.pem {
		t.Fatalf("GET /ca = %v; want the bundle back", ca)
	}

	e.Op("PUT", e.epPath(ep)+"/ca", map[string]any{"cert": private.pem, "trustSystemRoots": true}, 204)
	if a = e.attemptOf(ep, e.send(3)); a.Status != 0 {
		t.Fatalf("attempt with the CA and the system's roots = %+v; want a success", a)
	}
	e.Op("GET", e.epPath(ep)+"/ca", nil, 200).JSON(t, &ca)
	if ca["trustSystemRoots"] != true {
		t.Fatalf("GET /ca = %v; want trustSystemRoots true", ca)
	}

	other := newCA(t, "another CA")
	e.Op("PUT", e.epPath(ep)+"/ca", map[string]any{"cert": other.pem}, 204)
	if a = e.attemptOf(ep, e.send(4)); a.Status != 2 {
		t.Fatalf("attempt with another CA = %+v; want a failure", a)
	}
	e.Op("PUT", e.epPath(ep)+"/ca", map[string]any{"cert": nil}, 204)
	if a = e.attemptOf(ep, e.send(5)); a.Status != 2 {
		t.Fatalf("attempt after cert null = %+v; want a failure", a)
	}
	if rc.count() != 2 {
		t.Fatalf("the receiver accepted %d requests; want 2", rc.count())
	}
}

// TestReceiverSettingsRefused: every bad certificate, CA or OAuth setting is a 422 that names
// the field and says what is wrong, and changes nothing; so are the parts of Svix's models
// Hookline does not implement.
func TestReceiverSettingsRefused(t *testing.T) {
	caA, caB := newCA(t, "A"), newCA(t, "B")
	good := caA.validLeaf(t, "client", false)
	other := caB.validLeaf(t, "other", false)
	expired := caA.issue(t, "old", false, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	encrypted := "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"

	e := start(t, nil)
	ep := e.endpoint("http://127.0.0.1:1/in")
	for _, tc := range []struct {
		name, path string
		body       any
		loc, msg   string
	}{
		{"no identity", "/mtls", map[string]any{}, "identity", "required"},
		{"not PEM", "/mtls", map[string]any{"identity": "hello"}, "identity", "no PEM"},
		{"no key", "/mtls", map[string]any{"identity": good.certPEM}, "identity", "no private key"},
		{"no certificate", "/mtls", map[string]any{"identity": good.keyPEM}, "identity", "no certificate"},
		{"mismatched pair", "/mtls", map[string]any{"identity": other.keyPEM + good.certPEM}, "identity", "do not make a pair"},
		{"expired", "/mtls", map[string]any{"identity": expired.keyPEM + expired.certPEM}, "identity", "expired"},
		{"encrypted key", "/mtls", map[string]any{"identity": encrypted + good.certPEM}, "identity", "encrypted"},
		{"two keys", "/mtls", map[string]any{"identity": good.keyPEM + other.keyPEM + good.certPEM}, "identity", "more than one private key"},
		{"CA not PEM", "/ca", map[string]any{"cert": "hello"}, "cert", "no PEM certificate"},
		{"CA a key", "/ca", map[string]any{"cert": good.keyPEM}, "cert", "PRIVATE KEY"},
		{"CA bad DER", "/ca", map[string]any{"cert": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}, "cert", "does not parse"},
		{"roots without cert", "/ca", map[string]any{"cert": nil, "trustSystemRoots": true}, "trustSystemRoots", "only with a cert"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do("PUT", e.epPath(ep)+tc.path, e.Token, tc.body)
			wantFieldError(t, r.Status, r.Body, tc.loc, tc.msg)
		})
	}
	var cfg map[string]any
	e.Op("GET", e.epPath(ep)+"/mtls-config", nil, 200).JSON(t, &cfg)
	if cfg["enabled"] != false {
		t.Fatalf("a refused identity was stored: %v", cfg)
	}
}

// wantFieldError checks a 422 whose detail has an item at ["body", loc, ...] whose msg holds msg.
func wantFieldError(t *testing.T, status int, body []byte, loc, msg string) {
	t.Helper()
	var out struct {
		Code   string `json:"code"`
		Detail []struct {
			Loc  []string `json:"loc"`
			Msg  string   `json:"msg"`
			Type string   `json:"type"`
		} `json:"detail"`
	}
	if status != 422 || json.Unmarshal(body, &out) != nil {
		t.Fatalf("status %d %s; want 422 at %s", status, body, loc)
	}
	for _, d := range out.Detail {
		if len(d.Loc) >= 2 && d.Loc[0] == "body" && d.Loc[1] == loc && strings.Contains(d.Msg, msg) {
			return
		}
	}
	t.Fatalf("422 %s; want an item at [body %s] saying %q", body, loc, msg)
}
