package oauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

// clientAssertionType is RFC 7523's client assertion type, sent beside the JWT.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// defaultAssertionLifetime is how long a client assertion is valid without ExpirySecs.
const defaultAssertionLifetime = 300 * time.Second

// ParseJWTKey reads the RSA private key of an OAuthJWT: base64 of a PEM block or of DER, in
// PKCS #8 or PKCS #1 form. Svix names its only algorithm RS256, so the key must be RSA, of at
// least 2048 bits.
func ParseJWTKey(secretBase64 string) (*rsa.PrivateKey, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(secretBase64))
	if err != nil {
		return nil, errors.New("is not base64")
	}
	if block, _ := pem.Decode(raw); block != nil {
		raw = block.Bytes
	}
	var key any
	if key, err = x509.ParsePKCS8PrivateKey(raw); err != nil {
		if key, err = x509.ParsePKCS1PrivateKey(raw); err != nil {
			return nil, errors.New("is not an RSA private key (PKCS #8 or PKCS #1, PEM or DER)")
		}
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("is a %T, not an RSA private key (RS256)", key)
	}
	if rk.N.BitLen() < 2048 {
		return nil, fmt.Errorf("is an RSA key of %d bits; RS256 needs at least 2048", rk.N.BitLen())
	}
	return rk, nil
}

// clientAssertion makes the signed JWT that authenticates the client to tokenURL at now.
func clientAssertion(cfg hookline.OAuthClient, key *rsa.PrivateKey, now time.Time) (string, error) {
	header := map[string]string{"alg": "RS256", "typ": "JWT"}
	if cfg.JWT.KeyID != "" {
		header["kid"] = cfg.JWT.KeyID
	}
	lifetime := defaultAssertionLifetime
	if cfg.JWT.ExpirySecs > 0 {
		lifetime = time.Duration(cfg.JWT.ExpirySecs) * time.Second
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	claims := map[string]any{"iss": cfg.ClientID, "sub": cfg.ClientID, "aud": cfg.TokenURL,
		"iat": now.Unix(), "exp": now.Add(lifetime).Unix(), "jti": hex.EncodeToString(jti[:])}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign the client assertion: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
