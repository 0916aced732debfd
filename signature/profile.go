// Package signature signs outgoing webhooks and verifies them on the receiver side.
//
// A Profile says how a delivery is signed on the wire. The default is Standard Webhooks
// (webhook-id, webhook-timestamp, webhook-signature: v1,<base64>); the same scheme with another
// header prefix reproduces Svix (svix-id, ...); the hmac-hex kind reproduces platforms that send a
// hex HMAC-SHA256 in a header of their choosing (X-ClearTix-Signature: sha256=<hex>).
//
// The delivery engine calls Profile.Sign; receivers call Verify or wrap a handler in Middleware.
// The package depends only on the standard library and the secrets package, so receivers can
// import it without pulling in the server.
package signature

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/textproto"
	"slices"
	"strings"
)

// Kind names a signature scheme.
type Kind string

const (
	// KindStandard is Standard Webhooks: <prefix>-id, <prefix>-timestamp and
	// <prefix>-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">. The empty Kind means
	// KindStandard, so a zero Profile signs the default way.
	KindStandard Kind = "standard"
	// KindHMACHex is a lowercase hex HMAC-SHA256 in a header chosen by the profile, optionally
	// behind a value prefix such as "sha256=".
	KindHMACHex Kind = "hmac-hex"
)

// Content says what an hmac-hex profile feeds to the HMAC.
type Content string

const (
	// ContentBody signs the raw request body, byte for byte. It is the default.
	ContentBody Content = "body"
	// ContentTimestampBody signs "<timestamp>.<body>": the decimal unix-seconds timestamp sent
	// in the timestamp header, one ASCII full stop, then the raw body.
	ContentTimestampBody Content = "timestamp.body"
)

// SecretEncoding says how an hmac-hex profile turns a secret string into the HMAC key.
type SecretEncoding string

const (
	// SecretBase64 is the default: the base64-decoded part after "whsec_", or the string's own
	// bytes when it does not decode (secrets.SigningKey). Standard profiles always use it.
	SecretBase64 SecretEncoding = "base64"
	// SecretRaw uses the whole secret string, prefix included, as the key, as most hex-HMAC
	// platforms do. It exists for secrets imported from such a platform: their receivers key
	// the HMAC with the string they were shown, and a hex or base64-looking secret would
	// otherwise be decoded into a different key.
	SecretRaw SecretEncoding = "raw"
)

// DefaultHeaderPrefix is the header prefix of the standard kind when HeaderPrefix is empty.
const DefaultHeaderPrefix = "webhook"

// Profile describes how a delivery is signed. It is a plain value, JSON-serialisable, so
// operators can keep one in a config file and an endpoint can carry its own.
//
// Fields that do not apply to the profile's Kind must be empty; Validate says which.
type Profile struct {
	// Kind is the scheme: "standard" (default when empty) or "hmac-hex".
	Kind Kind `json:"kind"`

	// HeaderPrefix (standard only) names the three headers: "<prefix>-id",
	// "<prefix>-timestamp", "<prefix>-signature". Empty means "webhook"; "svix" gives Svix's.
	HeaderPrefix string `json:"headerPrefix,omitempty"`

	// SignatureHeader (hmac-hex only, required) carries the signature, e.g. "X-ClearTix-Signature".
	SignatureHeader string `json:"signatureHeader,omitempty"`
	// SignaturePrefix (hmac-hex only) goes before each hex digest, e.g. "sha256=".
	SignaturePrefix string `json:"signaturePrefix,omitempty"`
	// SignedContent (hmac-hex only) is "body" (default when empty) or "timestamp.body".
	SignedContent Content `json:"signedContent,omitempty"`
	// TimestampHeader (hmac-hex only) carries the unix-seconds send time. Required when
	// SignedContent is "timestamp.body"; when set, receivers enforce the timestamp tolerance.
	TimestampHeader string `json:"timestampHeader,omitempty"`
	// SecretEncoding (hmac-hex only) is "base64" (default when empty) or "raw"; see SecretRaw.
	SecretEncoding SecretEncoding `json:"secretEncoding,omitempty"`
	// IDHeader (hmac-hex only) carries the message id, stable across retries, for idempotency.
	IDHeader string `json:"idHeader,omitempty"`

	// EventTypeHeader (either kind) carries the event type, e.g. "X-ClearTix-Event". It is
	// informational: no signature covers it.
	EventTypeHeader string `json:"eventTypeHeader,omitempty"`
}

// Standard returns the default profile: Standard Webhooks with the "webhook-" headers.
func Standard() Profile { return Profile{Kind: KindStandard} }

// Svix returns the Standard Webhooks scheme with Svix's "svix-" headers (seed 002).
func Svix() Profile { return Profile{Kind: KindStandard, HeaderPrefix: "svix"} }

