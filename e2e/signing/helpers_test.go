package signing

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testserver"
)

// receiverHost is a public-looking name that the test DNS server (see TestMain) resolves to
// 127.0.0.1, the way an attacker's name would resolve to an internal address. The egress
// policy accepts it when an endpoint is saved and must refuse it when a delivery dials.
const receiverHost = "hooks.receiver-test.com"

// receiverCert is a self-signed certificate for receiverHost and 127.0.0.1 that the process
// trusts through SSL_CERT_FILE, so an https receiver on loopback is what a real one is to the
// delivery engine: a host with a valid certificate.
var receiverCert tls.Certificate

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hookline-signing-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	// The delivery engine's TLS client uses the system roots and has no hook for a test CA.
	// Go loads the system roots once, on first use, from SSL_CERT_FILE when it is set, so
	// setting it before any test runs makes the receiver's certificate trusted in this
	// process only.
	certPEM, cert, err := selfSignedCert(receiverHost, netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "certificate:", err)
		return 1
	}
	receiverCert = cert
	certFile := filepath.Join(dir, "receiver.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "write certificate:", err)
		return 1
	}
	os.Setenv("SSL_CERT_FILE", certFile)
	os.Unsetenv("SSL_CERT_DIR")

	// There is no DNS in the test environment, and the point is a name that resolves to a
	// loopback address anyway: a tiny DNS server on loopback answers for receiverHost, and the
	// process's resolver asks it. The delivery engine's dialer uses net.DefaultResolver.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "dns server:", err)
		return 1
	}
	defer pc.Close()
	go serveDNS(pc, map[string]netip.Addr{receiverHost + ".": netip.MustParseAddr("127.0.0.1")})
	dnsAddr := pc.LocalAddr().String()
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", dnsAddr)
	}}

	return m.Run()
}

// selfSignedCert returns a PEM certificate and its key pair for host and addr.
func selfSignedCert(host string, addr netip.Addr) ([]byte, tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: host},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{host},
		IPAddresses:           []net.IP{addr.AsSlice()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// serveDNS answers A queries for the names in hosts and says NXDOMAIN to every other name,
// until pc is closed. It speaks just enough DNS (RFC 1035) for Go's resolver.
func serveDNS(pc net.PacketConn, hosts map[string]netip.Addr) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := dnsAnswer(buf[:n], hosts); resp != nil {
			pc.WriteTo(resp, from)
		}
	}
}

func dnsAnswer(q []byte, hosts map[string]netip.Addr) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:6]) != 1 {
		return nil
	}
	// The question: labels up to a zero byte, then type and class.
	var name strings.Builder
	i := 12
	for {
		if i >= len(q) {
			return nil
		}
		l := int(q[i])
		i++
		if l == 0 {
			break
		}
		if l > 63 || i+l > len(q) {
			return nil
		}
		name.WriteString(strings.ToLower(string(q[i : i+l])))
		name.WriteByte('.')
		i += l
	}
	if i+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i : i+2])
	question := q[12 : i+4]

	addr, known := hosts[name.String()]
	resp := make([]byte, 12, 12+len(question)+16)
	copy(resp[0:2], q[0:2]) // id
	flags := uint16(0x8180) // response, recursion desired and available
	if !known {
		flags |= 3 // NXDOMAIN
	}
	binary.BigEndian.PutUint16(resp[2:4], flags)
	binary.BigEndian.PutUint16(resp[4:6], 1) // one question
	resp = append(resp, question...)
	if known && qtype == 1 && addr.Is4() {
		binary.BigEndian.PutUint16(resp[6:8], 1) // one answer
		ip := addr.As4()
		resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4) // name at offset 12, A, IN, TTL 60
		resp = append(resp, ip[:]...)
	}
	return resp
}

// received is one request a receiver got.
type received struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// receiver is a real HTTP server on loopback that records every request it gets.
type receiver struct {
	URL string
	got chan received

	mu       sync.Mutex
	hits     int
	statuses []int // the answers to the first requests; 200 after them
}

// newReceiver starts a plain-http receiver that answers the first requests with statuses and
// every later one with 200.
func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{got: make(chan received, 100), statuses: statuses}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// newTLSReceiver starts an https receiver with receiverCert; its URL uses 127.0.0.1.
func newTLSReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{got: make(chan received, 100)}
	srv := httptest.NewUnstartedServer(r)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{receiverCert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	status := http.StatusOK
	if r.hits < len(r.statuses) {
		status = r.statuses[r.hits]
	}
	r.hits++
	r.mu.Unlock()
	r.got <- received{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: body}
	w.WriteHeader(status)
}

// Hits returns how many requests the receiver got.
func (r *receiver) Hits() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits
}

// next waits for the receiver's next request.
func (r *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case d := <-r.got:
		return d
	case <-time.After(15 * time.Second):
		t.Fatal("timed out waiting for a delivery")
		return received{}
	}
}

// newApp creates an application and the event types the tests send.
func newApp(t *testing.T, srv *testserver.Instance, eventTypes ...string) string {
	t.Helper()
	var app struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app", map[string]any{"name": "Acme Events"}, 201).JSON(t, &app)
	for _, et := range eventTypes {
		srv.Op("POST", "/api/v1/event-type", map[string]any{"name": et, "description": et}, 201)
	}
	return app.ID
}

// newEndpoint creates an endpoint with the given fields and returns its id.
func newEndpoint(t *testing.T, srv *testserver.Instance, appID string, fields map[string]any) string {
	t.Helper()
	var ep struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app/"+appID+"/endpoint", fields, 201).JSON(t, &ep)
	if ep.ID == "" {
		t.Fatal("endpoint created without an id")
	}
	return ep.ID
}

// endpointSecret returns the endpoint's current signing secret, as its owner would read it.
func endpointSecret(t *testing.T, srv *testserver.Instance, appID, epID string) string {
	t.Helper()
	var s struct {
		Key string `json:"key"`
	}
	srv.Op("GET", "/api/v1/app/"+appID+"/endpoint/"+epID+"/secret", nil, 200).JSON(t, &s)
	return s.Key
}

// send posts a message whose payload is rawPayload, exactly these bytes, and returns its id.
func send(t *testing.T, srv *testserver.Instance, appID, eventType, rawPayload string) string {
	t.Helper()
	body := `{"eventType":"` + eventType + `","payload":` + rawPayload + `}`
	var msg struct {
		ID string `json:"id"`
	}
	srv.Op("POST", "/api/v1/app/"+appID+"/msg", body, 202).JSON(t, &msg)
	return msg.ID
}

// attempt is an attempt as the API lists it.
type attempt struct {
	Response           string `json:"response"`
	ResponseStatusCode int    `json:"responseStatusCode"`
	Status             int    `json:"status"`
	URL                string `json:"url"`
}

// waitAttempt polls the endpoint's attempts until there is one and returns the newest.
func waitAttempt(t *testing.T, srv *testserver.Instance, appID, epID string) attempt {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var page struct {
			Data []attempt `json:"data"`
		}
		srv.Op("GET", "/api/v1/app/"+appID+"/attempt/endpoint/"+epID, nil, 200).JSON(t, &page)
		if len(page.Data) > 0 {
			return page.Data[0]
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for an attempt")
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline: there is no signal to wait on from outside the server
	}
}

// testSecret returns a whsec_ secret whose HMAC key is 24 bytes of b, so the tests know the
// key without decoding anything.
func testSecret(b byte) (secret string, key []byte) {
	key = bytes.Repeat([]byte{b}, 24)
	return "whsec_" + base64.StdEncoding.EncodeToString(key), key
}
