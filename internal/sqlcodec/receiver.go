package sqlcodec

import (
	"encoding/json"
	"fmt"

	"github.com/hookline/hookline"
)

// SealReceiver encodes r for the receiver_sealed column: nil (NULL) for a plain endpoint, else
// its JSON sealed under the main key, since it holds a private key and a client secret.
func SealReceiver(box hookline.SecretBox, r hookline.Receiver) (*string, error) {
	if r.IsZero() {
		return nil, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode receiver: %w", err)
	}
	sealed, err := box.Seal(b)
	if err != nil {
		return nil, fmt.Errorf("seal receiver: %w", err)
	}
	return &sealed, nil
}

// OpenReceiver decodes a receiver_sealed value written by SealReceiver.
func OpenReceiver(box hookline.SecretBox, sealed string) (hookline.Receiver, error) {
	var r hookline.Receiver
	b, err := box.Open(sealed)
	if err != nil {
		return r, fmt.Errorf("open receiver: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("decode receiver: %w", err)
	}
	return r, nil
}