// presets reproduce the platforms in the seeds byte for byte. They are functions, not shared
// values, so no caller can change a preset for everyone else.
var presets = map[string]func() Profile{
	"standard": Standard,
	"svix":     Svix,
	// Allfly runs on Svix (seed 002).
	"allfly": Svix,
	// Usetix: X-Webhook-Signature is the hex HMAC of "<timestamp>.<body>" (seed 000).
	"usetix": func() Profile {
		return Profile{
			Kind:            KindHMACHex,
			SignatureHeader: "X-Webhook-Signature",
			SignedContent:   ContentTimestampBody,
			TimestampHeader: "X-Webhook-Timestamp",
		}
	},
	// Cleartix: X-ClearTix-Signature: sha256=<hex of the raw body>, plus X-ClearTix-Event (seed 001).
	"cleartix": func() Profile {
		return Profile{
			Kind:            KindHMACHex,
			SignatureHeader: "X-ClearTix-Signature",
			SignaturePrefix: "sha256=",
			SignedContent:   ContentBody,
			EventTypeHeader: "X-ClearTix-Event",
		}
	},
	// Showpass: X-SHOWPASS-SIGNATURE is the hex HMAC of the raw body (seed 003).
	"showpass": func() Profile {
		return Profile{
			Kind:            KindHMACHex,
			SignatureHeader: "X-SHOWPASS-SIGNATURE",
			SignedContent:   ContentBody,
		}
	},
}

// Preset returns the named predefined profile: "standard", "svix", "allfly", "usetix",
// "cleartix" or "showpass". Names are case-insensitive.
func Preset(name string) (Profile, bool) {
	f, ok := presets[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Profile{}, false
	}
	return f(), true
}

// PresetNames lists the names Preset knows, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ParseProfile decodes and validates a profile from JSON. It accepts an object with the
// Profile fields (unknown fields are an error, so a misspelt header setting cannot silently
// fall back to a default) or a JSON string naming a preset, such as "cleartix".
func ParseProfile(data []byte) (Profile, error) {
	var p Profile
	if err := json.Unmarshal(data, &p); err != nil {
		return Profile{}, err
	}
	if err := p.Validate(); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// UnmarshalJSON accepts a Profile object or a preset name as a JSON string, so config files can
// say "signature": "svix". It rejects unknown fields but does not validate; see ParseProfile.
func (p *Profile) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil // as encoding/json does for other types: null leaves the value alone
	}
	if len(data) > 0 && data[0] == '"' {
		var name string
		if err := json.Unmarshal(data, &name); err != nil {
			return fmt.Errorf("signature: profile: %w", err)
		}
		preset, ok := Preset(name)
		if !ok {
			return fmt.Errorf("signature: unknown profile preset %q (known: %s)", name, strings.Join(PresetNames(), ", "))
		}
		*p = preset
		return nil
	}
	// The alias has no methods, so decoding into it does not recurse into UnmarshalJSON.
	type plain Profile
	var v plain
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("signature: profile: %w", err)
	}
	*p = Profile(v)
	return nil
}

// ErrInvalidProfile is matched (errors.Is) by every error Validate returns.
var ErrInvalidProfile = errors.New("signature: invalid profile")

// Problem is one thing wrong with one field of a Profile.
type Problem struct {
	// Field is the JSON name of the field, such as "signatureHeader".
	Field string
	// Msg says what is wrong, in words an operator can act on.
	Msg string
}

// ProfileError lists everything wrong with a Profile, so an operator can fix a config file in
// one go and the API can report each field separately.
type ProfileError struct {
	Problems []Problem
}

