// Package serverca holds an endpoint's own server CA: a PEM bundle of certificates the
// receiver's certificate must chain to, for receivers on a private CA, trusted instead of the
// system's roots or in addition to them.
package serverca

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/hookline/hookline"
)

// MaxBundleBytes bounds the PEM text of a bundle.
const MaxBundleBytes = 256 << 10

// ParseBundle checks a PEM text of one or more certificates and returns it normalised (the
// certificates' PEM blocks, nothing else). Its errors are sentences for people.
func ParseBundle(text string) (string, error) {
	if len(text) > MaxBundleBytes {
		return "", fmt.Errorf("must be at most %d bytes", MaxBundleBytes)
	}
	var out strings.Builder
	rest := []byte(text)
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return "", fmt.Errorf("holds a PEM block of type %q; expected CERTIFICATEs only", b.Type)
		}
		n++
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return "", fmt.Errorf("certificate %d does not parse: %s", n, strings.TrimPrefix(err.Error(), "x509: "))
		}
		out.Write(pem.EncodeToMemory(b))
	}
	if n == 0 {
		return "", errors.New("holds no PEM certificate")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return "", errors.New("holds text that is not PEM after its last certificate")
	}
	return out.String(), nil
}

// Pool returns the roots a receiver's certificate is verified against: the bundle's
// certificates, with the system's roots too when ca says so.
func Pool(ca hookline.ServerCA) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if ca.WithSystemRoots {
		sys, err := x509.SystemCertPool()
		if err != nil {
			return nil, fmt.Errorf("read the system's roots: %w", err)
		}
		pool = sys // a copy of its own: SystemCertPool returns a clone each call
	}
	if !pool.AppendCertsFromPEM([]byte(ca.PEM)) {
		return nil, errors.New("the server CA bundle holds no certificate")
	}
	return pool, nil
}
