// Package secrets encrypts endpoint signing secrets at rest with AES-256-GCM under the main key,
// and makes new signing secrets.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of the main key in bytes.
const KeySize = 32

// sealedPrefix versions the sealed format so the key or cipher can change later.
const sealedPrefix = "v1:"

// Box implements hookline.SecretBox with AES-256-GCM.
type Box struct {
	aead cipher.AEAD
}

// NewBox returns a Box for a 32-byte main key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: main key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext under a fresh random nonce.
func (b *Box) Seal(plaintext []byte) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secrets: nonce: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, plaintext, nil)
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal.
func (b *Box) Open(sealed string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return nil, errors.New("secrets: unknown sealed format")
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("secrets: decode: %w", err)
	}
	n := b.aead.NonceSize()
	if len(raw) < n {
		return nil, errors.New("secrets: sealed value too short")
	}
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return nil, fmt.Errorf("secrets: open (wrong main key?): %w", err)
	}
	return plain, nil
}

// ParseKey decodes a main key given as base64 (standard or URL alphabet, padded or not) or hex.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	if len(s) == 2*KeySize {
		k := make([]byte, KeySize)
		if _, err := fmt.Sscanf(s, "%x", &k); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("secrets: main key must be %d bytes as base64 or hex", KeySize)
}

// LoadOrCreateKeyFile reads the main key from path, creating it (mode 0600) with a random key
// when it does not exist. created reports whether a new key was written.
func LoadOrCreateKeyFile(path string) (key []byte, created bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil {
		key, err := ParseKey(string(data))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		// A key file others may read (made by hand, or by an earlier version) is narrowed to
		// the owner where that is allowed; a read-only mount keeps its mode.
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			_ = os.Chmod(path, 0o600)
		}
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("secrets: read main key: %w", err)
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("secrets: generate main key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("secrets: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("secrets: write main key: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("secrets: write main key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("secrets: write main key: %w", err)
	}
	return key, true, nil
}

// SigningSecretPrefix starts every signing secret, as in Svix and Standard Webhooks.
const SigningSecretPrefix = "whsec_"

// NewSigningSecret returns "whsec_" followed by the base64 of 24 random bytes.
func NewSigningSecret() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic("secrets: crypto/rand failed: " + err.Error())
	}
	return SigningSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// SigningKey returns the HMAC key of a signing secret: the base64-decoded part after "whsec_".
// A secret that does not decode is used as its raw bytes, so platforms that hand out plain
// strings (seed 004's optional secret) still sign and verify consistently.
func SigningKey(secret string) []byte {
	s := strings.TrimPrefix(secret, SigningSecretPrefix)
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) > 0 {
		return k
	}
	return []byte(s)
}
