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
	"strings"
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
	switch p.kind() {
	case KindStandard:
		if msgID == "" {
			return errors.New("signature: the standard profile needs a message id")
		}
		unix, sig, err := signStandard(msgID, ts.Unix(), body, secrets)
		if err != nil {
			return err
		}
		n := p.standardNames()
		// One backing array for the three values instead of three small allocations; the
		// names are already canonical, so the map is written directly.
		vals := [...]string{msgID, unix, sig}
		v := vals[:]
		h[n.id] = v[0:1:1]
		h[n.timestamp] = v[1:2:2]
		h[n.signature] = v[2:3:3]
	case KindHMACHex:
		if p.SignatureHeader == "" {
			return errors.New("signature: the hmac-hex profile has no signatureHeader")
		}
		unix, sig, err := p.signHex(ts.Unix(), body, secrets)
		if err != nil {
			return err
		}
		h.Set(p.SignatureHeader, sig)
		if p.TimestampHeader != "" {
			h.Set(p.TimestampHeader, unix)
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

// maxUnixLen is the longest decimal int64.
const maxUnixLen = 20

// signStandard returns the timestamp header value and "v1,<b64> v1,<b64> ..." over
// "<msgID>.<unix>.<body>".
func signStandard(msgID string, unix int64, body []byte, secrets []string) (tsValue, sig string, err error) {
	// One scratch buffer holds the signed prefix "id.ts." and, in its spare capacity, each
	// HMAC sum; the body is never copied.
	scratch := make([]byte, 0, len(msgID)+maxUnixLen+2+sha256.Size)
	scratch = append(scratch, msgID...)
	scratch = append(scratch, '.')
	digits := len(scratch)
	scratch = strconv.AppendInt(scratch, unix, 10)
	tsDigits := scratch[digits:]
	pre := append(scratch, '.')

	// The timestamp digits and the signature list share one string: the builder starts with
	// the digits and both values are cut from its result.
	var b strings.Builder
	b.Grow(len(tsDigits) + len(secrets)*(len("v1,")+b64SigLen+1))
	b.Write(tsDigits)
	var enc [b64SigLen]byte
	for _, s := range secrets {
		if s == "" {
			continue
		}
		mac := hmac.New(sha256.New, hlsecrets.SigningKey(s))
		mac.Write(pre)
		mac.Write(body)
		if b.Len() > len(tsDigits) {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		base64.StdEncoding.Encode(enc[:], mac.Sum(pre[len(pre):]))
		b.Write(enc[:])
	}
	if b.Len() == len(tsDigits) {
		return "", "", ErrNoSecrets
	}
	all := b.String()
	return all[:len(tsDigits)], all[len(tsDigits):], nil
}

// signHex returns the timestamp header value and "<prefix><hex>, <prefix><hex>, ..." over the
// profile's signed content.
func (p Profile) signHex(unix int64, body []byte, secrets []string) (tsValue, sig string, err error) {
	content, prefix := p.signedContent(), p.SignaturePrefix
	scratch := strconv.AppendInt(make([]byte, 0, maxUnixLen+sha256.Size), unix, 10)
	tsDigits := scratch

	var b strings.Builder
	b.Grow(len(tsDigits) + len(secrets)*(len(prefix)+hexSigLen+len(hexSeparator)))
	b.Write(tsDigits)
	var enc [hexSigLen]byte
	for _, s := range secrets {
		if s == "" {
			continue
		}
		mac := hmac.New(sha256.New, p.signingKey(s))
		writeContent(mac, content, tsDigits, body)
		if b.Len() > len(tsDigits) {
			b.WriteString(hexSeparator)
		}
		b.WriteString(prefix)
		hex.Encode(enc[:], mac.Sum(scratch[len(scratch):]))
		b.Write(enc[:])
	}
	if b.Len() == len(tsDigits) {
		return "", "", ErrNoSecrets
	}
	all := b.String()
	return all[:len(tsDigits)], all[len(tsDigits):], nil
}

// signingKey returns the HMAC key of one secret under the profile's SecretEncoding.
func (p Profile) signingKey(secret string) []byte {
	if p.SecretEncoding == SecretRaw {
		return []byte(secret)
	}
	return hlsecrets.SigningKey(secret)
}

// hexSigLen is the length of a hex HMAC-SHA256.
const hexSigLen = 2 * sha256.Size

// dot separates timestamp and body; a package-level slice so each write does not allocate one.
var dot = []byte{'.'}

// writeContent feeds an hmac-hex profile's signed content to mac.
func writeContent(mac hash.Hash, content Content, unix, body []byte) {
	if content == ContentTimestampBody {
		mac.Write(unix)
		mac.Write(dot)
	}
	mac.Write(body)
}

// canonical returns the key net/http stores a header under.
func canonical(name string) string { return textproto.CanonicalMIMEHeaderKey(name) }
