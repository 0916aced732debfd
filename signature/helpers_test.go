package signature_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Test secrets: the first is the example secret of seed 002 and the Standard Webhooks README,
// the second a different key, as during a rotation.
const (
	secretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretB = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
)

// fixedClock satisfies the Clock shape WithClock wants.
type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// key is what a receiver derives from a whsec_ secret, computed here independently of the
// secrets package.
func key(t *testing.T, secret string) []byte {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatalf("decode %q: %v", secret, err)
	}
	return k
}

func hmacHex(t *testing.T, secret string, msg string) string {
	t.Helper()
	m := hmac.New(sha256.New, key(t, secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func hmacB64(t *testing.T, secret string, msg string) string {
	t.Helper()
	m := hmac.New(sha256.New, key(t, secret))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// received is one request as a receiver on loopback saw it.
type received struct {
	header http.Header
	body   []byte
}

// deliver POSTs body with h over real HTTP to a loopback server and returns what it received,
// so tests see headers after a trip through net/http's client and server.
func deliver(t *testing.T, h http.Header, body []byte) received {
	t.Helper()
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		got <- received{header: r.Header.Clone(), body: b}
	}))
	defer srv.Close()
	req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return <-got
}
