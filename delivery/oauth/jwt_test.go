package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
)

// TestParseJWTKey reads RSA keys in the forms Svix's secretBase64 may carry them (PKCS #8 PEM,
// PKCS #1 DER) and refuses, with a reason, what cannot sign RS256: not base64, not a key, an
// EC key, an RSA key under 2048 bits.
func TestParseJWTKey(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	b64 := base64.StdEncoding.EncodeToString
	for _, tc := range []struct {
		name, in, wantErr string
	}{
		{"PKCS #8 PEM", b64(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8(rsaKey)})), ""},
		{"PKCS #1 DER", b64(x509.MarshalPKCS1PrivateKey(rsaKey)), ""},
		{"not base64", "***", "not base64"},
		{"not a key", b64([]byte("hello")), "not an RSA private key"},
		{"an EC key", b64(pkcs8(ecKey)), "not an RSA private key"},
		{"1024 bits", b64(x509.MarshalPKCS1PrivateKey(small)), "at least 2048"},
	} {
		k, err := ParseJWTKey(tc.in)
		switch {
		case tc.wantErr == "" && (err != nil || !k.Equal(rsaKey)):
			t.Errorf("%s: %v, want the key", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: err = %v, want one saying %q", tc.name, err, tc.wantErr)
		}
	}
}
