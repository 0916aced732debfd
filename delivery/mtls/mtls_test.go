package mtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func certFor(t *testing.T, pub, signer any, parent *x509.Certificate, cn string, isCA bool) (*x509.Certificate, string) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: isCA, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestParseIdentity: the key formats of openssl and Go (PKCS#8, PKCS#1 RSA, SEC 1 EC), the key
// before or after the certificates, an intermediate after the leaf; and the refusals, each
// with its reason.
func TestParseIdentity(t *testing.T) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca, _ := certFor(t, &caKey.PublicKey, caKey, nil, "ca", true)
	interKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, interPEM := certFor(t, &interKey.PublicKey, caKey, ca, "intermediate", true)

	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, rsaCert := certFor(t, &rsaKey.PublicKey, caKey, ca, "rsa", false)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ecCert := certFor(t, &ecKey.PublicKey, caKey, ca, "ec", false)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	sec1, _ := x509.MarshalECPrivateKey(ecKey)
	enc := func(typ string, b []byte) string { return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})) }
	now := time.Now()

	for name, text := range map[string]string{
		"PKCS#1 RSA key first":    enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)) + rsaCert,
		"PKCS#8 key last":         ecCert + enc("PRIVATE KEY", pkcs8),
		"SEC 1 key, intermediate": enc("EC PRIVATE KEY", sec1) + ecCert + interPEM,
		"surrounding blank text":  "\n\n" + ecCert + "\n" + enc("PRIVATE KEY", pkcs8) + "\n\n",
	} {
		id, err := ParseIdentity(text, now)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, err := Certificate(id); err != nil || !strings.Contains(id.KeyPEM, "PRIVATE KEY") || strings.Contains(id.CertPEM, "PRIVATE KEY") {
			t.Errorf("%s: split into %q / %q, %v", name, id.CertPEM[:30], id.KeyPEM[:30], err)
		}
	}

	for _, tc := range []struct{ name, text, want string }{
		{"intermediate first", enc("PRIVATE KEY", pkcs8) + interPEM + ecCert, "do not make a pair"},
		{"other block", enc("PRIVATE KEY", pkcs8) + ecCert + enc("PUBLIC KEY", []byte{1}), `"PUBLIC KEY"`},
		{"trailing text", enc("PRIVATE KEY", pkcs8) + ecCert + "garbage", "not PEM"},
		{"too large", strings.Repeat("a", MaxIdentityBytes+1), "at most"},
	} {
		if _, err := ParseIdentity(tc.text, now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want one saying %q", tc.name, err, tc.want)
		}
	}
	if _, err := ParseIdentity(enc("PRIVATE KEY", pkcs8)+ecCert, now.Add(2*time.Hour)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("an expired certificate: err = %v", err)
	}
	if _, err := ParseIdentity(enc("PRIVATE KEY", pkcs8)+ecCert, now.Add(-2*time.Hour)); err == nil || !strings.Contains(err.Error(), "not valid before") {
		t.Errorf("a certificate not valid yet: err = %v", err)
	}
}
