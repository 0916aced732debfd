package serverca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline"
)

func newCA(t *testing.T, cn string) (*x509.Certificate, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestBundleAndPool: a bundle of two CAs with text around it is kept as its two PEM blocks;
// the pool made of it verifies certificates of both, with and without the system's roots.
func TestBundleAndPool(t *testing.T) {
	a, aPEM := newCA(t, "A")
	b, bPEM := newCA(t, "B")
	text, err := ParseBundle("# our CAs\n" + aPEM + "\n" + bPEM + "\n")
	if err != nil || text != aPEM+bPEM {
		t.Fatalf("ParseBundle = %q, %v; want the two certificates only", text, err)
	}
	for _, withSystem := range []bool{false, true} {
		pool, err := Pool(hookline.ServerCA{PEM: text, WithSystemRoots: withSystem})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []*x509.Certificate{a, b} {
			if _, err := c.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
				t.Errorf("system roots %v: %s does not verify: %v", withSystem, c.Subject.CommonName, err)
			}
		}
	}
	other, _ := newCA(t, "C")
	pool, _ := Pool(hookline.ServerCA{PEM: text})
	if _, err := other.Verify(x509.VerifyOptions{Roots: pool}); err == nil {
		t.Error("a certificate of another CA verifies against the bundle alone")
	}
	if _, err := ParseBundle(strings.Repeat("x", MaxBundleBytes+1)); err == nil {
		t.Error("a bundle over the limit is accepted")
	}
}
