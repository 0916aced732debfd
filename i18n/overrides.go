package i18n

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// ReadOverrides reads an installation's overrides file: a JSON object of languages, each an
// object of message ids and their texts (a string, or {"one": …, "other": …} for a message
// with a count):
//
//	{"en": {"portal.title": "Deliveries"}, "de": {"portal.title": "Zustellungen"}}
//
// New checks the ids and placeholders against the catalogue.
func ReadOverrides(path string) (Overrides, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("i18n: strings file: %w", err)
	}
	var o Overrides
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("i18n: strings file %s: %w", path, err)
	}
	return o, nil
}
