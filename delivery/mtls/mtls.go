// Package mtls holds an endpoint's client identity for mutual TLS: a certificate chain and its
// private key, given as one PEM text (Svix's "identity"), checked when it is saved and turned
// into the certificate the delivery presents to receivers that ask for one.
package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

// MaxIdentityBytes bounds the PEM text of an identity.
const MaxIdentityBytes = 64 << 10

// ParseIdentity checks a PEM text holding one private key and its certificate, optionally
// followed by intermediate certificates, and splits it into the endpoint's ClientIdentity.
// Its errors are sentences for people: the key missing or encrypted, the certificate not
// matching the key, the certificate expired at now or not yet valid.
func ParseIdentity(text string, now time.Time) (hookline.ClientIdentity, error) {
	var id hookline.ClientIdentity
	if len(text) > MaxIdentityBytes {
		return id, fmt.Errorf("must be at most %d bytes", MaxIdentityBytes)
	}
	var certs, keys []*pem.Block
	rest := []byte(text)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE":
			certs = append(certs, b)
		case b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "":
			return id, errors.New("the private key is encrypted; give it unencrypted (it is sealed at rest)")
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			keys = append(keys, b)
		default:
			return id, fmt.Errorf("holds a PEM block of type %q; expected a PRIVATE KEY and CERTIFICATEs", b.Type)
		}
	}
	switch {
	case len(keys) == 0 && len(certs) == 0:
		return id, errors.New("holds no PEM blocks; expected a PEM private key and certificate")
	case strings.TrimSpace(string(rest)) != "":
		return id, errors.New("holds text that is not PEM after its last PEM block")
	case len(keys) == 0:
		return id, errors.New("holds no private key; expected a PEM private key with the certificate")
	case len(keys) > 1:
		return id, errors.New("holds more than one private key")
	case len(certs) == 0:
		return id, errors.New("holds no certificate; expected a PEM certificate with the private key")
	}
	var certPEM strings.Builder
	for _, c := range certs {
		certPEM.Write(pem.EncodeToMemory(c))
	}
	id = hookline.ClientIdentity{CertPEM: certPEM.String(), KeyPEM: string(pem.EncodeToMemory(keys[0]))}
	pair, err := Certificate(id)
	if err != nil {
		return hookline.ClientIdentity{}, err
	}
	leaf := pair.Leaf
	switch {
	case now.After(leaf.NotAfter):
		return hookline.ClientIdentity{}, fmt.Errorf("the certificate expired at %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(leaf.NotBefore):
		return hookline.ClientIdentity{}, fmt.Errorf("the certificate is not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return id, nil
}

// Certificate returns the TLS certificate of id, its leaf parsed. The first certificate must
// be the one whose public key matches the private key.
func Certificate(id hookline.ClientIdentity) (tls.Certificate, error) {
	pair, err := tls.X509KeyPair([]byte(id.CertPEM), []byte(id.KeyPEM))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("the certificate and private key do not make a pair: %s",
			strings.TrimPrefix(err.Error(), "tls: "))
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("the certificate does not parse: %w", err)
		}
	}
	return pair, nil
}
