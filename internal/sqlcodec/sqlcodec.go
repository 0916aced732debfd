// Package sqlcodec holds the encodings that the SQLite and PostgreSQL stores share, so both
// write the same bytes for the same values: event-type schemas kept byte for byte, sealed old
// signing secrets, and the per-batch endpoint health update.
package sqlcodec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline"
)

// EncodeSchemas writes the schemas object by hand: json.Marshal would compact and re-escape
// each json.RawMessage, and the catalogue must return schemas byte for byte as given. Versions
// are sorted so the encoding is stable.
func EncodeSchemas(schemas map[string]json.RawMessage) (string, error) {
	if schemas == nil {
		return "null", nil
	}
	versions := make([]string, 0, len(schemas))
	for v := range schemas {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range versions {
		raw := schemas[v]
		if !json.Valid(raw) {
			return "", fmt.Errorf("schema %q is not valid JSON", v)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		b.Write(key)
		b.WriteByte(':')
		b.Write(bytes.TrimSpace(raw)) // surrounding whitespace is not part of the value
	}
	b.WriteByte('}')
	return b.String(), nil
}

// DecodeSchemas reads what EncodeSchemas wrote; decoding into json.RawMessage copies each
// value's bytes unchanged.
func DecodeSchemas(s string) (map[string]json.RawMessage, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// sealedSecret is one old secret as stored: sealed, with its expiry in the clear so that
// maintenance can prune expired ones without the main key.
type sealedSecret struct {
	Sealed    string `json:"sealed"`
	ExpiresAt int64  `json:"expiresAt"` // unix microseconds
}

// SealOldSecrets encodes rotated-out secrets for storage, each sealed by box.
func SealOldSecrets(box hookline.SecretBox, old []hookline.OldSecret) (string, error) {
	out := make([]sealedSecret, 0, len(old))
	for _, s := range old {
		sealed, err := box.Seal([]byte(s.Secret))
		if err != nil {
			return "", fmt.Errorf("seal old secret: %w", err)
		}
		out = append(out, sealedSecret{Sealed: sealed, ExpiresAt: s.ExpiresAt.UnixMicro()})
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// OpenOldSecrets decodes what SealOldSecrets wrote.
func OpenOldSecrets(box hookline.SecretBox, text string) ([]hookline.OldSecret, error) {
	var stored []sealedSecret
	if text != "" {
		if err := json.Unmarshal([]byte(text), &stored); err != nil {
			return nil, fmt.Errorf("decode old secrets: %w", err)
		}
	}
	if len(stored) == 0 {
		return nil, nil
	}
	out := make([]hookline.OldSecret, 0, len(stored))
	for _, s := range stored {
		plain, err := box.Open(s.Sealed)
		if err != nil {
			return nil, fmt.Errorf("open old secret: %w", err)
		}
		out = append(out, hookline.OldSecret{Secret: string(plain), ExpiresAt: time.UnixMicro(s.ExpiresAt).UTC()})
	}
	return out, nil
}

// HealthDelta is what a batch's attempts do to one endpoint's health, so that the endpoint row
// is written once per batch rather than once per attempt.
type HealthDelta struct {
	Reset      bool   // an attempt succeeded: the streak restarts
	Fails      int    // failed attempts since the last success (or the batch's start)
	FirstFail  *int64 // unix microseconds of the first of those failures
	LastAt     int64  // unix microseconds of the latest attempt
	LastMsg    string // its message, whose event type becomes the "last event hit"
	LastStatus hookline.MessageStatus
}

// Add counts one attempt, in the order they were made.
func (h *HealthDelta) Add(ok bool, a *hookline.Attempt, msgID string) {
	at := a.CreatedAt.UnixMicro()
	if ok {
		h.Reset, h.Fails, h.FirstFail = true, 0, nil
	} else {
		h.Fails++
		if h.FirstFail == nil {
			h.FirstFail = &at
		}
	}
	h.LastAt, h.LastMsg, h.LastStatus = at, msgID, a.Status
}
