package receivers

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/config"
)

// tokenServer is an OAuth 2.0 token endpoint (client credentials) on loopback that counts its
// requests and issues tok-1, tok-2, ...
type tokenServer struct {
	*httptest.Server
	TokenURL  string // the URL of its token endpoint, a random path of its own
	mu        sync.Mutex
	requests  int
	expiresIn any // the expires_in of its answers (nil: left out)
	fail      bool
	lastForm  map[string]string
	lastBasic [2]string
	// jwtKey, when set, makes the client authenticate with a client assertion (RFC 7523)
	// signed by its private key instead of the secret; lastKid is the assertion's kid.
	jwtKey  *rsa.PublicKey
	lastKid string
	// refresh, when set, is the one refresh token the server accepts for the refreshToken
	// grant; each use rotates it (rt-1, rt-2, ...), and the answer carries the new one.
	refresh string
}

func newTokenServer(t *testing.T, clientID, secret string) *tokenServer {
	ts := &tokenServer{expiresIn: 3600}
	path := strayFree()
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r) // a stray: see strayFree
			return
		}
		ts.mu.Lock()
		defer ts.mu.Unlock()
		ts.requests++
		if err := r.ParseForm(); err != nil || r.Method != "POST" {
			http.Error(w, "bad request", 400)
			return
		}
		ts.lastForm = map[string]string{}
		for k := range r.PostForm {
			ts.lastForm[k] = r.PostForm.Get(k)
		}
		id, sec, basic := r.BasicAuth()
		ts.lastBasic = [2]string{id, sec}
		if !basic {
			id, sec = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if ts.jwtKey != nil {
			// The secret is the assertion's signature: valid, for this client and this URL.
			sec = ""
			if basic || r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
				id = ""
			} else if kid, err := verifyAssertion(r.PostForm.Get("client_assertion"), ts.jwtKey, clientID, ts.TokenURL); err != nil {
				id = "" // refused below
			} else {
				ts.lastKid, sec = kid, secret
			}
		}
		w.Header().Set("Content-Type", "application/json")
		rotated := ""
		if ts.refresh != "" && r.PostForm.Get("grant_type") == "refresh_token" {
			if r.PostForm.Get("refresh_token") != ts.refresh {
				w.WriteHeader(400)
				fmt.Fprint(w, `{"error":"invalid_grant","error_description":"unknown refresh token"}`)
				return
			}
			rotated = fmt.Sprintf("rt-%d", ts.requests)
			r.PostForm.Set("grant_type", "client_credentials") // checked like the other grant below
		}
		if ts.fail || id != clientID || sec != secret || r.PostForm.Get("grant_type") != "client_credentials" {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"client authentication failed"}`)
			return
		}
		out := map[string]any{"access_token": fmt.Sprintf("tok-%d", ts.requests), "token_type": "Bearer"}
		if rotated != "" {
			ts.refresh, out["refresh_token"] = rotated, rotated
		}
		if ts.expiresIn != nil {
			out["expires_in"] = ts.expiresIn
		}
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(ts.Close)
	ts.TokenURL = ts.URL + path
	return ts
}

// verifyAssertion checks a client assertion: an RS256 JWT signed by key, issued by and for
// clientID, for the audience tokenURL, not expired. It returns the header's kid.
func verifyAssertion(jwt string, key *rsa.PublicKey, clientID, tokenURL string) (string, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("%d parts", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", err
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		return "", err
	}
	var header struct{ Alg, Kid string }
	var claims struct {
		Iss, Sub, Aud, Jti string
		Exp, Iat           int64
	}
	for i, dst := range []any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, dst) != nil {
			return "", fmt.Errorf("part %d is not base64url JSON", i)
		}
	}
	if header.Alg != "RS256" || claims.Iss != clientID || claims.Sub != clientID || claims.Aud != tokenURL ||
		claims.Jti == "" || claims.Exp <= time.Now().Unix() || claims.Exp-claims.Iat > 3600 {
		return "", fmt.Errorf("header %+v, claims %+v", header, claims)
	}
	return header.Kid, nil
}

// strayFree returns a random path for a server of one test. Its port is an ephemeral one that
// may have been, a moment before, another test's server's, to which that test's Hookline may
// still send: the servers count only the requests for their own path.
func strayFree() string { return "/" + hookline.NewID("") }

func (ts *tokenServer) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.requests
}

func (ts *tokenServer) set(f func(ts *tokenServer)) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	f(ts)
}

// bearerReceiver accepts requests whose bearer token is not revoked.
type bearerReceiver struct {
	*httptest.Server
	HookURL string // the URL of its webhook endpoint, a random path of its own
	mu      sync.Mutex
	revoked map[string]bool
	tokens  []string // the tokens of accepted requests
	refused int
}

func newBearerReceiver(t *testing.T) *bearerReceiver {
	br := &bearerReceiver{revoked: map[string]bool{}}
	path := strayFree()
	br.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r) // a stray: see strayFree
			return
		}
		br.mu.Lock()
		defer br.mu.Unlock()
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !strings.HasPrefix(tok, "tok-") || br.revoked[tok] {
			br.refused++
			w.WriteHeader(401)
			return
		}
		br.tokens = append(br.tokens, tok)
		w.WriteHeader(204)
	}))
	t.Cleanup(br.Close)
	br.HookURL = br.URL + path
	return br
}

func (br *bearerReceiver) accepted() []string {
	br.mu.Lock()
	defer br.mu.Unlock()
	return append([]string(nil), br.tokens...)
}

// TestOAuthClientCredentials: with a real token server and a receiver that checks bearer
// tokens, both on loopback: the token is fetched once and reused; a 401 makes one new token
// request and the delivery succeeds with it; a token that expires at once is fetched anew for
// each delivery; clientSecretPost sends the credentials in the body; a failing token request
// fails the attempt with the token server's reason and sends nothing; the client secret and the
// access token are never answered by the API and the secret is not in the database in clear.
func TestOAuthClientCredentials(t *testing.T) {
	const clientID, secret = "hookline-client", "oauth-client-secret-7Rf2Lk"
	ts := newTokenServer(t, clientID, secret)
	br := newBearerReceiver(t)
	e := start(t, nil)
	ep := e.endpoint(br.HookURL)
	cfg := map[string]any{"grantType": "clientCredentials", "authMethod": "clientSecretBasic", "clientId": clientID,
		"clientSecret": secret, "tokenUrl": ts.TokenURL, "scopes": []string{"webhooks:write", "orders"},
		"extraParams": map[string]string{"audience": "https://receiver.example"}}
	e.Op("PUT", e.epPath(ep)+"/oauth", cfg, 204)

	for i := range 3 {
		if a := e.attemptOf(ep, e.send(i)); a.Status != 0 {
			t.Fatalf("delivery %d: %+v; want a success", i, a)
		}
	}
	if n := ts.count(); n != 1 {
		t.Fatalf("token requests for 3 deliveries = %d; want 1 (the token is reused)", n)
	}
	if got := br.accepted(); strings.Join(got, ",") != "tok-1,tok-1,tok-1" {
		t.Fatalf("tokens the receiver accepted = %v; want tok-1 three times", got)
	}
	ts.set(func(ts *tokenServer) {
		if ts.lastBasic != [2]string{clientID, secret} || ts.lastForm["scope"] != "webhooks:write orders" ||
			ts.lastForm["audience"] != "https://receiver.example" || ts.lastForm["client_secret"] != "" {
			t.Errorf("token request: basic %v, form %v; want the credentials in Basic, the scopes and the extra parameter", ts.lastBasic, ts.lastForm)
		}
	})

	// The receiver revokes tok-1: one 401, one new token, and the delivery succeeds.
	br.mu.Lock()
	br.revoked["tok-1"] = true
	br.mu.Unlock()
	msg := e.send(10)
	if a := e.attemptOf(ep, msg); a.Status != 0 || a.ResponseStatusCode != 204 {
		t.Fatalf("delivery after a revocation = %+v; want a success", a)
	}
	if n := ts.count(); n != 2 {
		t.Fatalf("token requests after a 401 = %d; want 2", n)
	}
	if a := e.attemptOf(ep, e.send(11)); a.Status != 0 || ts.count() != 2 {
		t.Fatalf("the next delivery: %+v with %d token requests; want a success with the new token, no request", a, ts.count())
	}

	// The attempt log does not show the token.
	var hdrs struct {
		SentHeaders map[string]string `json:"sentHeaders"`
		Sensitive   []string          `json:"sensitive"`
	}
	att := e.attemptOf(ep, msg)
	e.Op("GET", "/api/v1/app/"+e.app+"/msg/"+msg+"/attempt/"+att.ID+"/headers", nil, 200).JSON(t, &hdrs)
	if strings.Contains(mustJSON(hdrs), "tok-") {
		t.Fatalf("the attempt's headers show the access token: %v", hdrs)
	}

	// A token that expires at once is fetched for each delivery.
	ts.set(func(ts *tokenServer) { ts.expiresIn = 0 })
	br.mu.Lock()
	br.revoked["tok-2"] = true // the cached token goes: the next one carries expires_in 0
	br.mu.Unlock()
	before := ts.count()
	for i := range 3 {
		if a := e.attemptOf(ep, e.send(20+i)); a.Status != 0 {
			t.Fatalf("delivery %d with short-lived tokens: %+v", i, a)
		}
	}
	if n := ts.count() - before; n != 3 {
		t.Fatalf("token requests for 3 deliveries with tokens that expire at once = %d; want 3 (one after the 401, then one for each next delivery)", n)
	}
	ts.set(func(ts *tokenServer) { ts.expiresIn = "3600" }) // a string, as some servers send

	// clientSecretPost: the credentials in the body.
	cfg["authMethod"] = "clientSecretPost"
	e.Op("PUT", e.epPath(ep)+"/oauth", cfg, 204)
	if a := e.attemptOf(ep, e.send(30)); a.Status != 0 {
		t.Fatalf("delivery with clientSecretPost: %+v", a)
	}
	ts.set(func(ts *tokenServer) {
		if ts.lastBasic != [2]string{} || ts.lastForm["client_id"] != clientID || ts.lastForm["client_secret"] != secret {
			t.Errorf("clientSecretPost token request: basic %v, form %v", ts.lastBasic, ts.lastForm)
		}
	})

	// The secret is never answered, nor in the database in clear.
	secrets := map[string]string{"client secret": secret}
	for _, path := range []string{"/oauth", "/oauth-config", ""} {
		notInBody(t, "GET "+path, e.Op("GET", e.epPath(ep)+path, nil, 200).Body, secrets)
	}
	var oc struct {
		Enabled bool
		Config  map[string]any
	}
	e.Op("GET", e.epPath(ep)+"/oauth-config", nil, 200).JSON(t, &oc)
	if !oc.Enabled || oc.Config["clientId"] != clientID || oc.Config["authMethod"] != "clientSecretPost" || oc.Config["tokenUrl"] != ts.TokenURL {
		t.Fatalf("oauth-config = %+v", oc)
	}
	notInFiles(t, e.Config.DataDir, secrets)

	// A wrong secret: the token server refuses, the attempt fails with its reason, nothing is sent.
	cfg["clientSecret"] = "wrong"
	e.Op("PUT", e.epPath(ep)+"/oauth", cfg, 204)
	sent := len(br.accepted()) + br.refused
	a := e.attemptOf(ep, e.send(40))
	if a.Status != 2 || !strings.Contains(a.Response, "OAuth 2.0 token request failed") || !strings.Contains(a.Response, "invalid_client") ||
		!strings.Contains(a.Response, "401") {
		t.Fatalf("attempt with a refused token request = %+v; want a failure with the token server's reason", a)
	}
	// An unreachable token URL: the connection's failure.
	cfg["tokenUrl"] = "http://127.0.0.1:1/token"
	e.Op("PUT", e.epPath(ep)+"/oauth", cfg, 204)
	if a := e.attemptOf(ep, e.send(41)); a.Status != 2 || !strings.Contains(a.Response, "OAuth 2.0 token request failed: connection refused") {
		t.Fatalf("attempt with an unreachable token URL = %+v", a)
	}
	if now := len(br.accepted()) + br.refused; now != sent {
		t.Fatalf("the receiver got %d requests while the token request failed", now-sent)
	}

	// DELETE: deliveries carry no token any more (and this receiver refuses them).
	e.Op("DELETE", e.epPath(ep)+"/oauth", nil, 204)
	if r := e.Do("GET", e.epPath(ep)+"/oauth", e.Token, nil); r.Status != 404 {
		t.Fatalf("GET /oauth after DELETE = %d", r.Status)
	}
	if a := e.attemptOf(ep, e.send(50)); a.Status != 2 || a.ResponseStatusCode != 401 {
		t.Fatalf("delivery after DELETE /oauth = %+v; want the receiver's 401", a)
	}
}

// TestOAuthSettingsRefused: bad OAuth settings, and what Hookline does not implement of Svix's
// model, are 422s naming the field; outside dev mode a token URL inside the network is refused
// like an endpoint URL.
func TestOAuthSettingsRefused(t *testing.T) {
	e := start(t, nil)
	ep := e.endpoint("http://127.0.0.1:1/in")
	base := func(edit func(m map[string]any)) map[string]any {
		m := map[string]any{"grantType": "clientCredentials", "authMethod": "clientSecretBasic", "clientId": "c",
			"clientSecret": "s", "tokenUrl": "http://127.0.0.1:1/token"}
		edit(m)
		return m
	}
	for _, tc := range []struct {
		name     string
		body     map[string]any
		loc, msg string
	}{
		{"refresh token grant without a token", base(func(m map[string]any) { m["grantType"] = "refreshToken" }), "refreshToken", "required"},
		{"unknown grant", base(func(m map[string]any) { m["grantType"] = "password" }), "grantType", "clientCredentials"},
		{"client secret JWT without jwtParams", base(func(m map[string]any) { m["authMethod"], m["clientSecret"] = "clientSecretJwt", nil }), "jwtParams", "required"},
		{"jwtParams with Basic", base(func(m map[string]any) {
			m["jwtParams"] = map[string]any{"secretBase64": "x", "signingAlgorithm": "RS256"}
		}), "jwtParams", "clientSecretJwt only"},
		{"client secret JWT with a secret", base(func(m map[string]any) {
			m["authMethod"], m["jwtParams"] = "clientSecretJwt", map[string]any{"secretBase64": testJWTKey, "signingAlgorithm": "RS256"}
		}), "clientSecret", "not used"},
		{"client secret JWT with a bad key", base(func(m map[string]any) {
			m["authMethod"], m["clientSecret"] = "clientSecretJwt", nil
			m["jwtParams"] = map[string]any{"secretBase64": "bm90IGEga2V5", "signingAlgorithm": "RS256"}
		}), "jwtParams", "RSA private key"},
		{"client secret JWT with HS256", base(func(m map[string]any) {
			m["authMethod"], m["clientSecret"] = "clientSecretJwt", nil
			m["jwtParams"] = map[string]any{"secretBase64": testJWTKey, "signingAlgorithm": "HS256"}
		}), "jwtParams", ""},
		{"refreshToken with client credentials", base(func(m map[string]any) { m["refreshToken"] = "r" }), "refreshToken", "refreshToken grant only"},
		{"no client id", base(func(m map[string]any) { m["clientId"] = "" }), "clientId", "required"},
		{"no token URL", base(func(m map[string]any) { m["tokenUrl"] = "" }), "tokenUrl", "required"},
		{"relative token URL", base(func(m map[string]any) { m["tokenUrl"] = "/token" }), "tokenUrl", "absolute"},
		{"scope with a space", base(func(m map[string]any) { m["scopes"] = []string{"a b"} }), "scopes", "without spaces"},
		{"grant_type in extraParams", base(func(m map[string]any) { m["extraParams"] = map[string]string{"grant_type": "password"} }), "extraParams", "set by Hookline"},
		{"Authorization in extraHeaders", base(func(m map[string]any) { m["extraHeaders"] = map[string]string{"Authorization": "x"} }), "extraHeaders", "set by Hookline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do("PUT", e.epPath(ep)+"/oauth", e.Token, tc.body)
			wantFieldError(t, r.Status, r.Body, tc.loc, tc.msg)
		})
	}
	if r := e.Do("GET", e.epPath(ep)+"/oauth", e.Token, nil); r.Status != 404 {
		t.Fatalf("a refused configuration was stored: GET /oauth = %d %s", r.Status, r.Body)
	}

	// Outside dev mode: the token URL follows the endpoint URL rules.
	prod := start(t, func(c *config.Config) { c.Dev = false })
	pep := prod.endpoint("https://receiver.example.com/in")
	for _, u := range []string{"https://127.0.0.1/token", "https://169.254.169.254/token", "https://10.0.0.8/token", "http://auth.example.com/token"} {
		r := prod.Do("PUT", prod.epPath(pep)+"/oauth", prod.Token, base(func(m map[string]any) { m["tokenUrl"] = u }))
		if r.Status != 422 || r.Code() != "url_not_allowed" {
			t.Errorf("token URL %s outside dev mode: %d %s; want 422 url_not_allowed", u, r.Status, r.Body)
		}
	}
	prod.Op("PUT", prod.epPath(pep)+"/oauth", base(func(m map[string]any) { m["tokenUrl"] = "https://auth.example.com/token" }), 204)
}

// testKey is an RSA key made once for the tests of this package.
var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// testJWTKey is testKey as jwtParams.secretBase64 takes it: base64 of its PKCS #8 PEM.
var testJWTKey = func() string {
	der, err := x509.MarshalPKCS8PrivateKey(testKey)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}()

// TestOAuthClientSecretJWT: an endpoint whose OAuth client authenticates with a client assertion
// (Svix's clientSecretJwt, RFC 7523): the token server verifies the RS256 JWT with the client's
// public key (issuer and subject the client id, audience the token URL, kid as set), gets no
// secret, and the delivery carries the token; the API answers the method but never the key.
func TestOAuthClientSecretJWT(t *testing.T) {
	const clientID = "hookline-jwt-client"
	ts := newTokenServer(t, clientID, "")
	ts.set(func(ts *tokenServer) { ts.jwtKey = &testKey.PublicKey })
	br := newBearerReceiver(t)
	e := start(t, nil)
	ep := e.endpoint(br.HookURL)
	e.Op("PUT", e.epPath(ep)+"/oauth", map[string]any{"grantType": "clientCredentials", "authMethod": "clientSecretJwt",
		"clientId": clientID, "tokenUrl": ts.TokenURL,
		"jwtParams": map[string]any{"secretBase64": testJWTKey, "signingAlgorithm": "RS256", "secretId": "key-2026", "tokenExpirySecs": 120}}, 204)
	if a := e.attemptOf(ep, e.send(1)); a.Status != 0 {
		t.Fatalf("delivery with a client assertion: %+v; want a success", a)
	}
	if got := br.accepted(); strings.Join(got, ",") != "tok-1" {
		t.Fatalf("tokens the receiver accepted = %v; want tok-1", got)
	}
	ts.set(func(ts *tokenServer) {
		if ts.lastKid != "key-2026" || ts.lastBasic != [2]string{} || ts.lastForm["client_secret"] != "" || ts.lastForm["client_id"] != clientID {
			t.Errorf("token request: kid %q, basic %v, form %v; want the assertion alone", ts.lastKid, ts.lastBasic, ts.lastForm)
		}
	})
	r := e.Do("GET", e.epPath(ep)+"/oauth", e.Token, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"authMethod":"clientSecretJwt"`) || strings.Contains(string(r.Body), testJWTKey[:40]) {
		t.Fatalf("GET /oauth = %d %s; want the method and no key", r.Status, r.Body)
	}
}