// Error joins the problems into one line.
func (e *ProfileError) Error() string {
	var b strings.Builder
	b.WriteString("signature: invalid profile: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Field)
		b.WriteString(": ")
		b.WriteString(p.Msg)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidProfile) true.
func (e *ProfileError) Is(target error) bool { return target == ErrInvalidProfile }

// Validate checks that p can sign and verify: a known kind, the header names it needs, valid
// HTTP header names that do not collide, and a supported signed content. The error, if any, is a
// *ProfileError.
func (p Profile) Validate() error {
	var probs []Problem
	add := func(field, format string, args ...any) {
		probs = append(probs, Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	// Each header the profile sends, by field, to check names and collisions in one place.
	type header struct{ field, name string }
	var headers []header

	switch p.kind() {
	case KindStandard:
		for _, f := range []struct{ field, value string }{
			{"signatureHeader", p.SignatureHeader},
			{"signaturePrefix", p.SignaturePrefix},
			{"signedContent", string(p.SignedContent)},
			{"timestampHeader", p.TimestampHeader},
			{"idHeader", p.IDHeader},
			{"secretEncoding", string(p.SecretEncoding)},
		} {
			if f.value != "" {
				add(f.field, "applies only to kind %q; the standard kind names its headers with headerPrefix", KindHMACHex)
			}
		}
		prefix := p.headerPrefix()
		if !validHeaderName(prefix) || strings.HasSuffix(prefix, "-") {
			add("headerPrefix", "%q is not a valid header prefix: use letters, digits and inner hyphens, e.g. \"webhook\" or \"svix\"", p.HeaderPrefix)
		} else {
			headers = append(headers,
				header{"headerPrefix", prefix + "-id"},
				header{"headerPrefix", prefix + "-timestamp"},
				header{"headerPrefix", prefix + "-signature"})
		}
	case KindHMACHex:
		if p.HeaderPrefix != "" {
			add("headerPrefix", "applies only to kind %q; set signatureHeader instead", KindStandard)
		}
		if p.SignatureHeader == "" {
			add("signatureHeader", "is required for kind %q, e.g. \"X-Signature\"", KindHMACHex)
		} else {
			headers = append(headers, header{"signatureHeader", p.SignatureHeader})
		}
		if !validSignaturePrefix(p.SignaturePrefix) {
			add("signaturePrefix", "%q must be at most %d printable ASCII characters without spaces or commas", p.SignaturePrefix, maxPrefixLen)
		}
		switch p.signedContent() {
		case ContentBody:
		case ContentTimestampBody:
			if p.TimestampHeader == "" {
				add("timestampHeader", "is required when signedContent is %q, so the receiver can rebuild the signed string", ContentTimestampBody)
			}
		default:
			add("signedContent", "%q is not supported; use %q or %q", p.SignedContent, ContentBody, ContentTimestampBody)
		}
		switch p.SecretEncoding {
		case "", SecretBase64, SecretRaw:
		default:
			add("secretEncoding", "%q is not supported; use %q or %q", p.SecretEncoding, SecretBase64, SecretRaw)
		}
		if p.TimestampHeader != "" {
			headers = append(headers, header{"timestampHeader", p.TimestampHeader})
		}
		if p.IDHeader != "" {
			headers = append(headers, header{"idHeader", p.IDHeader})
		}
	default:
		add("kind", "unknown kind %q; use %q or %q", p.Kind, KindStandard, KindHMACHex)
	}
	if p.EventTypeHeader != "" {
		headers = append(headers, header{"eventTypeHeader", p.EventTypeHeader})
	}

	seen := make(map[string]string, len(headers))
	for _, h := range headers {
		if !validHeaderName(h.name) {
			add(h.field, "%q is not a valid HTTP header name", h.name)
			continue
		}
		canon := textproto.CanonicalMIMEHeaderKey(h.name)
		if reservedHeaders[canon] {
			add(h.field, "%q is set by the HTTP client and cannot carry a signature field", h.name)
			continue
		}
		if other, dup := seen[canon]; dup {
			add(h.field, "header %q is also used by %s", h.name, other)
			continue
		}
		seen[canon] = h.field
	}

	if len(probs) > 0 {
		return &ProfileError{Problems: probs}
	}
	return nil
}

// kind resolves the empty Kind to the default.
func (p Profile) kind() Kind {
	if p.Kind == "" {
		return KindStandard
	}
	return p.Kind
}

func (p Profile) headerPrefix() string {
	if p.HeaderPrefix == "" {
		return DefaultHeaderPrefix
	}
	return p.HeaderPrefix
}

func (p Profile) signedContent() Content {
	if p.SignedContent == "" {
		return ContentBody
	}
	return p.SignedContent
}

// standardNames are the canonical header names of a standard profile.
type standardNames struct{ id, timestamp, signature string }

// Precomputed for the common prefixes so the signing hot path does not build and canonicalise
// three strings per delivery.
var (
	webhookNames = standardNames{"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}
	svixNames    = standardNames{"Svix-Id", "Svix-Timestamp", "Svix-Signature"}
)

func (p Profile) standardNames() standardNames {
	switch p.HeaderPrefix {
	case "", DefaultHeaderPrefix:
		return webhookNames
	case "svix":
		return svixNames
	}
	c := textproto.CanonicalMIMEHeaderKey
	return standardNames{c(p.HeaderPrefix + "-id"), c(p.HeaderPrefix + "-timestamp"), c(p.HeaderPrefix + "-signature")}
}

// reservedHeaders are managed by net/http itself (framing, routing, body type); a signature
// field in one of them would be overwritten or break the request.
var reservedHeaders = map[string]bool{
	"Connection":        true,
	"Content-Length":    true,
	"Content-Type":      true,
	"Host":              true,
	"Keep-Alive":        true,
	"Proxy-Connection":  true,
	"Te":                true,
	"Trailer":           true,
	"Transfer-Encoding": true,
	"Upgrade":           true,
}

const (
	maxHeaderNameLen = 128
	maxPrefixLen     = 32
)

// validHeaderName reports whether s is an RFC 9110 token of reasonable length.
func validHeaderName(s string) bool {
	if s == "" || len(s) > maxHeaderNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validSignaturePrefix allows visible ASCII except the comma, which separates signatures.
func validSignaturePrefix(s string) bool {
	if len(s) > maxPrefixLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ',' {
			return false
		}
	}
	return true
}
