package sqlcodec

import (
	"encoding/json"
	"fmt"

	"github.com/hookline/hookline"
)

// SealDestination encodes d for the destination_sealed column: nil (NULL) for an HTTP endpoint,
// else its JSON sealed under the main key, since its URL may hold credentials.
func SealDestination(box hookline.SecretBox, d *hookline.Destination) (*string, error) {
	if d == nil {
		return nil, nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode destination: %w", err)
	}
	sealed, err := box.Seal(b)
	if err != nil {
		return nil, fmt.Errorf("seal destination: %w", err)
	}
	return &sealed, nil
}

// OpenDestination decodes a destination_sealed value written by SealDestination.
func OpenDestination(box hookline.SecretBox, sealed string) (*hookline.Destination, error) {
	b, err := box.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("open destination: %w", err)
	}
	var d hookline.Destination
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("decode destination: %w", err)
	}
	return &d, nil
}
