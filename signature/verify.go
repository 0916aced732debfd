package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	hlsecrets "github.com/hookline/hookline/secrets"
)

// b64SigLen is the length of a padded base64 HMAC-SHA256: 4*ceil(32/3).
const b64SigLen = 44

// DefaultTolerance is how far a delivery's timestamp may be from the receiver's clock, either
// way, as in Standard Webhooks and Svix.
const DefaultTolerance = 5 * time.Minute

// Verification errors. Verify wraps them with detail; match them with errors.Is.
var (
	// ErrMissingHeaders means a header the profile requires is absent or empty.
	ErrMissingHeaders = errors.New("signature: missing signature headers")
	// ErrInvalidTimestamp means the timestamp header is not a decimal unix-seconds value.
	ErrInvalidTimestamp = errors.New("signature: invalid timestamp")
	// ErrTimestampTooOld means the timestamp is further in the past than the tolerance: a replay
	// or a badly delayed delivery.
	ErrTimestampTooOld = errors.New("signature: timestamp too old")
	// ErrTimestampTooNew means the timestamp is further in the future than the tolerance.
	ErrTimestampTooNew = errors.New("signature: timestamp too new")
	// ErrInvalidSignature means no signature in the request matches any of the secrets.
	ErrInvalidSignature = errors.New("signature: no matching signature")
)

// Verify checks a received delivery against profile p: the required headers are present, the
// timestamp (if the profile has one) is within tolerance of now either way, and at least one
// signature in the request matches the body under at least one of secrets. Comparisons are
// constant-time.
//
// A zero now means time.Now(); a tolerance of zero or less means DefaultTolerance. hmac-hex
// profiles without a timestamp header have nothing to check the time against, so they skip the
// tolerance check (and cannot detect replays).
func Verify(p Profile, h http.Header, body []byte, secrets []string, now time.Time, tolerance time.Duration) error {
	if now.IsZero() {
		now = time.Now()
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	switch p.kind() {
	case KindStandard:
		return verifyStandard(p, h, body, secrets, now, tolerance)
	case KindHMACHex:
		return verifyHex(p, h, body, secrets, now, tolerance)
	default:
		return fmt.Errorf("signature: unknown profile kind %q", p.Kind)
	}
}

func verifyStandard(p Profile, h http.Header, body []byte, secrets []string, now time.Time, tolerance time.Duration) error {
	n := p.standardNames()
	id, tsText, sigs := h.Get(n.id), h.Get(n.timestamp), h.Get(n.signature)
	for _, f := range []struct{ name, value string }{{n.id, id}, {n.timestamp, tsText}, {n.signature, sigs}} {
		if f.value == "" {
			return fmt.Errorf("%w: %s", ErrMissingHeaders, f.name)
		}
	}
	unix, err := checkTimestamp(tsText, now, tolerance)
	if err != nil {
		return err
	}

	pre := make([]byte, 0, len(id)+len(unix)+2)
	pre = append(pre, id...)
	pre = append(pre, '.')
	pre = append(pre, unix...)
	pre = append(pre, '.')

	var sum [sha256.Size]byte
	keys := 0
	for _, s := range secrets {
		if s == "" {
			continue
		}
		keys++
		mac := hmac.New(sha256.New, hlsecrets.SigningKey(s))
		mac.Write(pre)
		mac.Write(body)
		want := mac.Sum(sum[:0])
		// Entries are space-separated "version,base64"; only v1 is HMAC-SHA256, others (such as
		// v1a, asymmetric) are skipped as the Standard Webhooks spec requires.
		for entry := range strings.FieldsSeq(sigs) {
			version, b64, ok := strings.Cut(entry, ",")
			if !ok || version != "v1" || len(b64) != b64SigLen {
				continue
			}
			var got [b64SigLen]byte // more than DecodedLen(44), which Decode needs
			n, err := base64.StdEncoding.Decode(got[:], []byte(b64))
			if err != nil || n != sha256.Size {
				continue
			}
			if hmac.Equal(got[:n], want) {
				return nil
			}
		}
	}
	if keys == 0 {
		return ErrNoSecrets
	}
	return ErrInvalidSignature
}

func verifyHex(p Profile, h http.Header, body []byte, secrets []string, now time.Time, tolerance time.Duration) error {
	values := h.Values(p.SignatureHeader)
	if len(values) == 0 || strings.TrimSpace(strings.Join(values, "")) == "" {
		return fmt.Errorf("%w: %s", ErrMissingHeaders, canonical(p.SignatureHeader))
	}
	var unix []byte
	if p.TimestampHeader != "" {
		tsText := h.Get(p.TimestampHeader)
		if tsText == "" {
			return fmt.Errorf("%w: %s", ErrMissingHeaders, canonical(p.TimestampHeader))
		}
		var err error
		if unix, err = checkTimestamp(tsText, now, tolerance); err != nil {
			return err
		}
	}
	content := p.signedContent()

	var sum, got [sha256.Size]byte
	keys := 0
	for _, s := range secrets {
		if s == "" {
			continue
		}
		keys++
		mac := hmac.New(sha256.New, p.signingKey(s))
		writeContent(mac, content, unix, body)
		want := mac.Sum(sum[:0])
		// Several signatures come comma-separated in one value, or as repeated header fields,
		// which HTTP treats as the same list.
		for _, v := range values {
			for entry := range strings.SplitSeq(v, ",") {
				entry = strings.TrimSpace(entry)
				if len(entry) < len(p.SignaturePrefix) || !strings.EqualFold(entry[:len(p.SignaturePrefix)], p.SignaturePrefix) {
					continue
				}
				digest := entry[len(p.SignaturePrefix):]
				if len(digest) != hex.EncodedLen(sha256.Size) {
					continue
				}
				if _, err := hex.Decode(got[:], []byte(digest)); err != nil {
					continue
				}
				if hmac.Equal(got[:], want) {
					return nil
				}
			}
		}
	}
	if keys == 0 {
		return ErrNoSecrets
	}
	return ErrInvalidSignature
}

// checkTimestamp parses a unix-seconds header and checks it against now. It returns the
// digits as sent, since they, not a re-formatting of the parsed value, are what was signed.
func checkTimestamp(text string, now time.Time, tolerance time.Duration) ([]byte, error) {
	// Digits only: ParseInt would also take "+123" or "-5", which no sender means.
	sec, err := strconv.ParseInt(text, 10, 64)
	if err != nil || strings.TrimLeft(text, "0123456789") != "" {
		return nil, fmt.Errorf("%w: %q is not unix seconds", ErrInvalidTimestamp, text)
	}
	// Compare in seconds: time.Unix of a huge value would overflow a Duration.
	diff := now.Unix() - sec
	limit := int64(tolerance / time.Second)
	switch {
	case diff > limit:
		return nil, fmt.Errorf("%w: %ds old, tolerance %s", ErrTimestampTooOld, diff, tolerance)
	case -diff > limit:
		return nil, fmt.Errorf("%w: %ds ahead, tolerance %s", ErrTimestampTooNew, -diff, tolerance)
	}
	return []byte(text), nil
}