// TestOAuthRefreshToken: an endpoint whose OAuth client trades a refresh token (Svix's
// refreshToken grant) with a token server that rotates it at each use and accepts only the
// latest: with access tokens that expire at once, every delivery makes a token request, each
// with the token the last answer rotated to, and the endpoint's stored setting follows the
// rotation (so another process, or this one after a restart, starts from the latest). The API
// answers the grant but never the token.
func TestOAuthRefreshToken(t *testing.T) {
	const clientID, secret = "hookline-refresh-client", "oauth-refresh-secret-4Kd9"
	ts := newTokenServer(t, clientID, secret)
	ts.set(func(ts *tokenServer) { ts.refresh, ts.expiresIn = "rt-initial", 0 })
	br := newBearerReceiver(t)
	e := start(t, nil)
	ep := e.endpoint(br.HookURL)
	e.Op("PUT", e.epPath(ep)+"/oauth", map[string]any{"grantType": "refreshToken", "authMethod": "clientSecretBasic",
		"clientId": clientID, "clientSecret": secret, "tokenUrl": ts.TokenURL, "refreshToken": "rt-initial"}, 204)
	for i := range 3 {
		if a := e.attemptOf(ep, e.send(i)); a.Status != 0 {
			t.Fatalf("delivery %d with a rotating refresh token: %+v; want a success", i, a)
		}
	}
	var latest string
	ts.set(func(ts *tokenServer) {
		latest = ts.refresh
		if ts.requests != 3 || ts.lastForm["grant_type"] != "refresh_token" {
			t.Errorf("token requests: %d, last form %v; want 3 refresh_token grants", ts.requests, ts.lastForm)
		}
	})
	stored, err := e.Server.Store().GetEndpoint(t.Context(), e.app, ep)
	if err != nil {
		t.Fatal(err)
	}
	if got := stored.Receiver.OAuth.RefreshToken; got != latest || latest == "rt-initial" {
		t.Fatalf("stored refresh token %q, want the latest rotation %q", got, latest)
	}
	r := e.Do("GET", e.epPath(ep)+"/oauth", e.Token, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"grantType":"refreshToken"`) || strings.Contains(string(r.Body), "rt-") {
		t.Fatalf("GET /oauth = %d %s; want the grant and no token", r.Status, r.Body)
	}
	// A refresh token the server no longer knows fails the attempt with its reason.
	ts.set(func(ts *tokenServer) { ts.refresh = "rt-elsewhere" })
	if a := e.attemptOf(ep, e.send(9)); a.Status == 0 || !strings.Contains(a.Response, "invalid_grant") {
		t.Fatalf("delivery with a refresh token the server dropped: %+v; want a failure naming invalid_grant", a)
	}
}
