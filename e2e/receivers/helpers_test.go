package receivers

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
)

// ca is a certificate authority made for one test.
type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

var serial int64 = 1

func nextSerial() *big.Int {
	serial++
	return big.NewInt(serial)
}

func newCA(t testing.TB, name string) *ca {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &ca{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// leaf is a certificate issued by a ca, with its key, as PEM and as a tls.Certificate.
type leaf struct {
	certPEM, keyPEM string
	tls             tls.Certificate
}

// issue makes a certificate for a server (127.0.0.1) or a client, valid from notBefore to notAfter.
func (c *ca) issue(t testing.TB, cn string, server bool, notBefore, notAfter time.Time) leaf {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	l := leaf{
		certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		keyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})),
	}
	if l.tls, err = tls.X509KeyPair([]byte(l.certPEM), []byte(l.keyPEM)); err != nil {
		t.Fatal(err)
	}
	return l
}

func (c *ca) validLeaf(t testing.TB, cn string, server bool) leaf {
	return c.issue(t, cn, server, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

// receiver is an HTTPS (or HTTP) server on loopback that records what it accepted.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []*http.Request
	seen map[string]bool // client certificate common names
}

// newTLSReceiver starts an HTTPS receiver with cert; clientCAs, when set, makes it require and
// verify a client certificate issued by them. respond (nil: 204) answers accepted requests.
func newTLSReceiver(t testing.TB, cert tls.Certificate, clientCAs *ca, respond func(w http.ResponseWriter, r *http.Request) bool) *receiver {
	rc := &receiver{seen: map[string]bool{}}
	rc.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if respond != nil && !respond(w, r) {
			return
		}
		rc.mu.Lock()
		rc.got = append(rc.got, r)
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			rc.seen[r.TLS.PeerCertificates[0].Subject.CommonName] = true
		}
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	rc.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are what some tests want
	rc.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAs != nil {
		pool := x509.NewCertPool()
		pool.AddCert(clientCAs.cert)
		rc.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		rc.TLS.ClientCAs = pool
	}
	rc.StartTLS()
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// env is a test server with an application, an event type and helpers.
type env struct {
	*testserver.Instance
	app string
}

func start(t *testing.T, configure func(*config.Config)) *env {
	t.Helper()
	inst := testserver.Start(t, testserver.Options{Configure: configure})
	e := &env{Instance: inst}
	e.Op("POST", "/api/v1/event-type", map[string]any{"name": "order.paid", "description": "paid"}, 201)
	var app struct{ ID string }
	e.Op("POST", "/api/v1/app", map[string]any{"name": "Acme"}, 201).JSON(t, &app)
	e.app = app.ID
	return e
}

func (e *env) endpoint(url string) string {
	e.T.Helper()
	var ep struct{ ID string }
	e.Op("POST", "/api/v1/app/"+e.app+"/endpoint", map[string]any{"url": url}, 201).JSON(e.T, &ep)
	return ep.ID
}

func (e *env) epPath(ep string) string { return "/api/v1/app/" + e.app + "/endpoint/" + ep }

func (e *env) send(n int) string {
	e.T.Helper()
	var m struct{ ID string }
	e.Op("POST", "/api/v1/app/"+e.app+"/msg", map[string]any{"eventType": "order.paid", "payload": map[string]any{"n": n}}, 202).JSON(e.T, &m)
	return m.ID
}

type attempt struct {
	ID                 string `json:"id"`
	MsgID              string `json:"msgId"`
	Status             int    `json:"status"`
	ResponseStatusCode int    `json:"responseStatusCode"`
	Response           string `json:"response"`
}

// attemptOf waits for the first attempt of msg at ep and returns it.
func (e *env) attemptOf(ep, msg string) attempt {
	e.T.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var page struct{ Data []attempt }
		e.Op("GET", "/api/v1/app/"+e.app+"/attempt/msg/"+msg+"?endpoint_id="+ep, nil, 200).JSON(e.T, &page)
		if len(page.Data) > 0 {
			return page.Data[len(page.Data)-1]
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("no attempt of %s at %s within 30s", msg, ep)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// notInFiles fails the test when a file of the data directory holds one of the secrets.
func notInFiles(t *testing.T, dir string, secrets map[string]string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if en.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for what, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds the %s in clear", en.Name(), what)
			}
		}
	}
}

// notInBody fails the test when an API response holds one of the secrets.
func notInBody(t *testing.T, what string, body []byte, secrets map[string]string) {
	t.Helper()
	for name, s := range secrets {
		if bytes.Contains(body, []byte(s)) {
			t.Errorf("%s answers the %s: %s", what, name, body)
		}
	}
}

// keyLine is a line from the middle of a PEM text: what would show if it were stored in clear.
func keyLine(pemText string) string {
	b, _ := pem.Decode([]byte(pemText))
	enc := pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes})
	lines := bytes.Split(enc, []byte("\n"))
	return string(lines[1])
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
