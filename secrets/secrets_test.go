package secrets

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBoxRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	box, err := NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := box.Seal([]byte("whsec_abc"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "whsec_abc") {
		t.Fatalf("sealed value contains the plaintext: %q", sealed)
	}
	plain, err := box.Open(sealed)
	if err != nil || string(plain) != "whsec_abc" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	other, _ := NewBox(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("a different key opened the sealed value")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "main.key")
	k1, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created || len(k1) != KeySize {
		t.Fatalf("create: %v %v %d", created, err, len(k1))
	}
	k2, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v %v", created, err)
	}
	// A key file others may read is narrowed to its owner when it is loaded.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("a loaded 0644 key file has mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestParseKeyRejectsShortKeys(t *testing.T) {
	if _, err := ParseKey("c2hvcnQ="); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := ParseKey(strings.Repeat("ab", KeySize)); err != nil {
		t.Fatalf("hex key: %v", err)
	}
}

func TestSigningSecret(t *testing.T) {
	s := NewSigningSecret()
	if !strings.HasPrefix(s, "whsec_") || len(SigningKey(s)) != 24 {
		t.Fatalf("bad secret %q", s)
	}
	if string(SigningKey("plain-text-secret!")) != "plain-text-secret!" {
		t.Fatal("raw secret not used as is")
	}
}
