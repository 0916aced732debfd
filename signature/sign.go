package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/textproto"
	"strconv"
	"time"

	hlsecrets "github.com/hookline/hookline/secrets"
)

// ErrNoSecrets means there was no non-empty secret to sign or verify with.
var ErrNoSecrets = errors.New("signature: no signing secret")

// hexSeparator joins several hex signatures in one header value. A comma list is how HTTP
// (RFC 9110 §5.3) folds repeated fields, so a receiver reading either form sees the same list.
const hexSeparator = ", "

// Sign sets the signature headers of one delivery on h, replacing any earlier values, so the
// same header map can be re-signed on a retry.
//
// msgID must be stable across retries (receivers deduplicate on it); ts is the send time,
// sent as unix seconds. secrets are the endpoint's active signing secrets ("whsec_" + base64,
// or a raw string), current first: the delivery carries one signature per secret, so receivers
// keep verifying while a rotation's grace period runs. Empty secrets are skipped. Each HMAC is
// computed once per secret.
//
// Sign does not call Validate, to stay cheap on the delivery path: validate a profile once when
// it is configured.
func (p Profile) Sign(h http.Header, msgID string, ts time.Time, eventType string, body []byte, secrets []string) error {
	var tsBuf [20]byte
	unix := strconv.AppendInt(tsBuf[:0], ts.Unix(), 10)

	switch p.kind() {
	case KindStandard:
		if msgID == "" {
			return errors.New("signature: the standard profile needs a message id")
		}
		sig, err := signStandard(msgID, unix, body, secrets)
		if err != nil {
			return err
		}
		n := p.standardNames()
		// One backing array for the three values instead of three small allocations.
		vals := [...]string{msgID, string(unix), sig}
		v := vals[:]
		h[n.id] = v[0:1:1]
		h[n.timestamp] = v[1:2:2]
		h[n.signature] = v[2:3:3]
	case KindHMACHex:
		sig, err := signHex(p.signedContent(), p.SignaturePrefix, unix, body, secrets)
		if err != nil {
			return err
		}
		h.Set(p.SignatureHeader, sig)
		if p.TimestampHeader != "" {
			h.Set(p.TimestampHeader, string(unix))
		}
		if p.IDHeader != "" && msgID != "" {
			h.Set(p.IDHeader, msgID)
		}
	default:
		return fmt.Errorf("signature: unknown profile kind %q", p.Kind)
	}
	if p.EventTypeHeader != "" && eventType != "" {
		h.Set(p.EventTypeHeader, eventType)
	}
	return nil
}

// signStandard returns "v1,<b64> v1,<b64> ..." over "<msgID>.<unix>.<body>".
func signStandard(msgID string, unix, body []byte, secrets []string) (string, error) {
	// The signed prefix "id.ts." is built once and fed to every HMAC; the body is never copied.
	pre := make([]byte, 0, len(msgID)+len(unix)+2)
	pre = append(pre, msgID...)
	pre = append(pre, '.')
	pre = append(pre, unix...)
	pre = append(pre, '.')

	var sum [sha256.Size]byte
	out := make([]byte, 0, len(secrets)*(len("v1,")+base64.StdEncoding.EncodedLen(sha256.Size)+1))
	for _, s := range secrets {
		if s == "" {
			continue
		}
		mac := hmac.New(sha256.New, hlsecrets.SigningKey(s))
		mac.Write(pre)
		mac.Write(body)
		if len(out) > 0 {
			out = append(out, ' ')
		}
		out = append(out, "v1,"...)
		out = base64.StdEncoding.AppendEncode(out, mac.Sum(sum[:0]))
	}
	if len(out) == 0 {
		return "", ErrNoSecrets
	}
	return string(out), nil
}

// signHex returns "<prefix><hex>, <prefix><hex>, ..." over the profile's signed content.
func signHex(content Content, prefix string, unix, body []byte, secrets []string) (string, error) {
	var sum [sha256.Size]byte
	out := make([]byte, 0, len(secrets)*(len(prefix)+hex.EncodedLen(sha256.Size)+len(hexSeparator)))
	for _, s := range secrets {
		if s == "" {
			continue
		}
		mac := hmac.New(sha256.New, hlsecrets.SigningKey(s))
		writeContent(mac, content, unix, body)
		if len(out) > 0 {
			out = append(out, hexSeparator...)
		}
		out = append(out, prefix...)
		out = hex.AppendEncode(out, mac.Sum(sum[:0]))
	}
	if len(out) == 0 {
		return "", ErrNoSecrets
	}
	return string(out), nil
}

// writeContent feeds an hmac-hex profile's signed content to mac.
func writeContent(mac hash.Hash, content Content, unix, body []byte) {
	if content == ContentTimestampBody {
		mac.Write(unix)
		mac.Write([]byte{'.'})
	}
	mac.Write(body)
}

// canonical returns the key net/http stores a header under.
func canonical(name string) string { return textproto.CanonicalMIMEHeaderKey(name) }
